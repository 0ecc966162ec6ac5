package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadAlerts(t *testing.T) {
	dir := writeFiles(t, map[string]string{"tend.toml": `
[alerts]
digest_window = "0s"
reminder = "4h"
max_per_hour = 12
queue_limit = 500
`})
	cfg, err := Load(filepath.Join(dir, "tend.toml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Alerts{Reminder: Duration(4 * time.Hour), MaxPerHour: 12, QueueLimit: 500,
		FlapChanges: DefaultFlapChanges, FlapWindow: Duration(DefaultFlapWindow)}
	if !reflect.DeepEqual(cfg.Alerts, want) {
		t.Errorf("Alerts = %+v, want %+v", cfg.Alerts, want)
	}
}

func TestLoadAlertsBad(t *testing.T) {
	dir := writeFiles(t, map[string]string{"tend.toml": `
[alerts]
digest_window = "soon"
reminder = "30s"
max_per_hour = 0
queue_limit = 5
digest = true
`})
	got := relativeErrors(t, dir)
	want := []string{
		`tend.toml:3: alerts.digest_window: invalid duration "soon": want a number and a unit, such as "30s", "1m30s", "500ms" or "14d"`,
		`tend.toml:4: alerts.reminder: 30s is too short: want at least 1m0s, or leave reminder out for none`,
		`tend.toml:5: alerts.max_per_hour: 0 is too small: want 1 or more`,
		`tend.toml:6: alerts.queue_limit: 5 is too small: want 10 or more`,
		`tend.toml:7: alerts.digest: unknown key: allowed keys are digest_window, reminder, max_per_hour, queue_limit, subject, body_file, digest_subject, digest_body_file, flap_changes, flap_window and route`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors\n\t%q\nwant\n\t%q", got, want)
	}
}

func TestLoadAlertTemplates(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"tend.toml": `
[alerts]
subject = "{{.Host}}: {{.Summary}}"
body_file = "body.tmpl"
digest_subject = "{{.Host}}: {{len .Events}} alerts"
digest_body_file = "digest.tmpl"
`,
		"body.tmpl":   "{{.Message}}\n",
		"digest.tmpl": "{{range .Events}}{{.Summary}}\n{{end}}",
	})
	cfg, err := Load(filepath.Join(dir, "tend.toml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Alerts.Subject == nil || cfg.Alerts.Body == nil {
		t.Fatalf("templates %v, %v; want both parsed", cfg.Alerts.Subject, cfg.Alerts.Body)
	}
	if cfg.Alerts.DigestSubject == nil || cfg.Alerts.DigestBody == nil {
		t.Fatalf("digest templates %v, %v; want both parsed", cfg.Alerts.DigestSubject, cfg.Alerts.DigestBody)
	}
}

func TestLoadAlertTemplatesBad(t *testing.T) {
	dir := writeFiles(t, map[string]string{"tend.toml": `
[alerts]
subject = "{{.Servce}}"
body_file = "missing.tmpl"
`})
	_, err := Load(filepath.Join(dir, "tend.toml"))
	var list Errors
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("Load: error %v, want two errors", err)
	}
	if got := list[0].Error(); !strings.Contains(got, "tend.toml:3: alerts.subject: invalid template: ") ||
		!strings.Contains(got, "Servce") {
		t.Errorf("first error %q, want the subject key and the misspelt field", got)
	}
	if got := list[1].Error(); !strings.Contains(got, "tend.toml:4: alerts.body_file: cannot read ") {
		t.Errorf("second error %q, want the body_file key", got)
	}
}

// relativeErrors loads dir/tend.toml, which must fail, and returns each error with
// its file relative to dir.
func relativeErrors(t *testing.T, dir string) []string {
	t.Helper()
	var got []string
	for _, e := range loadErrors(t, filepath.Join(dir, "tend.toml")) {
		rel, _ := filepath.Rel(dir, e.File)
		e.File = rel
		got = append(got, e.Error())
	}
	return got
}
