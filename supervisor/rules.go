package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"syscall"
	"time"

	"tend/alert"
	"tend/checks"
	"tend/config"
	"tend/internal/units"
)

// probeDone carries the result of one probe back to the loop.
type probeDone struct {
	svc        *service
	check      *checkState
	generation uint64
	result     checks.Result
}

// observe runs every rule of svc against the snapshot and launches its probes.
func (s *Supervisor) observe(ctx context.Context, svc *service, snap *checks.Snapshot) {
	if svc.cfg.HasProcess() {
		s.observeProcess(ctx, svc, snap)
	} else if svc.state != StateRunning {
		svc.setState(StateRunning, "monitoring the host")
	}
	if svc.awaitingReady {
		return // The start timeout decides, not the rules.
	}
	reason := svc.reason
	if svc.state == StateRunning {
		reason = ""
	}

	for _, cs := range svc.checks {
		if svc.busy || svc.state == StateUnmonitored || svc.held {
			return // A rule before this one started an action.
		}
		typ := cs.cfg.Type
		switch {
		case typ == config.CheckProcess:
			s.record(ctx, svc, cs, reason == "", reason, reason)
		case reason != "" && (cs.needsProcess || svc.cfg.HasProcess()):
			// No process to observe or to probe: the process check reports it.
		case typ == config.CheckPID || typ == config.CheckPPID:
			s.checkIdentityChange(ctx, svc, cs, snap)
		case cs.probe != nil:
			s.launchProbe(ctx, svc, cs)
		case cs.host:
			if value, shown, ok := s.hostFigure(cs.cfg); ok {
				s.compare(ctx, svc, cs, value, shown)
			}
		default:
			if value, shown, ok := s.resourceFigure(svc, cs.cfg); ok {
				s.compare(ctx, svc, cs, value, shown)
			}
		}
	}
}

// compare records whether a figure of a rule is within the rule's limit.
func (s *Supervisor) compare(ctx context.Context, svc *service, cs *checkState, value float64, shown string) {
	ok := !cs.cfg.Limit.Exceeded(value)
	reason := ""
	if !ok {
		reason = fmt.Sprintf("%s %s %s", cs.name, shown, cs.cfg.Limit)
	}
	s.record(ctx, svc, cs, ok, reason, shown)
}

// checkIdentityChange fails a pid or ppid rule once for each change of the PID or
// parent PID that tend did not cause itself by a start or restart.
func (s *Supervisor) checkIdentityChange(ctx context.Context, svc *service, cs *checkState, snap *checks.Snapshot) {
	p, alive := snap.Alive(svc.pid, svc.startTicks)
	if !alive {
		return
	}
	current := p.PID
	what := "PID"
	if cs.cfg.Type == config.CheckPPID {
		current, what = p.PPID, "parent PID"
	}
	last, lastGeneration := cs.lastID, cs.lastGeneration
	cs.lastID, cs.lastGeneration = current, svc.generation
	if last == 0 || last == current || lastGeneration != svc.generation {
		s.record(ctx, svc, cs, true, "", strconv.Itoa(current))
		return
	}
	reason := fmt.Sprintf("%s of %s changed from %d to %d", what, svc.cfg.Name, last, current)
	s.record(ctx, svc, cs, false, reason, fmt.Sprintf("%d (was %d)", current, last))
}

// memoryFigure returns a memory figure in the unit of limit: bytes for a size,
// percent of physical memory for a percentage. known is false for a percentage while
// the size of physical memory is unknown.
func (s *Supervisor) memoryFigure(bytes uint64, limit config.Limit) (value float64, observed string, known bool) {
	if limit.Unit != config.UnitPercent {
		return float64(bytes), units.Bytes(bytes), true
	}
	if s.memTotal == 0 {
		return 0, "", false
	}
	value = float64(bytes) * 100 / float64(s.memTotal)
	return value, fmt.Sprintf("%.1f%%", value), true
}

// launchProbe starts a probe in its own goroutine unless one of the same check is still
// running, so a hung probe delays neither the cycle nor another service.
func (s *Supervisor) launchProbe(ctx context.Context, svc *service, cs *checkState) {
	if cs.inFlight {
		return
	}
	cs.inFlight = true
	gen, probe, timeout := svc.generation, cs.probe, probeTimeout(cs.cfg)
	s.workers.Go(func() {
		select {
		case s.probeSlots <- struct{}{}:
		case <-s.done:
			return
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		r := probe.Probe(pctx)
		cancel()
		<-s.probeSlots
		select {
		case s.probes <- probeDone{svc: svc, check: cs, generation: gen, result: r}:
		case <-s.done:
		}
	})
}

func (s *Supervisor) handleProbe(ctx context.Context, p probeDone) {
	p.check.inFlight = false
	svc := p.svc
	if svc.busy || svc.state == StateUnmonitored || p.generation != svc.generation {
		return // An action began after the probe did, so the result is out of date.
	}
	svc.log.Debug("probe done", "check", p.check.name, "ok", p.result.OK,
		"duration", p.result.Duration, "reason", p.result.Reason)
	if !p.result.OK && svc.startPeriod(time.Now()) {
		svc.log.Info("probe failed within the start timeout; not counted", "check", p.check.name,
			"reason", p.result.Reason, "start_timeout", svc.cfg.StartTimeout)
		return // The service may not listen yet.
	}
	p.check.last.Duration = p.result.Duration
	s.record(ctx, svc, p.check, p.result.OK, p.result.Reason, p.result.Reason)
}

// record applies one observation to a rule: it counts consecutive failures, sends the
// failure alert once when the rule's cycle count is reached, runs the rule's action, and
// sends the recovery alert when a failing check passes again.
func (s *Supervisor) record(ctx context.Context, svc *service, cs *checkState, ok bool, reason, observed string) {
	cs.last.Known, cs.last.OK, cs.last.Observed, cs.last.At = true, ok, observed, time.Now()
	cs.last.Reason = reason
	if n := cs.cfg.WithinCycles; n > 0 {
		cs.recent = append(cs.recent, ok)
		if len(cs.recent) > n {
			cs.recent = append(cs.recent[:0], cs.recent[len(cs.recent)-n:]...)
		}
	}
	s.settleFlapping(svc, cs)
	if ok {
		cs.passes++
		if cs.failing && cs.cfg.Type == config.CheckProcess && !svc.upLongEnough(time.Now()) {
			// A restarted process may be a crash loop between two exits: its recovery
			// is announced once it stayed up for a while.
			cs.fails = 0
			return
		}
		if cs.failing {
			svc.log.Info("check recovered", "check", cs.name)
			if !s.flaps(svc, cs) {
				s.emit(svc, alert.Event{
					Kind: alert.KindRecovered, Check: cs.name, Threshold: threshold(cs.cfg),
					Message: fmt.Sprintf("%s of %s passes again", cs.name, svc.cfg.Name),
				})
			}
			svc.changed = true
		}
		cs.fails, cs.failing = 0, false
		return
	}

	cs.fails, cs.passes = cs.fails+1, 0
	// A lasting failure is logged when it begins and when it reaches for_cycles, and
	// at debug level in the cycles between and after.
	level := slog.LevelDebug
	if cs.fails == 1 || cs.fails == cs.cfg.ForCycles {
		level = slog.LevelInfo
	}
	svc.log.Log(ctx, level, "check failed", "check", cs.name, "reason", reason,
		"failures", cs.fails, "for_cycles", cs.cfg.ForCycles)
	if cs.failuresCounted() < cs.cfg.ForCycles {
		return
	}
	action := cs.cfg.Action
	now := time.Now()
	pace := s.cfg.ReminderPace()
	switch {
	case !cs.failing:
		cs.failing, cs.alerted, cs.failingSince = true, now, now
		svc.changed = true
		if !s.flaps(svc, cs) {
			s.emit(svc, alert.Event{
				Kind: alert.KindFailed, Check: cs.name, Observed: observed,
				Threshold: threshold(cs.cfg), Action: action.String(), Message: reason,
			})
		}
	case cs.flapping:
		// Its reminders wait until it settles, like its other alerts.
	case pace.D() > 0 && now.Sub(cs.alerted) >= pace.D():
		cs.alerted, svc.changed = now, true
		s.emit(svc, alert.Event{
			Kind: alert.KindReminder, Check: cs.name, Observed: observed,
			Threshold: threshold(cs.cfg), Action: action.String(),
			Message: fmt.Sprintf("%s (failing since %s)", reason, cs.failingSince.Format(time.RFC3339)),
		})
	}
	if action != config.ActionAlert {
		cs.fails, cs.recent = 0, nil
		s.runAction(ctx, svc, action, cs.cfg.Exec, cs.name+": "+reason)
	}
}

// restartAllowed enforces the restart limit: when the service was restarted as often as
// the limit allows within its last Cycles cycles, tend unmonitors it and alerts instead
// of restarting it again. The current cycle does not count among the Cycles, so a
// service restarted at every cycle reaches "5 restarts within 5 cycles" at the sixth.
func (s *Supervisor) restartAllowed(svc *service) bool {
	limit := svc.cfg.RestartLimit
	recent := svc.restartCycles[:0]
	for _, c := range svc.restartCycles {
		if c+uint64(limit.Cycles) >= s.cycle {
			recent = append(recent, c)
		}
	}
	svc.restartCycles = recent
	svc.resetStreakIfStable(time.Now())
	// Backoff spreads a crash loop over many cycles, so restarts in a row without the
	// service staying up for stable_after count against the limit too.
	if len(recent) < limit.Restarts && svc.restartStreak < limit.Restarts {
		svc.restartCycles = append(svc.restartCycles, s.cycle)
		return true
	}

	msg := fmt.Sprintf("restart limit reached (%d restarts within %d cycles, or in a row without staying up "+
		"for %s); %s is no longer monitored", limit.Restarts, limit.Cycles, svc.cfg.StableAfter, svc.cfg.Name)
	svc.log.Error("restart limit reached", "restarts", limit.Restarts, "cycles", limit.Cycles)
	svc.setState(StateUnmonitored, msg)
	svc.pending = nil
	s.emit(svc, alert.Event{
		Kind: alert.KindRestartLimit, Action: "unmonitor",
		Threshold: fmt.Sprintf("%d restarts within %d cycles", limit.Restarts, limit.Cycles),
		Message:   msg,
	})
	return false
}

// handleExit deals with the exit of an owned service's process, at once rather than at
// the next cycle.
func (s *Supervisor) handleExit(ctx context.Context, e childExit) {
	svc := e.svc
	if svc.child != e.child {
		return // An old process, already replaced.
	}
	svc.child, svc.pid, svc.startTicks = nil, 0, 0
	svc.exitedOwned = true
	if svc.busy || svc.state == StateUnmonitored {
		return // tend is stopping it, or it is unmonitored.
	}
	exit := e.child.exit()
	if exit.Signal == int(syscall.SIGKILL) && svc.oomKillsAtStart >= 0 && readOOMKills(s.opts.ProcDir) > svc.oomKillsAtStart {
		exit.OOM = true
	}
	svc.lastExit, svc.started, svc.awaitingReady = &exit, time.Time{}, false
	reason := "process exited: " + exit.Status
	if exit.OOM {
		reason += ", likely by the kernel's OOM killer"
	}
	svc.log.Warn("process exited", "pid", exit.PID, "status", exit.Status, "oom", exit.OOM,
		"uptime", exit.Uptime.Round(time.Millisecond))
	svc.setState(StateFailed, reason)
	for _, cs := range svc.checks {
		if cs.cfg.Type == config.CheckProcess {
			s.record(ctx, svc, cs, false, reason, reason)
		}
	}
}

// failuresCounted returns the failures that count toward the rule's for_cycles: the
// consecutive ones, or with within_cycles those among the latest within_cycles results.
func (cs *checkState) failuresCounted() int {
	if cs.cfg.WithinCycles == 0 {
		return cs.fails
	}
	n := 0
	for _, ok := range cs.recent {
		if !ok {
			n++
		}
	}
	return n
}

// flaps records a change of cs between failing and passing, and reports whether its
// alert is held back because the check flaps: it changed flap_changes times within
// flap_window. The first change that makes it flap sends one flapping alert instead.
func (s *Supervisor) flaps(svc *service, cs *checkState) bool {
	limit, window := s.cfg.Alerts.FlapChanges, s.cfg.Alerts.FlapWindow.D()
	if limit <= 0 {
		return false
	}
	now := time.Now()
	cs.changes = append(cs.changes, now)
	for len(cs.changes) > 0 && now.Sub(cs.changes[0]) > window {
		cs.changes = cs.changes[1:]
	}
	if cs.flapping {
		return true
	}
	if len(cs.changes) < limit {
		return false
	}
	cs.flapping = true
	svc.log.Warn("check flapping; its alerts wait until it settles", "check", cs.name,
		"changes", len(cs.changes), "flap_window", s.cfg.Alerts.FlapWindow)
	s.emit(svc, alert.Event{
		Kind: alert.KindFlapping, Check: cs.name, Threshold: threshold(cs.cfg),
		Observed: fmt.Sprintf("%d changes within %s", len(cs.changes), s.cfg.Alerts.FlapWindow),
		Message: fmt.Sprintf("%s of %s changed between failing and passing %d times within %s; "+
			"its alerts wait until it keeps one state for %s", cs.name, svc.cfg.Name, len(cs.changes),
			s.cfg.Alerts.FlapWindow, s.cfg.Alerts.FlapWindow),
	})
	return true
}

// settleFlapping ends the flapping of cs once it kept one state for flap_window, and
// sends one alert naming that state.
func (s *Supervisor) settleFlapping(svc *service, cs *checkState) {
	if !cs.flapping || len(cs.changes) == 0 || time.Since(cs.changes[len(cs.changes)-1]) < s.cfg.Alerts.FlapWindow.D() {
		return
	}
	cs.flapping, cs.changes = false, nil
	state := "failing"
	if !cs.failing {
		state = "passing"
	}
	svc.log.Info("check settled", "check", cs.name, "state", state)
	s.emit(svc, alert.Event{
		Kind: alert.KindFlapEnded, Check: cs.name, Threshold: threshold(cs.cfg), Observed: state,
		Message: fmt.Sprintf("%s of %s stopped flapping and is %s", cs.name, svc.cfg.Name, state),
	})
}
