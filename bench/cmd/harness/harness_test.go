package main

import (
	"bytes"
	"context"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tend/config"
	"tend/internal/testenv"
)

func TestSummarizeOddCount(t *testing.T) {
	s := summarize([]float64{5, 1, 3})
	if s.Median != 3 {
		t.Errorf("median = %v, want 3", s.Median)
	}
	if s.Min != 1 || s.Max != 5 {
		t.Errorf("range = %v–%v, want 1–5", s.Min, s.Max)
	}
}

func TestSummarizeEvenCount(t *testing.T) {
	if s := summarize([]float64{4, 1, 2, 3}); s.Median != 2.5 {
		t.Errorf("median = %v, want 2.5", s.Median)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	s := summarize(nil)
	if s.Count != 0 {
		t.Errorf("count = %d, want 0", s.Count)
	}
	if got := s.format("ms"); got != "–" {
		t.Errorf("format = %q, want –", got)
	}
}

func TestNiceCeiling(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{{0, 1}, {3.2, 5}, {21, 25}, {0.7, 1}, {100, 100}} {
		if got := niceCeiling(c.in); got != c.want {
			t.Errorf("niceCeiling(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseSizesRejectsSmall(t *testing.T) {
	if _, err := parseSizes("10,2"); err == nil {
		t.Error("parseSizes accepted 2 services")
	}
}

func TestParseToolsRejectsUnknown(t *testing.T) {
	if _, err := parseTools("tend-owned,systemd"); err == nil {
		t.Error("parseTools accepted systemd")
	}
}

func smallWorkload(t *testing.T, n int) *workload {
	t.Helper()
	w, err := newWorkload(t.TempDir(), n, 2*time.Second, 2525, newPortPool())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWorkloadPortServices(t *testing.T) {
	if got := len(smallWorkload(t, 10).portServices()); got != 2 {
		t.Errorf("10 services: %d port services, want 2", got)
	}
	if got := len(smallWorkload(t, 100).portServices()); got != 10 {
		t.Errorf("100 services: %d port services, want 10", got)
	}
}

func TestTendConfigLoads(t *testing.T) {
	for _, owned := range []bool{false, true} {
		w := smallWorkload(t, 20)
		file, err := w.writeTend(filepath.Join(w.Dir, "tend"), owned)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(file)
		if err != nil {
			t.Fatalf("owned=%v: %v", owned, err)
		}
		if len(cfg.Services) != 20 {
			t.Errorf("owned=%v: %d services, want 20", owned, len(cfg.Services))
		}
		if owned != cfg.Services[0].Owned() {
			t.Errorf("owned=%v: first service owned = %v", owned, cfg.Services[0].Owned())
		}
	}
}

func TestMonitConfigValid(t *testing.T) {
	bin := testenv.LookPath(t, "monit", "monit", "/usr/bin", "/usr/sbin")
	w := smallWorkload(t, 20)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := w.writeMonit(filepath.Join(w.Dir, "monit"), port)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(context.Background(), bin, "-t", "-c", rc).CombinedOutput(); err != nil {
		t.Fatalf("monit -t: %v: %s", err, out)
	}
}

func TestServeAnswersPing(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(t.TempDir(), "serve.pid")
	errc := make(chan error, 1)
	go func() { errc <- runServe([]string{"-port", strconv.Itoa(port), "-pidfile", pidfile}) }()

	if _, err := waitUntil(time.Now(), 10*time.Second, 10*time.Millisecond, func() bool {
		return pingPong(port, time.Second)
	}); err != nil {
		t.Fatalf("no pong on port %d: %v", port, err)
	}
	if got := readPidfile(pidfile); got != os.Getpid() {
		t.Errorf("pidfile names %d, want %d", got, os.Getpid())
	}
	select {
	case err := <-errc:
		t.Errorf("serve returned: %v", err)
	default:
	}
}

func TestSupervisorStatusRunningOnly(t *testing.T) {
	socket := filepath.Join(testenv.SocketDir(t), "s.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	const reply = `<?xml version='1.0'?><methodResponse><params><param><value><array><data>
<value><struct><member><name>name</name><value><string>s0000</string></value></member>
<member><name>statename</name><value><string>RUNNING</string></value></member>
<member><name>pid</name><value><int>4242</int></value></member></struct></value>
<value><struct><member><name>name</name><value><string>s0001</string></value></member>
<member><name>statename</name><value><string>BACKOFF</string></value></member>
<member><name>pid</name><value><int>0</int></value></member></struct></value>
</data></array></value></param></params></methodResponse>`
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(reply))
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	running, err := supervisorStatus(socket)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if running["s0000"] != 4242 {
		t.Errorf("s0000 PID = %d, want 4242", running["s0000"])
	}
	if _, ok := running["s0001"]; ok {
		t.Error("s0001 in BACKOFF counted as running")
	}
}

func TestChartDrawsEveryTool(t *testing.T) {
	res := newResults()
	tools := []toolKind{tendExternal, monit}
	for i, n := range []int{10, 100} {
		res.add(mCPU, tendExternal, n, float64(i+1))
		res.add(mCPU, monit, n, float64(2*i+2))
		res.add(mRSS, tendExternal, n, 20)
		res.add(mRSS, monit, n, 8)
	}
	r := &report{plan: plan{Sizes: []int{10, 100}, Tools: tools}, res: res}
	path := filepath.Join(t.TempDir(), "chart.png")
	if err := writeChart(path, r); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}

	seen := map[toolKind]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			for _, k := range tools {
				c := toolColors[k]
				if uint8(cr>>8) == c.R && uint8(cg>>8) == c.G && uint8(cb>>8) == c.B {
					seen[k] = true
				}
			}
		}
	}
	for _, k := range tools {
		if !seen[k] {
			t.Errorf("no pixel of %s's color", k)
		}
	}
}
