package checks

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// retryTestProbe fails until its attempt number reaches passOn (never when 0) and
// records the deadline each attempt had.
type retryTestProbe struct {
	passOn    int
	attempts  int
	deadlines []time.Duration
}

func (p *retryTestProbe) Probe(ctx context.Context) Result {
	p.attempts++
	if d, ok := ctx.Deadline(); ok {
		p.deadlines = append(p.deadlines, time.Until(d))
	}
	if p.attempts == p.passOn {
		return Result{OK: true}
	}
	return Result{Reason: fmt.Sprintf("attempt %d failed", p.attempts)}
}

func (p *retryTestProbe) String() string { return "fake" }

func TestRetry(t *testing.T) {
	tests := []struct {
		name         string
		passOn       int
		retries      int
		wantOK       bool
		wantAttempts int
		wantReason   string
	}{
		{"first passes", 1, 2, true, 1, ""},
		{"third passes", 3, 2, true, 3, ""},
		{"all fail", 0, 2, false, 3, "attempt 3 failed (3 attempts)"},
		{"no retries", 0, 0, false, 1, "attempt 1 failed"},
		{"negative retries", 0, -1, false, 1, "attempt 1 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &retryTestProbe{passOn: tt.passOn}
			r := Retry{Inner: inner, Retries: tt.retries, Delay: time.Millisecond}.Probe(context.Background())
			if r.OK != tt.wantOK || r.Reason != tt.wantReason {
				t.Errorf("Probe() = %+v, want OK %v and reason %q", r, tt.wantOK, tt.wantReason)
			}
			if inner.attempts != tt.wantAttempts {
				t.Errorf("Probe() ran %d attempts, want %d", inner.attempts, tt.wantAttempts)
			}
		})
	}
}

func TestRetryTimeoutPerAttempt(t *testing.T) {
	inner := &retryTestProbe{}
	Retry{Inner: inner, Retries: 1, Timeout: time.Second}.Probe(context.Background())
	if len(inner.deadlines) != 2 {
		t.Fatalf("attempts had %d deadlines, want 2", len(inner.deadlines))
	}
	for i, d := range inner.deadlines {
		if d > time.Second || d < time.Second/2 {
			t.Errorf("attempt %d had %v left, want its own timeout of 1s", i+1, d)
		}
	}
}

// Each attempt against a silent server times out on its own, and the result names the
// last timeout and the count of attempts.
func TestRetrySilentServer(t *testing.T) {
	silent := netTestSilent(t)
	p := Retry{Inner: RedisProbe{Address: silent}, Retries: 2, Timeout: 100 * time.Millisecond, Delay: 10 * time.Millisecond}
	r, took := netTestRun(t, p, 10*time.Second)
	if want := "no reply from " + silent + " within 100ms (3 attempts)"; r.Reason != want {
		t.Errorf("Reason = %q, want %q", r.Reason, want)
	}
	if took > 5*(3*100*time.Millisecond) {
		t.Errorf("3 attempts of 100ms took %v", took)
	}
	if r.Duration < 300*time.Millisecond {
		t.Errorf("Duration = %v, want at least the 3 attempts of 100ms", r.Duration)
	}
}

// Once the outer context ends, no further attempt starts, even during the delay.
func TestRetryStopsWithContext(t *testing.T) {
	inner := &retryTestProbe{}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r := Retry{Inner: inner, Retries: 5, Delay: time.Hour}.Probe(ctx)
	if inner.attempts != 1 {
		t.Errorf("ran %d attempts, want 1 before the context ended", inner.attempts)
	}
	if r.OK || !strings.HasPrefix(r.Reason, "attempt 1 failed") {
		t.Errorf("Probe() = %+v, want the first attempt's failure", r)
	}
}
