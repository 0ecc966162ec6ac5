// Package alert turns supervision events into messages and delivers them.
//
// Every event is written to an on-disk queue under the state directory, with fsync,
// before any delivery attempt, and removed only after the mail server accepted it. A
// delivery failure is retried with exponential backoff, so an SMTP outage or a restart
// of the daemon loses nothing.
package alert

import "time"

// Kind is the kind of an event.
type Kind string

// Event kinds.
const (
	// KindFailed: a check failed for as many cycles as its rule requires.
	KindFailed Kind = "failed"
	// KindRecovered: a check that had failed passes again.
	KindRecovered Kind = "recovered"
	// KindRestarted: tend restarted the service on an operator's command or after a
	// dependency restarted. A restart by a rule is announced by the rule's KindFailed
	// event, whose Action is "restart".
	KindRestarted Kind = "restarted"
	// KindActionFailed: a start, stop or restart did not succeed.
	KindActionFailed Kind = "action_failed"
	// KindRestartLimit: the restart limit was reached and the service is unmonitored.
	KindRestartLimit Kind = "restart_limit"
	// KindStartTimeout: a started service was not up within its start timeout.
	KindStartTimeout Kind = "start_timeout"
	// KindWatchdog: a service with a watchdog sent no WATCHDOG=1 within its interval.
	KindWatchdog Kind = "watchdog"
	// KindPIDChanged: the main process of a running service changed without a restart
	// by tend, such as after a graceful reload.
	KindPIDChanged Kind = "pid_changed"
	// KindReminder: a check that failed still fails, one reminder interval after its
	// last alert.
	KindReminder Kind = "reminder"
	// KindStopTimeout: a stopped service was still running after its stop timeout and
	// was killed with SIGKILL.
	KindStopTimeout Kind = "stop_timeout"
	// KindReloadRejected: a changed configuration was rejected and the running one stays
	// in force.
	KindReloadRejected Kind = "reload_rejected"
	// KindDaemonStarted and KindDaemonStopped: tend itself started or stopped.
	KindDaemonStarted Kind = "tend_started"
	KindDaemonStopped Kind = "tend_stopped"
	// KindFlapping: a check changed between failing and passing too often, and its
	// alerts wait until it settles; KindFlapEnded: it settled, in the state it names.
	KindFlapping  Kind = "flapping"
	KindFlapEnded Kind = "flap_ended"
)

// Kinds lists every event kind, in the order of the documentation.
var Kinds = []Kind{
	KindFailed, KindRecovered, KindReminder, KindRestarted, KindStartTimeout, KindStopTimeout,
	KindWatchdog, KindRestartLimit, KindPIDChanged, KindActionFailed,
	KindFlapping, KindFlapEnded, KindReloadRejected, KindDaemonStarted, KindDaemonStopped,
}

// Event is one thing an operator should hear about. It is stored in the queue as JSON
// with the field names of its tags.
type Event struct {
	// ID is unique per event. The queue file name and the Message-ID derive from it, and
	// the queue delivers events in the byte order of their IDs. Send assigns one when it
	// is empty. An ID set by the caller must have 1 to 200 characters from A-Z, a-z,
	// 0-9, '.', '_' and '-', with no dot at either end and no two dots in a row.
	ID string `json:"id"`
	// Time is when the event happened. Send sets it to the current time when it is zero.
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`

	Host    string `json:"host,omitempty"`
	Service string `json:"service,omitempty"`
	// Check names the check, such as "tcp 127.0.0.1:6379" or "cpu > 95%".
	Check string `json:"check,omitempty"`
	// Observed is the value the check saw ("connection refused", "97.2%").
	Observed string `json:"observed,omitempty"`
	// Threshold is the limit the check tests against ("95% for 3 cycles"). It is empty
	// for checks without one.
	Threshold string `json:"threshold,omitempty"`
	// Action is the action tend took or will take ("restart", "alert", "unmonitor").
	Action string `json:"action,omitempty"`
	// Message is one sentence an operator can act on.
	Message string `json:"message,omitempty"`
}
