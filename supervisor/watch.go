package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"tend/alert"
	"tend/checks"
	"tend/supervisor/procwatch"
)

// watchExternal watches the main process of an external service through a pidfd, so
// that its exit is handled at once rather than at the next cycle. Where the kernel has
// no pidfd, the cycle notices the exit.
func (s *Supervisor) watchExternal(svc *service) {
	if svc.cfg.Owned() || svc.pid == 0 {
		return
	}
	if svc.watcher != nil {
		if svc.watcher.PID() == svc.pid {
			return
		}
		_ = svc.watcher.Close()
		svc.watcher = nil
	}
	svc.exe = readExe(s.opts.ProcDir, svc.pid)
	w, err := procwatch.WatchFunc(svc.pid, svc.startTicks, func(w *procwatch.Watcher) {
		select {
		case s.calls <- func(ctx context.Context) { s.externalExited(ctx, svc, w) }:
		case <-s.done:
		}
	})
	if err != nil {
		if !errors.Is(err, procwatch.ErrUnsupported) {
			svc.log.Debug("watch process", "pid", svc.pid, "err", err)
		}
		return // The process is gone already, or pidfd is missing: the cycle notices.
	}
	svc.watcher = w
}

// externalExited handles the exit of an external service's main process. A graceful
// reload leaves the pidfile naming a new process of the same program, and tend follows
// it. Otherwise the process check fails at once.
func (s *Supervisor) externalExited(ctx context.Context, svc *service, w *procwatch.Watcher) {
	if svc.watcher != w {
		return // Replaced or closed since.
	}

	_ = w.Close()
	svc.watcher = nil
	if svc.busy || svc.held || svc.state == StateUnmonitored || svc.pid != w.PID() {
		return
	}

	snap, err := checks.ReadSnapshotWith(s.opts.ProcDir, s.snapOpts)
	if err != nil {
		svc.log.Error("read process table", "err", err)
		return
	}

	oldPID, oldExe := svc.pid, svc.exe
	reason := svc.identify(snap)
	if reason == "" {
		if exe := readExe(s.opts.ProcDir, svc.pid); !sameProgram(oldExe, exe) {
			// A reload starts the same program again. Another program in the pidfile is
			// a pidfile that was rewritten by mistake, and that process is never taken
			// for the service, let alone signalled.
			reason = fmt.Sprintf("the pidfile now names PID %d (%s), not a new %s", svc.pid, exe, oldExe)
			svc.pid, svc.startTicks = 0, 0
		}
	}
	if reason == "" {
		svc.log.Info("main process changed", "old_pid", oldPID, "pid", svc.pid)
		s.emit(svc, alert.Event{
			Kind: alert.KindPIDChanged, Observed: fmt.Sprintf("PID %d exited, PID %d took over", oldPID, svc.pid),
			Message: fmt.Sprintf("the main process of %s changed from PID %d to PID %d", svc.cfg.Name, oldPID, svc.pid),
		})
		if p, ok := snap.Alive(svc.pid, svc.startTicks); ok {
			svc.started = snap.StartTime(p)
		}
		s.watchExternal(svc)
		return
	}

	svc.log.Warn("process exited", "pid", oldPID, "reason", reason)
	svc.lastExit = &Exit{PID: oldPID, Status: "exit status unknown", Code: -1}
	if !svc.started.IsZero() {
		svc.lastExit.Uptime = time.Since(svc.started)
	}
	svc.started = time.Time{}
	if !strings.Contains(reason, fmt.Sprintf("PID %d ", oldPID)) {
		reason = fmt.Sprintf("PID %d exited; %s", oldPID, reason)
	}
	s.processFailed(ctx, svc, reason)
}

// readExe returns the program that pid runs, without the " (deleted)" that the kernel
// adds once the file was replaced, as a package upgrade does. It returns "" when the
// link cannot be read.
func readExe(procDir string, pid int) string {
	exe, err := os.Readlink(filepath.Join(procDir, strconv.Itoa(pid), "exe"))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(exe, " (deleted)")
}

// sameProgram reports whether two programs read by readExe are the same program, or
// whether one of them is unknown.
func sameProgram(a, b string) bool {
	return a == "" || b == "" || filepath.Base(a) == filepath.Base(b)
}
