package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tend/alert"
)

func TestLoadRoutes(t *testing.T) {
	t.Setenv("TEND_TEST_HOOK", "https://hooks.example.com/services/T0/B0/secret")
	dir := writeFiles(t, map[string]string{
		"tend.toml": `
include = ["conf.d/*.toml"]

[mail]
host = "127.0.0.1"
tls = "none"
from = "tend@example.com"
to = ["ops@example.com"]

[alerts]
reminder = "4h"

[[alerts.route]]
name = "dba"
to = ["dba@example.com"]
services = ["postgres"]
events = ["failed", "recovered"]
reminder = "1h"

[[alerts.route]]
name = "chat"
webhook_url_env = "TEND_TEST_HOOK"
format = "slack"
except_events = ["pid_changed"]
reminder = "0s"
`,
		"conf.d/postgres.toml": `
[[service]]
name = "postgres"
pidfile = "/run/postgresql/15-main.pid"

[[service.alert]]
to = ["oncall@example.com"]

[[service.alert]]
webhook_url_file = "../hook.url"
format = "alertmanager"
authorization_file = "../token"
`,
		"hook.url": "http://127.0.0.1:9093/api/v2/alerts\n",
		"token":    "Bearer abc\n",
	})
	cfg, err := Load(filepath.Join(dir, "tend.toml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	routes := cfg.AlertRoutes()
	var names []string
	for _, r := range routes {
		names = append(names, r.Name)
	}
	if want := []string{"", "dba", "chat", "service.postgres", "service.postgres-2"}; !slices.Equal(names, want) {
		t.Fatalf("route names = %q, want %q", names, want)
	}
	dba := routes[1]
	if !slices.Equal(dba.To, []string{"dba@example.com"}) || !slices.Equal(dba.Services, []string{"postgres"}) ||
		!slices.Equal(dba.Events, []alert.Kind{alert.KindFailed, alert.KindRecovered}) || dba.Reminder.D() != time.Hour {
		t.Errorf("dba route = %+v", dba)
	}
	chat := routes[2]
	if chat.Webhook == nil || chat.Webhook.URL.Value() != "https://hooks.example.com/services/T0/B0/secret" ||
		chat.Webhook.Format != alert.WebhookSlack || chat.Reminder != 0 ||
		!slices.Equal(chat.ExceptEvents, []alert.Kind{alert.KindPIDChanged}) {
		t.Errorf("chat route = %+v", chat)
	}
	oncall := routes[3]
	if !slices.Equal(oncall.Services, []string{"postgres"}) || oncall.Reminder.D() != 4*time.Hour {
		t.Errorf("service route = %+v, want the postgres service and the [alerts] reminder", oncall)
	}
	am := routes[4]
	if am.Webhook == nil || am.Webhook.URL.Value() != "http://127.0.0.1:9093/api/v2/alerts" ||
		am.Webhook.Authorization.Value() != "Bearer abc" || am.Webhook.Format != alert.WebhookAlertmanager {
		t.Errorf("alertmanager route = %+v", am)
	}
	if got := cfg.ReminderPace(); got.D() != time.Hour {
		t.Errorf("ReminderPace = %s, want 1h", got)
	}
}

func TestLoadRoutesBad(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"tend.toml": `
include = ["conf.d/*.toml"]

[mail]
host = "127.0.0.1"
tls = "none"
from = "tend@example.com"

[[alerts.route]]
to = ["dba@example.com"]
webhook_url = "https://example.com/hook"

[[alerts.route]]
name = "chat"
webhook_url = "ftp://example.com/secret-token"
format = "teams"
events = ["failed", "exploded"]
except_events = ["recovered"]
reminder = "10s"

[[alerts.route]]
name = "chat"
to = ["not an address"]
timeout = "5s"
`,
		"conf.d/app.toml": `
[[service]]
name = "app"
command = ["app"]

[[service.alert]]
events = ["failed"]
authorization = "Bearer x"
`,
	})
	got := relativeErrors(t, dir)
	want := []string{
		`tend.toml:9: alerts.route 1 name: missing: want a name such as "dba", which names the route's queue`,
		`tend.toml:10: alerts.route 1 to: cannot be combined with a webhook: a route has one destination; add a second route`,
		`tend.toml:15: alerts.route 2 webhook_url: not an http or https URL with a host`,
		`tend.toml:16: alerts.route 2 format: unknown format "teams": want json, slack or alertmanager`,
		`tend.toml:17: alerts.route 2 events: item 2: unknown event kind "exploded": want one of failed, recovered, reminder, restarted, start_timeout, stop_timeout, watchdog, restart_limit, pid_changed, action_failed, flapping, flap_ended, reload_rejected, tend_started, tend_stopped`,
		`tend.toml:18: alerts.route 2 except_events: cannot be combined with events: list the kinds to send, or those not to send`,
		`tend.toml:19: alerts.route 2 reminder: 10s is too short: want at least 1m0s, or "0s" for none`,
		`tend.toml:22: alerts.route 3 name: duplicate route name "chat"`,
		`tend.toml:23: alerts.route 3 to: item 1: invalid address "not an address": mail: no angle-addr`,
		`tend.toml:24: alerts.route 3 timeout: only allowed with a webhook`,
		`conf.d/app.toml:6: service "app" alert 1 to: missing: want mail recipients in to, or a webhook in webhook_url, webhook_url_env or webhook_url_file`,
		`conf.d/app.toml:8: service "app" alert 1 authorization: unknown key: allowed keys are to, webhook_url, webhook_url_env, webhook_url_file, format, authorization_env, authorization_file, timeout, events, except_events and reminder`,
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing error\n\t%s", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors\n\t%q\nwant\n\t%q", got, want)
	}
	for _, e := range got {
		if strings.Contains(e, "secret-token") {
			t.Errorf("error %q quotes the webhook URL", e)
		}
	}
}
