package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"tend/config"
	"tend/supervisor/procwatch"
)

// startSleepers starts n sleep processes, each with a pidfile in dir, and returns the
// pidfiles. The processes end with the benchmark.
func startSleepers(b *testing.B, dir string, n int) []string {
	b.Helper()
	pidfiles := make([]string, n)
	for i := range n {
		cmd := exec.Command("sleep", "3600")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		pidfiles[i] = filepath.Join(dir, fmt.Sprintf("svc%d.pid", i))
		if err := os.WriteFile(pidfiles[i], []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return pidfiles
}

// cpuTime returns the user plus system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCycle measures one full cycle over N external services, each with a process,
// a cpu and a memory rule: one /proc pass, identification through the pidfile, and the
// resource figures. cpu-ms/cycle is the CPU time of the whole process per cycle, which
// includes the Go runtime's own work.
func BenchmarkCycle(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			pidfiles := startSleepers(b, b.TempDir(), n)
			cfg := &config.Config{Interval: config.Duration(time.Hour), Hostname: "bench"}
			for i, pidfile := range pidfiles {
				svc := ownedService(fmt.Sprintf("svc%d", i))
				svc.Command = nil
				svc.Pidfile = pidfile
				svc.Checks = []config.Check{
					{Type: config.CheckProcess, ForCycles: 1, Action: config.ActionAlert},
					{Type: config.CheckCPU, ForCycles: 3, Action: config.ActionAlert,
						Limit: config.Limit{Value: 95, Unit: config.UnitPercent, Text: "95%"}},
					{Type: config.CheckTotalMemory, ForCycles: 1, Action: config.ActionAlert,
						Limit: config.Limit{Value: 600 << 20, Unit: config.UnitBytes, Text: "600MB"}},
				}
				cfg.Services = append(cfg.Services, svc)
			}
			sup, err := New(Options{Config: cfg, Alerter: &recorder{}, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			sup.runCycle(ctx) // The first cycle identifies the processes.
			for _, svc := range sup.services {
				if svc.pid == 0 {
					b.Fatalf("service %s not identified: %s", svc.cfg.Name, svc.reason)
				}
			}

			b.ReportAllocs()
			b.ResetTimer()
			cpuBefore := cpuTime()
			for b.Loop() {
				sup.runCycle(ctx)
			}
			b.ReportMetric(float64(cpuTime()-cpuBefore)/float64(time.Millisecond)/float64(b.N), "cpu-ms/cycle")
		})
	}
}

// BenchmarkRestartAfterKill measures, with a 30 s cycle, the time from SIGKILL of a
// service's process to tend's decision to restart it (decide-ms) and to the
// replacement running (replace-ms), as medians over the iterations.
func BenchmarkRestartAfterKill(b *testing.B) {
	// As the daemon does, so that the killed processes, which the start program left
	// behind as orphans, are reaped rather than piling up as zombies in /proc. The
	// iterations follow each other faster than the Reaper's default grace of 2s, so
	// the grace is shorter here. The start program's Wait runs well within it.
	if err := procwatch.BecomeSubreaper(); err != nil {
		b.Fatal(err)
	}
	reaper := procwatch.NewReaper(procwatch.ReaperOptions{Grace: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = reaper.Run(ctx) }()
	withReaper := func(o *Options) { o.Reaper = reaper }

	for _, kind := range []string{"owned", "pidfile"} {
		b.Run(kind, func(b *testing.B) {
			var svc config.Service
			if kind == "owned" {
				svc = ownedService("svc", "sleep", "3600")
			} else {
				pidfile := filepath.Join(b.TempDir(), "svc.pid")
				svc = ownedService("svc")
				svc.Command = nil
				svc.Pidfile = pidfile
				svc.Start = []string{"sh", "-c", "sleep 3600 >/dev/null 2>&1 & echo $! > " + pidfile}
				b.Cleanup(func() {
					if data, err := os.ReadFile(pidfile); err == nil {
						killPID(string(data))
					}
				})
			}
			svc.RestartLimit = config.RestartLimit{Restarts: 1 << 30, Cycles: 1}
			svc.StableAfter = 0 // Every restart runs at once.
			cfg := &config.Config{Interval: config.Duration(30 * time.Second), Hostname: "bench",
				Services: []config.Service{svc}}
			h := startHarnessConfig(b, cfg, true, withReaper)
			st := h.waitService(b, "svc", "start", func(s ServiceStatus) bool { return s.State == StateRunning })

			decide := make([]time.Duration, 0, b.N)
			replace := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				killed := time.Now()
				if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
					b.Fatal(err)
				}
				old := st.PID
				st = h.waitServiceTight(b, "svc", func(s ServiceStatus) bool {
					return s.State == StateRunning && s.PID != old && s.PID != 0
				})
				replace = append(replace, time.Since(killed))
				decide = append(decide, st.History[len(st.History)-1].Time.Sub(killed))
			}
			b.StopTimer()
			b.ReportMetric(medianMillis(decide), "decide-ms")
			b.ReportMetric(medianMillis(replace), "replace-ms")
		})
	}
}

func medianMillis(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[len(d)/2]) / float64(time.Millisecond)
}
