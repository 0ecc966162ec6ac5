package alert

// These tests deliver to the SMTP fault server of faultserver_test.go on 127.0.0.1 and
// need nothing installed: go test -race ./alert/

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/wneessen/go-mail"

	"tend/internal/testenv"
)

func TestSendClassifiesFailures(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)
	tests := []struct {
		name string
		cfg  faultServerConfig
		// mail adjusts the options for the server; nil keeps plainMail.
		mail          func(m *MailOptions)
		refused       bool
		wantCode      int
		wantPermanent bool
		// wantGoMailTemp is what go-mail's SendError.IsTemp returns; nil when go-mail
		// returns no SendError.
		wantGoMailTemp *bool
		wantText       string
	}{
		{name: "451 to MAIL", cfg: faultServerConfig{faults: []fault{{stepMail, -1, smtpReply(451, "try later")}}},
			wantCode: 451, wantGoMailTemp: ptr(true), wantText: `451 "4.0.0 try later"`},
		{name: "452 to RCPT", cfg: faultServerConfig{faults: []fault{{stepRcpt, -1, smtpReply(452, "mailbox full")}}},
			wantCode: 452, wantGoMailTemp: ptr(true), wantText: `452 "4.0.0 mailbox full"`},
		{name: "451 after data", cfg: faultServerConfig{faults: []fault{{stepData, -1, smtpReply(451, "queue full")}}},
			wantCode: 451, wantGoMailTemp: ptr(true), wantText: `451 "4.0.0 queue full"`},
		{name: "550 to RCPT", cfg: faultServerConfig{faults: []fault{{stepRcpt, -1, smtpReply(550, "no such user")}}},
			wantCode: 550, wantPermanent: true, wantGoMailTemp: ptr(false), wantText: `550 "5.0.0 no such user"`},
		{name: "554 after data", cfg: faultServerConfig{faults: []fault{{stepData, -1, smtpReply(554, "spam")}}},
			wantCode: 554, wantPermanent: true, wantGoMailTemp: ptr(false), wantText: `554 "5.0.0 spam"`},
		{name: "dropped at MAIL", cfg: faultServerConfig{faults: []fault{{stepMail, -1, errDrop}}},
			wantGoMailTemp: ptr(false), wantText: "sending SMTP MAIL FROM command"},
		{name: "dropped after data", cfg: faultServerConfig{faults: []fault{{stepData, -1, errDrop}}},
			wantGoMailTemp: ptr(false), wantText: "closing SMTP DATA writer"},
		{name: "connection refused", refused: true, wantText: "connection refused"},
		{
			name: "535 to AUTH",
			cfg: faultServerConfig{tls: serverTLS, username: "tend", password: "right",
				faults: []fault{{stepAuth, -1, smtp.ErrAuthFailed}}},
			mail: func(m *MailOptions) {
				m.TLS, m.TLSConfig, m.Username, m.Password = TLSStartTLS, clientTLS, "tend", "right"
			},
			wantCode: 535, wantText: `535 "5.7.8 Authentication failed"`,
		},
		{
			name: "STARTTLS not offered",
			mail: func(m *MailOptions) { m.TLS = TLSStartTLS },
			// go-mail v0.8.1 quotes its TLS policy as "TLSMandatory".
			wantText: "does not support STARTTLS",
		},
		{
			name:     "untrusted certificate",
			cfg:      faultServerConfig{tls: serverTLS},
			mail:     func(m *MailOptions) { m.TLS = TLSStartTLS },
			wantText: "certificate signed by unknown authority",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fs *faultServer
			port := testenv.FreePort(t)
			if !tt.refused {
				fs = startFaultServer(t, tt.cfg)
				port = fs.port
			}
			opts := plainMail(port)
			if tt.mail != nil {
				tt.mail(opts)
			}
			o := Options{StateDir: t.TempDir(), Mail: opts, Logger: slog.New(slog.DiscardHandler)}
			if err := o.validate(); err != nil {
				t.Fatalf("validate() error = %v", err)
			}

			ev := testEvent()
			err := newMailer(o.Mail).send(testContext(t), ev, time.Now())
			t.Logf("go-mail returned: %v", err)
			var de *DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("send() error = %v, want a *DeliveryError", err)
			}
			if de.Code != tt.wantCode || de.Permanent != tt.wantPermanent {
				t.Errorf("send() = code %d permanent %t, want code %d permanent %t",
					de.Code, de.Permanent, tt.wantCode, tt.wantPermanent)
			}
			if de.ID != ev.ID {
				t.Errorf("DeliveryError.ID = %q, want %q", de.ID, ev.ID)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("send() error = %q, want it to contain %q", err, tt.wantText)
			}
			var se *mail.SendError
			switch {
			case tt.wantGoMailTemp == nil && errors.As(err, &se):
				t.Errorf("send() wraps a go-mail SendError %v, want none", se)
			case tt.wantGoMailTemp != nil && !errors.As(err, &se):
				t.Errorf("send() wraps no go-mail SendError, want one")
			case tt.wantGoMailTemp != nil && se.IsTemp() != *tt.wantGoMailTemp:
				t.Errorf("SendError.IsTemp() = %t, want %t", se.IsTemp(), *tt.wantGoMailTemp)
			}
			if fs != nil && len(fs.messages()) != 0 {
				t.Errorf("server accepted %d messages, want none", len(fs.messages()))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A temporary failure must not lose the message nor send it twice: it is retried until
// the server accepts it, once, with the same Message-ID on every attempt.
func TestRetryTemporaryFailure(t *testing.T) {
	tests := []struct {
		name  string
		fault fault
		// repeatedError is true when every attempt fails with the same text, so the
		// Warn must be logged once.
		repeatedError bool
	}{
		{"451 to MAIL", fault{stepMail, 3, smtpReply(451, "try later")}, true},
		{"452 to RCPT", fault{stepRcpt, 2, smtpReply(452, "mailbox full")}, true},
		{"451 after data", fault{stepData, 3, smtpReply(451, "queue full")}, true},
		{"dropped at MAIL", fault{stepMail, 2, errDrop}, false},
		{"dropped after data", fault{stepData, 2, errDrop}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			fs := startFaultServer(t, faultServerConfig{faults: []fault{tt.fault}})
			n, logs := newTestNotifier(t, t.TempDir(), plainMail(fs.port))
			runNotifier(t, n)

			if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: "first"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "the first message", func() bool { return len(fs.messages()) == 1 })
			// A second message is delivered only after the first left the queue, so if
			// the first were sent twice, it would show up before this one.
			if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: "second"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "the second message", func() bool { return len(fs.messages()) == 2 })
			waitFor(t, ctx, "an empty queue", func() bool { return n.Pending() == 0 })

			msgs := fs.messages()
			for i, want := range []string{"first", "second"} {
				if !strings.Contains(msgs[i].header.Get("Subject"), want) {
					t.Errorf("message %d subject = %q, want service %s", i, msgs[i].header.Get("Subject"), want)
				}
			}
			wantAttempts := tt.fault.times + 1
			if got := countLines(logs.String(), "alert sent", "service=first",
				"attempt="+strconv.Itoa(wantAttempts)); got != 1 {
				t.Errorf("log has %d lines 'alert sent' for first with attempt=%d, want 1", got, wantAttempts)
			}
			if tt.fault.step == stepData {
				for i, id := range fs.attempts()[:wantAttempts] {
					if id != msgs[0].messageID {
						t.Errorf("attempt %d Message-ID = %s, want %s as on the delivered one", i+1, id, msgs[0].messageID)
					}
				}
			}

			warns := countLines(logs.String(), "level=WARN", "alert delivery failed, will retry")
			if tt.repeatedError && warns != 1 {
				t.Errorf("log has %d retry warnings for one repeated error, want 1", warns)
			}
			if warns < 1 {
				t.Errorf("log has no retry warning, want at least one")
			}
			if err := n.LastError(); err != nil {
				t.Errorf("LastError() after delivery = %v, want nil", err)
			}
		})
	}
}

// A 5xx rejection of the message moves it to the dead letters at once, and the
// messages queued after it are still delivered.
func TestPermanentRejectionMovesToDead(t *testing.T) {
	tests := []struct {
		name  string
		fault fault
	}{
		{"550 to MAIL", fault{stepMail, 1, smtpReply(550, "sender rejected")}},
		{"550 to RCPT", fault{stepRcpt, 1, smtpReply(550, "no such user")}},
		{"554 after data", fault{stepData, 1, smtpReply(554, "message refused")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			dir := t.TempDir()
			fs := startFaultServer(t, faultServerConfig{faults: []fault{tt.fault}})
			n, logs := newTestNotifier(t, dir, plainMail(fs.port))
			for _, svc := range []string{"rejected", "next"} {
				if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: svc}); err != nil {
					t.Fatal(err)
				}
			}
			names, err := n.channels[0].queue.names()
			if err != nil {
				t.Fatal(err)
			}
			runNotifier(t, n)

			waitFor(t, ctx, "the next message", func() bool { return len(fs.messages()) == 1 })
			waitFor(t, ctx, "an empty queue", func() bool { return n.Pending() == 0 })

			if subj := fs.messages()[0].header.Get("Subject"); !strings.Contains(subj, "next") {
				t.Errorf("delivered subject = %q, want the next message", subj)
			}
			if body := fs.messages()[0].body; !strings.Contains(body, "1 earlier alert(s) could not be delivered") {
				t.Errorf("the next message does not report the dead letter:\n%s", body)
			}
			dead, err := os.ReadDir(filepath.Join(dir, "outbox", "dead"))
			if err != nil {
				t.Fatal(err)
			}
			if len(dead) != 1 || dead[0].Name() != names[0] {
				t.Errorf("dead letters = %v, want only %s", dead, names[0])
			}
			if got := fs.callCount(tt.fault.step); got != 2 {
				t.Errorf("server saw %d %s calls, want 2: one rejected, never retried, and the next", got, tt.fault.step)
			}
			if got := countLines(logs.String(), "level=ERROR", "alert rejected, moved to dead letters",
				"service=rejected", "code=5"); got != 1 {
				t.Errorf("log has %d rejection errors, want 1", got)
			}
			if countLines(logs.String(), "will retry") != 0 {
				t.Errorf("log has a retry warning for a permanent rejection")
			}
		})
	}
}

func TestStalledServerTimesOut(t *testing.T) {
	ctx := testContext(t)
	stall := startStallServer(t)
	mailOpts := plainMail(stall.port)
	mailOpts.Timeout = 300 * time.Millisecond
	n, _ := newTestNotifier(t, t.TempDir(), mailOpts)
	runNotifier(t, n)

	start := time.Now()
	if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: "redis"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "a failed attempt", func() bool { return n.LastError() != nil })
	elapsed := time.Since(start)

	if elapsed < mailOpts.Timeout || elapsed > mailOpts.Timeout+2*time.Second {
		t.Errorf("the attempt failed after %s, want between %s and %s",
			elapsed, mailOpts.Timeout, mailOpts.Timeout+2*time.Second)
	}
	err := n.LastError()
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent {
		t.Errorf("LastError() = %#v, want a temporary *DeliveryError", err)
	}
	if !strings.Contains(err.Error(), "timed out after 300ms") && !strings.Contains(err.Error(), "i/o timeout") {
		t.Errorf("LastError() = %q, want it to say the attempt timed out", err)
	}
	waitFor(t, ctx, "a retry", func() bool { return stall.acceptedCount() >= 2 })
	if p := n.Pending(); p != 1 {
		t.Errorf("Pending() = %d, want 1", p)
	}
}

func TestRunStopsDuringStalledAttempt(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	stall := startStallServer(t)
	mailOpts := plainMail(stall.port)
	mailOpts.Timeout = time.Minute
	n, logs := newTestNotifier(t, dir, mailOpts)
	stop := runNotifier(t, n)

	if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: "redis"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the attempt to connect", func() bool { return stall.acceptedCount() == 1 })

	start := time.Now()
	stop()
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Run returned %s after cancel, want within 2s", elapsed)
	}
	if p := n.Pending(); p != 1 {
		t.Errorf("Pending() after stop = %d, want 1", p)
	}
	names, err := n.channels[0].queue.names()
	if err != nil || len(names) != 1 {
		t.Errorf("queue after stop = %v, %v, want the event still queued", names, err)
	}
	if countLines(logs.String(), "will retry") != 0 {
		t.Errorf("log has a retry warning for an attempt cut off by shutdown")
	}
}

// Events queued while no server listens survive a restart of the daemon and are then
// delivered in order, each once, leaving the outbox empty.
func TestQueueSurvivesRestart(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	n, _ := newTestNotifier(t, dir, plainMail(testenv.FreePort(t)))
	stop := runNotifier(t, n)
	services := []string{"postgres", "redis", "sidekiq"}
	for _, svc := range services {
		if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: svc, Check: "process"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "a failed attempt", func() bool { return n.LastError() != nil })
	stop()
	if p := n.Pending(); p != 3 {
		t.Fatalf("Pending() with no server = %d, want 3", p)
	}
	names, err := n.channels[0].queue.names()
	if err != nil || len(names) != 3 {
		t.Fatalf("queue = %v, %v, want 3 files", names, err)
	}

	fs := startFaultServer(t, faultServerConfig{})
	n, _ = newTestNotifier(t, dir, plainMail(fs.port))
	if p := n.Pending(); p != 3 {
		t.Errorf("Pending() after restart = %d, want 3", p)
	}
	runNotifier(t, n)
	waitFor(t, ctx, "three messages", func() bool { return len(fs.messages()) == 3 })
	waitFor(t, ctx, "an empty queue", func() bool { return n.Pending() == 0 })

	msgs := fs.messages()
	for i, name := range names {
		wantID := "<" + strings.TrimSuffix(name, ".json") + "@web1>"
		if msgs[i].messageID != wantID {
			t.Errorf("message %d Message-ID = %s, want %s", i, msgs[i].messageID, wantID)
		}
		if subj := msgs[i].header.Get("Subject"); !strings.Contains(subj, services[i]) {
			t.Errorf("message %d subject = %q, want service %s", i, subj, services[i])
		}
	}
	if got := fs.attempts(); len(got) != 3 {
		t.Errorf("server read %d messages, want 3, none twice: %v", len(got), got)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{channelStateFile, "dead"}) {
		t.Errorf("outbox after delivery holds %v, want only the state file and the dead directory", left)
	}
	if dead, _ := os.ReadDir(filepath.Join(dir, "outbox", "dead")); len(dead) != 0 {
		t.Errorf("dead letters = %v, want none", dead)
	}
}

// The password must travel only inside TLS and never reach the log, also when the
// server rejects it.
func TestTLSWithPlainAuth(t *testing.T) {
	const password = "s3cret-Pa55-w0rd"
	serverTLS, clientTLS := selfSignedTLS(t)
	tests := []struct {
		name     string
		mode     TLSMode
		implicit bool
	}{
		{"starttls", TLSStartTLS, false},
		{"implicit tls", TLSImplicit, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			fs := startFaultServer(t, faultServerConfig{
				tls: serverTLS, implicitTLS: tt.implicit, username: "tend", password: password,
				faults: []fault{{stepAuth, 1, smtp.ErrAuthFailed}},
			})
			mailOpts := plainMail(fs.port)
			mailOpts.TLS, mailOpts.TLSConfig = tt.mode, clientTLS
			mailOpts.Username, mailOpts.Password = "tend", password
			n, logs := newTestNotifier(t, t.TempDir(), mailOpts)
			runNotifier(t, n)

			if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: "redis"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "the message", func() bool { return len(fs.messages()) == 1 })
			waitFor(t, ctx, "an empty queue", func() bool { return n.Pending() == 0 })

			got := fs.messages()[0]
			if !got.tls || got.username != "tend" {
				t.Errorf("server received the message with TLS %t as user %q, want TLS as tend",
					got.tls, got.username)
			}
			if countLines(logs.String(), "will retry", "535") != 1 {
				t.Errorf("log lacks the retry warning for the rejected password")
			}
			if strings.Contains(logs.String(), password) {
				t.Errorf("log contains the password:\n%s", logs.String())
			}
		})
	}
}

func TestNoMailLogsAndEmptiesQueue(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	n, logs := newTestNotifier(t, dir, nil)
	runNotifier(t, n)

	ev := Event{Kind: KindFailed, Host: "web1", Service: "redis", Check: "tcp 127.0.0.1:6379",
		Observed: "connection refused", Message: "redis does not accept connections"}
	if err := n.Send(ev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "an empty queue", func() bool { return n.Pending() == 0 })

	if countLines(logs.String(), "alert logged, mail not configured", "service=redis",
		`observed="connection refused"`, `message="redis does not accept connections"`) != 1 {
		t.Errorf("log lacks the event:\n%s", logs.String())
	}
	names, err := n.channels[0].queue.names()
	if err != nil || len(names) != 0 {
		t.Errorf("queue = %v, %v, want empty", names, err)
	}
}

func TestRunTwicePanics(t *testing.T) {
	n, _ := newTestNotifier(t, t.TempDir(), nil)
	stop := runNotifier(t, n)
	defer stop()
	waitFor(t, testContext(t), "Run to start", n.running.Load)
	defer func() {
		if recover() == nil {
			t.Errorf("second Run did not panic")
		}
	}()
	n.Run(context.Background())
}
