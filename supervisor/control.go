package supervisor

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Command is an operator's request for one service.
type Command int

// Operator commands.
const (
	CommandStart Command = iota
	CommandStop
	CommandRestart
	CommandMonitor
	CommandUnmonitor
)

var commandNames = [...]string{"start", "stop", "restart", "monitor", "unmonitor"}

func (c Command) String() string {
	if int(c) < len(commandNames) {
		return commandNames[c]
	}
	return fmt.Sprintf("Command(%d)", int(c))
}

// ParseCommand returns the Command named name, such as "restart".
func ParseCommand(name string) (Command, error) {
	for i, n := range commandNames {
		if n == name {
			return Command(i), nil
		}
	}
	return 0, fmt.Errorf("unknown command %q: want %s", name, strings.Join(commandNames[:], ", "))
}

// ErrNoService is the error of Control for a name that no service has.
var ErrNoService = errors.New("no such service")

// controlRequest carries a Control call to the loop.
type controlRequest struct {
	name    string
	command Command
	// by names who asked, for the log, such as "uid 0 over the control socket".
	by    string
	reply chan error
}

// Control applies an operator's command to the service called name. It returns once the
// loop accepted the command, before the action finishes; Status shows its progress. A
// stop or unmonitor holds until a later start, restart or monitor: no rule, crash or
// dependency starts the service meanwhile.
func (s *Supervisor) Control(ctx context.Context, name string, cmd Command, by string) error {
	req := controlRequest{name: name, command: cmd, by: by, reply: make(chan error, 1)}
	select {
	case s.controls <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Supervisor) handleControl(ctx context.Context, req controlRequest) {
	svc := s.byName[req.name]
	if svc == nil {
		req.reply <- fmt.Errorf("%w named %q", ErrNoService, req.name)
		return
	}
	svc.log.Info("operator command", "command", req.command, "by", req.by)
	req.reply <- s.applyCommand(ctx, svc, req.command, req.by)
}

func (s *Supervisor) applyCommand(ctx context.Context, svc *service, cmd Command, by string) error {
	trigger := fmt.Sprintf("%s requested by %s", cmd, by)
	if !svc.cfg.HasProcess() && cmd != CommandMonitor && cmd != CommandUnmonitor {
		return fmt.Errorf("%s has no process to %s: it is a host service, which can only be monitored or unmonitored",
			svc.cfg.Name, cmd)
	}
	switch cmd {
	case CommandStart, CommandRestart:
		if !svc.cfg.Owned() && len(svc.cfg.Start) == 0 && svc.cfg.Pidfile != "" {
			return fmt.Errorf("%s has no start program: set start in its drop-in, or start it by other means", svc.cfg.Name)
		}
		svc.held = false
		svc.cancelDelay()
		kind := actionStart
		if cmd == CommandRestart || svc.pid != 0 || svc.child != nil {
			kind = actionRestart
		}
		if cmd == CommandStart && svc.state == StateRunning {
			return nil // Already running: nothing to do.
		}
		s.requestAction(ctx, svc, actionRequest{kind: kind, trigger: trigger, manual: true})
	case CommandStop:
		svc.held = true
		svc.cancelDelay()
		svc.waiting = nil
		s.requestAction(ctx, svc, actionRequest{kind: actionStop, trigger: trigger, manual: true})
	case CommandMonitor:
		if svc.state != StateUnmonitored && !svc.held {
			return nil
		}
		svc.held = false
		svc.setState(StateStarting, trigger)
		s.resumeMonitoring(ctx, svc)
	case CommandUnmonitor:
		svc.held = true
		svc.cancelDelay()
		svc.waiting = nil
		svc.pending = nil
		svc.setState(StateUnmonitored, trigger)
	}
	return nil
}

// resumeMonitoring takes a service back into the cycle: its checks start from a clean
// record, and a process that is gone is started again.
func (s *Supervisor) resumeMonitoring(ctx context.Context, svc *service) {
	for _, cs := range svc.checks {
		cs.reset()
	}
	svc.restartCycles = nil
	svc.restartStreak = 0
	if svc.busy {
		return // The running action's outcome sets the state.
	}
	s.adoptOrStart(ctx, svc, s.prev)
}
