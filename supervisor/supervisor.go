// Package supervisor runs the cycle. It observes every service through package checks
// and turns observations into events with each service's rules. It runs the actions
// those rules name (start, stop, restart, unmonitor) off the cycle's path, and hands
// every event to the alert pipeline.
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shirou/gopsutil/v4/mem"
	"golang.org/x/sys/unix"

	"tend/alert"
	"tend/checks"
	"tend/config"
	"tend/supervisor/procwatch"
)

// Alerter receives every event worth telling an operator about. Send returns after the
// event is stored durably; delivery happens later.
type Alerter interface {
	Send(ev alert.Event) error
}

// Options are the dependencies of a Supervisor. Config, Alerter and Logger are required.
type Options struct {
	Config  *config.Config
	Alerter Alerter
	Logger  *slog.Logger
	// ProcDir is the proc file system; "/proc" when empty.
	ProcDir string
	// MaxProbes bounds how many probes run at once; 32 when zero.
	MaxProbes int
	// Reaper, when not nil, starts the owned processes, so that it never reaps one of
	// them. The caller makes tend a subreaper and runs the Reaper.
	Reaper *procwatch.Reaper
	// OnCycle, when not nil, is called on Run's goroutine after every cycle, so it must
	// return quickly. It is how systemd's watchdog learns that the loop is alive.
	OnCycle func(CycleStats)
}

// CycleStats describes one completed cycle.
type CycleStats struct {
	Cycle uint64
	// Duration is the time the cycle took on the loop, probes excluded: they report later.
	Duration time.Duration
	// Services counts the configured services, Running those in state running, and
	// Failed those in state failed.
	Services, Running, Failed int
}

func (o *Options) validate() error {
	switch {
	case o.Config == nil:
		return errors.New("supervisor: Options.Config is nil")
	case o.Alerter == nil:
		return errors.New("supervisor: Options.Alerter is nil")
	case o.Logger == nil:
		return errors.New("supervisor: Options.Logger is nil")
	}
	if o.ProcDir == "" {
		o.ProcDir = "/proc"
	}
	if o.MaxProbes <= 0 {
		o.MaxProbes = 32
	}
	return nil
}

// Supervisor watches the configured services. Run's goroutine owns all service state;
// probes and actions run in goroutines of their own and report back through channels.
type Supervisor struct {
	opts     Options
	cfg      *config.Config
	log      *slog.Logger
	services []*service
	byName   map[string]*service

	cores    int
	memTotal uint64
	// snapOpts requests command lines in the snapshot when a service uses match.
	snapOpts checks.SnapshotOptions
	// readHost is true when a rule needs the host's figures, read once per cycle into
	// host. prevHost is the reading of the cycle before, for host CPU usage.
	readHost                 bool
	host, prevHost           checks.Host
	hostKnown, prevHostKnown bool
	cycle                    uint64
	prev                     *checks.Snapshot

	probeSlots chan struct{}
	probes     chan probeDone
	exits      chan childExit
	actions    chan actionDone
	// statusRequests carries Status calls to the loop.
	statusRequests chan statusRequest
	controls       chan controlRequest
	reloads        chan reloadRequest
	// calls carries functions that timers run on the loop.
	calls chan func(context.Context)
	// done is closed when Run's loop stops reading the channels above.
	done chan struct{}
	// workers counts probe and action goroutines, so that Run waits for them.
	workers sync.WaitGroup
	// ownedMarks maps each service name to the PIDs marked as its processes while Run
	// adopts the services at start-up; nil otherwise.
	ownedMarks map[string][]int
	// lastSave is when the state file was last written, and saveTimer the timer of a
	// write that waits for stateWriteGap; nil when none waits.
	lastSave  time.Time
	saveTimer *time.Timer
	// stopOnExit is set by StopOwnedOnExit.
	stopOnExit atomic.Bool
}

// New returns a Supervisor for opts.Config. It starts nothing until Run.
func New(opts Options) (*Supervisor, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Supervisor{
		opts:           opts,
		cfg:            opts.Config,
		log:            opts.Logger,
		cores:          runtime.NumCPU(),
		probeSlots:     make(chan struct{}, opts.MaxProbes),
		probes:         make(chan probeDone),
		exits:          make(chan childExit),
		actions:        make(chan actionDone),
		statusRequests: make(chan statusRequest),
		controls:       make(chan controlRequest),
		reloads:        make(chan reloadRequest),
		calls:          make(chan func(context.Context)),
		done:           make(chan struct{}),
	}
	if vm, err := mem.VirtualMemory(); err == nil {
		s.memTotal = vm.Total
	}
	services := make([]*service, 0, len(opts.Config.Services))
	for _, sc := range opts.Config.Services {
		services = append(services, newService(sc, opts.Logger))
	}
	s.setServices(services)
	return s, nil
}

// setServices makes services the configured services, in that order, and sets what
// each cycle reads for them: command lines when a service uses match, and the host's
// figures when a rule needs them.
func (s *Supervisor) setServices(services []*service) {
	s.services = services
	s.byName = make(map[string]*service, len(services))
	s.snapOpts.Cmdline, s.readHost = false, false
	for _, svc := range services {
		s.byName[svc.cfg.Name] = svc
		svc.changed = true
		if svc.cfg.Match != nil {
			s.snapOpts.Cmdline = true
		}
		for _, c := range svc.cfg.Checks {
			s.readHost = s.readHost || (c.Type.IsHost() && c.Type != config.CheckFilesystem && c.Type != config.CheckInodes)
		}
	}
}

// Run starts the services that are not running, then observes them every cycle until
// ctx ends. On the way out it waits for running actions, stops the owned services (whose
// process group would otherwise lose its supervisor) and leaves external ones running.
// ready, when not nil, is called once after the first cycle.
func (s *Supervisor) Run(ctx context.Context, ready func()) error {
	snap, err := checks.ReadSnapshotWith(s.opts.ProcDir, s.snapOpts)
	if err != nil {
		return err
	}
	s.prev = snap
	s.restoreState(s.loadState())
	s.openServiceFiles()
	// stopOrder lists dependents first, so starting walks it backwards.
	order := stopOrder(s.services, s.byName)
	slices.Reverse(order)
	if s.cfg.StateDir != "" && slices.ContainsFunc(s.services, func(svc *service) bool { return svc.cfg.Owned() }) {
		// One pass over the environments finds the processes of every owned service.
		s.ownedMarks = procwatch.MarkedBy(s.opts.ProcDir, markerService, markerStateDir, s.cfg.StateDir)
	}
	for _, svc := range order {
		s.adoptOrStart(ctx, svc, snap)
	}
	s.ownedMarks = nil

	ticker := time.NewTicker(s.cfg.Interval.D())
	defer ticker.Stop()
	s.cycleAndReport(ctx)
	if ready != nil {
		ready()
	}
	for {
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case <-ticker.C:
			s.cycleAndReport(ctx)
		case p := <-s.probes:
			if s.current(p.svc) {
				s.handleProbe(ctx, p)
			}
		case e := <-s.exits:
			if s.current(e.svc) {
				s.handleExit(ctx, e)
			} else {
				s.retiredExit(e)
			}
		case a := <-s.actions:
			if s.current(a.svc) {
				s.handleAction(ctx, a)
			} else {
				s.retiredAction(a)
			}
		case req := <-s.statusRequests:
			req.reply <- s.status(req.names)
		case req := <-s.controls:
			s.handleControl(ctx, req)
		case req := <-s.reloads:
			req.reply <- s.handleReload(ctx, req, ticker)
		case f := <-s.calls:
			f(ctx)
		}
		s.saveStateSoon()
	}
}

// adoptOrStart takes over a service that already runs, or starts it.
func (s *Supervisor) adoptOrStart(ctx context.Context, svc *service, snap *checks.Snapshot) {
	if !svc.cfg.HasProcess() {
		return // A host service: the cycle observes it.
	}
	if svc.cfg.Owned() && svc.child == nil {
		s.adoptOwned(svc, snap)
	}
	if svc.held || svc.state == StateUnmonitored {
		return
	}
	if reason := svc.identify(snap); reason == "" {
		if p, ok := snap.Alive(svc.pid, svc.startTicks); ok && svc.child == nil {
			svc.started = snap.StartTime(p)
		}
		s.watchExternal(svc)
		s.markRunning(ctx, svc, "found running", false)
		return
	}
	if svc.cfg.Owned() && svc.savedPID != 0 {
		// It ran under the previous run of tend and ended while no tend watched it,
		// maybe leaving processes behind.
		svc.exitedOwned = true
		s.processFailed(ctx, svc, fmt.Sprintf("PID %d, started by the previous run of tend, is no longer running",
			svc.savedPID))
		if svc.busy || svc.state != StateFailed {
			return // The process check's action took over.
		}
	}
	s.requestAction(ctx, svc, actionRequest{kind: actionStart, trigger: "daemon start"})
}

// adoptOwned takes over the process of an owned service that an earlier run of tend
// started, and stops any extra instance, so that exactly one runs.
func (s *Supervisor) adoptOwned(svc *service, snap *checks.Snapshot) {
	p, extra := s.findOwned(svc, snap)
	for _, pid := range extra {
		svc.log.Warn("stopping an extra instance left by an earlier run of tend", "pid", pid)
		cfg, procDir := svc.cfg, s.opts.ProcDir
		s.workers.Go(func() {
			procwatch.KillTree(procDir, pid, unix.Signal(cfg.StopSignal.Signal()))
			time.Sleep(min(cfg.StopTimeout.D(), time.Second))
			procwatch.KillTree(procDir, pid, unix.SIGKILL)
		})
	}
	if p == nil {
		return
	}
	c, err := s.adoptChild(svc, p, snap)
	if err != nil {
		svc.log.Warn("adopt process", "pid", p.PID, "err", err)
		return
	}
	svc.child, svc.pid, svc.startTicks, svc.started = c, c.pid, c.startTicks, c.started
	svc.oomKillsAtStart = -1 // Unknown: the process started before this run of tend.
	svc.log.Info("adopted process started by an earlier run of tend", "pid", c.pid)
}

// cycleAndReport runs a cycle and hands its figures to Options.OnCycle.
func (s *Supervisor) cycleAndReport(ctx context.Context) {
	start := time.Now()
	s.runCycle(ctx)
	if s.opts.OnCycle == nil {
		return
	}
	st := CycleStats{Cycle: s.cycle, Duration: time.Since(start), Services: len(s.services)}
	for _, svc := range s.services {
		switch svc.state {
		case StateRunning:
			st.Running++
		case StateFailed:
			st.Failed++
		}
	}
	s.opts.OnCycle(st)
}

// runCycle observes every monitored service once.
func (s *Supervisor) runCycle(ctx context.Context) {
	s.cycle++
	snap, err := checks.ReadSnapshotWith(s.opts.ProcDir, s.snapOpts)
	if err != nil {
		s.log.Error("read process table", "err", err, "cycle", s.cycle)
		return
	}
	if s.readHost {
		s.prevHost, s.prevHostKnown = s.host, s.hostKnown
		host, err := checks.ReadHost(ctx)
		if err != nil {
			s.log.Error("read host figures", "err", err, "cycle", s.cycle)
		}
		s.host, s.hostKnown = host, err == nil
	}
	for _, svc := range s.services {
		svc.usage, svc.usageKnown = checks.Usage{}, false
		if svc.pid > 0 {
			if _, alive := snap.Alive(svc.pid, svc.startTicks); alive {
				svc.usage, svc.usageKnown = snap.Usage(s.prev, svc.pid, s.cores), true
			}
		}
		if svc.state == StateUnmonitored || svc.busy || svc.held || svc.waiting != nil || svc.delay != nil {
			continue
		}
		s.observe(ctx, svc, snap)
	}
	s.prev = snap
}

// shutdown stops reading results, waits for probe and action goroutines, and stops the
// owned services.
func (s *Supervisor) shutdown() {
	stop := s.stopOnExit.Load()
	s.log.Info("shutting down", "stop_owned_services", stop)
	close(s.done)
	s.workers.Wait()
	if s.saveTimer != nil {
		s.saveTimer.Stop() // The writes below replace it.
		s.saveTimer = nil
	}
	defer s.closeServiceFiles()
	for _, svc := range s.services {
		svc.cancelDelay()
		svc.stopWatchdog()
		if svc.watcher != nil {
			_ = svc.watcher.Close()
		}
		svc.changed = true
	}
	if !stop {
		// The services keep running, and the next run of tend adopts them.
		s.saveState()
		return
	}

	// Each level holds the services that no running service depends on once the
	// levels before it stopped.
	for _, level := range stopLevels(s.services, s.byName) {
		var wg sync.WaitGroup
		for _, svc := range level {
			if svc.child == nil {
				continue
			}
			wg.Go(func() {
				svc.log.Info("stopping owned service", "pid", svc.child.pid)
				if err := stopChild(s.opts.ProcDir, s.cfg.StateDir, svc.cfg, svc.child); err != nil {
					svc.log.Error("stop owned service", "err", err, "pid", svc.child.pid)
				}
			})
		}
		wg.Wait()
	}
	for _, svc := range s.services {
		svc.child = nil
		svc.changed = true
	}
	s.saveState()
}

// StopOwnedOnExit makes Run stop the owned services when its context ends, instead of
// leaving them running for the next run of tend to adopt. It may be called from any
// goroutine before the context ends.
func (s *Supervisor) StopOwnedOnExit() { s.stopOnExit.Store(true) }

// emit sends an event to the alert pipeline, logging it if that fails.
func (s *Supervisor) emit(svc *service, ev alert.Event) {
	ev.Time = time.Now()
	ev.Host = s.cfg.Hostname
	ev.Service = svc.cfg.Name
	if err := s.opts.Alerter.Send(ev); err != nil {
		svc.log.Error("queue alert", "err", err, "kind", ev.Kind, "message", ev.Message)
	}
}
