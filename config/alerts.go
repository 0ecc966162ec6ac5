package config

import (
	"text/template"
	"time"

	"tend/alert"
)

// Defaults of the [alerts] table.
const (
	DefaultDigestWindow = 5 * time.Second
	DefaultMaxPerHour   = 30
	DefaultQueueLimit   = 1000
	DefaultFlapChanges  = 4
	DefaultFlapWindow   = 15 * time.Minute
)

// Alerts contains the [alerts] settings of the main file: how events become messages.
type Alerts struct {
	// DigestWindow is how long the first event of a burst waits for more, so that the
	// events of the window go out as one digest. Zero sends each event at once.
	DigestWindow Duration
	// Reminder is the interval at which a failure that lasts is alerted again. Zero,
	// the default, sends no reminders.
	Reminder Duration
	// MaxPerHour caps the messages sent within any hour. Events that the cap holds back
	// go out together in one digest once the cap allows another message.
	MaxPerHour int
	// QueueLimit caps the events waiting for delivery. At the limit the oldest waiting
	// event is discarded, and the discards are counted, logged and reported in the next
	// message.
	QueueLimit int
	// Subject and Body replace the default subject and body of a message about one
	// event. They are nil unless the subject or body_file key sets them.
	Subject, Body *template.Template
	// DigestSubject and DigestBody replace those of a digest; nil unless the
	// digest_subject or digest_body_file key sets them.
	DigestSubject, DigestBody *template.Template
	// FlapChanges is how many changes between failing and passing within FlapWindow
	// make a check flap: one flapping alert, then none until it keeps one state for
	// FlapWindow. Zero turns flap detection off.
	FlapChanges int
	FlapWindow  Duration
	// Routes are the [[alerts.route]] entries.
	Routes []AlertRoute
}

// defaultAlerts returns the settings used when the main file has no [alerts] table.
func defaultAlerts() Alerts {
	return Alerts{
		DigestWindow: Duration(DefaultDigestWindow),
		MaxPerHour:   DefaultMaxPerHour,
		QueueLimit:   DefaultQueueLimit,
		FlapChanges:  DefaultFlapChanges,
		FlapWindow:   Duration(DefaultFlapWindow),
	}
}

// decodeAlerts decodes the [alerts] table of the main file.
func (l *loader) decodeAlerts(t *table) Alerts {
	a := defaultAlerts()
	t.rejectUnknown("digest_window", "reminder", "max_per_hour", "queue_limit", "subject", "body_file",
		"digest_subject", "digest_body_file", "flap_changes", "flap_window", "route")

	var text string
	if t.str("subject", &text) {
		a.Subject = parseTemplate(t, "subject", text, alert.ParseTemplate)
	}
	a.Body = l.templateFile(t, "body_file", alert.ParseTemplate)
	if t.str("digest_subject", &text) {
		a.DigestSubject = parseTemplate(t, "digest_subject", text, alert.ParseDigestTemplate)
	}
	a.DigestBody = l.templateFile(t, "digest_body_file", alert.ParseDigestTemplate)

	t.text("digest_window", &a.DigestWindow, `"5s"`)
	t.text("reminder", &a.Reminder, `"4h"`)
	if a.Reminder > 0 && a.Reminder.D() < minReminder {
		t.errorf("reminder", "%s is too short: want at least %s, or leave reminder out for none", a.Reminder, Duration(minReminder))
	}
	a.Routes = l.decodeRoutes(t, a.Reminder)

	if t.integer("max_per_hour", &a.MaxPerHour) && a.MaxPerHour < 1 {
		t.errorf("max_per_hour", "%d is too small: want 1 or more", a.MaxPerHour)
	}
	if t.integer("flap_changes", &a.FlapChanges) && (a.FlapChanges < 0 || a.FlapChanges == 1 || a.FlapChanges == 2) {
		t.errorf("flap_changes", "invalid value %d: want 3 or more, or 0 to turn flap detection off", a.FlapChanges)
	}
	if t.text("flap_window", &a.FlapWindow, `"15m"`) && a.FlapWindow <= 0 {
		t.errorf("flap_window", "invalid value %s: want a positive duration", a.FlapWindow)
	}
	if t.integer("queue_limit", &a.QueueLimit) && a.QueueLimit < 10 {
		t.errorf("queue_limit", "%d is too small: want 10 or more", a.QueueLimit)
	}
	return a
}

// parseTemplate parses the template of key with parse, reporting an error at the key.
func parseTemplate(t *table, key, text string, parse func(name, text string) (*template.Template, error)) *template.Template {
	tmpl, err := parse(key, text)
	if err != nil {
		t.errorf(key, "invalid template: %v", err)
		return nil
	}
	return tmpl
}

// templateFile reads the template file that key names and parses it with parse; it
// returns nil when the key is absent or wrong.
func (l *loader) templateFile(t *table, key string, parse func(name, text string) (*template.Template, error)) *template.Template {
	var path string
	if !t.resolvePath(key, &path) {
		return nil
	}
	data, err := l.read(path)
	if err != nil {
		t.errorf(key, "cannot read %q: %s", path, describeReadError(err))
		return nil
	}
	return parseTemplate(t, key, string(data), parse)
}
