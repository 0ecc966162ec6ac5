package supervisor

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"tend/checks"
	"tend/config"
	"tend/supervisor/logfile"
	"tend/supervisor/notify"
	"tend/supervisor/procwatch"
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

	// held is true after an operator's stop or unmonitor, until their start, restart or
	// monitor: nothing else starts the service meanwhile.
	held bool
	// waiting is a start or restart held until every dependency runs.
	waiting *actionRequest
	// started is when the current process started or was found; zero when none runs.
	started time.Time
	// restartStreak counts the automatic restarts since the service was last stable,
	// for the backoff between restarts.
	restartStreak int
	// delay is the timer of a restart waiting for its backoff delay; delayToken
	// changes when it is canceled.
	delay      *time.Timer
	delayToken uint64
	// oomKillsAtStart is /proc/vmstat's oom_kill when the current process started.
	oomKillsAtStart int64
	// exitedOwned is true from the exit of an owned service's process until the next
	// action, which first ends the processes that the exited one left running.
	exitedOwned bool
	// lastExit is the exit of the last process, until a restart takes it into history.
	lastExit *Exit
	history  []Restart

	// notify is the NOTIFY_SOCKET of an owned service with notify on; nil otherwise.
	notify *notify.Socket
	// logFile receives the output of an owned service with a log file; nil otherwise.
	logFile *logfile.Writer
	// statusText is the last STATUS= the service sent.
	statusText string
	// readyToken changes when the wait for READY=1 ends. restartedBeforeReady is true
	// when that wait follows a restart, so that the dependents restart once it is ready.
	readyToken           uint64
	restartedBeforeReady bool
	// awaitingReady is true from the start of a notify service until READY=1, its
	// start timeout, or the next action.
	awaitingReady bool
	// watchdog is the timer of the watchdog interval; watchdogToken changes when a
	// WATCHDOG=1 or a stop cancels it.
	watchdog      *time.Timer
	watchdogToken uint64
	// watcher watches the main process of an external service through a pidfd, and
	// exe is the program that process runs, to tell a reload from a wrong pidfile.
	watcher *procwatch.Watcher
	exe     string
	// savedPID and savedTicks identify the process that the state file recorded for
	// an owned service.
	savedPID   int
	savedTicks uint64
	// actionFailing is true from a failed action until an action succeeds, and
	// startTimedOut from a start timeout until the service is up, so that a run of
	// failures sends one alert.
	actionFailing, startTimedOut bool
	// changed is true when state worth saving changed since the state file was written.
	changed bool
	// usage is the CPU and memory of the main process and its descendants at the last
	// cycle; usageKnown is false while no process runs.
	usage      checks.Usage
	usageKnown bool
}

// checkState is the running record of one rule of a service.
type checkState struct {
	// cfg points into the service's configuration, which no one changes after Load: a
	// copy of each Check per rule would cost half a kilobyte.
	cfg  *config.Check
	name string
	// fails counts consecutive failed observations, passes consecutive passed ones.
	fails, passes int
	// failing is true from the failure alert until the recovery alert.
	failing  bool
	inFlight bool
	// failingSince is when the current failure was first alerted, and alerted when
	// the last alert or reminder about it was sent.
	failingSince, alerted time.Time
	// probe runs the check off the loop; nil for a check that the cycle evaluates.
	probe checks.Probe
	// needsProcess and host record the scope of the check's type, computed once
	// rather than at every cycle.
	needsProcess, host bool
	// recent holds the latest results, newest last, for a rule with within_cycles.
	recent []bool
	// lastID and lastGeneration are the PID or parent PID a pid or ppid rule saw
	// last, and the service's action generation then.
	lastID         int
	lastGeneration uint64
	// last is the latest result of the rule, for the status output.
	last CheckStatus
	// changes holds the times the rule changed between failing and passing within
	// the flap window, and flapping is true while its alerts wait for it to settle.
	changes  []time.Time
	flapping bool
}

// takeState carries the results of old, the rule of an equal check, over to cs. A probe
// that old still runs is not carried: its result belongs to the old generation.
func (cs *checkState) takeState(old *checkState) {
	cs.fails, cs.passes, cs.failing = old.fails, old.passes, old.failing
	cs.failingSince, cs.alerted = old.failingSince, old.alerted
	cs.recent, cs.lastID, cs.lastGeneration = old.recent, old.lastID, old.lastGeneration
	cs.last, cs.changes, cs.flapping = old.last, old.changes, old.flapping
}

// reset clears the failures counted so far.
func (cs *checkState) reset() {
	cs.fails, cs.failing, cs.recent = 0, false, nil
}

func newService(cfg config.Service, log *slog.Logger) *service {
	svc := &service{cfg: cfg, log: log.With("service", cfg.Name), state: StateStopped}
	svc.checks = make([]*checkState, 0, len(svc.cfg.Checks))
	for i := range svc.cfg.Checks {
		c := &svc.cfg.Checks[i]
		probe := newProbe(*c)
		svc.checks = append(svc.checks, &checkState{
			cfg: c, name: checkName(*c, probe), probe: probe,
			needsProcess: c.Type.NeedsProcess(), host: c.Type.IsHost(),
		})
	}
	uniqueNames(svc.checks)
	return svc
}

func (svc *service) setState(st State, reason string) {
	if svc.state == st && svc.reason == reason {
		return
	}
	svc.log.Info("state changed", "from", svc.state, "to", st, "reason", reason)
	svc.state, svc.reason, svc.since = st, reason, time.Now()
	svc.changed = true
}

// checkName returns the name of a check in logs and alerts. probe is the check's
// probe, or nil.
func checkName(c config.Check, probe checks.Probe) string {
	switch c.Type {
	case config.CheckTotalMemory:
		return "total memory"
	case config.CheckTotalCPU:
		return "total cpu"
	case config.CheckFilesystem, config.CheckInodes:
		return c.Type.String() + " " + c.Path
	case config.CheckLoad:
		name := fmt.Sprintf("load %dm", c.Minutes)
		if c.PerCore {
			name += " per core"
		}
		return name
	case config.CheckHostCPU:
		if c.Usage != config.CPUUsageTotal {
			return "host_cpu " + c.Usage.String()
		}
	case config.CheckProgram:
		return "program " + truncateName(strings.Join(c.Command, " "))
	case config.CheckFile:
		return fileCheckName(c)
	}
	if probe != nil {
		return probe.String()
	}
	return c.Type.String()
}

// fileCheckName names a file check by its path and what it tests beyond existence,
// such as "file /var/backups/db.dump (age, size)".
func fileCheckName(c config.Check) string {
	var tests []string
	for _, t := range []struct {
		set  bool
		name string
	}{
		{c.MaxAge > 0, "age"}, {c.Limit != (config.Limit{}), "size"}, {c.Owner >= 0, "owner"},
		{c.Group >= 0, "group"}, {c.HasMode, "mode"}, {c.Checksum, "checksum"}, {c.Pattern != nil, "pattern"},
	} {
		if t.set {
			tests = append(tests, t.name)
		}
	}
	if len(tests) == 0 {
		return "file " + c.Path
	}
	return fmt.Sprintf("file %s (%s)", c.Path, strings.Join(tests, ", "))
}

// truncateName cuts a long name to 60 characters with an ellipsis.
func truncateName(s string) string {
	const limit = 40
	if r := []rune(s); len(r) > limit {
		return string(r[:limit-1]) + "…"
	}
	return s
}

// uniqueNames gives each check of a service a name of its own, so that the status, the
// metrics and the state file tell them apart. Checks that would share a name get their
// limit added, such as "host_memory > 85%", and a number when that is not enough.
func uniqueNames(states []*checkState) {
	count := map[string]int{}
	for _, cs := range states {
		count[cs.name]++
	}
	for _, cs := range states {
		if count[cs.name] > 1 && cs.cfg.Limit.IsSet() {
			cs.name += " " + cs.cfg.Limit.String()
		}
	}
	seen := map[string]int{}
	for _, cs := range states {
		seen[cs.name]++
		if n := seen[cs.name]; n > 1 {
			cs.name = fmt.Sprintf("%s #%d", cs.name, n)
		}
	}
}

// threshold describes the limit of a check for alerts, such as "> 95% for 3 cycles".
func threshold(c *config.Check) string {
	var s string
	switch {
	case c.Type == config.CheckProcess:
		s = "running"
	case c.Type == config.CheckPID || c.Type == config.CheckPPID:
		s = "unchanged"
	case c.Type == config.CheckTCP && !c.TLS:
		s = "accepts a connection within " + c.Timeout.String()
	case c.Limit.IsSet() && c.Type != config.CheckFile:
		s = c.Limit.String()
	default:
		s = "passes within " + c.Timeout.String()
	}
	switch {
	case c.WithinCycles > 0:
		s += fmt.Sprintf(", %d times within %d cycles", c.ForCycles, c.WithinCycles)
	case c.ForCycles > 1:
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
			if !svc.child.adopted {
				// A child that tend waits for: its exit reaches the loop from the
				// goroutine that reaps it, which handles it once.
				return ""
			}
			return fmt.Sprintf("PID %d is not running", svc.child.pid)
		}
		return ""
	}

	if svc.pid != 0 {
		if _, ok := snap.Alive(svc.pid, svc.startTicks); ok {
			return ""
		}
	}
	id := findExternal(svc.cfg, snap)
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

// findExternal identifies the main process of an external service in snap, through
// its pidfile or its match pattern. tend itself never matches.
func findExternal(cfg config.Service, snap *checks.Snapshot) checks.Identity {
	if cfg.Pidfile != "" {
		return checks.FindByPidfile(snap, cfg.Pidfile, os.Getpid())
	}
	return checks.FindByMatch(snap, cfg.Match, cfg.MatchNewest, os.Getpid())
}
