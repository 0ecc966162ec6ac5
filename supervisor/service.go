package supervisor

import (
	"fmt"
	"log/slog"
	"time"

	"tend/checks"
	"tend/config"
)

// State is the lifecycle state of a service.
type State int

// Service states.
const (
	StateStarting State = iota
	StateRunning
	StateFailed
	StateStopping
	StateStopped
	StateUnmonitored
)

var stateNames = [...]string{"starting", "running", "failed", "stopping", "stopped", "unmonitored"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// service is the runtime state of one configured service. Only the supervisor's loop
// goroutine reads or writes it. Action and probe goroutines get copies of what they need
// and report back through the loop's channels.
type service struct {
	cfg config.Service
	log *slog.Logger

	state  State
	since  time.Time
	reason string

	// pid and startTicks identify the service's main process; pid is 0 when none is known.
	pid        int
	startTicks uint64
	// child is the running process of an owned service, nil when there is none.
	child *child

	// busy is true while an action goroutine runs; pending is the action requested
	// meanwhile, run when the current one finishes.
	busy    bool
	pending *actionRequest
	// generation counts actions, so that a probe result from before an action is dropped.
	generation uint64

	checks []*checkState
	// restartCycles lists the cycles in which tend restarted the service, for the
	// restart limit.
	restartCycles []uint64
}

// checkState is the running record of one rule of a service.
type checkState struct {
	cfg  config.Check
	name string
	// fails counts consecutive failed observations.
	fails int
	// failing is true from the failure alert until the recovery alert.
	failing  bool
	inFlight bool
}

func newService(cfg config.Service, log *slog.Logger) *service {
	svc := &service{cfg: cfg, log: log.With("service", cfg.Name), state: StateStopped}
	for _, c := range cfg.Checks {
		svc.checks = append(svc.checks, &checkState{cfg: c, name: checkName(c)})
	}
	return svc
}

func (svc *service) setState(st State, reason string) {
	if svc.state == st && svc.reason == reason {
		return
	}
	svc.log.Info("state changed", "from", svc.state, "to", st, "reason", reason)
	svc.state, svc.reason, svc.since = st, reason, time.Now()
}

func checkName(c config.Check) string {
	switch c.Type {
	case config.CheckTCP:
		return "tcp " + c.Address
	case config.CheckTotalMemory:
		return "total memory"
	default:
		return c.Type.String()
	}
}

// threshold describes the limit of a check for alerts, such as "> 95% for 3 cycles".
func threshold(c config.Check) string {
	var s string
	switch c.Type {
	case config.CheckProcess:
		s = "running"
	case config.CheckTCP:
		s = "accepts a connection within " + c.Timeout.String()
	default:
		s = "> " + c.Above.String()
	}
	if c.ForCycles > 1 {
		s += fmt.Sprintf(" for %d cycles", c.ForCycles)
	}
	return s
}

// identify updates the service's main process from the snapshot. It returns a reason
// when no live process was found.
func (svc *service) identify(snap *checks.Snapshot) (reason string) {
	if svc.cfg.Owned() {
		if svc.child == nil {
			return "process is not running"
		}
		if _, ok := snap.Alive(svc.child.pid, 0); !ok {
			return fmt.Sprintf("PID %d is not running", svc.child.pid)
		}
		return ""
	}

	if svc.pid != 0 {
		if _, ok := snap.Alive(svc.pid, svc.startTicks); ok {
			return ""
		}
	}
	id := checks.FindByPidfile(snap, svc.cfg.Pidfile)
	if id.Process == nil {
		svc.pid, svc.startTicks = 0, 0
		return id.Reason
	}
	if svc.pid != 0 && svc.pid != id.Process.PID {
		svc.log.Info("pid changed", "old_pid", svc.pid, "pid", id.Process.PID)
	}
	svc.pid, svc.startTicks = id.Process.PID, id.Process.StartTicks
	return ""
}
