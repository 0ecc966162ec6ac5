package alert

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// TestResult is the outcome of SendTest for one route.
type TestResult struct {
	Route string
	// Destination names where the route delivers, as ChannelStatus does.
	Destination string
	// Server is the mail server or webhook host that accepted the message.
	Server string
	// Skipped contains the failures of the mail servers tried before Server, nil when
	// the first one accepted it.
	Skipped error
	// Err is the failure of the delivery, nil when it was accepted.
	Err error
}

// SendTest sends ev at once to every route of opts, whatever their filters, without
// the queue, and returns the outcome of each. It serves an operator checking the alert
// settings, so nothing is retried. It returns an error when opts are invalid or name
// no destination.
func SendTest(ctx context.Context, opts Options, ev Event) ([]TestResult, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.StateDir == "" {
		opts.StateDir = "unused"
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	routes := opts.Routes
	if len(routes) == 0 && opts.Mail != nil {
		routes = []Route{{To: opts.Mail.To}}
	}
	if len(routes) == 0 {
		return nil, errors.New("no [mail] table and no alert routes in the configuration: alerts are only logged")
	}

	ids, err := newIDSource()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if ev.ID == "" {
		ev.ID = ids.next(now)
	}
	if ev.Time.IsZero() {
		ev.Time = now
	}

	results := make([]TestResult, 0, len(routes))
	for _, r := range routes {
		t := newTransport(r, opts.Mail)
		result, err := t.deliverBatch(ctx, []Event{ev}, nil, now)
		results = append(results, TestResult{Route: r.Name, Destination: t.String(),
			Server: result.server, Skipped: result.skipped, Err: err})
	}
	return results, nil
}

// newTransport returns the transport of route r; mail holds the servers for a route
// with recipients. It returns nil for a route without a destination.
func newTransport(r Route, mail *MailOptions) transport {
	switch {
	case r.Webhook != nil:
		return newWebhook(r.Webhook)
	case len(r.To) > 0:
		m := *mail
		m.To = r.To
		return newMailer(&m)
	}
	return nil
}
