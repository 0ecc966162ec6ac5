package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"golang.org/x/sys/unix"

	"tend/alert"
	"tend/config"
	"tend/supervisor"
	"tend/supervisor/api"
	"tend/supervisor/procwatch"
	"tend/supervisor/web"
)

func cmdRun(args []string, stderr io.Writer) int {
	if os.Getenv("TEND_MEMPROFILE") != "" {
		// Sample every 4 KB allocated instead of every 512 KB, so that the profile
		// shows the many small objects that each service keeps.
		runtime.MemProfileRate = 4096
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("config", defaultConfig, "main configuration `file`; drop-ins come from its include globs")
	level := fs.String("log-level", "info", "minimum log `level`: debug, info, warn or error")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "tend run: invalid -log-level %q: want debug, info, warn or error\n", *level)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))

	// An absolute path makes every path derived from it absolute too, such as the
	// NOTIFY_SOCKET that services receive and resolve from their own directory.
	if abs, err := filepath.Abs(*path); err == nil {
		*path = abs
	}
	cfg, err := config.Load(*path)
	if err != nil {
		printConfigErrors(stderr, err)
		return 1
	}
	// The services inherit SIGPIPE ignored, as systemd gives it to its services, so
	// that one writing to its output pipe while tend restarts gets EPIPE and is not
	// killed.
	signal.Ignore(syscall.SIGPIPE)
	if os.Getenv("GOGC") == "" {
		// The daemon allocates little per cycle, so collecting at 25% heap growth
		// instead of 100% costs little CPU and keeps its resident memory down: 14 to
		// 11 MB of anonymous memory at 500 services.
		debug.SetGCPercent(25)
	}
	if stop := startCPUProfile(log); stop != nil {
		defer stop()
	}
	if err := runDaemon(cfg, log); err != nil {
		log.Error("daemon stopped", "err", err)
		return 1
	}
	return 0
}

// runDaemon wires the alert pipeline, the supervisor, the reloader, the control socket
// and the HTTP server together and runs them until SIGTERM or SIGINT. SIGTERM, which
// systemd sends on a stop or restart of the unit, leaves the services running for the
// next run of tend to adopt; SIGINT, as from Ctrl-C in a terminal, stops the owned
// services first.
func runDaemon(cfg *config.Config, log *slog.Logger) error {
	started := time.Now()
	log.Info("starting", "version", version, "config", cfg.Path, "services", len(cfg.Services),
		"interval", cfg.Interval, "pid", os.Getpid())
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	if err := openStateDirForNotify(cfg, log); err != nil {
		return err
	}
	unlock, err := lockStateDir(cfg.StateDir)
	if err != nil {
		return err
	}
	defer unlock()
	notifier, err := alert.New(alertOptions(cfg, log.With("component", "alert")))
	if err != nil {
		return err
	}
	reaper := procwatch.NewReaper(procwatch.ReaperOptions{
		OnReap: func(pid int, status unix.WaitStatus) {
			log.Debug("reaped orphan", "pid", pid, "status", status)
		},
		OnError: func(err error) { log.Warn("reap orphans", "err", err) },
	})
	if err := procwatch.BecomeSubreaper(); err != nil {
		log.Warn("become child subreaper; orphans of the services go to init instead", "err", err)
	}
	// webServer is set below, before sup.Run starts the goroutine that calls OnCycle.
	var webServer *web.Server
	sup, err := supervisor.New(supervisor.Options{
		Config:  cfg,
		Alerter: notifier,
		Logger:  log.With("component", "supervisor"),
		Reaper:  reaper,
		OnCycle: func(st supervisor.CycleStats) { onCycle(webServer, st) },
	})
	if err != nil {
		return err
	}

	b := &backend{
		sup:      sup,
		notifier: notifier,
		reloader: newReloader(cfg, sup, notifier, log.With("component", "reload")),
		daemon: api.Daemon{Version: version, PID: os.Getpid(), Started: started,
			Hostname: cfg.Hostname, Config: cfg.Path},
	}
	handler := api.NewHandler(b, log.With("component", "api"))
	control, err := api.Listen(api.ServerOptions{
		Socket:  cfg.Control.Socket,
		Group:   cfg.Control.GroupName(),
		Handler: handler,
		Logger:  log.With("component", "control"),
	})
	if err != nil {
		return err
	}
	if cfg.HTTP != nil {
		webServer, err = web.New(web.Options{Config: cfg.HTTP, Backend: b, API: handler,
			Logger: log.With("component", "http")})
		if err != nil {
			_ = control.Close()
			return fmt.Errorf("start HTTP server: %w", err)
		}
	}
	log.Info("control socket listening", "socket", control.Socket(), "group", cfg.Control.GroupName())
	return serve(log, cfg.Hostname, sup, notifier, reaper, b.reloader, control, webServer)
}

// serve runs every part until a signal ends the daemon. The control socket, the
// reloader and the HTTP server stop with the supervisor. The alert pipeline and the
// reaper stop last, so that the events of the shutdown still reach the queue.
func serve(log *slog.Logger, host string, sup *supervisor.Supervisor, notifier *alert.Notifier, reaper *procwatch.Reaper,
	reload *reloader, control *api.Server, webServer *web.Server,
) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	var stopOwned atomic.Bool
	go func() {
		select {
		case sig := <-signals:
			log.Info("signal received", "signal", sig)
			writeHeapProfile(log)
			if sig == syscall.SIGINT {
				stopOwned.Store(true)
				sup.StopOwnedOnExit()
			}
			cancel()
		case <-ctx.Done():
		}
	}()

	alertCtx, stopAlerts := context.WithCancel(context.Background())
	var background sync.WaitGroup
	background.Go(func() { notifier.Run(alertCtx) })
	background.Go(func() { _ = reaper.Run(alertCtx) })
	defer func() {
		drainAlerts(notifier, shutdownDrain)
		stopAlerts()
		background.Wait()
	}()

	var front sync.WaitGroup
	front.Go(func() { reload.Run(ctx) })
	front.Go(func() { runWatchdog(ctx, log, sup) })
	front.Go(func() {
		if err := control.Run(ctx); err != nil {
			log.Error("control socket stopped", "err", err)
		}
	})
	if webServer != nil {
		front.Go(func() {
			if err := webServer.Run(ctx); err != nil {
				log.Error("HTTP server stopped", "err", err)
			}
		})
	}
	defer func() {
		cancel()
		front.Wait()
	}()

	ready := func() {
		log.Info("ready")
		if _, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
			log.Warn("notify systemd", "err", err)
		}
		sendDaemonEvent(log, notifier, alert.Event{Kind: alert.KindDaemonStarted, Host: host,
			Message: fmt.Sprintf("tend %s started", version)})
	}
	err := sup.Run(ctx, ready)
	_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
	how := "the services keep running for the next run of tend to adopt"
	if stopOwned.Load() {
		how = "the services it started were stopped"
	}
	sendDaemonEvent(log, notifier, alert.Event{Kind: alert.KindDaemonStopped, Host: host, Message: "tend stopped; " + how})
	log.Info("stopped")
	return err
}

// sendDaemonEvent queues an event about tend itself.
func sendDaemonEvent(log *slog.Logger, notifier *alert.Notifier, ev alert.Event) {
	if err := notifier.Send(ev); err != nil {
		log.Error("queue alert", "kind", ev.Kind, "err", err)
	}
}

// onCycle runs on the supervisor's goroutine after every cycle, so it returns at once.
// It sends systemd the status line and hands the cycle's figures to the HTTP server's
// metrics when there is a server.
func onCycle(webServer *web.Server, st supervisor.CycleStats) {
	notifyStatus(st)
	if webServer != nil {
		webServer.ObserveCycle(st)
	}
}

// lockStateDir takes an exclusive lock on the state directory, so that a second tend on
// the same configuration refuses to start instead of starting every service again. The
// kernel releases the lock when tend exits, however it exits.
func lockStateDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, "tend.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		data, _ := os.ReadFile(path)
		_ = f.Close()
		owner := strings.TrimSpace(string(data))
		if owner == "" {
			owner = "unknown"
		}
		return nil, fmt.Errorf("another tend (PID %s) runs with state directory %s: stop it first", owner, dir)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { _ = f.Close() }, nil
}

// shutdownDrain bounds how long a stopping tend waits for its last alerts, such as
// tend_stopped, to be delivered. What is still queued then goes out at the next start.
const shutdownDrain = 3 * time.Second

// drainAlerts sends what waits for the digest window and waits until the alert queues
// are empty or wait has passed.
func drainAlerts(notifier *alert.Notifier, wait time.Duration) {
	notifier.Flush()
	deadline := time.Now().Add(wait)
	for notifier.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// openStateDirForNotify lets every user search the state directory when a service
// reports readiness through NOTIFY_SOCKET: its socket is in state_dir/notify, and a
// service that runs as another user must reach it. Searching is not listing: the
// state file, the lock and the alert queues keep their own owner-only modes.
func openStateDirForNotify(cfg *config.Config, log *slog.Logger) error {
	if !slices.ContainsFunc(cfg.Services, func(s config.Service) bool { return s.Notify }) {
		return nil
	}
	info, err := os.Stat(cfg.StateDir)
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	mode := info.Mode().Perm()
	if mode&0o011 == 0o011 {
		return nil
	}
	if err := os.Chmod(cfg.StateDir, mode|0o011); err != nil {
		return fmt.Errorf("let services reach their notify sockets in %s: %w", cfg.StateDir, err)
	}
	log.Info("state directory made searchable for the notify sockets", "dir", cfg.StateDir,
		"mode", fmt.Sprintf("%04o", mode|0o011))
	return nil
}

// writeHeapProfile writes a profile of the live heap, after a garbage collection, to
// the file that TEND_MEMPROFILE names, for go tool pprof. tend calls it on SIGTERM or
// SIGINT, before it shuts anything down.
func writeHeapProfile(log *slog.Logger) {
	path := os.Getenv("TEND_MEMPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		runtime.GC()
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		log.Warn("heap profile not written", "err", err)
	}
}

// startCPUProfile writes a CPU profile of the daemon to the file that TEND_CPUPROFILE
// names, for go tool pprof, until the returned function is called. It returns nil
// when the variable is unset or the profile cannot start.
func startCPUProfile(log *slog.Logger) (stop func()) {
	path := os.Getenv("TEND_CPUPROFILE")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		log.Warn("CPU profile not written", "err", err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		log.Warn("CPU profile not written", "err", err)
		return nil
	}
	log.Info("writing a CPU profile until tend stops", "path", path)
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
