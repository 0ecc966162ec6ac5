package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"tend/supervisor/api"
)

// plan is the set of measurements of one run: sizes, repetitions, cycle and tools.
type plan struct {
	Sizes []int
	Reps  int
	// Interval is the cycle of tend and Monit.
	Interval time.Duration
	// Window is the number of cycles over which CPU and memory are read, or of
	// intervals for supervisord, which has no cycle.
	Window int
	Tools  []toolKind
}

// runner carries what every measurement needs.
type runner struct {
	plan  plan
	bins  binaries
	root  string
	mail  *mailpit
	ports *portPool
	res   *results
	log   *slog.Logger
}

// pollStep is the pace at which the harness reads a tool's status.
const pollStep = 50 * time.Millisecond

// fail records a failed step and logs it.
func (r *runner) fail(tool toolKind, n int, step string, err error) {
	r.res.Failures = append(r.res.Failures, fmt.Sprintf("%s, N=%d, %s: %v", tool.label(), n, step, err))
	r.log.Warn("step failed", "tool", tool, "n", n, "step", step, "err", err)
}

// session is one daemon of one tool on one workload.
type session struct {
	*runner
	kind  toolKind
	n     int
	w     *workload
	dir   string
	start func() (*daemon, error)
	conf  string
	d     *daemon
}

// runOne measures one repetition of one tool at one N, from a fresh directory.
func (r *runner) runOne(kind toolKind, n, rep int) error {
	dir := filepath.Join(r.root, fmt.Sprintf("n%d-r%d-%s", n, rep, kind))
	w, err := newWorkload(dir, n, r.plan.Interval, r.mail.SMTPPort, r.ports)
	if err != nil {
		return err
	}
	start, conf, err := configure(kind, r.bins, w, filepath.Join(dir, string(kind)), r.ports)
	if err != nil {
		return err
	}
	s := &session{runner: r, kind: kind, n: n, w: w, dir: dir, start: start, conf: conf}
	defer s.cleanup()

	s.measureValidate()
	s.d, err = start()
	if err != nil {
		return err
	}
	runningAt, ok := s.measureStart()
	if !ok {
		return nil
	}
	s.measureSteady()
	s.measureHang(runningAt)
	s.measureKill()
	s.measureReload()
	s.measureAdopt()
	return nil
}

// cleanup stops the daemon and kills what is left of the workload, by PID.
func (s *session) cleanup() {
	if s.d != nil && !s.d.exited() {
		if err := s.d.stop(false, 60*time.Second); err != nil {
			s.fail(s.kind, s.n, "stop", err)
		}
	}
	if killed := killWorkload(filepath.Join(s.dir, "bin") + "/"); killed > 0 {
		s.log.Debug("killed workload processes", "tool", s.kind, "n", s.n, "count", killed)
	}
}

// waitRunning polls the daemon's status until it reports every service running and
// returns the PIDs and the time since from.
func (s *session) waitRunning(from time.Time, limit time.Duration) (map[string]int, time.Duration, error) {
	var running map[string]int
	var lastErr error
	took, err := waitUntil(from, limit, pollStep, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		running, lastErr = s.d.status(ctx)
		return lastErr == nil && len(running) == s.n
	})
	if err != nil {
		if s.d.exited() {
			return nil, 0, fmt.Errorf("daemon exited; see %s", filepath.Join(filepath.Dir(s.conf), "daemon.log"))
		}
		return nil, 0, fmt.Errorf("%d of %d running (last status error: %w): %w", len(running), s.n, lastErr, err)
	}
	return running, took, nil
}

// startLimit bounds the wait for all services to run. Monit starts them one after
// the other, which took about 0.35 s per service on a 2-core machine.
func (s *session) startLimit() time.Duration {
	return 60*time.Second + time.Duration(s.n)*time.Second
}

func (s *session) measureStart() (time.Time, bool) {
	_, took, err := s.waitRunning(s.d.started, s.startLimit())
	if err != nil {
		s.fail(s.kind, s.n, "start", err)
		return time.Time{}, false
	}
	s.res.add(mStart, s.kind, s.n, millis(took))
	return time.Now(), true
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// replaceLimit bounds the wait for a replacement: a probe, a cycle and a start, with
// room for a slow machine.
func (s *session) replaceLimit() time.Duration {
	return probeTimeout + 3*s.plan.Interval + 2*startTimeout
}

// waitReplaced waits for the pidfile of svc to name a live process other than old.
func (s *session) waitReplaced(svc service, old int, from time.Time) (time.Duration, error) {
	return waitUntil(from, s.replaceLimit(), time.Millisecond, func() bool {
		pid := readPidfile(svc.Pidfile)
		return pid != old && alive(pid)
	})
}

// measureHang stops the first port service with SIGSTOP, so that its port accepts
// connections and nothing replies, and times its replacement. It first waits until
// the service ran for startTimeout, within which tend ignores probe failures.
func (s *session) measureHang(runningAt time.Time) {
	if _, no := mHang.Unsupported[s.kind]; no {
		return
	}
	time.Sleep(time.Until(runningAt.Add(startTimeout)))
	svc := s.w.portServices()[0]
	pid := readPidfile(svc.Pidfile)
	if !alive(pid) {
		s.fail(s.kind, s.n, "hang", fmt.Errorf("service %s has no live process (pid %d)", svc.Name, pid))
		return
	}
	stopped := time.Now()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		s.fail(s.kind, s.n, "hang", err)
		return
	}
	took, err := s.waitReplaced(svc, pid, stopped)
	if alive(pid) {
		// The tool did not end the stopped process; it is the harness's own.
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if err != nil {
		s.fail(s.kind, s.n, "hang", fmt.Errorf("service %s: %w", svc.Name, err))
		return
	}
	s.res.add(mHang, s.kind, s.n, millis(took))
}

// measureKill kills the second port service with SIGKILL and times its replacement,
// its port replying again, and the alert mail that names it.
func (s *session) measureKill() {
	svc := s.w.portServices()[1]
	pid := readPidfile(svc.Pidfile)
	if !alive(pid) {
		s.fail(s.kind, s.n, "kill", fmt.Errorf("service %s has no live process (pid %d)", svc.Name, pid))
		return
	}
	if err := s.mail.deleteAll(); err != nil {
		s.fail(s.kind, s.n, "kill", fmt.Errorf("clear mailpit: %w", err))
		return
	}
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		s.fail(s.kind, s.n, "kill", err)
		return
	}
	took, err := s.waitReplaced(svc, pid, killed)
	if err != nil {
		s.fail(s.kind, s.n, "kill", fmt.Errorf("service %s: %w", svc.Name, err))
		return
	}
	s.res.add(mReplace, s.kind, s.n, millis(took))

	took, err = waitUntil(killed, s.replaceLimit(), 2*time.Millisecond, func() bool {
		return pingPong(svc.Port, 100*time.Millisecond)
	})
	if err != nil {
		s.fail(s.kind, s.n, "port", fmt.Errorf("service %s: %w", svc.Name, err))
	} else {
		s.res.add(mPort, s.kind, s.n, millis(took))
	}
	s.measureMail(svc, killed)
}

// measureMail waits for a message in mailpit that names svc. tend gathers the events
// of its digest window (5 s by default) into one message before sending.
func (s *session) measureMail(svc service, killed time.Time) {
	if _, no := mMail.Unsupported[s.kind]; no {
		return
	}
	took, err := waitUntil(killed, 60*time.Second, 10*time.Millisecond, func() bool {
		count, err := s.mail.count(svc.Name)
		return err == nil && count > 0
	})
	if err != nil {
		s.fail(s.kind, s.n, "mail", fmt.Errorf("service %s: %w", svc.Name, err))
		return
	}
	s.res.add(mMail, s.kind, s.n, millis(took))
}

// measureValidate times the tool's own check of the configuration files.
func (s *session) measureValidate() {
	var cmd *exec.Cmd
	switch s.kind {
	case tendExternal, tendOwned:
		cmd = exec.CommandContext(context.Background(), s.bins.Tend, "validate", "-config", s.conf)
	case monit:
		cmd = exec.CommandContext(context.Background(), s.bins.Monit, "-t", "-c", s.conf)
	default:
		return
	}
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.fail(s.kind, s.n, "validate", fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out))))
		return
	}
	s.res.add(mValidate, s.kind, s.n, millis(time.Since(began)))
}

// measureReload changes the memory limit in the last service's drop-in and times a
// reload over tend's control socket, which returns once the new configuration runs.
func (s *session) measureReload() {
	if !s.kind.isTend() {
		return
	}
	svc := s.w.Services[len(s.w.Services)-1]
	file := filepath.Join(filepath.Dir(s.conf), "conf.d", svc.Name+".toml")
	text := strings.Replace(s.w.tendService(svc, s.kind == tendOwned), memoryLimit, "700MB", 1)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		s.fail(s.kind, s.n, "reload", err)
		return
	}
	client := api.NewClient(filepath.Join(filepath.Dir(s.conf), "tend.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	began := time.Now()
	result, err := client.Reload(ctx, false)
	if err != nil {
		s.fail(s.kind, s.n, "reload", err)
		return
	}
	s.res.add(mReload, s.kind, s.n, millis(time.Since(began)))
	s.log.Debug("reloaded", "tool", s.kind, "n", s.n, "result", fmt.Sprintf("%+v", result))
}

// measureAdopt ends the daemon with its services left running, starts it again and
// times until it reports all of them running, then counts those whose PID changed.
func (s *session) measureAdopt() {
	if _, no := mAdopt.Unsupported[s.kind]; no {
		return
	}
	// The reload's own file watcher fires 500 ms after the change; let it pass.
	time.Sleep(time.Second)
	before, _, err := s.waitRunning(time.Now(), s.replaceLimit())
	if err != nil {
		s.fail(s.kind, s.n, "adopt", fmt.Errorf("before restart: %w", err))
		return
	}
	if err := s.d.stop(true, 60*time.Second); err != nil {
		s.fail(s.kind, s.n, "adopt", err)
		return
	}
	s.d, err = s.start()
	if err != nil {
		s.fail(s.kind, s.n, "adopt", err)
		return
	}
	after, took, err := s.waitRunning(s.d.started, s.startLimit())
	if err != nil {
		s.fail(s.kind, s.n, "adopt", err)
		return
	}

	twice := 0
	for name, pid := range before {
		if after[name] != pid {
			twice++
		}
	}

	s.res.add(mAdopt, s.kind, s.n, millis(took))
	s.res.add(mTwice, s.kind, s.n, float64(twice))
}
