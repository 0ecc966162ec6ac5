// End-to-end tests: they build the tend binary, run it on a configuration in a temporary
// directory, and kill, break and restore real processes: redis-server, PostgreSQL and
// shell loops. Alerts go to a real mailpit. Run with `make test`, which installs
// redis-server, PostgreSQL and mailpit; without them these tests skip, and under CI=true
// they fail.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/checks"
	"tend/internal/testenv"
)

var tendBinary string

func TestMain(m *testing.M) { testenv.RunWithTend(m, ".", &tendBinary) }

// tendProcess is a tend process under test.
type tendProcess struct {
	cmd *exec.Cmd
	out *testenv.SyncBuffer
}

// writeConfig writes tend.toml with a 1 s cycle and mail to mp, plus the drop-in
// services.toml, into dir.
func writeConfig(t *testing.T, dir string, mp *testenv.Mailpit, services string) string {
	t.Helper()
	main := fmt.Sprintf(`interval = "1s"
state_dir = "state"
include = ["conf.d/*.toml"]
hostname = "e2e-host"

[control]
socket = "tend.sock"

[alerts]
digest_window = "0s"   # one message per event, which these tests count

[mail]
host = "127.0.0.1"
port = %d
tls = "none"
from = "tend@e2e.test"
to = ["ops@e2e.test"]
timeout = "5s"
`, mp.SMTPPort)
	if err := os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tend.toml")
	mustWrite(t, path, main)
	mustWrite(t, filepath.Join(dir, "conf.d", "services.toml"), services)
	return path
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startTend runs `tend run` on cfg until the test ends, then stops it with SIGINT, which stops the owned services.
func startTend(t *testing.T, cfg string) *tendProcess {
	t.Helper()
	d := &tendProcess{out: &testenv.SyncBuffer{}}
	d.cmd = exec.Command(tendBinary, "run", "--config", cfg, "--log-level", "debug")
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start tend: %v", err)
	}
	t.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = d.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = d.cmd.Process.Kill()
			<-done
			t.Errorf("tend did not exit within 30s of SIGINT")
		}
		if t.Failed() {
			t.Logf("tend output:\n%s", d.out.String())
		}
	})
	ctx := testenv.Context(t, time.Minute)
	if !testenv.WaitFor(ctx, func() bool { return strings.Contains(d.out.String(), "msg=ready") }) {
		t.Fatalf("tend did not report ready; output:\n%s", d.out.String())
	}
	return d
}

// waitPidfile returns the PID in path once a live process other than not has it, or
// fails the test.
func waitPidfile(t *testing.T, path string, not int) int {
	t.Helper()
	var pid int
	ctx := testenv.Context(t, time.Minute)
	ok := testenv.WaitFor(ctx, func() bool {
		p, _, err := checks.ReadPidfile(path)
		if err != nil || p == not {
			return false
		}
		if proc, err := checks.ReadProcess("/proc", p); err != nil || proc.Zombie() {
			return false
		}
		pid = p
		return true
	})
	if !ok {
		t.Fatalf("no live process in pidfile %s (other than PID %d)", path, not)
	}
	return pid
}

// waitMail waits for a message whose subject contains each of parts.
func waitMail(t *testing.T, mp *testenv.Mailpit, parts ...string) testenv.MailpitMessage {
	t.Helper()
	var found testenv.MailpitMessage
	ctx := testenv.Context(t, time.Minute)
	ok := testenv.WaitFor(ctx, func() bool {
		for _, m := range mp.Messages(t) {
			if containsAll(m.Subject, parts) {
				found = m
				return true
			}
		}
		return false
	})
	if !ok {
		var subjects []string
		for _, m := range mp.Messages(t) {
			subjects = append(subjects, m.Subject)
		}
		t.Fatalf("no mail with subject containing %q; subjects: %q", parts, subjects)
	}
	return found
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// killAndWaitRestart waits until tend has started the service, kills its process with
// SIGKILL, and waits for tend to start a replacement that accepts connections on addr.
// It logs the time from the kill to the replacement's PID appearing.
func killAndWaitRestart(t *testing.T, d *tendProcess, service, pidfile, addr string) {
	t.Helper()
	started := "service=" + service + " action=start pid="
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		return strings.Contains(d.out.String(), started)
	}) {
		t.Fatalf("tend did not log %q", started)
	}
	old := waitPidfile(t, pidfile, 0)
	killed := time.Now()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", old, err)
	}
	pid := waitPidfile(t, pidfile, old)
	took := time.Since(killed)
	t.Logf("PID %d killed, replacement PID %d after %s", old, pid, took)
	if !testenv.WaitTCP(testenv.Context(t, time.Minute), addr) {
		t.Fatalf("%s does not accept connections after the restart", addr)
	}
}
