package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/internal/testenv"
	"tend/supervisor/api"
)

// replacement is a documented default of a shipped drop-in, such as a path or an
// address, and the value the test puts in its place.
type replacement struct {
	old, new string
}

// adaptDropIn reads the shipped drop-in conf.d/name and replaces each old string of
// repl, in order, by its new one. The test fails when the file lacks an old string,
// so a changed default in a shipped file shows here instead of passing unnoticed.
func adaptDropIn(t *testing.T, name string, repl ...replacement) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "conf.d", name))
	if err != nil {
		t.Fatalf("read shipped drop-in: %v", err)
	}
	text := string(data)
	for _, r := range repl {
		if !strings.Contains(text, r.old) {
			t.Fatalf("conf.d/%s does not contain the documented default %q", name, r.old)
		}
		text = strings.ReplaceAll(text, r.old, r.new)
	}
	return text
}

// tomlList returns argv as a TOML array of strings.
func tomlList(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startTend runs `tend run` on cfg and waits for its ready log line. When the test
// ends it sends SIGINT, which stops the owned services, and prints tend's output
// if the test failed.
func startTend(t *testing.T, cfg string) *testenv.SyncBuffer {
	t.Helper()
	out := &testenv.SyncBuffer{}
	cmd := exec.Command(tendBinary, "run", "--config", cfg, "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tend: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("tend did not exit within 90s of SIGINT")
		}
		if t.Failed() {
			t.Logf("tend output:\n%s", out.String())
		}
	})
	ready := testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		return strings.Contains(out.String(), "msg=ready")
	})
	if !ready {
		t.Fatalf("tend did not report ready; output:\n%s", out.String())
	}
	return out
}

// statusReport is the output of `tend status --json`.
type statusReport struct {
	Services []api.ServiceView `json:"services"`
}

// status returns the services as `tend status --json` prints them, by name. Its exit
// status is not checked: it is 1 while a service is not running.
func status(t *testing.T, cfg string) map[string]api.ServiceView {
	t.Helper()
	cmd := exec.CommandContext(testenv.Context(t, time.Minute), tendBinary, "status", "--json", "-config", cfg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	var report statusReport
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("tend status --json: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	views := map[string]api.ServiceView{}
	for _, v := range report.Services {
		views[v.Name] = v
	}
	return views
}

// waitRunning waits until each named service is running with a PID and returns the
// PIDs by name.
func waitRunning(t *testing.T, cfg string, names ...string) map[string]int {
	t.Helper()
	var views map[string]api.ServiceView
	ok := testenv.WaitFor(testenv.Context(t, 3*time.Minute), func() bool {
		views = status(t, cfg)
		for _, name := range names {
			if v := views[name]; v.State != "running" || v.PID == 0 {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("services %v not all running: %s", names, describe(views))
	}
	pids := map[string]int{}
	for _, name := range names {
		pids[name] = views[name].PID
	}
	return pids
}

// describe formats the state, PID and reason of each service for a failure message.
func describe(views map[string]api.ServiceView) string {
	var parts []string
	for name, v := range views {
		parts = append(parts, fmt.Sprintf("%s %s PID %d (%s)", name, v.State, v.PID, v.Reason))
	}
	return strings.Join(parts, "; ")
}

// countMail returns how many messages in mailpit have a subject that contains part.
func countMail(t *testing.T, mp *testenv.Mailpit, part string) int {
	t.Helper()
	n := 0
	for _, m := range mp.Messages(t) {
		if strings.Contains(m.Subject, part) {
			n++
		}
	}
	return n
}

// waitMail waits until mailpit holds more than before messages whose subject
// contains part.
func waitMail(t *testing.T, mp *testenv.Mailpit, part string, before int) {
	t.Helper()
	ok := testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		return countMail(t, mp, part) > before
	})
	if !ok {
		var subjects []string
		for _, m := range mp.Messages(t) {
			subjects = append(subjects, m.Subject)
		}
		t.Fatalf("no new mail with subject containing %q; subjects: %q", part, subjects)
	}
}

// httpOK reports whether a GET of url returns 200 with want in the body.
func httpOK(ctx context.Context, url, want string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return err == nil && resp.StatusCode == http.StatusOK && strings.Contains(string(body), want)
}

// redisCommand sends one command to the Redis server at addr in the RESP protocol
// and returns the first line of the reply, such as "+PONG" or ":1".
func redisCommand(ctx context.Context, addr string, args ...string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dial redis: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}

	var req strings.Builder
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return "", fmt.Errorf("send %s: %w", args[0], err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read reply to %s: %w", args[0], err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// killByPidfile sends SIGKILL to the PID in the first line of path, when there is one.
// Cleanups use it for the external services that tend leaves running when it stops.
func killByPidfile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	line, _, _ := strings.Cut(string(data), "\n")
	if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
