package alert

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tend/internal/testenv"
)

// newFoldingNotifier returns a Notifier to mp with the folding settings of opts.
func newFoldingNotifier(t *testing.T, mp *testenv.Mailpit, opts Options) (*Notifier, *lockedBuffer) {
	t.Helper()
	opts.Mail = plainMail(mp.SMTPPort)
	return newRoutedNotifier(t, opts)
}

func serviceEvent(i int) Event {
	return Event{Kind: KindFailed, Host: "web1", Service: fmt.Sprintf("svc%02d", i), Check: "process",
		Message: fmt.Sprintf("process of svc%02d exited", i)}
}

// Ten services failing within the digest window give one message that lists each.
func TestDigestOfTenFailures(t *testing.T) {
	mp := testenv.StartMailpit(t)
	n, _ := newFoldingNotifier(t, mp, Options{DigestWindow: 500 * time.Millisecond})
	runNotifier(t, n)

	for i := range 10 {
		if err := n.Send(serviceEvent(i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, testContext(t), "a message in mailpit", func() bool { return len(mp.Messages(t)) >= 1 })
	time.Sleep(700 * time.Millisecond) // Longer than the window: a second message would show.
	msgs := mp.Messages(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want one digest: %+v", len(msgs), msgs)
	}
	if want := "[tend] web1: 10 alerts: svc00 failed (process), svc01 failed (process)"; !strings.HasPrefix(msgs[0].Subject, want) {
		t.Errorf("subject %q, want it to start with %q", msgs[0].Subject, want)
	}
	body := mp.Body(t, msgs[0].ID)
	for i := range 10 {
		if want := fmt.Sprintf("process of svc%02d exited", i); !strings.Contains(body, want) {
			t.Errorf("digest body lacks %q:\n%s", want, body)
		}
	}
	if n.Pending() != 0 {
		t.Errorf("Pending() = %d after the digest, want 0", n.Pending())
	}
}

// The hourly cap holds messages back, and the last message it allows carries all of
// them.
func TestHourlyCapFoldsTheRest(t *testing.T) {
	mp := testenv.StartMailpit(t)
	n, _ := newFoldingNotifier(t, mp, Options{MaxPerHour: 2})
	for i := range 5 {
		if err := n.Send(serviceEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	runNotifier(t, n)

	waitFor(t, testContext(t), "two messages in mailpit", func() bool { return len(mp.Messages(t)) >= 2 })
	if err := n.Send(serviceEvent(5)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	msgs := mp.Messages(t)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2 under a cap of 2 per hour: %+v", len(msgs), msgs)
	}
	subjects := msgs[0].Subject + "\n" + msgs[1].Subject
	if !strings.Contains(subjects, "[tend] web1: svc00 failed") || !strings.Contains(subjects, "4 alerts: svc01 failed") {
		t.Errorf("subjects:\n%s\nwant svc00 alone, then a digest of svc01 to svc04", subjects)
	}
	if n.Pending() != 1 {
		t.Errorf("Pending() = %d, want the sixth event held by the cap", n.Pending())
	}
}

// At the queue limit the oldest events are discarded, logged, and reported in the next
// message delivered.
func TestQueueLimitReported(t *testing.T) {
	mp := testenv.StartMailpit(t)
	n, logs := newFoldingNotifier(t, mp, Options{QueueLimit: 10, DigestWindow: 100 * time.Millisecond})
	for i := range 13 {
		if err := n.Send(serviceEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n.Pending() != 10 {
		t.Errorf("Pending() = %d, want the limit of 10", n.Pending())
	}
	if c := strings.Count(logs.String(), "oldest alert discarded"); c != 3 {
		t.Errorf("%d discards logged, want 3", c)
	}
	runNotifier(t, n)

	waitFor(t, testContext(t), "a message in mailpit", func() bool { return len(mp.Messages(t)) >= 1 })
	msgs := mp.Messages(t)
	body := mp.Body(t, msgs[0].ID)
	if !strings.Contains(body, "3 alert(s) were discarded unsent because the queue reached its limit of 10.") {
		t.Errorf("body does not report the discards:\n%s", body)
	}
	if strings.Contains(body, "svc00") || !strings.Contains(body, "svc03") {
		t.Errorf("body should list svc03 to svc12, the newest ten:\n%s", body)
	}
}

// Flush sends at once what waits for the digest window, as tend does when it stops.
func TestFlushSendsWithoutWindow(t *testing.T) {
	mp := testenv.StartMailpit(t)
	n, _ := newFoldingNotifier(t, mp, Options{DigestWindow: time.Hour})
	runNotifier(t, n)
	if err := n.Send(serviceEvent(1)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := len(mp.Messages(t)); got != 0 {
		t.Fatalf("%d messages before Flush, want none within the hour's window", got)
	}
	n.Flush()
	waitFor(t, testContext(t), "the message after Flush", func() bool { return len(mp.Messages(t)) == 1 })
}
