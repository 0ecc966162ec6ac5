package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tend/alert"
	"tend/checks"
	"tend/config"
	"tend/supervisor/logfile"
)

// ReloadPlan describes what a new configuration changes: which services it adds,
// removes, updates in place and restarts. Each list contains service names in
// configuration order, the removed ones in the order of the running configuration.
type ReloadPlan struct {
	Added, Removed, Updated, Restarted, Unchanged []string
	// Deferred lists the services whose process must start again to take the change,
	// but that an operator holds stopped or that are unmonitored. They take the new
	// configuration now and run it at their next start.
	Deferred []string
	// Settings lists the changed keys of the main file that apply at once: interval,
	// include, hostname and alerts.reminder.
	Settings []string
	// NeedsRestart lists the keys of the main file that differ from the configuration
	// tend started with and take effect only when tend restarts, such as control or
	// http.
	NeedsRestart []string
}

// Empty reports whether the plan changes nothing.
func (p ReloadPlan) Empty() bool {
	return len(p.Added)+len(p.Removed)+len(p.Updated)+len(p.Restarted)+len(p.Deferred)+
		len(p.Settings)+len(p.NeedsRestart) == 0
}

// ErrNotRunning is the error of Reload after Run returned.
var ErrNotRunning = errors.New("supervisor is not running")

// restartKeys are the service keys whose change needs a new process: they set the
// command, how the process is found, or what the process inherits when it starts
// (account, directory, environment, NOTIFY_SOCKET and WATCHDOG_USEC, the output pipe).
var restartKeys = []string{
	"command", "pidfile", "match", "match_pick", "user", "group", "directory",
	"environment", "environment_file", "inherit_environment", "notify", "watchdog",
	"log_file", "log_max_size", "log_max_files",
}

// fileKeys are the service keys of the files that the supervisor opens for a service.
var fileKeys = []string{"notify", "log_file", "log_max_size", "log_max_files"}

// liveSettings are the main file's keys that a reload applies at once. The
// supervisor reads interval, hostname and alerts.reminder from its configuration,
// and the caller of Reload watches the include globs and hands mail and the alert
// settings to the alert pipeline.
var liveSettings = []string{
	"interval", "include", "hostname", "mail", "alerts.reminder", "alerts.digest_window",
	"alerts.max_per_hour", "alerts.queue_limit", "alerts.subject", "alerts.body_file", "alerts.route",
}

// reloadRequest carries a Reload call to the loop.
type reloadRequest struct {
	cfg    *config.Config
	dryRun bool
	reply  chan reloadReply
}

type reloadReply struct {
	plan ReloadPlan
	err  error
}

// serviceChange is the effect of a reload on one service that stays configured.
type serviceChange struct {
	svc  *service
	cfg  config.Service
	keys []string
	// restart is true when the service's process must start again to take the
	// change, and replace when the service changed between owned, external and
	// host, so that a new service takes its place.
	restart, replace bool
	// deferred is true when the restart waits for the service's next start, because
	// an operator holds it or it is unmonitored.
	deferred bool
}

// Reload computes what cfg changes against the running configuration, and with dryRun
// false applies it. It returns the plan and a nil error, also when the plan is empty.
// cfg must be a configuration that config.Load returned, and it must not be modified
// afterwards.
//
// Applying the plan starts or adopts each added service as Run does at start-up, in
// dependency order. A removed service is no longer monitored, and its process keeps
// running. An updated service keeps its process, state, held flag, history and count
// of restarts, and a changed rule starts with no failures counted. A restarted service
// restarts through its stop and start, unless an operator holds it stopped or it is
// unmonitored. A new interval resets the cycle's ticker. The state directory stays the
// one Run started with; a change of it and the other keys in ReloadPlan.NeedsRestart
// are logged as warnings.
//
// The request goes to Run's goroutine. Reload returns ctx's error when ctx ends before
// Run takes the request, and ErrNotRunning after Run returned.
func (s *Supervisor) Reload(ctx context.Context, cfg *config.Config, dryRun bool) (ReloadPlan, error) {
	if cfg == nil {
		return ReloadPlan{}, errors.New("reload: configuration is nil")
	}
	req := reloadRequest{cfg: cfg, dryRun: dryRun, reply: make(chan reloadReply, 1)}
	select {
	case s.reloads <- req:
	case <-s.done:
		return ReloadPlan{}, ErrNotRunning
	case <-ctx.Done():
		return ReloadPlan{}, ctx.Err()
	}
	// Once the loop took the request it applies it within that turn and replies, so
	// the caller learns the outcome even when ctx ends meanwhile.
	r := <-req.reply
	return r.plan, r.err
}

// handleReload plans a reload on the loop and applies it unless it is a dry run.
func (s *Supervisor) handleReload(ctx context.Context, req reloadRequest, ticker *time.Ticker) reloadReply {
	plan, changes := s.planReload(req.cfg)
	if req.dryRun {
		return reloadReply{plan: plan}
	}
	s.applyReload(ctx, req.cfg, plan, changes, ticker)
	return reloadReply{plan: plan}
}

// planReload compares cfg with the running configuration.
func (s *Supervisor) planReload(cfg *config.Config) (ReloadPlan, []serviceChange) {
	var plan ReloadPlan
	var changes []serviceChange
	declared := make(map[string]bool, len(cfg.Services))
	for _, sc := range cfg.Services {
		declared[sc.Name] = true
		svc := s.byName[sc.Name]
		if svc == nil {
			plan.Added = append(plan.Added, sc.Name)
			continue
		}
		ch := classifyChange(svc, sc)
		changes = append(changes, ch)
		switch {
		case len(ch.keys) == 0:
			plan.Unchanged = append(plan.Unchanged, sc.Name)
		case ch.deferred:
			plan.Deferred = append(plan.Deferred, sc.Name)
		case ch.restart:
			plan.Restarted = append(plan.Restarted, sc.Name)
		default:
			plan.Updated = append(plan.Updated, sc.Name)
		}
	}
	for _, svc := range s.services {
		if !declared[svc.cfg.Name] {
			plan.Removed = append(plan.Removed, svc.cfg.Name)
		}
	}
	for _, key := range config.SettingChanges(s.cfg, cfg) {
		if slices.Contains(liveSettings, key) {
			plan.Settings = append(plan.Settings, key)
		}
	}
	// Against the configuration Run started with, so that a change that waits for a
	// restart of tend stays listed through later reloads until it is undone.
	for _, key := range config.SettingChanges(s.opts.Config, cfg) {
		if !slices.Contains(liveSettings, key) {
			plan.NeedsRestart = append(plan.NeedsRestart, key)
		}
	}
	return plan, changes
}

// classifyChange decides how the change from svc's configuration to sc applies.
func classifyChange(svc *service, sc config.Service) serviceChange {
	ch := serviceChange{svc: svc, cfg: sc, keys: config.ServiceChanges(svc.cfg, sc)}
	old := svc.cfg
	ch.replace = old.Owned() != sc.Owned() || old.HasProcess() != sc.HasProcess()
	ch.restart = ch.replace || sc.HasProcess() && canRestart(&service{cfg: sc}) &&
		slices.ContainsFunc(ch.keys, func(k string) bool { return slices.Contains(restartKeys, k) })
	ch.deferred = ch.restart && (svc.held || svc.state == StateUnmonitored)
	return ch
}

// applyReload applies a plan that planReload made on this turn of the loop.
func (s *Supervisor) applyReload(ctx context.Context, cfg *config.Config, plan ReloadPlan,
	changes []serviceChange, ticker *time.Ticker,
) {
	next := *cfg
	next.StateDir = s.cfg.StateDir // The state file, queue and lock stay where they are.
	for _, name := range plan.Removed {
		svc := s.byName[name]
		s.retire(svc, "removed from the configuration")
		svc.log.Info("service removed; its process is left running", "pid", svc.pid)
	}

	services := make([]*service, 0, len(next.Services))
	var added, replaced, restarted []*service
	for _, sc := range next.Services {
		if s.byName[sc.Name] == nil {
			svc := newService(sc, s.log)
			added = append(added, svc)
			services = append(services, svc)
		}
	}
	for _, ch := range changes {
		svc := s.updateService(ch)
		if ch.replace {
			replaced = append(replaced, svc)
		} else if ch.restart && !ch.deferred {
			restarted = append(restarted, svc)
		}
		services = append(services, svc)
	}
	s.cfg = &next
	s.setServices(orderLike(services, next.Services))

	if slices.Contains(plan.Settings, "interval") {
		ticker.Reset(next.Interval.D())
	}
	for _, key := range plan.NeedsRestart {
		s.log.Warn("setting changed; it takes effect when tend restarts", "key", key)
	}
	s.startAdded(ctx, added)
	for _, svc := range restarted {
		s.requestAction(ctx, svc, actionRequest{
			kind: actionRestart, trigger: "configuration changed", manual: true,
		})
	}
	for _, svc := range replaced {
		s.finishReplace(ctx, svc)
	}
	s.startWaiting(ctx)
	s.log.Info("configuration reloaded", "added", plan.Added, "removed", plan.Removed,
		"updated", plan.Updated, "restarted", plan.Restarted, "deferred", plan.Deferred,
		"settings", plan.Settings, "needs_restart", plan.NeedsRestart)
}

// updateService gives a service that stays configured its new configuration, and
// returns the service that runs it: svc itself, or a new one when ch.replace.
func (s *Supervisor) updateService(ch serviceChange) *service {
	svc := ch.svc
	if len(ch.keys) == 0 {
		// Only positions in files changed, which ServiceChanges ignores.
		svc.cfg = ch.cfg
		svc.pointChecks()
		return svc
	}
	if ch.replace {
		return s.replaceService(ch)
	}

	svc.log.Info("configuration changed", "keys", ch.keys, "restart", ch.restart && !ch.deferred)
	reopen := slices.ContainsFunc(ch.keys, func(k string) bool { return slices.Contains(fileKeys, k) })
	if reopen {
		s.closeFiles(svc)
	}
	svc.cfg = ch.cfg
	if reopen {
		s.openFiles(svc)
	}
	if slices.Contains(ch.keys, "check") {
		// Results of probes that are still running belong to the old rules.
		svc.generation++
		s.replaceChecks(svc, newService(ch.cfg, s.log).checks)
	} else {
		svc.pointChecks()
	}
	if ch.restart && !ch.deferred {
		return svc
	}
	if ch.restart && !svc.cfg.Owned() {
		// Unmonitored or held: the process is found again under the new identity
		// when monitoring resumes.
		s.forgetExternal(svc)
	}
	if !ch.restart && !svc.cfg.Owned() && slices.ContainsFunc(ch.keys, func(k string) bool {
		return slices.Contains(restartKeys, k)
	}) {
		// An external service without a start program: tend cannot restart it, so
		// the next cycle looks for its process under the new pidfile or pattern.
		s.forgetExternal(svc)
	}
	return svc
}

// replaceChecks gives svc the rules of its new configuration. A rule whose check did
// not change keeps its failures and its open alert, so that a reload neither repeats
// nor loses an alert. A changed rule starts with no failures counted, and a removed or
// changed rule that was failing gets a recovered event, because nothing else would
// close its alert.
func (s *Supervisor) replaceChecks(svc *service, fresh []*checkState) {
	carried := make([]bool, len(svc.checks))
	for _, cs := range fresh {
		for i, old := range svc.checks {
			if !carried[i] && config.SameCheck(*old.cfg, *cs.cfg) {
				carried[i] = true
				cs.takeState(old)
				break
			}
		}
	}
	for i, old := range svc.checks {
		if carried[i] || !old.failing {
			continue
		}
		svc.log.Info("failing check changed or removed by a reload", "check", old.name)
		s.emit(svc, alert.Event{
			Kind: alert.KindRecovered, Check: old.name, Threshold: threshold(old.cfg),
			Message: fmt.Sprintf("%s of %s was changed or removed by a reload; its failure is no longer tracked",
				old.name, svc.cfg.Name),
		})
		svc.changed = true
	}
	svc.checks = fresh
}

// pointChecks points the rules of svc at the checks of its current configuration,
// which equal those the rules were made from.
func (svc *service) pointChecks() {
	for i, cs := range svc.checks {
		cs.cfg = &svc.cfg.Checks[i]
	}
}

// forgetExternal drops the main process that tend identified for an external service.
func (s *Supervisor) forgetExternal(svc *service) {
	svc.pid, svc.startTicks = 0, 0
	if svc.watcher != nil {
		_ = svc.watcher.Close()
		svc.watcher = nil
	}
}

// replaceService retires a service that changed between owned, external and host, and
// returns a new service for its configuration, with the operator's hold, the history
// and the count of restarts of the old one. finishReplace stops the old process with
// the old configuration and then starts the new service.
func (s *Supervisor) replaceService(ch serviceChange) *service {
	old := ch.svc
	held, unmonitored := old.held, old.state == StateUnmonitored
	svc := newService(ch.cfg, s.log)
	svc.held, svc.history, svc.restartStreak = held, old.history, old.restartStreak
	svc.log.Info("service changed kind; replacing it", "keys", ch.keys, "old_pid", old.pid)
	s.retire(old, "replaced: the service changed between owned, external and host")
	s.openFiles(svc)

	switch {
	case unmonitored:
		svc.setState(StateUnmonitored, "unmonitored before the configuration changed")
		return svc
	case held:
		svc.setState(StateStopped, "stopped by an operator before the configuration changed")
		return svc
	}
	if !old.cfg.HasProcess() || old.child == nil && old.pid == 0 {
		return svc // No process of the old configuration to stop.
	}
	svc.busy = true
	svc.setState(StateStopping, "stopping the process of the previous configuration")
	t := actionTarget{
		cfg: old.cfg, log: old.log, procDir: s.opts.ProcDir,
		child: old.child, pid: old.pid, startTicks: old.startTicks, stateDir: s.cfg.StateDir,
	}
	s.workers.Go(func() {
		err := t.stop()
		select {
		case s.calls <- func(ctx context.Context) { s.stoppedForReplace(ctx, svc, err) }:
		case <-s.done:
		}
	})
	return svc
}

// stoppedForReplace starts a replacing service once the old process stopped.
func (s *Supervisor) stoppedForReplace(ctx context.Context, svc *service, err error) {
	if s.byName[svc.cfg.Name] != svc {
		return // Removed or replaced again meanwhile.
	}
	svc.busy = false
	svc.setState(StateStopped, "process of the previous configuration stopped")
	if err != nil {
		svc.log.Error("stop the process of the previous configuration", "err", err)
	}
	s.finishReplace(ctx, svc)
}

// finishReplace runs what was requested for a replacing service meanwhile, or starts
// it as Run does at start-up.
func (s *Supervisor) finishReplace(ctx context.Context, svc *service) {
	if svc.busy {
		return // The old process is still stopping; stoppedForReplace comes back.
	}
	if svc.pending != nil {
		req := *svc.pending
		svc.pending = nil
		s.requestAction(ctx, svc, req)
		return
	}
	snap, err := checks.ReadSnapshotWith(s.opts.ProcDir, s.snapOpts)
	if err != nil {
		svc.log.Error("read process table", "err", err)
		return
	}
	s.adoptOrStart(ctx, svc, snap)
}

// retire ends the monitoring of a service that a reload removes or replaces. Nothing
// acts on it afterwards: its timers are canceled, the loop drops the results of its
// probes and actions, and held keeps late messages of its notify socket from acting.
// Its process keeps running, and the goroutine that waits for an owned process goes
// on waiting, so that the process is reaped when it exits.
func (s *Supervisor) retire(svc *service, reason string) {
	svc.held = true
	svc.cancelDelay()
	svc.stopWatchdog()
	svc.readyToken++
	svc.awaitingReady = false
	svc.pending, svc.waiting = nil, nil
	svc.setState(StateUnmonitored, reason)
	if svc.watcher != nil {
		_ = svc.watcher.Close()
		svc.watcher = nil
	}
	s.closeFiles(svc)
}

// current reports whether svc is a configured service, rather than one that a reload
// removed or replaced.
func (s *Supervisor) current(svc *service) bool {
	return s.byName[svc.cfg.Name] == svc
}

// retiredExit logs the exit of the process of a service that a reload removed. The
// goroutine that sent the exit has reaped the process already.
func (s *Supervisor) retiredExit(e childExit) {
	e.svc.log.Info("process of a removed service exited", "pid", e.child.pid,
		"status", e.child.exitDescription())
}

// retiredAction logs the outcome of an action that ran while a reload removed or
// replaced its service. A process that the action started keeps running, as the
// process of a removed service does.
func (s *Supervisor) retiredAction(d actionDone) {
	d.svc.log.Info("action of a removed service done; its outcome is ignored", "action", d.request.kind,
		"pid", d.pid, "err", d.err)
}

// startAdded starts or adopts the added services in dependency order.
func (s *Supervisor) startAdded(ctx context.Context, added []*service) {
	if len(added) == 0 {
		return
	}
	snap, err := checks.ReadSnapshotWith(s.opts.ProcDir, s.snapOpts)
	if err != nil {
		s.log.Error("read process table; the added services start at the next cycle", "err", err)
		return
	}
	order := stopOrder(s.services, s.byName)
	slices.Reverse(order)
	for _, svc := range order {
		if slices.Contains(added, svc) {
			s.openFiles(svc)
			svc.log.Info("service added")
			s.adoptOrStart(ctx, svc, snap)
		}
	}
}

// openFiles opens the notify socket and the log file of one service, as
// openServiceFiles does for every service at start-up.
func (s *Supervisor) openFiles(svc *service) {
	if svc.cfg.Notify && s.cfg.StateDir != "" {
		s.listenNotify(svc)
	}
	if svc.cfg.LogFile == "" {
		return
	}
	w, err := logfile.Open(svc.cfg.LogFile, int64(svc.cfg.LogMaxSize), svc.cfg.LogMaxFiles)
	if err != nil {
		svc.log.Error("open log file; output goes to tend's log instead", "err", err)
		return
	}
	svc.logFile = w
}

// closeFiles closes the notify socket of a service, and its log file once its process
// exited, because that process's output still goes there until then.
func (s *Supervisor) closeFiles(svc *service) {
	if svc.notify != nil {
		_ = svc.notify.Close()
		svc.notify = nil
	}
	w := svc.logFile
	if w == nil {
		return
	}
	svc.logFile = nil
	if svc.child == nil || svc.child.exited() {
		_ = w.Close()
		return
	}
	done := svc.child.done
	// NOTE: output that is still in the pipe when the process exits is dropped,
	// because the goroutine that copies it may not have read it yet.
	go func() {
		<-done
		_ = w.Close()
	}()
}

// orderLike orders services as the configuration declares them.
func orderLike(services []*service, declared []config.Service) []*service {
	index := make(map[string]int, len(declared))
	for i, sc := range declared {
		index[sc.Name] = i
	}
	slices.SortFunc(services, func(a, b *service) int { return index[a.cfg.Name] - index[b.cfg.Name] })
	return services
}

// String describes the plan in one line, such as "added: web; restarted: redis".
func (p ReloadPlan) String() string {
	var parts []string
	for _, list := range []struct {
		name  string
		names []string
	}{
		{"added", p.Added}, {"removed", p.Removed}, {"updated", p.Updated},
		{"restarted", p.Restarted}, {"deferred", p.Deferred}, {"settings", p.Settings},
		{"needs restart of tend", p.NeedsRestart},
	} {
		if len(list.names) > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s", list.name, strings.Join(list.names, ", ")))
		}
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, "; ")
}
