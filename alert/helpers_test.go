package alert

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"tend/internal/testenv"
)

// testContext bounds a test by 30 seconds, or less when the test's deadline is nearer.
// Every test here finishes in a few seconds, so a failing wait ends well before the
// deadline of the whole test binary.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(testenv.Context(t, time.Minute), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds, and fails the test when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	if !testenv.WaitFor(ctx, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// runNotifier starts n.Run and returns a function that cancels it and waits for it to
// return. The function may be called more than once; the test's cleanup calls it too.
func runNotifier(t *testing.T, n *Notifier) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Run(ctx)
	}()
	stop = sync.OnceFunc(func() {
		cancel()
		<-done
	})
	t.Cleanup(stop)
	return stop
}

// newTestNotifier returns a Notifier on a new state directory, with a short backoff
// and a log captured at Debug level.
func newTestNotifier(t *testing.T, stateDir string, mail *MailOptions) (*Notifier, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	n, err := New(Options{
		StateDir: stateDir,
		Mail:     mail,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryMin: 10 * time.Millisecond,
		RetryMax: 80 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("notifier log:\n%s", logs.String())
		}
	})
	return n, logs
}

// plainMail returns mail options for a server on 127.0.0.1:port without TLS.
func plainMail(port int) *MailOptions {
	return &MailOptions{
		Host:    "127.0.0.1",
		Port:    port,
		TLS:     TLSNone,
		From:    "tend@example.com",
		To:      []string{"ops@example.com"},
		Timeout: 5 * time.Second,
	}
}

// countLines returns how many lines of logs contain every one of parts.
func countLines(logs string, parts ...string) int {
	n := 0
	for line := range strings.SplitSeq(logs, "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}
