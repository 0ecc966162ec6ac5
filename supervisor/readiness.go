package supervisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"tend/alert"
	"tend/config"
	"tend/supervisor/notify"
)

// openServiceFiles opens the notify socket and the log file of each owned service that
// has one. A failure is logged and leaves the service without it: a service without
// its notify socket counts as up once started, and its output goes to the log.
func (s *Supervisor) openServiceFiles() {
	for _, svc := range s.services {
		s.openFiles(svc)
	}
}

func (s *Supervisor) listenNotify(svc *service) {
	// NOTIFY_SOCKET must be absolute: clients such as libsystemd's sd_notify reject a
	// relative path, and a service resolves one from its own directory.
	dir, err := filepath.Abs(filepath.Join(s.cfg.StateDir, "notify"))
	if err != nil {
		svc.log.Error("notify socket directory", "err", err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		svc.log.Error("create notify socket directory", "err", err)
		return
	}
	sock, err := notify.Listen(filepath.Join(dir, svc.cfg.Name+".sock"))
	if err != nil {
		svc.log.Error("listen on notify socket; the service counts as up once started", "err", err)
		return
	}
	svc.notify = sock
	go func() {
		for m := range sock.Messages() {
			select {
			case s.calls <- func(ctx context.Context) { s.handleNotify(ctx, svc, m) }:
			case <-s.done:
				return
			}
		}
	}()
}

// closeServiceFiles closes what openServiceFiles opened.
func (s *Supervisor) closeServiceFiles() {
	for _, svc := range s.services {
		if svc.notify != nil {
			_ = svc.notify.Close()
		}
		if svc.logFile != nil {
			_ = svc.logFile.Close()
		}
	}
}

// notifyPath returns the NOTIFY_SOCKET of the service, empty when it has none.
func (svc *service) notifyPath() string {
	if svc.notify == nil {
		return ""
	}
	return svc.notify.Path()
}

// processUp handles a started or adopted process: a service that signals readiness
// stays starting until READY=1 or its start timeout, the others run at once.
func (s *Supervisor) processUp(ctx context.Context, svc *service, trigger string, restarted bool) {
	if svc.notify == nil {
		s.markRunning(ctx, svc, trigger, restarted)
		return
	}
	svc.readyToken++
	token := svc.readyToken
	svc.restartedBeforeReady = restarted
	svc.awaitingReady = true
	svc.setState(StateStarting, fmt.Sprintf("%s; waiting for READY=1", trigger))
	timeout := svc.cfg.StartTimeout.D()
	s.after(timeout, func(ctx context.Context) {
		if svc.readyToken != token || !svc.awaitingReady || svc.busy {
			return
		}
		svc.awaitingReady = false
		msg := fmt.Sprintf("%s sent no READY=1 within its start timeout of %s", svc.cfg.Name, timeout)
		svc.log.Warn("start timed out", "start_timeout", timeout, "pid", svc.pid)
		// One alert per run of timeouts: READY=1 ends the run.
		if !svc.startTimedOut {
			svc.startTimedOut = true
			s.emit(svc, alert.Event{Kind: alert.KindStartTimeout, Observed: "no READY=1 within " + timeout.String(),
				Message: msg})
		}
		s.processFailed(ctx, svc, "start timed out: no READY=1 within "+timeout.String())
	})
}

// markRunning puts svc in the running state and lets what waited for it go on.
func (s *Supervisor) markRunning(ctx context.Context, svc *service, reason string, restarted bool) {
	svc.startTimedOut = false
	svc.setState(StateRunning, reason)
	if svc.cfg.Watchdog > 0 && svc.notify != nil {
		s.armWatchdog(svc)
	}
	if restarted {
		s.restartDependents(ctx, svc)
	}
	s.startWaiting(ctx)
}

// processFailed counts a failure of the process check of svc, which runs its action.
func (s *Supervisor) processFailed(ctx context.Context, svc *service, reason string) {
	svc.setState(StateFailed, reason)
	for _, cs := range svc.checks {
		if cs.cfg.Type == config.CheckProcess {
			s.record(ctx, svc, cs, false, reason, reason)
			return
		}
	}
}

// handleNotify applies one sd_notify message from a service's processes.
func (s *Supervisor) handleNotify(ctx context.Context, svc *service, m notify.Message) {
	if status := m.Status(); status != "" {
		svc.statusText = status
	}
	if svc.busy || svc.held || svc.state == StateUnmonitored {
		return // From a process that tend is stopping, or that is not monitored.
	}
	svc.log.Debug("notify message", "pid", m.PID, "message", m.Raw)
	if m.Ready() && svc.awaitingReady {
		svc.readyToken++
		svc.awaitingReady = false
		s.markRunning(ctx, svc, "READY=1 received", svc.restartedBeforeReady)
	}
	if m.Watchdog() && svc.state == StateRunning && svc.watchdog != nil {
		s.armWatchdog(svc)
	}
	if m.WatchdogTrigger() && svc.state == StateRunning {
		s.watchdogMissed(ctx, svc, "the service sent WATCHDOG=trigger")
	}
}

// armWatchdog starts the watchdog interval of svc again.
func (s *Supervisor) armWatchdog(svc *service) {
	svc.watchdogToken++
	token := svc.watchdogToken
	if svc.watchdog != nil {
		svc.watchdog.Stop()
	}
	interval := svc.cfg.Watchdog.D()
	svc.watchdog = s.after(interval, func(ctx context.Context) {
		if svc.watchdogToken != token || svc.state != StateRunning || svc.busy || svc.held {
			return
		}
		s.watchdogMissed(ctx, svc, "no WATCHDOG=1 within "+interval.String())
	})
}

// stopWatchdog cancels the watchdog of svc.
func (svc *service) stopWatchdog() {
	svc.watchdogToken++
	if svc.watchdog != nil {
		svc.watchdog.Stop()
		svc.watchdog = nil
	}
}

// watchdogMissed runs the watchdog action of svc.
func (s *Supervisor) watchdogMissed(ctx context.Context, svc *service, observed string) {
	svc.stopWatchdog()
	action := svc.cfg.WatchdogAction
	svc.log.Warn("watchdog missed", "observed", observed, "action", action)
	s.emit(svc, alert.Event{
		Kind: alert.KindWatchdog, Observed: observed, Action: action.String(),
		Threshold: "WATCHDOG=1 every " + svc.cfg.Watchdog.String(),
		Message:   fmt.Sprintf("%s missed its watchdog: %s", svc.cfg.Name, observed),
	})
	s.runAction(ctx, svc, action, nil, "watchdog: "+observed)
}

// startPeriod reports whether svc started less than its start timeout ago. Probe
// failures in that period do not count, because a service may open its port late.
func (svc *service) startPeriod(now time.Time) bool {
	return !svc.started.IsZero() && now.Sub(svc.started) < svc.cfg.StartTimeout.D()
}
