package checks

import (
	"context"
	"fmt"
	"time"
)

// Retry runs a probe again after a failure, for a service that may miss one request
// without being down.
type Retry struct {
	// Inner is the probe to run. The field cannot be named Probe, because that is the
	// name of the method that makes Retry a Probe itself.
	Inner Probe
	// Retries is how many more attempts follow a failed first one.
	Retries int
	// Timeout bounds each attempt, inside the deadline of the context that Retry.Probe
	// receives. When 0, only that context bounds the attempts.
	Timeout time.Duration
	// Delay is the wait between the end of a failed attempt and the start of the next.
	Delay time.Duration
}

// Probe runs up to 1+Retries attempts and passes on the first that passes. Otherwise
// the result is the last attempt's, whose reason ends in " (N attempts)" when N > 1
// attempts ran. Once ctx ends, no further attempt starts. Duration covers all attempts.
func (r Retry) Probe(ctx context.Context) Result {
	start := time.Now()
	var last Result
	attempts := 0
	for attempts <= max(r.Retries, 0) {
		if attempts > 0 && !retrySleep(ctx, r.Delay) {
			break
		}
		last = r.attempt(ctx)
		attempts++
		if last.OK || ctx.Err() != nil {
			break
		}
	}

	last.Duration = time.Since(start)
	if !last.OK && attempts > 1 {
		last.Reason = fmt.Sprintf("%s (%d attempts)", last.Reason, attempts)
	}
	return last
}

// String returns the String of the probe that r runs.
func (r Retry) String() string {
	return r.Inner.String()
}

func (r Retry) attempt(ctx context.Context) Result {
	if r.Timeout <= 0 {
		return r.Inner.Probe(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	return r.Inner.Probe(actx)
}

// retrySleep waits for d and reports whether ctx was still live at the end.
func retrySleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
