package api

import (
	"time"

	"tend/alert"
	"tend/checks"
	"tend/supervisor"
)

// The types below are the JSON bodies of the API. Field names are snake_case,
// durations are seconds as floating-point numbers, and times are RFC 3339 strings.
// A time that is not known is left out rather than sent as the zero time.

// ServiceView is the JSON form of one service's state.
type ServiceView struct {
	Name   string     `json:"name"`
	State  string     `json:"state"`
	Since  *time.Time `json:"since,omitempty"`
	Reason string     `json:"reason,omitempty"`
	// PID is the main process, 0 when none is known.
	PID int `json:"pid"`
	// Started is when the main process started, and UptimeSeconds how long ago that
	// was; both are absent while no process runs.
	Started       *time.Time `json:"started,omitempty"`
	UptimeSeconds *float64   `json:"uptime_seconds,omitempty"`
	Restarts      int        `json:"restarts"`
	Held          bool       `json:"held"`
	Owned         bool       `json:"owned"`
	Groups        []string   `json:"groups"`
	// Usage is absent while no process runs.
	Usage  *UsageView  `json:"usage,omitempty"`
	Checks []CheckView `json:"checks"`
}

// UsageView is the CPU and memory of a service's main process, alone and with its
// descendants, at the last cycle.
type UsageView struct {
	// The CPU figures are absent on the first cycle of a process. CPUPercent and
	// TotalCPUPercent are shares of the whole machine (0 to 100); the core figures are
	// percentages of one core, as top shows them.
	CPUPercent          *float64 `json:"cpu_percent,omitempty"`
	CPUCorePercent      *float64 `json:"cpu_core_percent,omitempty"`
	TotalCPUPercent     *float64 `json:"total_cpu_percent,omitempty"`
	TotalCPUCorePercent *float64 `json:"total_cpu_core_percent,omitempty"`
	MemoryBytes         uint64   `json:"memory_bytes"`
	TotalMemoryBytes    uint64   `json:"total_memory_bytes"`
	Children            int      `json:"children"`
	Descendants         int      `json:"descendants"`
	Threads             int      `json:"threads"`
}

// CheckView is the latest result of one rule of a service.
type CheckView struct {
	Name   string `json:"name"`
	Action string `json:"action"`
	// Known is false until the rule was evaluated once, and the fields after it are
	// then empty.
	Known    bool       `json:"known"`
	OK       bool       `json:"ok"`
	Failing  bool       `json:"failing"`
	Observed string     `json:"observed,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	At       *time.Time `json:"at,omitempty"`
	// DurationSeconds is how long the probe took, 0 for a figure the cycle computes.
	DurationSeconds float64 `json:"duration_seconds"`
}

// HistoryView is the restart history of one service, oldest restart first.
type HistoryView struct {
	Service  string        `json:"service"`
	Restarts []RestartView `json:"restarts"`
}

// RestartView is one restart of a service.
type RestartView struct {
	Time    time.Time `json:"time"`
	Trigger string    `json:"trigger"`
	// Exit describes the previous process's end, absent when tend did not see it.
	Exit *ExitView `json:"exit,omitempty"`
}

// ExitView describes how a process ended.
type ExitView struct {
	PID           int     `json:"pid"`
	Status        string  `json:"status"`
	Code          int     `json:"code"`
	Signal        int     `json:"signal,omitempty"`
	OOM           bool    `json:"oom,omitempty"`
	UptimeSeconds float64 `json:"uptime_seconds"`
}

// DaemonView describes the daemon and its alert queue.
type DaemonView struct {
	Version       string    `json:"version"`
	PID           int       `json:"pid"`
	Started       time.Time `json:"started"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	Hostname      string    `json:"hostname"`
	Config        string    `json:"config"`
	// ConfigError is the error of the last rejected reload, absent while the running
	// configuration is the one on disk.
	ConfigError string `json:"config_error,omitempty"`
	// NeedsRestart lists the settings on disk that wait for a restart of tend.
	NeedsRestart []string   `json:"needs_restart,omitempty"`
	Alerts       AlertsView `json:"alerts"`
}

// AlertsView is the state of the alert queue.
type AlertsView struct {
	// QueueDepth counts the alerts not yet delivered.
	QueueDepth  int        `json:"queue_depth"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// Failures counts the failed delivery attempts since the daemon started.
	Failures uint64 `json:"failures"`
}

// ControlRequest is the body of POST /api/v1/control.
type ControlRequest struct {
	// Command is start, stop, restart, monitor or unmonitor.
	Command string `json:"command"`
	// Target is a service name, a group name or "all".
	Target string `json:"target"`
}

// ControlResult reports a command and its outcome on each service of the target.
type ControlResult struct {
	Command  string           `json:"command"`
	Target   string           `json:"target"`
	Services []ControlOutcome `json:"services"`
	// Error is the first service's error when some service rejected the command.
	Error string `json:"error,omitempty"`
}

// ControlOutcome is the outcome of a command on one service: accepted when Error is
// empty. An accepted command may still be running; the service's status shows it.
type ControlOutcome struct {
	Service string `json:"service"`
	Error   string `json:"error,omitempty"`
}

// ReloadRequest is the body of POST /api/v1/reload; an empty body applies the reload.
type ReloadRequest struct {
	DryRun bool `json:"dry_run"`
}

// ReloadResult is the plan of a reload: what it changed, or with DryRun what it would
// change.
type ReloadResult struct {
	DryRun    bool     `json:"dry_run"`
	Added     []string `json:"added"`
	Removed   []string `json:"removed"`
	Updated   []string `json:"updated"`
	Restarted []string `json:"restarted"`
	Unchanged []string `json:"unchanged"`
	// Deferred services need a restart that waits while an operator holds them.
	Deferred []string `json:"deferred"`
	// Settings lists the main file's keys applied now, NeedsRestart those that wait
	// for a restart of tend.
	Settings     []string `json:"settings"`
	NeedsRestart []string `json:"needs_restart"`
}

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error string `json:"error"`
}

func serviceView(st supervisor.ServiceStatus, now time.Time) ServiceView {
	v := ServiceView{
		Name: st.Name, State: st.State.String(), Since: optionalTime(st.Since), Reason: st.Reason,
		PID: st.PID, Restarts: st.Restarts, Held: st.Held, Owned: st.Owned,
		Groups: nonNil(st.Groups), Checks: make([]CheckView, 0, len(st.Checks)),
	}
	if !st.Started.IsZero() {
		v.Started = &st.Started
		v.UptimeSeconds = ptr(now.Sub(st.Started).Seconds())
	}
	if st.UsageKnown {
		v.Usage = usageView(st.Usage)
	}
	for _, c := range st.Checks {
		v.Checks = append(v.Checks, CheckView{
			Name: c.Name, Action: c.Action, Known: c.Known, OK: c.OK, Failing: c.Failing,
			Observed: c.Observed, Reason: c.Reason, At: optionalTime(c.At),
			DurationSeconds: c.Duration.Seconds(),
		})
	}
	return v
}

func usageView(u checks.Usage) *UsageView {
	v := &UsageView{
		MemoryBytes: u.Memory, TotalMemoryBytes: u.TotalMemory,
		Children: u.Children, Descendants: u.Descendants, Threads: u.Threads,
	}
	if u.CPUKnown {
		v.CPUPercent, v.CPUCorePercent = ptr(u.CPU), ptr(u.CPUCore)
		v.TotalCPUPercent, v.TotalCPUCorePercent = ptr(u.TotalCPU), ptr(u.TotalCPUCore)
	}
	return v
}

func historyView(st supervisor.ServiceStatus) HistoryView {
	v := HistoryView{Service: st.Name, Restarts: make([]RestartView, 0, len(st.History))}
	for _, r := range st.History {
		rv := RestartView{Time: r.Time, Trigger: r.Trigger}
		if e := r.Exit; e != nil {
			rv.Exit = &ExitView{PID: e.PID, Status: e.Status, Code: e.Code, Signal: e.Signal,
				OOM: e.OOM, UptimeSeconds: e.Uptime.Seconds()}
		}
		v.Restarts = append(v.Restarts, rv)
	}
	return v
}

func daemonView(d Daemon, a alert.Status, now time.Time) DaemonView {
	v := DaemonView{
		Version: d.Version, PID: d.PID, Started: d.Started, Hostname: d.Hostname,
		Config: d.Config, ConfigError: d.ConfigError, NeedsRestart: d.NeedsRestart,
		Alerts: AlertsView{QueueDepth: a.Pending, LastError: a.LastError,
			LastErrorAt: optionalTime(a.LastErrorAt), Failures: a.Failures},
	}
	if !d.Started.IsZero() {
		v.UptimeSeconds = now.Sub(d.Started).Seconds()
	}
	return v
}

func reloadResult(p supervisor.ReloadPlan, dryRun bool) ReloadResult {
	return ReloadResult{DryRun: dryRun, Added: nonNil(p.Added), Removed: nonNil(p.Removed),
		Updated: nonNil(p.Updated), Restarted: nonNil(p.Restarted), Unchanged: nonNil(p.Unchanged),
		Deferred: nonNil(p.Deferred), Settings: nonNil(p.Settings), NeedsRestart: nonNil(p.NeedsRestart)}
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func ptr[T any](v T) *T { return &v }

// nonNil returns list, or an empty list for nil, so that JSON shows [] and not null.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
