package alert

import (
	"strings"
	"testing"
	"time"
)

func TestRenderWithTemplates(t *testing.T) {
	subj, err := ParseTemplate("subject", "{{.Host}} {{.Service}} {{.Kind}}: {{.Observed}}")
	if err != nil {
		t.Fatal(err)
	}
	body, err := ParseTemplate("body", "{{.Summary}}\nsince {{.Time.Format \"15:04\"}}\n{{range .Notes}}note: {{.}}\n{{end}}")
	if err != nil {
		t.Fatal(err)
	}
	m := &MailOptions{SubjectTemplate: subj, BodyTemplate: body}
	ev := testEvent()
	ev.Time = time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)

	gotSubject, gotBody := render(ev, []string{"2 alerts discarded"}, m, ev.Time)
	if want := "web1 redis failed: connection refused"; gotSubject != want {
		t.Errorf("subject %q, want %q", gotSubject, want)
	}
	for _, want := range []string{"redis failed: tcp 127.0.0.1:6379 (connection refused)", "since 10:30", "note: 2 alerts discarded"} {
		if !strings.Contains(gotBody, want) {
			t.Errorf("body %q lacks %q", gotBody, want)
		}
	}
}

func TestParseTemplateRejectsUnknownField(t *testing.T) {
	if _, err := ParseTemplate("subject", "{{.Servce}}"); err == nil {
		t.Error("ParseTemplate accepted a misspelt field")
	}
	if _, err := ParseTemplate("subject", "{{.Service"); err == nil {
		t.Error("ParseTemplate accepted a template that does not parse")
	}
}

// Without templates, render gives the default subject and body.
func TestRenderDefault(t *testing.T) {
	ev := testEvent()
	gotSubject, gotBody := render(ev, nil, &MailOptions{}, ev.Time)
	if gotSubject != subject(ev) || gotBody != body(ev, ev.Time) {
		t.Errorf("render = %q, %q; want the defaults", gotSubject, gotBody)
	}
}
