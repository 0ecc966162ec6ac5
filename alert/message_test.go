package alert

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSubject(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{
			name: "failed",
			ev: Event{Kind: KindFailed, Host: "web1", Service: "redis",
				Check: "tcp 127.0.0.1:6379", Observed: "connection refused"},
			want: "[tend] web1: redis failed: tcp 127.0.0.1:6379 (connection refused)",
		},
		{
			name: "recovered",
			ev: Event{Kind: KindRecovered, Host: "web1", Service: "redis",
				Check: "tcp 127.0.0.1:6379", Threshold: "3 cycles"},
			want: "[tend] web1: redis recovered: tcp 127.0.0.1:6379",
		},
		{
			name: "restarted",
			ev:   Event{Kind: KindRestarted, Host: "web1", Service: "redis", Action: "restart"},
			want: "[tend] web1: redis restarted",
		},
		{
			name: "restart limit",
			ev: Event{Kind: KindRestartLimit, Host: "web1", Service: "redis",
				Action: "unmonitor", Threshold: "5 restarts within 5 cycles"},
			want: "[tend] web1: redis unmonitored: restart limit reached (5 restarts within 5 cycles)",
		},
		{
			name: "action failed",
			ev: Event{Kind: KindActionFailed, Host: "web1", Service: "redis",
				Action: "start", Observed: "exit status 1"},
			want: "[tend] web1: redis start failed: exit status 1",
		},
		{
			name: "failed without observation",
			ev:   Event{Kind: KindFailed, Host: "web1", Service: "sidekiq", Check: "process"},
			want: "[tend] web1: sidekiq failed: process",
		},
		{
			name: "no host",
			ev:   Event{Kind: KindRestarted, Service: "caddy"},
			want: "[tend] caddy restarted",
		},
		{
			name: "unknown kind",
			ev:   Event{Kind: "flapping", Host: "web1", Service: "puma", Check: "http"},
			want: "[tend] web1: puma flapping: http",
		},
		{
			name: "line breaks and tabs",
			ev: Event{Kind: KindFailed, Host: "web1", Service: "app",
				Check: "program check.sh", Observed: "line one\r\nBcc: x@example.com\tend"},
			want: "[tend] web1: app failed: program check.sh (line one Bcc: x@example.com end)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := subject(tt.ev); got != tt.want {
				t.Errorf("subject() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSubjectTruncated(t *testing.T) {
	ev := Event{Kind: KindFailed, Host: "web1", Service: "app", Check: "program check.sh",
		Observed: strings.Repeat("é", 300)}
	got := subject(ev)
	if n := utf8.RuneCountInString(got); n != maxSubjectLength {
		t.Errorf("subject() has %d characters, want %d: %q", n, maxSubjectLength, got)
	}
	if !strings.HasSuffix(got, "…") {
		t.Errorf("subject() = %q, want it to end in an ellipsis", got)
	}
	if !utf8.ValidString(got) {
		t.Errorf("subject() = %q is not valid UTF-8", got)
	}
}

func testEvent() Event {
	return Event{
		ID:        "20260102T150405.000000001Z-000000-00c0ffee",
		Time:      time.Date(2026, 1, 2, 15, 4, 5, 0, time.FixedZone("CET", 3600)),
		Kind:      KindFailed,
		Host:      "web1",
		Service:   "redis",
		Check:     "tcp 127.0.0.1:6379",
		Observed:  "connection refused",
		Threshold: "3 cycles",
		Action:    "restart",
		Message:   "redis does not accept connections on 127.0.0.1:6379.",
	}
}

func TestBody(t *testing.T) {
	ev := testEvent()
	tests := []struct {
		name      string
		delivered time.Time
		wantLate  string
	}{
		{"on time", ev.Time.Add(2 * time.Second), ""},
		{"a minute late", ev.Time.Add(time.Minute), ""},
		{"late", ev.Time.Add(2*time.Hour + 13*time.Minute + 400*time.Millisecond),
			"This alert was queued at 2026-01-02T15:04:05+01:00 and is delivered 2h13m0s late."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := body(ev, tt.delivered)
			for _, want := range []string{
				"redis does not accept connections on 127.0.0.1:6379.\n",
				"Host:      web1\n",
				"Service:   redis\n",
				"Check:     tcp 127.0.0.1:6379\n",
				"Observed:  connection refused\n",
				"Threshold: 3 cycles\n",
				"Action:    restart\n",
				"Time:      2026-01-02T15:04:05+01:00\n",
				"Event:     failed\n",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("body() does not contain %q; body:\n%s", want, got)
				}
			}
			hasLate := strings.Contains(got, "late.")
			if tt.wantLate == "" && hasLate {
				t.Errorf("body() has a late-delivery line, want none; body:\n%s", got)
			}
			if tt.wantLate != "" && !strings.Contains(got, tt.wantLate) {
				t.Errorf("body() does not contain %q; body:\n%s", tt.wantLate, got)
			}
		})
	}
}

func TestBodyOmitsEmptyFieldsAndIndentsLines(t *testing.T) {
	ev := Event{ID: "x1", Time: time.Unix(0, 0).UTC(), Kind: KindActionFailed, Service: "app",
		Action: "start", Observed: "line one\nline two\n"}
	got := body(ev, ev.Time)
	for _, absent := range []string{"Check:", "Threshold:", "Host:"} {
		if strings.Contains(got, absent) {
			t.Errorf("body() contains %q for an empty field; body:\n%s", absent, got)
		}
	}
	want := "Observed:  line one\n           line two\n"
	if !strings.Contains(got, want) {
		t.Errorf("body() does not contain %q; body:\n%s", want, got)
	}
	if !strings.HasPrefix(got, "app start failed: line one line two.\n") {
		t.Errorf("body() without Message starts %q, want the summary as its sentence", got)
	}
}

func TestNewMessageHeaders(t *testing.T) {
	ev := testEvent()
	opts := &MailOptions{From: "tend <tend@example.com>", To: []string{"ops@example.com", "oncall@example.com"}}
	delivered := ev.Time.Add(5 * time.Minute)
	msg, err := newMessage(ev, opts, "localhost", delivered)
	if err != nil {
		t.Fatalf("newMessage() error = %v", err)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo() error = %v", err)
	}
	parsed, err := mail.ReadMessage(&buf)
	if err != nil {
		t.Fatalf("parse written message: %v", err)
	}
	h := parsed.Header

	tests := []struct{ header, want string }{
		{"Message-Id", "<" + ev.ID + "@web1>"},
		{"X-Tend-Event", "failed"},
		{"Auto-Submitted", "auto-generated"},
		{"Subject", "[tend] web1: redis failed: tcp 127.0.0.1:6379 (connection refused)"},
		{"To", "<ops@example.com>, <oncall@example.com>"},
	}
	for _, tt := range tests {
		if got := h.Get(tt.header); got != tt.want {
			t.Errorf("header %s = %q, want %q", tt.header, got, tt.want)
		}
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "tend@example.com" {
		t.Errorf("header From = %q (%v), want tend@example.com", h.Get("From"), err)
	}
	date, err := h.Date()
	if err != nil || !date.Equal(delivered.Truncate(time.Second)) {
		t.Errorf("header Date = %q (%v), want the delivery time %s", h.Get("Date"), err, delivered)
	}
}

func TestNewMessageIDHost(t *testing.T) {
	tests := []struct {
		name, host, localHost, want string
	}{
		{"event host", "web1.example.com", "other", "<x1@web1.example.com>"},
		{"local host when empty", "", "db2", "<x1@db2>"},
		{"odd characters replaced", "web 1_<a>", "other", "<x1@web-1--a->"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Event{ID: "x1", Kind: KindRestarted, Host: tt.host, Service: "s"}
			opts := &MailOptions{From: "tend@example.com", To: []string{"ops@example.com"}}
			msg, err := newMessage(ev, opts, tt.localHost, time.Now())
			if err != nil {
				t.Fatalf("newMessage() error = %v", err)
			}
			if got := msg.GetMessageID(); got != tt.want {
				t.Errorf("Message-ID = %q, want %q", got, tt.want)
			}
		})
	}
}
