package main

import (
	"fmt"
	"net/http"
	"time"
)

// steadyWindow is the CPU time, wall time and memory of a daemon at rest, read over
// one window.
type steadyWindow struct {
	// CPU is the daemon's CPU time over Wall, the window's wall-clock length.
	CPU, Wall time.Duration
	// Cycle is the mean length of the cycles the daemon really ran, 0 for a tool
	// without cycles.
	Cycle time.Duration
	// RSS and Anon are the reads of VmRSS and RssAnon, in MiB.
	RSS, Anon []float64
}

// measureSteady measures the daemon at rest, after two intervals to settle. For tend
// and Monit it first times Window cycles that the daemon really ran, then reads its
// CPU over as long again with no request to it. supervisord has no cycle, so its
// window is Window intervals.
func (s *session) measureSteady() {
	// The status polls of the start leave keep-alive connections open. They are
	// closed so that no web server spends CPU on an idle connection in the window.
	http.DefaultClient.CloseIdleConnections()
	time.Sleep(2 * s.plan.Interval)
	var w steadyWindow
	var err error
	if s.d.checkStamp != nil {
		w, err = s.watchCycles()
	} else {
		w, err = s.watchIntervals()
	}
	if err != nil {
		s.fail(s.kind, s.n, "steady", err)
		return
	}

	perSecond := millis(w.CPU) / w.Wall.Seconds()
	s.res.add(mRSS, s.kind, s.n, summarize(w.RSS).Median)
	s.res.add(mPrivate, s.kind, s.n, summarize(w.Anon).Median)
	s.res.add(mCPURate, s.kind, s.n, perSecond)
	if w.Cycle > 0 {
		s.res.add(mCPU, s.kind, s.n, perSecond*w.Cycle.Seconds())
		s.res.add(mCycle, s.kind, s.n, w.Cycle.Seconds())
	}
	s.log.Debug("steady", "tool", s.kind, "n", s.n, "cpu", w.CPU, "wall", w.Wall, "cycle", w.Cycle)
}

// watchCycles times Window cycles between two changes of the daemon's check stamp,
// reading the memory once per cycle. Then, from the last boundary, it reads the
// daemon's CPU time over Window cycles of that mean length without polling, so that
// the daemon's replies to the polls do not count.
func (s *session) watchCycles() (steadyWindow, error) {
	pid := s.d.pid()
	stamp, err := s.nextCycle("")
	if err != nil {
		return steadyWindow{}, err
	}
	if stamp, err = s.nextCycle(stamp); err != nil {
		return steadyWindow{}, err
	}
	began := time.Now()
	var w steadyWindow
	for range s.plan.Window {
		if err := w.readMemory(pid); err != nil {
			return w, err
		}
		if stamp, err = s.nextCycle(stamp); err != nil {
			return w, err
		}
	}
	w.Cycle = time.Since(began) / time.Duration(s.plan.Window)

	began = time.Now()
	cpu0, err := procCPU(pid)
	if err != nil {
		return w, fmt.Errorf("read cpu: %w", err)
	}
	time.Sleep(time.Duration(s.plan.Window) * w.Cycle)
	return w, w.finish(pid, began, cpu0)
}

// watchIntervals reads the daemon's CPU time now and again Window intervals later,
// and its memory once per interval.
func (s *session) watchIntervals() (steadyWindow, error) {
	pid := s.d.pid()
	began := time.Now()
	cpu0, err := procCPU(pid)
	if err != nil {
		return steadyWindow{}, fmt.Errorf("read cpu: %w", err)
	}

	var w steadyWindow
	for range s.plan.Window {
		if err := w.readMemory(pid); err != nil {
			return w, err
		}
		time.Sleep(s.plan.Interval)
	}
	return w, w.finish(pid, began, cpu0)
}

func (w *steadyWindow) readMemory(pid int) error {
	m, err := procMemory(pid)
	if err != nil {
		return fmt.Errorf("read memory: %w", err)
	}
	w.RSS = append(w.RSS, float64(m.RSS)/(1<<20))
	w.Anon = append(w.Anon, float64(m.Anon)/(1<<20))
	return nil
}

// finish reads the daemon's CPU time at the end of the window and sets CPU and Wall.
func (w *steadyWindow) finish(pid int, began time.Time, cpu0 time.Duration) error {
	cpu1, err := procCPU(pid)
	if err != nil {
		return fmt.Errorf("read cpu: %w", err)
	}
	w.CPU, w.Wall = cpu1-cpu0, time.Since(began)
	return nil
}
