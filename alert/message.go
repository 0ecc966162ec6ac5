package alert

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wneessen/go-mail"
)

const (
	subjectPrefix = "[tend] "
	// maxSubjectLength keeps the subject readable in an inbox list, in characters.
	maxSubjectLength = 100
	// lateAfter is how late a delivery must be for the body to say so.
	lateAfter = time.Minute

	headerEvent         mail.Header = "X-Tend-Event"
	headerAutoSubmitted mail.Header = "Auto-Submitted"
)

// newMessage builds the mail for ev, dated now. The Message-ID is <ID@host>, with the
// event's host or else localHost, so it is the same on every attempt and a duplicate
// after a crash is recognisable.
func newMessage(ev Event, m *MailOptions, localHost string, now time.Time) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("set From %q: %w", m.From, err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("set To: %w", err)
	}
	subj, text := render(ev, nil, m, now)
	msg.Subject(subj)
	msg.SetDateWithValue(now)

	host := ev.Host
	if host == "" {
		host = localHost
	}
	msg.SetMessageIDWithValue(ev.ID + "@" + messageIDDomain(host))
	msg.SetGenHeader(headerEvent, oneLine(string(ev.Kind)))
	// RFC 3834: automatic replies (vacation notices) must not reply to this message.
	msg.SetGenHeader(headerAutoSubmitted, "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, text)
	return msg, nil
}

// subject returns a one-line summary such as
// "[tend] web1: redis failed: tcp 127.0.0.1:6379 (connection refused)", cut to
// maxSubjectLength characters.
func subject(ev Event) string {
	s := subjectPrefix
	if ev.Host != "" {
		s += ev.Host + ": "
	}
	return truncate(oneLine(s+summary(ev)), maxSubjectLength)
}

// summary returns what happened to which service, without the host.
func summary(ev Event) string {
	switch ev.Kind {
	case KindFailed:
		return clause(ev.Service, "failed", withParens(ev.Check, ev.Observed))
	case KindRecovered:
		return clause(ev.Service, "recovered", ev.Check)
	case KindRestarted:
		return clause(ev.Service, "restarted", "")
	case KindActionFailed:
		action := ev.Action
		if action == "" {
			action = "action"
		}
		return clause(ev.Service, action+" failed", ev.Observed)
	case KindRestartLimit:
		return clause(ev.Service, "unmonitored", withParens("restart limit reached", ev.Threshold))
	case KindStartTimeout:
		return clause(ev.Service, "start timed out", ev.Observed)
	case KindWatchdog:
		return clause(ev.Service, "missed its watchdog", ev.Observed)
	case KindPIDChanged:
		return clause(ev.Service, "PID changed", ev.Observed)
	case KindReminder:
		return clause(ev.Service, "still failing", withParens(ev.Check, ev.Observed))
	case KindFlapping:
		return clause(ev.Service, "flapping", withParens(ev.Check, ev.Observed))
	case KindFlapEnded:
		return clause(ev.Service, "stopped flapping", withParens(ev.Check, ev.Observed))
	case KindStopTimeout:
		return clause(ev.Service, "stop timed out, killed", ev.Observed)
	case KindReloadRejected:
		return "configuration reload rejected: " + ev.Observed
	case KindDaemonStarted:
		return "tend started"
	case KindDaemonStopped:
		return "tend stopped"
	}
	return clause(ev.Service, string(ev.Kind), withParens(ev.Check, ev.Observed))
}

// clause returns "service verb: detail", leaving out the parts that are empty.
func clause(service, verb, detail string) string {
	s := verb
	if service != "" {
		s = service + " " + verb
	}
	if detail != "" {
		s += ": " + detail
	}
	return s
}

// withParens returns "main (aside)", or whichever of the two is not empty.
func withParens(main, aside string) string {
	switch {
	case aside == "":
		return main
	case main == "":
		return aside
	}
	return main + " (" + aside + ")"
}

// body returns the plain-text body: the event's sentence, a note when the delivery is
// more than lateAfter late, and one line per field that is set.
func body(ev Event, now time.Time) string {
	var b strings.Builder
	sentence := ev.Message
	if sentence == "" {
		sentence = oneLine(summary(ev)) + "."
	}
	b.WriteString(sentence + "\n\n")

	queued := ev.Time.Format(time.RFC3339)
	if late := now.Sub(ev.Time); late > lateAfter {
		fmt.Fprintf(&b, "This alert was queued at %s and is delivered %s late.\n\n",
			queued, late.Round(time.Second))
	}

	fields := []struct{ name, value string }{
		{"Host", ev.Host}, {"Service", ev.Service}, {"Check", ev.Check},
		{"Observed", ev.Observed}, {"Threshold", ev.Threshold}, {"Action", ev.Action},
		{"Event", string(ev.Kind)}, {"Time", queued}, {"ID", ev.ID},
	}
	for _, f := range fields {
		if f.value != "" {
			writeField(&b, f.name, f.value)
		}
	}
	return b.String()
}

// writeField writes "Name:      value", indenting the continuation lines of a value
// that has several, such as a program's output.
func writeField(b *strings.Builder, name, value string) {
	const width = len("Threshold: ")
	indent := "\n" + strings.Repeat(" ", width)
	value = strings.ReplaceAll(strings.TrimRight(value, "\n"), "\n", indent)
	fmt.Fprintf(b, "%-*s%s\n", width, name+":", value)
}

// oneLine collapses every run of white space and control characters in s to a single
// space, so that a value from a check cannot end a header line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to at most limit characters, ending in "…" when it cut anything.
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	runes := []rune(s)
	return strings.TrimRight(string(runes[:limit-1]), " ") + "…"
}

// messageIDDomain turns a host name into the right part of a Message-ID: letters,
// digits, dots and hyphens, each other character replaced by a hyphen.
func messageIDDomain(host string) string {
	host = strings.Trim(host, ".")
	if host == "" {
		return "localhost"
	}
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (r == '.' || r == '-' || isIDChar(r) && r != '_') {
			return r
		}
		return '-'
	}, host)
}
