package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"tend/alert"
)

// AlertRoute sends some events to mail recipients or to a webhook: an [[alerts.route]]
// entry of the main file, or an [[service.alert]] entry of a service.
type AlertRoute struct {
	// Name names the route's queue. A [[service.alert]] entry's name is
	// "service.NAME" for the first entry of the service and "service.NAME-N" for the
	// Nth.
	Name string
	// To lists mail recipients; Webhook is set instead for a webhook.
	To      []string
	Webhook *Webhook
	// Services restricts the route to the events of these services; empty takes
	// every event. A [[service.alert]] entry names its own service.
	Services []string
	// Events and ExceptEvents filter by event kind (see alert.Kinds).
	Events, ExceptEvents []alert.Kind
	// Reminder paces the reminders of the route: the [alerts] reminder unless the
	// route sets one; zero sends none.
	Reminder Duration

	Pos Position
}

// Webhook is the HTTP destination of a route.
type Webhook struct {
	// URL comes from webhook_url, webhook_url_env or webhook_url_file. It is a secret
	// because Slack's carry a token.
	URL    Secret
	Format alert.WebhookFormat
	// Authorization is the value of the Authorization header, from authorization_env or
	// authorization_file; empty when neither is set.
	Authorization Secret
	Timeout       Duration
}

// routeKeys are the keys of [[alerts.route]] and [[service.alert]] entries.
var routeKeys = []string{
	"to", "webhook_url", "webhook_url_env", "webhook_url_file", "format", "authorization_env",
	"authorization_file", "timeout", "events", "except_events", "reminder",
}

// decodeRoutes decodes the [[alerts.route]] entries of the [alerts] table t.
func (l *loader) decodeRoutes(t *table, reminder Duration) []AlertRoute {
	var routes []AlertRoute
	seen := map[string]bool{}
	for i, entry := range t.entries("route", "[[alerts.route]]") {
		entry.prefix = fmt.Sprintf("%sroute %d ", t.prefix, i+1)
		entry.rejectUnknown(append([]string{"name", "services"}, routeKeys...)...)
		r := AlertRoute{Pos: Position{File: entry.f.name, Line: entry.line()}}
		switch {
		case !entry.has("name"):
			entry.missing("name", `a name such as "dba", which names the route's queue`)
		case entry.str("name", &r.Name) && (r.Name == "" || !validName(r.Name)):
			entry.errorf("name", `invalid name %q: want a letter or digit, then letters, digits, "_", "." or "-"`, r.Name)
		case seen[r.Name]:
			entry.errorf("name", "duplicate route name %q", r.Name)
		}
		seen[r.Name] = true
		entry.strs("services", &r.Services, `["postgres"]`)
		l.decodeRoute(entry, &r, reminder)
		routes = append(routes, r)
	}
	return routes
}

// decodeServiceAlerts decodes the [[service.alert]] entries of service s.
func (l *loader) decodeServiceAlerts(t *table, s *Service) {
	for i, entry := range t.entries("alert", "[[service.alert]]") {
		entry.prefix = fmt.Sprintf("%salert %d ", t.prefix, i+1)
		entry.rejectUnknown(routeKeys...)
		r := AlertRoute{Name: "service." + s.Name, Services: []string{s.Name},
			Pos: Position{File: entry.f.name, Line: entry.line()}}
		if i > 0 {
			r.Name += fmt.Sprintf("-%d", i+1)
		}
		// The [alerts] reminder is applied once the main file is read.
		r.Reminder = -1
		l.decodeRoute(entry, &r, -1)
		s.Alerts = append(s.Alerts, r)
	}
}

// decodeRoute decodes the destination, filter and reminder of a route entry.
// reminder is the default reminder, or -1 when it is not known yet.
func (l *loader) decodeRoute(t *table, r *AlertRoute, reminder Duration) {
	isMail, isHook := t.has("to"), t.has("webhook_url") || t.has("webhook_url_env") || t.has("webhook_url_file")
	switch {
	case isMail && isHook:
		t.errorf("to", "cannot be combined with a webhook: a route has one destination; add a second route")
	case isMail:
		if t.strs("to", &r.To, `["dba@example.com"]`) && len(r.To) == 0 {
			t.errorf("to", `empty: want at least one recipient address, such as ["dba@example.com"]`)
		}
		for i, address := range r.To {
			if _, err := mail.ParseAddress(address); err != nil {
				t.f.add(t.itemLine("to", i), t.keyName("to"), "item %d: invalid address %q: %v", i+1, address, err)
			}
		}
		for _, key := range []string{"format", "authorization_env", "authorization_file", "timeout"} {
			if t.has(key) {
				t.errorf(key, "only allowed with a webhook")
			}
		}
	case isHook:
		r.Webhook = l.decodeWebhook(t)
	default:
		t.missing("to", "mail recipients in to, or a webhook in webhook_url, webhook_url_env or webhook_url_file")
	}
	r.Events = decodeKinds(t, "events")
	r.ExceptEvents = decodeKinds(t, "except_events")
	if len(r.Events) > 0 && len(r.ExceptEvents) > 0 {
		t.errorf("except_events", "cannot be combined with events: list the kinds to send, or those not to send")
	}
	if reminder >= 0 {
		r.Reminder = reminder
	}
	if t.text("reminder", &r.Reminder, `"1h"`) && r.Reminder > 0 && r.Reminder.D() < minReminder {
		t.errorf("reminder", "%s is too short: want at least %s, or \"0s\" for none", r.Reminder, Duration(minReminder))
	}
}

// decodeWebhook decodes the webhook keys of a route entry.
func (l *loader) decodeWebhook(t *table) *Webhook {
	w := &Webhook{Format: alert.WebhookJSON, Timeout: Duration(alert.DefaultWebhookTimeout)}
	if source, ok := oneSource(t, "webhook_url"); ok {
		if value, ok := l.readSecret(t, source, "URL"); ok {
			if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				// The URL may hold a token, so the error does not quote it.
				t.errorf(source, "not an http or https URL with a host")
			} else {
				w.URL = NewSecret(value)
			}
		}
	}
	// The header is a secret, so a plain authorization key is unknown.
	if source, ok := oneSource(t, "authorization"); ok && source != "authorization" {
		if value, ok := l.readSecret(t, source, "Authorization header"); ok {
			w.Authorization = NewSecret(value)
		}
	}
	var format string
	if t.str("format", &format) {
		w.Format = alert.WebhookFormat(format)
		if !slices.Contains(alert.WebhookFormats, w.Format) {
			t.errorf("format", "unknown format %q: want json, slack or alertmanager", format)
		}
	}
	if t.text("timeout", &w.Timeout, `"15s"`) && w.Timeout <= 0 {
		t.errorf("timeout", "%s: want a positive duration", w.Timeout)
	}
	return w
}

// oneSource returns which of base, base_env and base_file t sets, reporting an error
// when it sets more than one. ok is false when it sets none or several.
func oneSource(t *table, base string) (source string, ok bool) {
	var sources []string
	for _, key := range []string{base, base + "_env", base + "_file"} {
		if t.has(key) {
			sources = append(sources, key)
		}
	}
	switch len(sources) {
	case 0:
		return "", false
	case 1:
		return sources[0], true
	}
	t.errorf(sources[1], "cannot be combined with %s: set only one of %s, %s_env and %s_file",
		sources[0], base, base, base)
	return "", false
}

// decodeKinds decodes a list of event kinds.
func decodeKinds(t *table, key string) []alert.Kind {
	var names []string
	if !t.strs(key, &names, `["failed", "recovered"]`) {
		return nil
	}
	var kinds []alert.Kind
	for i, name := range names {
		k := alert.Kind(name)
		if !alert.KnownKind(k) {
			all := make([]string, len(alert.Kinds))
			for j, k := range alert.Kinds {
				all[j] = string(k)
			}
			t.f.add(t.itemLine(key, i), t.keyName(key), "item %d: unknown event kind %q: want one of %s",
				i+1, name, strings.Join(all, ", "))
			continue
		}
		kinds = append(kinds, k)
	}
	return kinds
}

// checkRecipients applies the [alerts] reminder to the routes of the services, and
// checks that mail has recipients and that mail routes have [mail] servers.
func (l *loader) checkRecipients(cfg *Config) {
	mailRoutes := 0
	for _, r := range cfg.AlertRoutes() {
		if len(r.To) > 0 {
			mailRoutes++
		}
	}
	for i := range cfg.Services {
		for j := range cfg.Services[i].Alerts {
			if r := &cfg.Services[i].Alerts[j]; r.Reminder < 0 {
				r.Reminder = cfg.Alerts.Reminder
			}
		}
	}
	if cfg.Mail == nil {
		for _, r := range cfg.AlertRoutes() {
			if len(r.To) > 0 {
				l.fileOf(r.Pos.File).add(r.Pos.Line, "", "mail recipients need a [mail] table with the SMTP server in the main file")
			}
		}
		return
	}
	if mailRoutes == 0 && !l.mailTo {
		l.fileOf(cfg.Mail.Pos.File).add(cfg.Mail.Pos.Line, "mail.to",
			`missing: want an array of recipient addresses, such as ["ops@example.com"], or routes with to`)
	}
}

// fileOf returns the decoder of the file name.
func (l *loader) fileOf(name string) *fileDecoder {
	for _, f := range l.files {
		if f.name == name {
			return f
		}
	}
	return l.files[0]
}

// minReminder is the shortest reminder interval.
const minReminder = time.Minute

// AlertRoutes returns every route: the recipients of [mail] (named ""), the
// [[alerts.route]] entries, then each service's [[service.alert]] entries.
func (c *Config) AlertRoutes() []AlertRoute {
	var routes []AlertRoute
	if c.Mail != nil && len(c.Mail.To) > 0 {
		routes = append(routes, AlertRoute{To: c.Mail.To, Reminder: c.Alerts.Reminder, Pos: c.Mail.Pos})
	}
	routes = append(routes, c.Alerts.Routes...)
	for _, s := range c.Services {
		routes = append(routes, s.Alerts...)
	}
	return routes
}

// ReminderPace returns the shortest reminder interval of [alerts] and of any route,
// zero when none sends reminders. The supervisor sends reminders at this pace, and
// each route passes those that its own interval allows.
func (c *Config) ReminderPace() Duration {
	// The supervisor asks at every cycle in which a check fails, so this walks the
	// routes in place instead of building the list AlertRoutes returns.
	pace := c.Alerts.Reminder
	shorter := func(routes []AlertRoute) {
		for _, r := range routes {
			if r.Reminder > 0 && (pace == 0 || r.Reminder < pace) {
				pace = r.Reminder
			}
		}
	}
	shorter(c.Alerts.Routes)
	for _, s := range c.Services {
		shorter(s.Alerts)
	}
	return pace
}
