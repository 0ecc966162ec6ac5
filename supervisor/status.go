package supervisor

import (
	"context"
	"slices"
	"time"

	"tend/checks"
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
	// Groups are the service's groups, for control commands that name a group.
	Groups []string
	// Owned is true for a service that tend runs as its child.
	Owned bool
	// Usage holds the CPU and memory of the main process and its descendants at the
	// last cycle; UsageKnown is false while no process runs. CPU is known from the
	// second cycle of a process on.
	Usage      checks.Usage
	UsageKnown bool
	// Checks lists the latest result of each rule, in configuration order.
	Checks []CheckStatus
}

// CheckStatus is the latest result of one rule of a service.
type CheckStatus struct {
	// Name names the check as logs and alerts do, such as "tcp 127.0.0.1:6379".
	Name string
	// Action is the rule's action when it fails.
	Action string
	// Known is false until the rule was evaluated once; the fields below are zero then.
	Known bool
	OK    bool
	// Failing is true from the failure alert until the recovery.
	Failing bool
	// Observed is the figure or probe outcome seen, and Reason why it failed.
	Observed, Reason string
	// At is when the result came; Duration is how long a probe took, zero for a
	// figure the cycle computes.
	At       time.Time
	Duration time.Duration
}

// Status returns the state of every service, in configuration order. The request goes
// to Run's goroutine, so Status returns ctx's error when ctx ends before Run replies,
// which is also the case when Run is not running.
func (s *Supervisor) Status(ctx context.Context, names ...string) ([]ServiceStatus, error) {
	reply := make(chan []ServiceStatus, 1)
	select {
	case s.statusRequests <- statusRequest{names: names, reply: reply}:
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

// statusRequest is a Status call on its way to the loop.
type statusRequest struct {
	names []string
	reply chan []ServiceStatus
}

// status returns the status of the services called names, or of every service when
// names is empty. A request for one service copies that service alone, so a script
// that polls one service costs little whatever the number of services.
func (s *Supervisor) status(names []string) []ServiceStatus {
	out := make([]ServiceStatus, 0, len(s.services))
	for _, svc := range s.services {
		if len(names) > 0 && !slices.Contains(names, svc.cfg.Name) {
			continue
		}
		out = append(out, ServiceStatus{
			Name: svc.cfg.Name, State: svc.state, Since: svc.since, Reason: svc.reason,
			PID: svc.pid, Started: svc.started, Restarts: len(svc.restartCycles), Held: svc.held,
			History: slices.Clone(svc.history), Groups: slices.Clone(svc.cfg.Groups),
			Owned: svc.cfg.Owned(), Usage: svc.usage, UsageKnown: svc.usageKnown,
			Checks: make([]CheckStatus, 0, len(svc.checks)),
		})
		st := &out[len(out)-1]
		for _, cs := range svc.checks {
			c := cs.last
			c.Name, c.Action, c.Failing = cs.name, cs.cfg.Action.String(), cs.failing
			st.Checks = append(st.Checks, c)
		}
	}
	return out
}
