package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"tend/alert"
	"tend/config"
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
}

// requestAction runs an action for svc in its own goroutine, or queues it when another
// action of svc still runs: the actions of one service never overlap, and of several
// requests made meanwhile only the last is kept.
func (s *Supervisor) requestAction(ctx context.Context, svc *service, req actionRequest) {
	if svc.busy {
		svc.pending = &req
		return
	}
	if req.kind == actionRestart && !s.restartAllowed(svc) {
		return
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
	}
	s.workers.Go(func() {
		start := time.Now()
		d := t.perform(ctx, req)
		d.svc, d.request, d.elapsed = svc, req, time.Since(start)
		select {
		case s.actions <- d:
		case <-s.done:
			// Run is shutting down; an owned process started now must still be stopped.
			if d.child != nil && d.child != t.child {
				_ = stopChild(t.procDir, t.cfg, d.child)
			}
		}
	})
}

// perform runs one action and returns the service's process afterwards.
func (t *actionTarget) perform(ctx context.Context, req actionRequest) actionDone {
	if req.kind == actionStop || req.kind == actionRestart {
		if err := t.stop(); err != nil {
			return actionDone{child: t.child, pid: t.pid, ticks: t.startTicks, err: err}
		}
		if req.kind == actionStop {
			return actionDone{}
		}
	}
	if t.cfg.Owned() {
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
		return stopChild(t.procDir, t.cfg, t.child)
	}
	return t.stopExternal()
}

// handleAction applies the outcome of an action and runs the action queued meanwhile.
func (s *Supervisor) handleAction(ctx context.Context, d actionDone) {
	svc := d.svc
	svc.busy = false
	svc.generation++
	svc.child, svc.pid, svc.startTicks = d.child, d.pid, d.ticks

	switch {
	case d.err != nil:
		svc.log.Error("action failed", "action", d.request.kind, "err", d.err, "duration", d.elapsed)
		svc.setState(StateFailed, d.err.Error())
		s.emit(svc, alert.Event{
			Kind: alert.KindActionFailed, Action: d.request.kind.String(),
			Observed: d.err.Error(),
			Message:  fmt.Sprintf("%s of %s failed: %v", d.request.kind, svc.cfg.Name, d.err),
		})
	case d.request.kind == actionStop:
		svc.log.Info("action done", "action", d.request.kind, "duration", d.elapsed)
		svc.setState(StateStopped, d.request.trigger)
	default:
		svc.log.Info("action done", "action", d.request.kind, "pid", d.pid, "duration", d.elapsed)
		svc.setState(StateRunning, d.request.kind.String()+" done")
		for _, cs := range svc.checks {
			cs.fails = 0
		}
		if d.child != nil && d.child.exited() {
			// The process exited before this result arrived, and handleExit ignored
			// the exit of a process it did not know yet.
			s.handleExit(ctx, childExit{svc: svc, child: d.child})
			return
		}
	}

	if svc.pending != nil && svc.state != StateUnmonitored {
		req := *svc.pending
		svc.pending = nil
		s.requestAction(ctx, svc, req)
	}
}
