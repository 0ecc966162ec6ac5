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

// ParseTemplate parses a subject or body template in Go's text/template syntax and
// runs it once on a sample event, so that a misspelt field fails here rather than at
// delivery.
func ParseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	sample := TemplateData{
		Event: Event{ID: "sample", Time: time.Now(), Kind: KindFailed, Host: "web1", Service: "redis",
			Check: "tcp 127.0.0.1:6379", Observed: "connection refused", Threshold: "accepts a connection",
			Action: "restart", Message: "connection refused on 127.0.0.1:6379"},
		Summary: "redis failed",
		Notes:   []string{"a note"},
	}
	if err := t.Execute(&strings.Builder{}, sample); err != nil {
		return nil, err
	}
	return t, nil
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
	var failures []string
	if m.SubjectTemplate != nil {
		var b strings.Builder
		if err := m.SubjectTemplate.Execute(&b, data); err != nil {
			failures = append(failures, fmt.Sprintf("subject template: %v", err))
		} else {
			subj = truncate(oneLine(b.String()), maxSubjectLength)
		}
	}
	if m.BodyTemplate != nil {
		var b strings.Builder
		if err := m.BodyTemplate.Execute(&b, data); err != nil {
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
