package checks

// The benchmarks compare the process table reader with gopsutil's process package on
// the figures a cycle needs, and measure a cycle's cost as the number of processes
// grows. Run them with:
//
//	go test -run '^$' -bench . -benchtime 2s ./checks

import (
	"context"
	"os/exec"
	"strconv"
	"testing"

	"github.com/shirou/gopsutil/v4/process"

	"tend/internal/testenv"
)

func BenchmarkReadSnapshot(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts SnapshotOptions
	}{
		{"stat", SnapshotOptions{}},
		{"stat+cmdline", SnapshotOptions{Cmdline: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				s, err := ReadSnapshotWith("/proc", bc.opts)
				if err != nil {
					b.Fatal(err)
				}
				n = len(s.Processes)
			}
			b.ReportMetric(float64(n), "procs")
		})
	}
}

// BenchmarkGopsutilProcesses reads what ReadSnapshot reads (parent, state, start time,
// CPU time, resident memory and threads, and the command line in the second case)
// through gopsutil, one call per figure as its API offers them.
func BenchmarkGopsutilProcesses(b *testing.B) {
	ctx := context.Background()
	for _, cmdline := range []bool{false, true} {
		name := "stat"
		if cmdline {
			name = "stat+cmdline"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				procs, err := process.ProcessesWithContext(ctx)
				if err != nil {
					b.Fatal(err)
				}
				n = 0
				for _, p := range procs {
					if readGopsutilProcess(ctx, p, cmdline) {
						n++
					}
				}
			}
			b.ReportMetric(float64(n), "procs")
		})
	}
}

// readGopsutilProcess reads one process's figures and reports whether the process was
// still there: one may exit between the listing and the reads. Errors of the later
// calls are ignored, as a kernel thread has no command line and gopsutil reports that
// as an error.
func readGopsutilProcess(ctx context.Context, p *process.Process, cmdline bool) bool {
	if _, err := p.PpidWithContext(ctx); err != nil {
		return false
	}
	_, _ = p.StatusWithContext(ctx)
	_, _ = p.CreateTimeWithContext(ctx)
	_, _ = p.TimesWithContext(ctx)
	_, _ = p.MemoryInfoWithContext(ctx)
	_, _ = p.NumThreadsWithContext(ctx)
	if cmdline {
		_, _ = p.CmdlineWithContext(ctx)
	}
	return true
}

// BenchmarkSnapshotUsage measures one cycle for n services: a snapshot plus Usage for
// each of n sleeping children, on top of the processes already on the machine.
func BenchmarkSnapshotUsage(b *testing.B) {
	sleep := testenv.LookPath(b, "sleep", "apt-get install coreutils")
	for _, n := range []int{10, 100, 1000} {
		b.Run("children="+strconv.Itoa(n), func(b *testing.B) {
			pids := startSleepers(b, sleep, n)
			prev, err := ReadSnapshot("/proc")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				cur, err := ReadSnapshot("/proc")
				if err != nil {
					b.Fatal(err)
				}
				for _, pid := range pids {
					if u := cur.Usage(prev, pid, 1); !u.CPUKnown {
						b.Fatalf("Usage(%d): CPUKnown = false on the second snapshot", pid)
					}
				}
				prev = cur
			}
			b.ReportMetric(float64(len(prev.Processes)), "procs")
		})
	}
}

// startSleepers starts n processes of "sleep 600" and kills them when the benchmark
// ends.
func startSleepers(b *testing.B, sleep string, n int) []int {
	b.Helper()
	cmds := make([]*exec.Cmd, 0, n)
	b.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	})
	pids := make([]int, 0, n)
	for range n {
		c := exec.Command(sleep, "600")
		if err := c.Start(); err != nil {
			b.Fatalf("start sleep: %v", err)
		}
		cmds = append(cmds, c)
		pids = append(pids, c.Process.Pid)
	}
	return pids
}
