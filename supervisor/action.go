package supervisor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"tend/alert"
	"tend/config"
	"tend/supervisor/procwatch"
)

type actionKind int

const (
	actionStart actionKind = iota
	actionStop
	actionRestart
)

func (k actionKind) String() string {
	return [...]string{"start", "stop", "restart"}[k]
}

// actionRequest is a request for an action on a service. Trigger is the reason, for the log.
type actionRequest struct {
	kind    actionKind
	trigger string
	// manual is true for a request that no rule made: an operator's command or a
	// dependency's restart. It is exempt from the backoff delay and the restart limit.
	manual bool
	// delayed is true once the request waited for its backoff delay.
	delayed bool
}

// actionTarget is the copy of a service's state that an action goroutine works on, so
// that the goroutine never touches state the loop owns.
type actionTarget struct {
	cfg        config.Service
	log        *slog.Logger
	procDir    string
	child      *child
	pid        int
	startTicks uint64
	exits      chan<- childExit
	done       <-chan struct{}
	svc        *service

	// reaper starts owned processes when tend is a subreaper; nil otherwise.
	reaper *procwatch.Reaper
	// output receives the output of an owned process; nil sends it to the log.
	output io.Writer
	// stateDir and notifyPath go into the environment of an owned process.
	stateDir, notifyPath string
	// killed is set when a stop needed SIGKILL after the stop timeout.
	killed bool
	// leftovers is true when the owned process exited since the last action, so what
	// it left running must end before the action does anything else.
	leftovers bool
}

// actionDone reports the outcome of an action to the loop.
type actionDone struct {
	svc     *service
	request actionRequest
	child   *child
	pid     int
	ticks   uint64
	err     error
	elapsed time.Duration
	// killed is true when the stop of this action timed out and SIGKILL followed.
	killed bool
	// stopped is the owned process that the action stopped, nil when there was none;
	// stoppedPID and stoppedUptime describe the external one it stopped.
	stopped       *child
	stoppedPID    int
	stoppedUptime time.Duration
}

// requestAction runs an action for svc in its own goroutine, or queues it when another
// action of svc still runs: the actions of one service never overlap, and of several
// requests made meanwhile only the last is kept.
func (s *Supervisor) requestAction(ctx context.Context, svc *service, req actionRequest) {
	if svc.busy {
		svc.pending = &req
		return
	}
	if req.kind != actionStop {
		if dep := s.downDependency(svc); dep != nil {
			s.holdForDependency(ctx, svc, dep, req)
			return
		}
	}
	if !req.manual && !req.delayed && svc.delay != nil {
		// A restart waits for its backoff delay and covers this rule's request, such as
		// another check's start action, so the delay holds.
		return
	}
	if req.kind == actionRestart && !req.manual && !req.delayed {
		if !s.restartAllowed(svc) {
			return
		}
		if d := svc.nextRestartDelay(time.Now()); d > 0 {
			svc.setState(StateFailed, fmt.Sprintf("%s; restart in %s", req.trigger, d))
			s.scheduleRestart(svc, req, d)
			return
		}
	}
	svc.cancelDelay()
	svc.stopWatchdog()
	svc.readyToken++
	svc.awaitingReady = false
	svc.waiting = nil
	if req.kind == actionRestart {
		svc.addRestart(req.trigger, time.Now())
	}

	svc.busy = true
	svc.generation++
	switch req.kind {
	case actionStop:
		svc.setState(StateStopping, req.trigger)
	default:
		svc.setState(StateStarting, req.trigger)
	}
	svc.log.Info("action started", "action", req.kind, "trigger", req.trigger)

	t := actionTarget{
		cfg: svc.cfg, log: svc.log, procDir: s.opts.ProcDir,
		child: svc.child, pid: svc.pid, startTicks: svc.startTicks,
		exits: s.exits, done: s.done, svc: svc,
		reaper: s.opts.Reaper, stateDir: s.cfg.StateDir, notifyPath: svc.notifyPath(),
		leftovers: svc.exitedOwned,
	}
	svc.exitedOwned = false
	if svc.logFile != nil {
		t.output = svc.logFile
	}
	started := svc.started
	s.workers.Go(func() {
		start, old := time.Now(), t.child
		d := t.perform(ctx, req)
		d.svc, d.request, d.elapsed, d.killed = svc, req, time.Since(start), t.killed
		switch {
		case req.kind == actionStart:
		case old != nil && old.exited():
			d.stopped = old
		case old == nil && t.pid != 0 && !t.cfg.Owned():
			d.stoppedPID = t.pid
			if !started.IsZero() {
				d.stoppedUptime = start.Sub(started)
			}
		}
		select {
		case s.actions <- d:
		case <-s.done:
			// Run is shutting down; an owned process started now must still be stopped.
			if d.child != nil && d.child != t.child {
				_ = stopChild(t.procDir, t.stateDir, t.cfg, d.child)
			}
		}
	})
}

// perform runs one action and returns the service's process afterwards.
func (t *actionTarget) perform(ctx context.Context, req actionRequest) actionDone {
	if t.leftovers {
		if err := stopLeftovers(t.procDir, t.stateDir, t.cfg, t.log); err != nil {
			return actionDone{err: err}
		}
	}
	if req.kind == actionStop || req.kind == actionRestart {
		if err := t.stop(); err != nil {
			return actionDone{child: t.child, pid: t.pid, ticks: t.startTicks, err: err}
		}
		if req.kind == actionStop {
			return actionDone{}
		}
	}
	if t.cfg.Owned() {
		if req.kind == actionStart && t.child != nil && !t.child.exited() {
			return actionDone{child: t.child, pid: t.child.pid} // Never a second instance.
		}
		c, err := t.startChild()
		if err != nil {
			return actionDone{err: err}
		}
		return actionDone{child: c, pid: c.pid}
	}
	pid, ticks, err := t.startExternal(ctx)
	return actionDone{pid: pid, ticks: ticks, err: err}
}

func (t *actionTarget) stop() error {
	if t.cfg.Owned() {
		if t.child == nil {
			return nil
		}
		err := stopChild(t.procDir, t.stateDir, t.cfg, t.child)
		t.killed = t.child.killed
		return err
	}
	return t.stopExternal()
}

// handleAction applies the outcome of an action and runs the action queued meanwhile.
func (s *Supervisor) handleAction(ctx context.Context, d actionDone) {
	svc := d.svc
	svc.busy = false
	svc.generation++
	svc.child, svc.pid, svc.startTicks = d.child, d.pid, d.ticks
	if n := len(svc.history); d.request.kind == actionRestart && d.err == nil && n > 0 && svc.history[n-1].Exit == nil {
		// The restart entry was made before the stop; this is how that process ended.
		switch {
		case d.stopped != nil:
			exit := d.stopped.exit()
			svc.history[n-1].Exit = &exit
		case d.stoppedPID != 0:
			svc.history[n-1].Exit = &Exit{PID: d.stoppedPID, Status: "stopped by tend", Code: -1,
				Uptime: d.stoppedUptime}
		}
	}
	if d.killed {
		s.emit(svc, alert.Event{
			Kind: alert.KindStopTimeout, Action: d.request.kind.String(),
			Observed: "still running " + svc.cfg.StopTimeout.String() + " after " + svc.cfg.StopSignal.String(),
			Message:  fmt.Sprintf("%s did not stop within its stop timeout of %s and was killed with SIGKILL", svc.cfg.Name, svc.cfg.StopTimeout),
		})
	}

	switch {
	case d.err != nil:
		svc.log.Error("action failed", "action", d.request.kind, "err", d.err, "duration", d.elapsed)
		svc.setState(StateFailed, d.err.Error())
		// One alert per run of failed actions: the restart limit or a success ends it.
		if !svc.actionFailing {
			svc.actionFailing = true
			s.emit(svc, alert.Event{
				Kind: alert.KindActionFailed, Action: d.request.kind.String(),
				Observed: d.err.Error(),
				Message:  fmt.Sprintf("%s of %s failed: %v", d.request.kind, svc.cfg.Name, d.err),
			})
		}
	case d.request.kind == actionStop:
		svc.actionFailing = false
		svc.log.Info("action done", "action", d.request.kind, "duration", d.elapsed)
		svc.started = time.Time{}
		svc.setState(StateStopped, d.request.trigger)
	default:
		svc.log.Info("action done", "action", d.request.kind, "pid", d.pid, "duration", d.elapsed)
		svc.actionFailing = false
		svc.started = time.Now()
		if d.child != nil {
			svc.started = d.child.started
		}
		svc.oomKillsAtStart = readOOMKills(s.opts.ProcDir)
		for _, cs := range svc.checks {
			cs.fails = 0
		}
		if d.child != nil && d.child.exited() {
			// The process exited before this result arrived, and handleExit ignored
			// the exit of a process it did not know yet.
			svc.setState(StateRunning, d.request.kind.String()+" done")
			s.handleExit(ctx, childExit{svc: svc, child: d.child})
			return
		}
		s.watchExternal(svc)
		if d.request.kind == actionRestart && d.request.manual {
			// A rule's restart was announced by its failure alert; this one was not.
			s.emit(svc, alert.Event{
				Kind: alert.KindRestarted, Action: "restart", Observed: fmt.Sprintf("new PID %d", d.pid),
				Message: fmt.Sprintf("%s restarted (%s)", svc.cfg.Name, d.request.trigger),
			})
		}
		s.processUp(ctx, svc, d.request.kind.String()+" done", d.request.kind == actionRestart)
	}

	if svc.pending != nil && svc.held && !svc.pending.manual {
		svc.pending = nil // A rule's request made before the operator's stop.
	}
	if svc.pending != nil && svc.state != StateUnmonitored {
		req := *svc.pending
		svc.pending = nil
		s.requestAction(ctx, svc, req)
	}
}

// runAction runs the action a rule names for svc. execArgv is the program of
// config.ActionExec.
func (s *Supervisor) runAction(ctx context.Context, svc *service, action config.Action, execArgv []string, trigger string) {
	switch action {
	case config.ActionRestart:
		s.requestAction(ctx, svc, actionRequest{kind: actionRestart, trigger: trigger})
	case config.ActionStart:
		if svc.state != StateRunning {
			s.requestAction(ctx, svc, actionRequest{kind: actionStart, trigger: trigger})
		}
	case config.ActionStop:
		// A rule's stop holds like an operator's: nothing starts the service again
		// until an operator starts it.
		svc.held = true
		svc.cancelDelay()
		s.requestAction(ctx, svc, actionRequest{kind: actionStop, trigger: trigger, manual: true})
	case config.ActionUnmonitor:
		svc.cancelDelay()
		svc.stopWatchdog()
		svc.pending, svc.waiting = nil, nil
		svc.setState(StateUnmonitored, trigger)
	case config.ActionExec:
		s.execProgram(ctx, svc, execArgv, trigger)
	}
}

// execProgram runs the program of an exec action off the loop, with the event in its
// environment: TEND_SERVICE, TEND_EVENT (the trigger), TEND_STATE and TEND_HOST.
func (s *Supervisor) execProgram(ctx context.Context, svc *service, argv []string, trigger string) {
	if len(argv) == 0 {
		return
	}
	env := []string{
		"TEND_SERVICE=" + svc.cfg.Name, "TEND_EVENT=" + trigger,
		"TEND_STATE=" + svc.state.String(), "TEND_HOST=" + s.cfg.Hostname,
	}
	log := svc.log
	timeout := svc.cfg.StartTimeout.D()
	s.workers.Go(func() {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := runProgramEnv(pctx, argv, env, log); err != nil {
			log.Error("exec action failed", "program", argv[0], "err", err)
			return
		}
		log.Info("exec action done", "program", argv[0])
	})
}
