package alert

// This test delivers to a real mailpit on 127.0.0.1. Install it with
// "go install github.com/axllent/mailpit@v1.33.1"; without it the test skips, and fails
// when CI=true. Run: go test -race -run Mailpit ./alert/

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tend/internal/testenv"
)

func TestMailpitDelivery(t *testing.T) {
	ctx := testContext(t)
	mp := testenv.StartMailpit(t)
	mailOpts := plainMail(mp.SMTPPort)
	mailOpts.From = "tend <tend@web1.example.com>"
	mailOpts.To = []string{"ops@example.com", "oncall@example.com"}
	n, _ := newTestNotifier(t, t.TempDir(), mailOpts)
	runNotifier(t, n)

	failed := testEvent()
	failed.ID = "" // let Send assign one
	failed.Time = time.Now().Add(-2 * time.Hour)
	recovered := Event{
		ID: "recovered-1", Kind: KindRecovered, Host: "web1", Service: "redis",
		Check: "tcp 127.0.0.1:6379", Threshold: "3 cycles",
		Message: "tcp 127.0.0.1:6379 of redis passes again",
	}
	start := time.Now()
	for _, ev := range []Event{failed, recovered} {
		if err := n.Send(ev); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "two messages in mailpit", func() bool { return len(mp.Messages(t)) == 2 })

	tests := []struct {
		subject     string
		kind        Kind
		messageID   string
		bodyParts   []string
		wantLate    bool
		wantNoLines []string
	}{
		{
			subject:   "[tend] web1: redis failed: tcp 127.0.0.1:6379 (connection refused)",
			kind:      KindFailed,
			messageID: `^<\d{8}T\d{6}\.\d{9}Z-\d{6}-[0-9a-f]{8}@web1>$`,
			bodyParts: []string{
				"redis does not accept connections on 127.0.0.1:6379.",
				"Host:      web1", "Service:   redis", "Check:     tcp 127.0.0.1:6379",
				"Observed:  connection refused", "Threshold: 3 cycles", "Action:    restart",
				"Time:      " + failed.Time.Format(time.RFC3339),
			},
			wantLate: true,
		},
		{
			subject:   "[tend] web1: redis recovered: tcp 127.0.0.1:6379",
			kind:      KindRecovered,
			messageID: `^<recovered-1@web1>$`,
			bodyParts: []string{
				"tcp 127.0.0.1:6379 of redis passes again", "Host:      web1",
				"Service:   redis", "Check:     tcp 127.0.0.1:6379", "Threshold: 3 cycles",
			},
			wantNoLines: []string{"Observed:", "Action:"},
		},
	}
	msgs := mp.Messages(t)
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			i := slices.IndexFunc(msgs, func(m testenv.MailpitMessage) bool { return m.Subject == tt.subject })
			if i < 0 {
				t.Fatalf("mailpit has no message with subject %q: %+v", tt.subject, msgs)
			}
			m := msgs[i]
			if m.From.Address != "tend@web1.example.com" {
				t.Errorf("From = %q, want tend@web1.example.com", m.From.Address)
			}
			var to []string
			for _, r := range m.To {
				to = append(to, r.Address)
			}
			if !slices.Equal(to, mailOpts.To) {
				t.Errorf("To = %v, want %v", to, mailOpts.To)
			}

			h := mp.Headers(t, m.ID)
			checkHeader(t, h, "Message-Id", tt.messageID)
			checkHeader(t, h, "X-Tend-Event", "^"+string(tt.kind)+"$")
			date, err := mail.ParseDate(first(h, "Date"))
			if err != nil {
				t.Errorf("Date header %q: %v", first(h, "Date"), err)
			} else if date.Before(start.Add(-time.Second)) || date.After(time.Now().Add(time.Second)) {
				t.Errorf("Date = %s, want the delivery time, after %s", date, start)
			}

			body := mp.Body(t, m.ID)
			for _, part := range tt.bodyParts {
				if !strings.Contains(body, part) {
					t.Errorf("body does not contain %q; body:\n%s", part, body)
				}
			}
			for _, absent := range tt.wantNoLines {
				if strings.Contains(body, absent) {
					t.Errorf("body contains %q for an empty field; body:\n%s", absent, body)
				}
			}
			if late := strings.Contains(body, "and is delivered 2h0m"); late != tt.wantLate {
				t.Errorf("body has a late-delivery line: %t, want %t; body:\n%s", late, tt.wantLate, body)
			}
		})
	}
}

// checkHeader fails when the header name, looked up case-insensitively, does not
// match the regular expression pattern.
func checkHeader(t *testing.T, h map[string][]string, name, pattern string) {
	t.Helper()
	got := first(h, name)
	if !regexpMatch(pattern, got) {
		t.Errorf("header %s = %q, want a match for %s; headers: %v", name, got, pattern, h)
	}
}

func first(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func regexpMatch(pattern, s string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}
