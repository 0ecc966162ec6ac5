package supervisor

import (
	"context"
	"slices"
	"time"
)

// ServiceStatus is a copy of one service's state, safe to keep and read anywhere.
type ServiceStatus struct {
	Name   string
	State  State
	Since  time.Time
	Reason string
	// PID is the main process, 0 when none is known.
	PID int
	// Started is when the main process started, zero when none runs.
	Started time.Time
	// Restarts counts the restarts within the restart limit's current window of cycles.
	Restarts int
	// Held is true while an operator's stop or unmonitor is in force.
	Held bool
	// History lists the latest restarts, oldest first.
	History []Restart
}

// Status returns the state of every service, in configuration order. The request goes
// to Run's goroutine, so Status returns ctx's error when ctx ends before Run replies,
// which is also the case when Run is not running.
func (s *Supervisor) Status(ctx context.Context) ([]ServiceStatus, error) {
	reply := make(chan []ServiceStatus, 1)
	select {
	case s.statusRequests <- reply:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case st := <-reply:
		return st, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Supervisor) status() []ServiceStatus {
	out := make([]ServiceStatus, 0, len(s.services))
	for _, svc := range s.services {
		out = append(out, ServiceStatus{
			Name: svc.cfg.Name, State: svc.state, Since: svc.since, Reason: svc.reason,
			PID: svc.pid, Started: svc.started, Restarts: len(svc.restartCycles), Held: svc.held,
			History: slices.Clone(svc.history),
		})
	}
	return out
}
