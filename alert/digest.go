package alert

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// maxDigest is the largest number of events that one message lists.
const maxDigest = 100

// batcher decides when the queued events go out and which of them go together. The
// first event of a burst waits for Window, so that the events of a reboot or of a
// dependency that takes five services with it arrive as one digest. At most MaxPerHour
// messages leave within any hour, and what the cap holds back goes out as one digest
// when the cap allows. Only the delivery goroutine uses a batcher.
type batcher struct {
	window     time.Duration
	maxPerHour int
	// sent holds the times of the messages sent within the last hour, oldest first.
	sent []time.Time
}

// plan returns how many of the queued events, oldest first, to send now as one message,
// or, when that is 0, how long to wait before asking again. times holds the time of
// each queued event.
func (b *batcher) plan(times []time.Time, now time.Time) (n int, wait time.Duration) {
	if len(times) == 0 {
		return 0, 0
	}
	b.forget(now)
	if b.maxPerHour > 0 && len(b.sent) >= b.maxPerHour {
		return 0, b.sent[0].Add(time.Hour).Sub(now)
	}
	if age := now.Sub(times[0]); age < b.window {
		return 0, b.window - age
	}
	if b.window == 0 && (b.maxPerHour == 0 || len(b.sent) < b.maxPerHour-1) {
		return 1, 0 // No digests, and the cap allows more than this message.
	}
	// The last message that the hour's cap allows carries everything pending.
	return min(len(times), maxDigest), 0
}

// delivered records a message sent at now.
func (b *batcher) delivered(now time.Time) {
	b.forget(now)
	b.sent = append(b.sent, now)
}

// forget drops the send times that are an hour old or older at now.
func (b *batcher) forget(now time.Time) {
	i := 0
	for i < len(b.sent) && now.Sub(b.sent[i]) >= time.Hour {
		i++
	}
	b.sent = b.sent[i:]
}

// digestSubject returns the subject of a message that lists several events, such as
// "[tend] web1: 2 alerts: redis failed (process), web recovered (tcp 127.0.0.1:80)".
func digestSubject(events []Event) string {
	s := subjectPrefix
	if h := events[0].Host; h != "" {
		s += h + ": "
	}
	parts := make([]string, 0, len(events))
	for _, ev := range events {
		part := clause(ev.Service, verb(ev), "")
		if ev.Check != "" {
			part += " (" + ev.Check + ")"
		}
		parts = append(parts, part)
	}
	return truncate(oneLine(fmt.Sprintf("%s%d alerts: %s", s, len(events), strings.Join(parts, ", "))),
		maxSubjectLength)
}

// verb returns the word for what happened in ev, as the subject of one event has it.
func verb(ev Event) string {
	s := summary(Event{Kind: ev.Kind, Action: ev.Action})
	return strings.TrimSpace(s)
}

// digestBody lists each event with its time and sentence, then the fields of each.
// notes are sentences about the queue, such as alerts that could not be delivered,
// written before the list.
func digestBody(events []Event, notes []string, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d alerts, from %s to %s:\n\n", len(events),
		events[0].Time.Format(time.RFC3339), events[len(events)-1].Time.Format(time.RFC3339))
	for _, ev := range events {
		fmt.Fprintf(&b, "- %s %s\n", ev.Time.Format("15:04:05"), oneLine(summary(ev)))
	}
	b.WriteString("\n")
	for _, n := range notes {
		b.WriteString(n + "\n\n")
	}
	for i, ev := range events {
		fmt.Fprintf(&b, "--- %d of %d\n\n", i+1, len(events))
		b.WriteString(body(ev, now))
		b.WriteString("\n")
	}
	return b.String()
}

// newBatchMessage builds the mail for events, dated now: the message of newMessage for
// one event, and a digest for several. notes, sentences about the queue, are added to
// the body.
func newBatchMessage(events []Event, notes []string, m *MailOptions, localHost string, now time.Time) (*mail.Msg, error) {
	if len(events) == 1 {
		msg, err := newMessage(events[0], m, localHost, now)
		if err == nil && len(notes) > 0 {
			_, text := render(events[0], notes, m, now)
			msg.SetBodyString(mail.TypeTextPlain, text)
		}
		return msg, err
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("set From %q: %w", m.From, err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("set To: %w", err)
	}
	subj, text := renderDigest(events, notes, m, now)
	msg.Subject(subj)
	msg.SetDateWithValue(now)
	host := events[0].Host
	if host == "" {
		host = localHost
	}
	// The same events give the same Message-ID on every attempt.
	msg.SetMessageIDWithValue(fmt.Sprintf("%s.digest-%d@%s", events[0].ID, len(events), messageIDDomain(host)))
	msg.SetGenHeader(headerEvent, "digest")
	msg.SetGenHeader(headerAutoSubmitted, "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, text)
	return msg, nil
}

// deliverBatch sends the message of newBatchMessage as deliver sends one event's.
func (m *mailer) deliverBatch(ctx context.Context, events []Event, notes []string, now time.Time) (sent, error) {
	msg, err := newBatchMessage(events, notes, m.opts, m.localHost, now)
	if err != nil {
		return sent{}, &DeliveryError{ID: events[0].ID, Permanent: true, Err: fmt.Errorf("build message: %w", err)}
	}
	return m.deliverMessage(ctx, events[0].ID, msg)
}
