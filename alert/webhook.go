package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// webhook posts the events of one message as JSON to an HTTP endpoint.
type webhook struct {
	opts   *WebhookOptions
	client *http.Client
}

func newWebhook(opts *WebhookOptions) *webhook {
	return &webhook{opts: opts, client: &http.Client{
		Timeout: opts.Timeout,
		// A redirect could carry the request, and its headers, elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (w *webhook) String() string { return "webhook " + w.opts.String() }

// deliverBatch posts events. A 2xx reply delivers them. A 408, 429 or 5xx reply, a
// redirect and a failed connection are temporary. Any other 4xx reply is permanent:
// the same request would be refused again.
func (w *webhook) deliverBatch(ctx context.Context, events []Event, notes []string, _ time.Time) (sent, error) {
	id := events[0].ID
	body, err := webhookBody(w.opts.Format, events, notes)
	if err != nil {
		return sent{}, &DeliveryError{ID: id, Permanent: true, Err: fmt.Errorf("build request: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.opts.URL, bytes.NewReader(body))
	if err != nil {
		return sent{}, &DeliveryError{ID: id, Permanent: true, Err: errors.New("build request: invalid URL")}
	}

	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tend")
	for k, v := range w.opts.Headers {
		req.Header.Set(k, v)
	}

	server := w.opts.String()
	resp, err := w.client.Do(req)
	if err != nil {
		return sent{}, &DeliveryError{ID: id, Err: fmt.Errorf("post to %s: %w", server, redactURL(err))}
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return sent{server: server}, nil
	}

	de := &DeliveryError{ID: id, Code: resp.StatusCode,
		Err: fmt.Errorf("%s replied %s: %s", server, resp.Status, oneLine(strings.TrimSpace(string(reply))))}
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500, c < 400:
	default:
		de.Permanent, de.Server = true, server
	}
	return sent{}, de
}

// redactURL returns the cause of a failed request without the URL, which net/http
// quotes in its errors and whose user, path and query may hold secrets.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// webhookBody returns the JSON body of a request in format.
func webhookBody(format WebhookFormat, events []Event, notes []string) ([]byte, error) {
	switch format {
	case WebhookSlack:
		return json.Marshal(map[string]string{"text": slackText(events, notes)})
	case WebhookAlertmanager:
		return json.Marshal(alertmanagerAlerts(events))
	}
	host := events[0].Host
	return json.Marshal(struct {
		Host   string   `json:"host,omitempty"`
		Events []Event  `json:"events"`
		Notes  []string `json:"notes,omitempty"`
	}{host, events, notes})
}

// slackText is the subject, then one line per event and the notes.
func slackText(events []Event, notes []string) string {
	var b strings.Builder
	if len(events) == 1 {
		b.WriteString(subject(events[0]))
		if m := events[0].Message; m != "" {
			b.WriteString("\n" + oneLine(m))
		}
	} else {
		b.WriteString(digestSubject(events))
		for _, ev := range events {
			fmt.Fprintf(&b, "\n• %s %s", ev.Time.Format("15:04:05"), oneLine(summary(ev)))
		}
	}
	for _, n := range notes {
		b.WriteString("\n_" + n + "_")
	}
	return b.String()
}

// amAlert is one alert of Alertmanager's API.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt,omitzero"`
}

// incidentKinds are the kinds that open an incident, which Alertmanager keeps firing
// until its resolve_timeout passes without the alert being sent again.
var incidentKinds = map[Kind]bool{KindFailed: true, KindReminder: true, KindRestartLimit: true,
	KindReloadRejected: true}

// eventHold is how long Alertmanager keeps an event that opens no incident firing.
const eventHold = 5 * time.Minute

// alertmanagerAlerts maps events to alerts. A failure and its reminders fire
// TendCheckFailed with the labels of the service and check, and the recovery resolves
// that alert. Every other kind fires an alert named after it.
func alertmanagerAlerts(events []Event) []amAlert {
	alerts := make([]amAlert, 0, len(events))
	for _, ev := range events {
		name := "Tend" + camel(string(ev.Kind))
		if ev.Kind == KindFailed || ev.Kind == KindReminder || ev.Kind == KindRecovered {
			name = "TendCheckFailed"
		}
		a := amAlert{
			Labels:      map[string]string{"alertname": name},
			Annotations: map[string]string{"summary": oneLine(summary(ev))},
			StartsAt:    ev.Time,
		}
		for k, v := range map[string]string{"instance": ev.Host, "service": ev.Service, "check": ev.Check} {
			if v != "" {
				a.Labels[k] = v
			}
		}
		if ev.Message != "" {
			a.Annotations["description"] = ev.Message
		}
		switch {
		case ev.Kind == KindRecovered:
			a.EndsAt = ev.Time
		case !incidentKinds[ev.Kind]:
			a.EndsAt = ev.Time.Add(eventHold)
		}
		if !a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt) {
			a.EndsAt = a.StartsAt
		}
		alerts = append(alerts, a)
	}
	return alerts
}

// camel turns "restart_limit" into "RestartLimit".
func camel(s string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(s, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
