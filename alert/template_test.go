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

func TestRenderDigestWithTemplates(t *testing.T) {
	subj, err := ParseDigestTemplate("digest_subject", "{{.Host}}: {{len .Events}} events")
	if err != nil {
		t.Fatal(err)
	}
	body, err := ParseDigestTemplate("digest_body", "{{range .Events}}{{.Service}}: {{.Summary}}\n{{end}}{{range .Notes}}note: {{.}}\n{{end}}")
	if err != nil {
		t.Fatal(err)
	}
	m := &MailOptions{DigestSubjectTemplate: subj, DigestBodyTemplate: body}
	first, second := testEvent(), testEvent()
	second.Service, second.Kind = "postgres", KindRecovered

	gotSubject, gotBody := renderDigest([]Event{first, second}, []string{"1 alert discarded"}, m, first.Time)
	if want := "web1: 2 events"; gotSubject != want {
		t.Errorf("subject %q, want %q", gotSubject, want)
	}
	for _, want := range []string{"redis: redis failed", "postgres: postgres recovered", "note: 1 alert discarded"} {
		if !strings.Contains(gotBody, want) {
			t.Errorf("body %q lacks %q", gotBody, want)
		}
	}
	if _, err := ParseDigestTemplate("digest_subject", "{{.Service}}"); err == nil {
		t.Error("ParseDigestTemplate accepted a field of one event")
	}
}

// A digest template that fails at delivery leaves the default digest, with the error.
func TestRenderDigestTemplateFailure(t *testing.T) {
	body, err := ParseDigestTemplate("digest_body", "{{(index .Events 1).Service}}")
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent()
	_, gotBody := renderDigest([]Event{ev}, nil, &MailOptions{DigestBodyTemplate: body}, ev.Time)
	if !strings.HasPrefix(gotBody, digestBody([]Event{ev}, nil, ev.Time)) || !strings.Contains(gotBody, "body template:") {
		t.Errorf("body %q, want the default digest and the template's error", gotBody)
	}
}
