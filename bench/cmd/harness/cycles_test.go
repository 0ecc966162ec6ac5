package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/internal/testenv"
	"tend/supervisor/api"
)

// monitPage is the part of a Monit 5.33.0 service page around the "Data collected" row,
// as Monit printed it for a process service.
const monitPage = `<tr><td>Disk write operations</td><td>0.0 writes/s [0 writes total]</td></tr>` +
	`<tr><td>Data collected</td><td>Fri, 04 Dec 2026 20:13:29</td></tr>` +
	`<tr class='rule'><td>Existence</td><td>If doesn't exist then restart</td></tr>`

func TestParseMonitCollected(t *testing.T) {
	got, err := parseMonitCollected([]byte(monitPage))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Fri, 04 Dec 2026 20:13:29"; got != want {
		t.Errorf("parseMonitCollected = %q, want %q", got, want)
	}
}

func TestParseMonitCollectedInvalid(t *testing.T) {
	for name, page := range map[string]string{
		"no row":     `<tr><td>Pid</td><td>19155</td></tr>`,
		"empty cell": `<tr><td>Data collected</td><td> </td></tr>`,
		"cut off":    `<tr><td>Data collected</td><td>Fri, 04 Dec`,
		"markup":     `<tr><td>Data collected</td><td><span>-</span></td></tr>`,
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := parseMonitCollected([]byte(page)); err == nil {
				t.Errorf("parseMonitCollected(%q) = %q, want an error", page, got)
			}
		})
	}
}

func TestParseStatusMemory(t *testing.T) {
	const status = "Name:\tmonit\nVmHWM:\t   10400 kB\nVmRSS:\t   10240 kB\n" +
		"RssAnon:\t    2048 kB\nRssFile:\t    8192 kB\nRssShmem:\t       0 kB\n"
	m, err := parseStatusMemory(status)
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS != 10240<<10 {
		t.Errorf("RSS = %d, want %d", m.RSS, 10240<<10)
	}
	if m.Anon != 2048<<10 {
		t.Errorf("Anon = %d, want %d", m.Anon, 2048<<10)
	}
}

func TestParseStatusMemoryMissingAnon(t *testing.T) {
	if _, err := parseStatusMemory("VmRSS:\t   10240 kB\n"); err == nil {
		t.Error("parseStatusMemory accepted a status without RssAnon")
	}
}

func TestProcMemoryOwnProcess(t *testing.T) {
	m, err := procMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.Anon == 0 {
		t.Error("RssAnon of the test process is 0")
	}
	if m.Anon > m.RSS {
		t.Errorf("RssAnon %d above VmRSS %d", m.Anon, m.RSS)
	}
}

// serveUnix serves handler over HTTP on a unix socket until the test ends.
func serveUnix(t *testing.T, handler http.Handler) string {
	t.Helper()
	socket := filepath.Join(testenv.SocketDir(t), "tend.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return socket
}

func TestTendCheckStampLatestCheck(t *testing.T) {
	early := time.Date(2026, 12, 4, 20, 13, 29, 100, time.UTC)
	late := early.Add(time.Second)
	view := api.ServiceView{Name: "s0001", State: "running", Checks: []api.CheckView{
		{Name: "process", Known: true, At: &early},
		{Name: "total_memory", Known: true, At: &late},
		{Name: "never", Known: false},
	}}
	paths := make(chan string, 10)
	socket := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		_ = json.NewEncoder(w).Encode(view)
	}))

	got, err := tendCheckStamp(api.NewClient(socket), "s0001")(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := late.Format(time.RFC3339Nano); got != want {
		t.Errorf("stamp = %q, want %q", got, want)
	}
	close(paths)
	var requested []string
	for p := range paths {
		requested = append(requested, p)
	}
	if len(requested) != 1 || !strings.HasSuffix(requested[0], "/services/s0001") {
		t.Errorf("requested paths %q, want one request for service s0001", requested)
	}
}

func TestTendCheckStampNoCheckYet(t *testing.T) {
	view := api.ServiceView{Name: "s0001", Checks: []api.CheckView{{Name: "process"}}}
	socket := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(view)
	}))
	got, err := tendCheckStamp(api.NewClient(socket), "s0001")(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != "" {
		t.Errorf("stamp = %q, want empty before any check", got)
	}
}

func TestNextCycleWaitsForChange(t *testing.T) {
	stamps := []string{"", "a", "a", "b"}
	calls := 0
	stamp := func(context.Context) (string, error) {
		s := stamps[min(calls, len(stamps)-1)]
		calls++
		return s, nil
	}
	w := &workload{Services: []service{{Name: "s0000"}, {Name: "s0001"}}}
	s := &session{runner: &runner{plan: plan{Interval: time.Second}}, n: 2, w: w,
		d: &daemon{checkStamp: stamp}}

	first, err := s.nextCycle("")
	if err != nil {
		t.Fatal(err)
	}
	if first != "a" {
		t.Errorf("nextCycle(\"\") = %q, want a", first)
	}
	next, err := s.nextCycle(first)
	if err != nil {
		t.Fatal(err)
	}
	if next != "b" {
		t.Errorf("nextCycle(a) = %q, want b", next)
	}
}

// TestMonitCheckStampChanges runs Monit on one process service, the test's own sleep
// process, and reads the stamp from Monit's page until it changes.
func TestMonitCheckStampChanges(t *testing.T) {
	bin := testenv.LookPath(t, "monit", "monit", "/usr/bin", "/usr/sbin")
	dir := t.TempDir()
	ctx := testenv.Context(t, time.Minute)

	sleep := exec.CommandContext(ctx, "sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleep.Process.Kill(); _ = sleep.Wait() })
	pidfile := filepath.Join(dir, "s0001.pid")
	if err := os.WriteFile(pidfile, fmt.Appendf(nil, "%d\n", sleep.Process.Pid), 0o644); err != nil {
		t.Fatal(err)
	}

	port := testenv.FreePort(t)
	rc := fmt.Sprintf("set daemon 1\nset logfile %[1]s/monit.log\nset pidfile %[1]s/monit.pid\n"+
		"set idfile %[1]s/monit.id\nset statefile %[1]s/monit.state\n"+
		"set httpd port %[2]d and use address 127.0.0.1\n    allow 127.0.0.1\n"+
		"check process s0001 with pidfile %[3]s\n", dir, port, pidfile)
	if err := os.WriteFile(filepath.Join(dir, "monitrc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	monitd := exec.CommandContext(ctx, bin, "-I", "-c", filepath.Join(dir, "monitrc"))
	if err := monitd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = monitd.Process.Kill(); _ = monitd.Wait() })

	read := monitCheckStamp(port, "s0001")
	var first, second string
	var err error
	if !testenv.WaitFor(ctx, func() bool {
		first, err = read(ctx)
		return err == nil
	}) {
		t.Fatalf("no stamp from monit on port %d: %v", port, err)
	}
	if !testenv.WaitFor(ctx, func() bool {
		second, err = read(ctx)
		return err == nil && second != first
	}) {
		t.Fatalf("stamp stayed %q (last error: %v)", first, err)
	}
	if !strings.Contains(second, ":") {
		t.Errorf("stamp %q has no time of day", second)
	}
}
