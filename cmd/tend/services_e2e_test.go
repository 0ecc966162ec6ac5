package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/internal/testenv"
)

// A killed redis-server found through its pidfile is restarted by its start program
// within two cycles, and one failure and one recovery mail reach the operator.
func TestRedisKilledIsRestarted(t *testing.T) {
	redis := testenv.LookPath(t, "redis-server", testenv.RedisInstall)
	mp := testenv.StartMailpit(t)
	dir := t.TempDir()
	port := testenv.FreePort(t)
	pidfile := filepath.Join(dir, "redis.pid")
	t.Cleanup(func() { killPidfile(pidfile) })

	cfg := writeConfig(t, dir, mp, fmt.Sprintf(`
[[service]]
name = "redis"
stable_after = "2s"     # the recovery is announced once the new process stayed up this long
pidfile = %q
start = [%q, "--port", "%d", "--bind", "127.0.0.1", "--daemonize", "yes",
         "--pidfile", %q, "--dir", %q, "--save", "", "--appendonly", "no"]
start_timeout = "10s"

[[service.check]]
type = "tcp"
address = "127.0.0.1:%d"
timeout = "1s"
action = "restart"
`, pidfile, redis, port, pidfile, dir, port))
	d := startTend(t, cfg)

	// How soon is measured by the benchmarks; this test checks that it happens.
	killAndWaitRestart(t, d, "redis", pidfile, testenv.Addr(port))
	failed := waitMail(t, mp, "e2e-host", "redis failed", "process")
	recovered := waitMail(t, mp, "e2e-host", "redis recovered", "process")
	if !failed.Created.Before(recovered.Created) && !failed.Created.Equal(recovered.Created) {
		t.Errorf("recovery mail (%s) arrived before the failure mail (%s)", recovered.Created, failed.Created)
	}
	if body := mp.Body(t, failed.ID); !strings.Contains(body, "restart") {
		t.Errorf("failure mail body does not name the action restart:\n%s", body)
	}
}

// A killed PostgreSQL postmaster is restarted through pg_ctl, its port
// accepts connections again, and the failure and recovery mails arrive.
func TestPostgresKilledIsRestarted(t *testing.T) {
	pg := testenv.InitPostgres(t, testenv.PostgresOptions{})
	mp := testenv.StartMailpit(t)
	dir := t.TempDir()

	cfg := writeConfig(t, dir, mp, fmt.Sprintf(`
[[service]]
name = "postgres"
stable_after = "2s"
pidfile = %q
start = %s
stop = %s
start_timeout = "30s"
stop_timeout = "30s"

[[service.check]]
type = "tcp"
address = "127.0.0.1:%d"
timeout = "1s"
action = "restart"
`, filepath.Join(pg.Data, "postmaster.pid"), tomlList(pg.Ctl("start", "-w")),
		tomlList(pg.Ctl("stop", "-m", "fast")), pg.Port))
	d := startTend(t, cfg)

	// A start right after the kill may fail while the killed postmaster's backends
	// still hold its shared memory; the backoff retries it.
	killAndWaitRestart(t, d, "postgres", filepath.Join(pg.Data, "postmaster.pid"), pg.Addr())
	waitMail(t, mp, "postgres failed", "process")
	waitMail(t, mp, "postgres recovered", "process")
}

// An owned service that exits at once is restarted until the restart limit, then
// unmonitored with one alert; after that nothing starts it again.
func TestCrashLoopReachesRestartLimit(t *testing.T) {
	mp := testenv.StartMailpit(t)
	dir := t.TempDir()
	starts := filepath.Join(dir, "starts")
	cfg := writeConfig(t, dir, mp, fmt.Sprintf(`
[[service]]
name = "crasher"
command = ["sh", "-c", "echo started >> %s; exit 3"]
restart_limit = { restarts = 3, cycles = 5 }
`, starts))
	d := startTend(t, cfg)

	waitMail(t, mp, "crasher unmonitored")
	// One start at daemon start plus three restarts.
	if got := countLines(t, starts); got != 4 {
		t.Errorf("crasher started %d times, want 4 (one start and 3 restarts)", got)
	}
	// Two more cycles: the loop has stopped.
	time.Sleep(2500 * time.Millisecond) //nolint:forbidigo // waiting out cycles is the test
	if got := countLines(t, starts); got != 4 {
		t.Errorf("crasher started %d times after being unmonitored, want still 4", got)
	}
	var limitMails int
	for _, m := range mp.Messages(t) {
		if strings.Contains(m.Subject, "unmonitored") {
			limitMails++
		}
	}
	if limitMails != 1 {
		t.Errorf("%d restart-limit mails, want 1", limitMails)
	}
	if !strings.Contains(d.out.String(), "restart limit reached") {
		t.Errorf("tend did not log the restart limit")
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return strings.Count(string(data), "\n")
}

func killPidfile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	line, _, _ := strings.Cut(string(data), "\n")
	if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func tomlList(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
