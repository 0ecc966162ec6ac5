package alert

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// TemplateData is the data of a subject or body template, used as {{.Service}},
// {{.Summary}} and so on. The fields of Event are promoted.
type TemplateData struct {
	Event
	// Summary is the default one-line summary, such as
	// "redis failed: tcp 127.0.0.1:6379 (connection refused)".
	Summary string
	// Late is how late the delivery is, zero when it is on time (within a minute).
	Late time.Duration
	// Notes are sentences about the queue, such as alerts that could not be delivered.
	Notes []string
}

// DigestData is the data of a digest's subject or body template: the message that
// lists several events.
type DigestData struct {
	// Host is the host of the first event.
	Host string
	// Events lists each event with its summary, oldest first.
	Events []TemplateData
	// First and Last are the times of the oldest and the newest event.
	First, Last time.Time
	// Notes are sentences about the queue, such as alerts that could not be delivered.
	Notes []string
}

// sampleEvent is the event that ParseTemplate and ParseDigestTemplate run a new
// template on.
func sampleEvent() TemplateData {
	return TemplateData{
		Event: Event{ID: "sample", Time: time.Now(), Kind: KindFailed, Host: "web1", Service: "redis",
			Check: "tcp 127.0.0.1:6379", Observed: "connection refused", Threshold: "accepts a connection",
			Action: "restart", Message: "connection refused on 127.0.0.1:6379"},
		Summary: "redis failed",
		Notes:   []string{"a note"},
	}
}

// ParseTemplate parses a subject or body template in Go's text/template syntax and
// runs it once on a sample event, so that a misspelt field fails here rather than at
// delivery.
func ParseTemplate(name, text string) (*template.Template, error) {
	return parseSampled(name, text, sampleEvent())
}

// ParseDigestTemplate parses a digest's subject or body template and runs it once on a
// sample digest of two events.
func ParseDigestTemplate(name, text string) (*template.Template, error) {
	ev := sampleEvent()
	return parseSampled(name, text, DigestData{Host: ev.Host, Events: []TemplateData{ev, ev},
		First: ev.Time, Last: ev.Time, Notes: ev.Notes})
}

func parseSampled(name, text string, sample any) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	if err := t.Execute(&strings.Builder{}, sample); err != nil {
		return nil, err
	}
	return t, nil
}

// renderDigest returns the subject and body of a digest: the default ones, or those of
// the digest templates in m, falling back to the default as render does.
func renderDigest(events []Event, notes []string, m *MailOptions, now time.Time) (subj, text string) {
	subj, text = digestSubject(events), digestBody(events, notes, now)
	if m.DigestSubjectTemplate == nil && m.DigestBodyTemplate == nil {
		return subj, text
	}
	data := DigestData{Host: events[0].Host, First: events[0].Time, Last: events[len(events)-1].Time, Notes: notes}
	for _, ev := range events {
		data.Events = append(data.Events, TemplateData{Event: ev, Summary: oneLine(summary(ev))})
	}
	return applyTemplates(subj, text, m.DigestSubjectTemplate, m.DigestBodyTemplate, data)
}

// applyTemplates runs the subject and body templates that are not nil on data. When a
// template fails, its part keeps the default and the body ends with the error, so the
// alert still goes out.
func applyTemplates(subj, text string, subjTmpl, bodyTmpl *template.Template, data any) (string, string) {
	var failures []string
	if subjTmpl != nil {
		var b strings.Builder
		if err := subjTmpl.Execute(&b, data); err != nil {
			failures = append(failures, fmt.Sprintf("subject template: %v", err))
		} else {
			subj = truncate(oneLine(b.String()), maxSubjectLength)
		}
	}
	if bodyTmpl != nil {
		var b strings.Builder
		if err := bodyTmpl.Execute(&b, data); err != nil {
			failures = append(failures, fmt.Sprintf("body template: %v", err))
		} else {
			text = b.String()
		}
	}
	if len(failures) > 0 {
		text += "\n(" + strings.Join(failures, "; ") + ")\n"
	}
	return subj, text
}

// render returns the subject and body of the message for ev: the default ones, or those
// of the templates in m. A template that fails at delivery falls back to the default,
// with the error at the end of the body, so that the alert still goes out.
func render(ev Event, notes []string, m *MailOptions, now time.Time) (subj, text string) {
	subj, text = subject(ev), body(ev, now)
	if len(notes) > 0 {
		text += "\n" + strings.Join(notes, "\n\n") + "\n"
	}
	data := TemplateData{Event: ev, Summary: oneLine(summary(ev)), Notes: notes}
	if late := now.Sub(ev.Time); late > lateAfter {
		data.Late = late.Round(time.Second)
	}
	return applyTemplates(subj, text, m.SubjectTemplate, m.BodyTemplate, data)
}
