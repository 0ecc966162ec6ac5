// Package supervisor runs the cycle. It observes every service through package checks
// and turns observations into events with each service's rules. It runs the actions
// those rules name (start, stop, restart, unmonitor) off the cycle's path, and hands
// every event to the alert pipeline.
package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/mem"

	"tend/alert"
	"tend/checks"
	"tend/config"
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

	cores    int
	memTotal uint64
	cycle    uint64
	prev     *checks.Snapshot

	probeSlots chan struct{}
	probes     chan probeDone
	exits      chan childExit
	actions    chan actionDone
	// statusRequests carries Status calls to the loop.
	statusRequests chan chan []ServiceStatus
	// done is closed when Run's loop stops reading the channels above.
	done chan struct{}
	// workers counts probe and action goroutines, so that Run waits for them.
	workers sync.WaitGroup
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
		statusRequests: make(chan chan []ServiceStatus),
		done:           make(chan struct{}),
	}
	if vm, err := mem.VirtualMemory(); err == nil {
		s.memTotal = vm.Total
	}
	for _, sc := range opts.Config.Services {
		s.services = append(s.services, newService(sc, opts.Logger))
	}
	return s, nil
}

// Run starts the services that are not running, then observes them every cycle until
// ctx ends. On the way out it waits for running actions, stops the owned services (whose
// process group would otherwise lose its supervisor) and leaves external ones running.
// ready, when not nil, is called once after the first cycle.
func (s *Supervisor) Run(ctx context.Context, ready func()) error {
	snap, err := checks.ReadSnapshot(s.opts.ProcDir)
	if err != nil {
		return err
	}
	s.prev = snap
	for _, svc := range s.services {
		s.adoptOrStart(ctx, svc, snap)
	}

	ticker := time.NewTicker(s.cfg.Interval.D())
	defer ticker.Stop()
	s.runCycle(ctx)
	if ready != nil {
		ready()
	}
	for {
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case <-ticker.C:
			s.runCycle(ctx)
		case p := <-s.probes:
			s.handleProbe(ctx, p)
		case e := <-s.exits:
			s.handleExit(ctx, e)
		case a := <-s.actions:
			s.handleAction(ctx, a)
		case reply := <-s.statusRequests:
			reply <- s.status()
		}
	}
}

// adoptOrStart takes over a service that already runs, or starts it.
func (s *Supervisor) adoptOrStart(ctx context.Context, svc *service, snap *checks.Snapshot) {
	if !svc.cfg.Owned() {
		if reason := svc.identify(snap); reason == "" {
			svc.setState(StateRunning, "found running")
			return
		}
	}
	s.requestAction(ctx, svc, actionRequest{kind: actionStart, trigger: "daemon start"})
}

// runCycle observes every monitored service once.
func (s *Supervisor) runCycle(ctx context.Context) {
	s.cycle++
	snap, err := checks.ReadSnapshot(s.opts.ProcDir)
	if err != nil {
		s.log.Error("read process table", "err", err, "cycle", s.cycle)
		return
	}
	for _, svc := range s.services {
		if svc.state == StateUnmonitored || svc.busy {
			continue
		}
		s.observe(ctx, svc, snap)
	}
	s.prev = snap
}

// shutdown stops reading results, waits for probe and action goroutines, and stops the
// owned services.
func (s *Supervisor) shutdown() {
	s.log.Info("shutting down")
	close(s.done)
	s.workers.Wait()

	var wg sync.WaitGroup
	for _, svc := range s.services {
		if svc.child == nil {
			continue
		}
		wg.Go(func() {
			svc.log.Info("stopping owned service", "pid", svc.child.pid)
			if err := stopChild(s.opts.ProcDir, svc.cfg, svc.child); err != nil {
				svc.log.Error("stop owned service", "err", err, "pid", svc.child.pid)
			}
		})
	}
	wg.Wait()
}

// emit sends an event to the alert pipeline, logging it if that fails.
func (s *Supervisor) emit(svc *service, ev alert.Event) {
	ev.Time = time.Now()
	ev.Host = s.cfg.Hostname
	ev.Service = svc.cfg.Name
	if err := s.opts.Alerter.Send(ev); err != nil {
		svc.log.Error("queue alert", "err", err, "kind", ev.Kind, "message", ev.Message)
	}
}
