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
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/coreos/go-systemd/v22/daemon"

	"golang.org/x/sys/unix"

	"tend/alert"
	"tend/config"
	"tend/supervisor"
	"tend/supervisor/procwatch"
)

func cmdRun(args []string, stderr io.Writer) int {
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
	if err := runDaemon(cfg, log); err != nil {
		log.Error("daemon stopped", "err", err)
		return 1
	}
	return 0
}

// runDaemon wires the alert pipeline and the supervisor together and runs them until
// SIGTERM or SIGINT. SIGTERM, which systemd sends on a stop or restart of the unit,
// leaves the services running for the next run of tend to adopt; SIGINT, as from
// Ctrl-C in a terminal, stops the owned services first.
func runDaemon(cfg *config.Config, log *slog.Logger) error {
	log.Info("starting", "version", version, "config", cfg.Path, "services", len(cfg.Services),
		"interval", cfg.Interval, "pid", os.Getpid())
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	unlock, err := lockStateDir(cfg.StateDir)
	if err != nil {
		return err
	}
	defer unlock()
	notifier, err := alert.New(alert.Options{
		StateDir:     cfg.StateDir,
		Mail:         mailOptions(cfg),
		Logger:       log.With("component", "alert"),
		DigestWindow: cfg.Alerts.DigestWindow.D(),
		MaxPerHour:   cfg.Alerts.MaxPerHour,
		QueueLimit:   cfg.Alerts.QueueLimit,
	})
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
	sup, err := supervisor.New(supervisor.Options{
		Config:  cfg,
		Alerter: notifier,
		Logger:  log.With("component", "supervisor"),
		Reaper:  reaper,
	})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	go func() {
		select {
		case sig := <-signals:
			log.Info("signal received", "signal", sig)
			if sig == syscall.SIGINT {
				sup.StopOwnedOnExit()
			}
			cancel()
		case <-ctx.Done():
		}
	}()

	alertCtx, stopAlerts := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { notifier.Run(alertCtx) })
	wg.Go(func() { _ = reaper.Run(alertCtx) })
	defer func() {
		stopAlerts()
		wg.Wait()
	}()

	ready := func() {
		log.Info("ready")
		if _, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
			log.Warn("notify systemd", "err", err)
		}
	}
	err = sup.Run(ctx, ready)
	_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
	log.Info("stopped")
	return err
}

// mailOptions maps the [mail] settings and the templates of [alerts] to the alert
// package's options. It returns nil without a [mail] table, and alerts are then only
// logged.
func mailOptions(cfg *config.Config) *alert.MailOptions {
	m := cfg.Mail
	if m == nil {
		return nil
	}
	opts := &alert.MailOptions{From: m.From, To: m.To,
		SubjectTemplate: cfg.Alerts.Subject, BodyTemplate: cfg.Alerts.Body}
	for _, s := range m.Servers {
		tls := alert.TLSMode(s.TLS.String())
		if s.TLSOptional {
			tls = alert.TLSStartTLSOptional
		}
		server := alert.ServerOptions{
			Host:     s.Host,
			Port:     s.Port,
			TLS:      tls,
			Username: s.Username,
			Password: s.Password.Value(),
			Timeout:  s.Timeout.D(),
		}
		// The alert package rejects a mechanism without a username.
		if s.Username != "" {
			server.Auth = alert.AuthMechanism(s.Auth.String())
		}
		opts.Servers = append(opts.Servers, server)
	}
	return opts
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
