package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"tend/alert"
	"tend/config"
	"tend/supervisor"
)

// reloadDebounce is how long Run waits after a change to a configuration file for
// more changes, so that an editor's or a package manager's burst of writes, renames
// and mode changes becomes one reload.
const reloadDebounce = 500 * time.Millisecond

// reloader loads the configuration from disk and applies it to the supervisor.
//
// Reload may be called from any goroutine, and calls run one at a time. Run, started
// once by the daemon and stopped by canceling its context, reloads on SIGHUP and on
// changes to the configuration files.
type reloader struct {
	sup     *supervisor.Supervisor
	alerter supervisor.Alerter
	log     *slog.Logger
	// debounce is reloadDebounce, shorter in tests.
	debounce time.Duration

	// mu serializes reloads and guards current, the configuration in force.
	mu      sync.Mutex
	current *config.Config
	// needsRestart is the NeedsRestart of the last applied plan.
	needsRestart []string
	// lastErr is the error of the last rejected reload, "" after a successful one.
	lastErr atomic.Pointer[string]
}

// newReloader returns a reloader for the configuration current, which sup runs. Each
// rejected reload is logged to log and sent to alerter.
func newReloader(current *config.Config, sup *supervisor.Supervisor, alerter supervisor.Alerter, log *slog.Logger) *reloader {
	r := &reloader{sup: sup, alerter: alerter, log: log, debounce: reloadDebounce, current: current}
	r.lastErr.Store(new(string))
	return r
}

// Reload loads the configuration from disk and applies it, or with dryRun returns the
// plan only; by names who asked.
//
// It returns the plan and a nil error when the configuration was applied, or would be
// with dryRun. It returns an error when the configuration cannot be loaded, when its
// state_dir differs from the running one, or when the supervisor did not take the
// request before ctx ended. Then the running configuration stays in force. Unless
// dryRun is set, the error is logged and kept for ConfigError, and it is sent as an
// alert when it differs from the error of the last rejection.
func (r *reloader) Reload(ctx context.Context, dryRun bool, by string) (supervisor.ReloadPlan, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.Info("reload requested", "by", by, "dry_run", dryRun)

	cfg, err := r.load()
	var plan supervisor.ReloadPlan
	// The alert pipeline takes its new settings first, because it can still reject
	// them. The supervisor's part fails only when its loop does not take the request
	// before ctx ends, and then the alert settings in force are restored below.
	updater, updates := r.alerter.(alertUpdater)
	updates = updates && err == nil && !dryRun && alertsChanged(r.current, cfg)
	if updates {
		if err = updater.Update(alertOptions(cfg, nil)); err != nil {
			err = fmt.Errorf("alert settings: %w", err)
			updates = false
		}
	}
	if err == nil {
		plan, err = r.sup.Reload(ctx, cfg, dryRun)
	}
	if err != nil && updates {
		if uerr := updater.Update(alertOptions(r.current, nil)); uerr != nil {
			r.log.Error("restore the alert settings in force", "err", uerr)
		}
	}
	switch {
	case dryRun:
		return plan, err
	case err != nil:
		r.reject(err, by)
		return plan, err
	}
	r.current, r.needsRestart = cfg, plan.NeedsRestart
	r.lastErr.Store(new(string))
	return plan, nil
}

// alertUpdater is the alert pipeline, which a reload hands its new settings.
type alertUpdater interface {
	Update(alert.Options) error
}

// alertsChanged reports whether the mail settings, the [alerts] table or any alert
// route differs between old and updated, positions in the files aside.
func alertsChanged(old, updated *config.Config) bool {
	for _, key := range config.SettingChanges(old, updated) {
		if key == "mail" || strings.HasPrefix(key, "mail.") || strings.HasPrefix(key, "alerts.") {
			return true
		}
	}
	routes := func(c *config.Config) []config.AlertRoute {
		list := c.AlertRoutes()
		for i := range list {
			list[i].Pos = config.Position{}
		}
		return list
	}
	return !reflect.DeepEqual(routes(old), routes(updated))
}

// load reads the configuration from the path the running one came from, and rejects
// a change of the state directory, which holds the lock, the state file and the alert
// queue of the running daemon.
func (r *reloader) load() (*config.Config, error) {
	cfg, err := config.Load(r.current.Path)
	if err != nil {
		return nil, err
	}
	if cfg.StateDir != r.current.StateDir {
		return nil, fmt.Errorf("%s: state_dir: changed from %s to %s, which needs a restart of tend",
			cfg.Path, r.current.StateDir, cfg.StateDir)
	}
	return cfg, nil
}

// reject logs a rejected reload, alerts about it when its error is new, and keeps the
// error for ConfigError.
func (r *reloader) reject(err error, by string) {
	text := err.Error()
	r.log.Error("reload rejected; the running configuration stays in force", "by", by, "err", text)
	if prev := r.lastErr.Swap(&text); *prev == text {
		return // Alerted already; the files have not changed since.
	}

	first, count := text, 1
	var list config.Errors
	if errors.As(err, &list) && len(list) > 0 {
		first, count = list[0].Error(), len(list)
	}
	msg := fmt.Sprintf("the configuration was rejected and the running one stays in force: %s", first)
	if count > 1 {
		msg += fmt.Sprintf(" (and %d more errors)", count-1)
	}
	ev := alert.Event{
		Kind: alert.KindReloadRejected, Time: time.Now(), Host: r.current.Hostname,
		Observed: text, Message: msg,
	}
	if serr := r.alerter.Send(ev); serr != nil {
		r.log.Error("queue alert", "err", serr, "kind", ev.Kind)
	}
}

// ConfigError returns the error of the last rejected reload, or "" while the running
// configuration is the one on disk.
func (r *reloader) ConfigError() string { return *r.lastErr.Load() }

// NeedsRestart returns the settings of the last applied configuration that wait for a
// restart of tend.
func (r *reloader) NeedsRestart() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.needsRestart
}

// Run reloads on SIGHUP and on changes to the configuration files until ctx ends.
//
// It watches the directory of the main file and the directory of each include glob,
// not the files, so that it notices a file that an editor replaces by a rename. Changes
// to files that neither the main path nor a glob matches, such as an editor's swap
// files, are ignored. A burst of changes becomes one reload once no change came for
// the debounce interval. The watched directories follow the include globs after each
// reload. Without inotify, only SIGHUP reloads.
func (r *reloader) Run(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	w, err := fsnotify.NewWatcher()
	if err != nil {
		r.log.Warn("watch configuration files; reload with SIGHUP instead", "err", err)
		w = nil
	}
	var events chan fsnotify.Event
	var watchErrors chan error
	watched := map[string]bool{}
	if w != nil {
		defer func() { _ = w.Close() }()
		events, watchErrors = w.Events, w.Errors
		r.syncWatches(w, watched)
	}

	var debounce *time.Timer
	var fire <-chan time.Time
	defer func() {
		if debounce != nil {
			debounce.Stop()
		}
	}()
	for {
		var by string
		select {
		case <-ctx.Done():
			return
		case <-hup:
			by = "SIGHUP"
		case ev := <-events:
			if !r.relevant(ev.Name, watched) {
				continue
			}
			r.log.Debug("configuration file changed", "path", ev.Name, "op", ev.Op.String())
			if debounce == nil {
				debounce = time.NewTimer(r.debounce)
			} else {
				debounce.Reset(r.debounce)
			}
			fire = debounce.C
			continue
		case err := <-watchErrors:
			r.log.Warn("watch configuration files", "err", err)
			continue
		case <-fire:
			fire = nil
			by = "change of the configuration files"
		}
		// The result is logged by Reload and the supervisor.
		_, _ = r.Reload(ctx, false, by)
		if w != nil {
			r.syncWatches(w, watched)
		}
	}
}

// relevant reports whether a change to name can change the configuration: name is the
// main file, a file that an include glob matches, or a watched directory, whose mode
// the permission check covers.
func (r *reloader) relevant(name string, watched map[string]bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == r.current.Path || watched[name] {
		return true
	}
	for _, pattern := range r.current.Include {
		if ok, _ := filepath.Match(pattern, name); ok {
			return true
		}
	}
	return false
}

// syncWatches watches the directories of the running configuration and stops
// watching those it no longer uses. watched records the watched directories.
func (r *reloader) syncWatches(w *fsnotify.Watcher, watched map[string]bool) {
	want := r.watchDirs()
	for dir := range watched {
		if !slices.Contains(want, dir) {
			_ = w.Remove(dir)
			delete(watched, dir)
		}
	}
	for _, dir := range want {
		if watched[dir] {
			continue
		}
		if err := w.Add(dir); err != nil {
			r.log.Warn("watch configuration directory; reload with SIGHUP after changes there",
				"path", dir, "err", err)
			continue
		}
		watched[dir] = true
	}
}

// watchDirs returns the directories to watch: that of the main file and that of each
// include glob. A glob with a wildcard in its directory part, such as
// "/etc/tend/*/service.toml", gives each directory that the directory part matches now.
func (r *reloader) watchDirs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	dirs := []string{filepath.Dir(r.current.Path)}
	for _, pattern := range r.current.Include {
		dir := filepath.Dir(pattern)
		if !strings.ContainsAny(dir, `*?[\`) {
			dirs = append(dirs, dir)
			continue
		}
		matches, _ := filepath.Glob(dir)
		dirs = append(dirs, matches...)
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}
