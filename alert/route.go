package alert

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Route sends the events that its filter passes to one destination: mail recipients
// through the servers of Options.Mail, or a webhook. Each route has a queue of its own,
// so a destination that is down holds back no other.
type Route struct {
	// Name identifies the route in logs and names its queue directory under the state
	// directory: "outbox" for the empty name, "outbox-NAME" otherwise. It consists of
	// letters, digits, '.', '_' and '-'.
	Name string
	// To lists the mail recipients. Exactly one of To and Webhook is set.
	To      []string
	Webhook *WebhookOptions
	Filter  Filter
	// Reminder paces the reminders this route passes: at most one per check per
	// Reminder. Zero passes every reminder sent, and a negative value passes none.
	Reminder time.Duration
}

// Filter selects events by service and kind.
type Filter struct {
	// Services lists the services whose events pass; empty passes every event,
	// those of tend itself included.
	Services []string
	// Events lists the kinds that pass; empty passes every kind but those of
	// ExceptEvents.
	Events       []Kind
	ExceptEvents []Kind
}

// Match reports whether ev passes f.
func (f Filter) Match(ev Event) bool {
	switch {
	case len(f.Services) > 0 && !slices.Contains(f.Services, ev.Service):
		return false
	case len(f.Events) > 0 && !slices.Contains(f.Events, ev.Kind):
		return false
	}
	return !slices.Contains(f.ExceptEvents, ev.Kind)
}

// KnownKind reports whether k is one of Kinds.
func KnownKind(k Kind) bool { return slices.Contains(Kinds, k) }

// validate checks r; mail is true when mail servers are configured.
func (r *Route) validate(mail bool) error {
	if r.Name != "" && validateID(r.Name) != nil {
		return fmt.Errorf("invalid route name %q: want letters, digits, '.', '_' and '-'", r.Name)
	}
	switch {
	case len(r.To) > 0 && r.Webhook != nil:
		return errors.New("both mail recipients and a webhook are set: a route has one destination")
	case len(r.To) == 0 && r.Webhook == nil:
		return errors.New("no destination: set mail recipients or a webhook")
	case len(r.To) > 0 && !mail:
		return errors.New("mail recipients without mail servers")
	}
	for _, k := range slices.Concat(r.Filter.Events, r.Filter.ExceptEvents) {
		if !KnownKind(k) {
			return fmt.Errorf("unknown event kind %q", k)
		}
	}
	if r.Webhook != nil {
		return r.Webhook.validate()
	}
	return nil
}

// WebhookFormat is the JSON shape of a webhook's request body.
type WebhookFormat string

// Webhook formats.
const (
	// WebhookJSON posts {"host": ..., "events": [...], "notes": [...]} with the
	// fields of Event.
	WebhookJSON WebhookFormat = "json"
	// WebhookSlack posts {"text": ...}, the body of a Slack incoming webhook.
	WebhookSlack WebhookFormat = "slack"
	// WebhookAlertmanager posts a list of alerts, the body of Alertmanager's
	// POST /api/v2/alerts.
	WebhookAlertmanager WebhookFormat = "alertmanager"
)

// WebhookFormats lists the formats.
var WebhookFormats = []WebhookFormat{WebhookJSON, WebhookSlack, WebhookAlertmanager}

// DefaultWebhookTimeout bounds one webhook request when WebhookOptions.Timeout is zero.
const DefaultWebhookTimeout = 15 * time.Second

// WebhookOptions configure an HTTP webhook.
type WebhookOptions struct {
	// URL is the http or https address to POST to. It may carry a secret, as Slack's
	// do, so logs show only its scheme and host.
	URL    string
	Format WebhookFormat
	// Headers are added to each request, such as Authorization. Their values may be
	// secrets and are never logged.
	Headers map[string]string
	Timeout time.Duration
}

// String returns the scheme and host of the URL, safe to log.
func (w *WebhookOptions) String() string {
	u, err := url.Parse(w.URL)
	if err != nil {
		return "webhook"
	}
	return u.Scheme + "://" + u.Host
}

func (w *WebhookOptions) validate() error {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("webhook URL: want an http or https URL with a host")
	}
	if w.Format == "" {
		w.Format = WebhookJSON
	}
	if !slices.Contains(WebhookFormats, w.Format) {
		return fmt.Errorf("unknown webhook format %q: want json, slack or alertmanager", w.Format)
	}
	if w.Timeout == 0 {
		w.Timeout = DefaultWebhookTimeout
	}
	return nil
}
