package alert

import (
	"context"
	"errors"
	"time"
)

// TestResult is the outcome of SendTest.
type TestResult struct {
	// Server is the host:port of the server that accepted the message.
	Server string
	// Skipped contains the failures of the servers tried before Server, nil when the
	// first one accepted it.
	Skipped error
}

// SendTest sends ev through the servers of mail at once, without the queue, and returns
// which server accepted it, or the error of every server tried. It serves an operator
// checking the mail settings, so nothing is retried.
func SendTest(ctx context.Context, mail *MailOptions, ev Event) (TestResult, error) {
	if mail == nil {
		return TestResult{}, errors.New("no [mail] table in the configuration: alerts are only logged")
	}
	if err := mail.validate(); err != nil {
		return TestResult{}, err
	}
	ids, err := newIDSource()
	if err != nil {
		return TestResult{}, err
	}
	now := time.Now()
	if ev.ID == "" {
		ev.ID = ids.next(now)
	}
	if ev.Time.IsZero() {
		ev.Time = now
	}
	result, err := newMailer(mail).deliver(ctx, ev, now)
	return TestResult{Server: result.server, Skipped: result.skipped}, err
}
