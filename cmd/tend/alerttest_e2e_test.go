package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/testenv"
)

// tend alert test delivers a message through the configured server and names the one
// that accepted it. With no server reachable it exits 1 and gives the reason.
func TestAlertTestCommand(t *testing.T) {
	mp := testenv.StartMailpit(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, mp, "")

	out, err := exec.Command(tendBinary, "alert", "test", "--config", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("tend alert test: %v\n%s", err, out)
	}
	if want := "test alert accepted by " + testenv.Addr(mp.SMTPPort); !strings.Contains(string(out), want) {
		t.Errorf("output %q, want it to contain %q", out, want)
	}
	msg := waitMail(t, mp, "e2e-host", "test")
	if body := mp.Body(t, msg.ID); !strings.Contains(body, "This is a test alert from tend on e2e-host") {
		t.Errorf("body:\n%s", body)
	}

	// A configuration whose mail server port is closed: writeConfig reads only the port.
	closed := *mp
	closed.SMTPPort = testenv.FreePort(t)
	badCfg := writeConfig(t, t.TempDir(), &closed, "")
	out, err = exec.Command(tendBinary, "alert", "test", "--config", filepath.Clean(badCfg)).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("tend alert test to a closed port: err %v, want exit status 1; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "not delivered") || !strings.Contains(string(out), "connection refused") {
		t.Errorf("output %q, want it to say the alert was not delivered and why", out)
	}
}
