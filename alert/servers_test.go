package alert

// These tests deliver to the SMTP fault server of faultserver_test.go on 127.0.0.1 and
// need nothing installed, except TestMailpitAuth, which needs mailpit (see
// mailpit_test.go): go test -race -run 'Server|Failover|Auth' ./alert/

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	gomailsmtp "github.com/wneessen/go-mail/smtp"

	"tend/internal/testenv"
)

// plainServer returns the options of a server on 127.0.0.1:port without TLS.
func plainServer(port int) ServerOptions {
	return ServerOptions{Host: "127.0.0.1", Port: port, TLS: TLSNone, Timeout: 5 * time.Second}
}

// mailVia returns mail options that try servers in order.
func mailVia(servers ...ServerOptions) *MailOptions {
	return &MailOptions{Servers: servers, From: "tend@example.com", To: []string{"ops@example.com"}}
}

func addrOf(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// A temporary failure of the first server must move the message on to the second
// within the same attempt, delivered once, and the log must name the server.
func TestFailoverToSecondServer(t *testing.T) {
	tests := []struct {
		name string
		// first returns the options of the first server; fs is nil when it is not a
		// fault server.
		first    func(t *testing.T) (ServerOptions, *faultServer)
		wantText string
	}{
		{"refused", func(t *testing.T) (ServerOptions, *faultServer) {
			return plainServer(testenv.FreePort(t)), nil
		}, "connection refused"},
		{"421 to EHLO", func(t *testing.T) (ServerOptions, *faultServer) {
			fs := startFaultServer(t, faultServerConfig{faults: []fault{{stepEHLO, -1, smtpReply(421, "shutting down")}}})
			return plainServer(fs.port), fs
		}, "421"},
		{"451 to MAIL", func(t *testing.T) (ServerOptions, *faultServer) {
			fs := startFaultServer(t, faultServerConfig{faults: []fault{{stepMail, -1, smtpReply(451, "try later")}}})
			return plainServer(fs.port), fs
		}, "451"},
		{"dropped at MAIL", func(t *testing.T) (ServerOptions, *faultServer) {
			fs := startFaultServer(t, faultServerConfig{faults: []fault{{stepMail, -1, errDrop}}})
			return plainServer(fs.port), fs
		}, "MAIL FROM"},
		{"stalled", func(t *testing.T) (ServerOptions, *faultServer) {
			s := plainServer(startStallServer(t).port)
			s.Timeout = 300 * time.Millisecond
			return s, nil
		}, "timed out after 300ms"},
		{"535 to AUTH", func(t *testing.T) (ServerOptions, *faultServer) {
			fs := startFaultServer(t, faultServerConfig{username: "tend", password: "right", insecureAuth: true})
			s := plainServer(fs.port)
			s.Username, s.Password = "tend", "wrong-secret"
			return s, fs
		}, "535"},
		{"STARTTLS not offered", func(t *testing.T) (ServerOptions, *faultServer) {
			fs := startFaultServer(t, faultServerConfig{})
			s := plainServer(fs.port)
			s.TLS = TLSStartTLS
			return s, fs
		}, "does not support STARTTLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			first, firstFS := tt.first(t)
			second := startFaultServer(t, faultServerConfig{})
			n, logs := newTestNotifier(t, t.TempDir(), mailVia(first, plainServer(second.port)))
			runNotifier(t, n)

			if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: "redis"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "the message at the second server", func() bool { return len(second.messages()) == 1 })
			waitFor(t, ctx, "an empty queue", func() bool { return n.Pending() == 0 })

			if firstFS != nil && len(firstFS.messages()) != 0 {
				t.Errorf("first server accepted %d messages, want none", len(firstFS.messages()))
			}
			if got := second.attempts(); len(got) != 1 {
				t.Errorf("second server read %d messages, want 1: %v", len(got), got)
			}
			secondAddr := "server=" + addrOf(second.port)
			if got := countLines(logs.String(), "alert sent", "attempt=1", secondAddr); got != 1 {
				t.Errorf("log has %d lines 'alert sent' with attempt=1 %s, want 1", got, secondAddr)
			}
			if got := countLines(logs.String(), "level=WARN", "mail server failed, a later server delivered the alert",
				tt.wantText); got != 1 {
				t.Errorf("log has %d failover warnings containing %q, want 1", got, tt.wantText)
			}
			if got := countLines(logs.String(), "will retry"); got != 0 {
				t.Errorf("log has %d retry warnings, want none: the second server delivered", got)
			}
		})
	}
}

// The failover warning is logged once per outage of the first server, not per message.
func TestFailoverWarnsOnce(t *testing.T) {
	ctx := testContext(t)
	second := startFaultServer(t, faultServerConfig{})
	n, logs := newTestNotifier(t, t.TempDir(),
		mailVia(plainServer(testenv.FreePort(t)), plainServer(second.port)))
	runNotifier(t, n)

	for _, svc := range []string{"redis", "postgres", "sidekiq"} {
		if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: svc}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "three messages", func() bool { return len(second.messages()) == 3 })
	waitFor(t, ctx, "an empty queue", func() bool { return n.Pending() == 0 })

	if got := countLines(logs.String(), "mail server failed"); got != 1 {
		t.Errorf("log has %d failover warnings for three messages, want 1", got)
	}
	if got := countLines(logs.String(), "alert sent", "server="+addrOf(second.port)); got != 3 {
		t.Errorf("log has %d 'alert sent' lines naming the second server, want 3", got)
	}
}

// A permanent rejection of the message by the first server ends the attempt: the
// message goes to the dead letters and the second server is never contacted.
func TestFailoverStopsAtPermanentRejection(t *testing.T) {
	tests := []struct {
		name  string
		fault fault
	}{
		{"550 to MAIL", fault{stepMail, -1, smtpReply(550, "sender rejected")}},
		{"550 to RCPT", fault{stepRcpt, -1, smtpReply(550, "no such user")}},
		{"554 after data", fault{stepData, -1, smtpReply(554, "message refused")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			first := startFaultServer(t, faultServerConfig{faults: []fault{tt.fault}})
			second := startFaultServer(t, faultServerConfig{})
			opts := mailVia(plainServer(first.port), plainServer(second.port))
			if err := opts.validate(false); err != nil {
				t.Fatalf("validate() error = %v", err)
			}

			_, err := newMailer(opts).deliver(ctx, testEvent(), time.Now())
			var de *DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("deliver() error = %v, want a *DeliveryError", err)
			}
			if !de.Permanent || de.Code < 500 {
				t.Errorf("deliver() = permanent %t code %d, want permanent 5xx", de.Permanent, de.Code)
			}
			if de.Server != addrOf(first.port) {
				t.Errorf("DeliveryError.Server = %q, want %q", de.Server, addrOf(first.port))
			}
			if !strings.Contains(err.Error(), "send to "+addrOf(first.port)) {
				t.Errorf("deliver() error = %q, want it to name %s", err, addrOf(first.port))
			}
			if got := second.callCount(stepEHLO); got != 0 {
				t.Errorf("second server saw %d connections, want none", got)
			}
		})
	}
}

func TestFailoverRejectionLogsServer(t *testing.T) {
	ctx := testContext(t)
	first := startFaultServer(t, faultServerConfig{faults: []fault{{stepRcpt, -1, smtpReply(550, "no such user")}}})
	second := startFaultServer(t, faultServerConfig{})
	n, logs := newTestNotifier(t, t.TempDir(), mailVia(plainServer(first.port), plainServer(second.port)))
	runNotifier(t, n)

	if err := n.Send(Event{Kind: KindFailed, Host: "web1", Service: "redis"}); err != nil {
		t.Fatal(err)
	}
	// Run logs the rejection after it counts the message as no longer pending.
	waitFor(t, ctx, "the rejection in the log", func() bool {
		return countLines(logs.String(), "alert rejected") > 0
	})

	if got := countLines(logs.String(), "alert rejected, moved to dead letters",
		"server="+addrOf(first.port), "code=550"); got != 1 {
		t.Errorf("log has %d rejections naming the first server, want 1", got)
	}
	if p := n.Pending(); p != 0 {
		t.Errorf("Pending() = %d, want 0", p)
	}
	if got := second.callCount(stepEHLO); got != 0 {
		t.Errorf("second server saw %d connections, want none", got)
	}
}

// When every server fails temporarily, the error lists each server and the message
// stays queued for the next attempt.
func TestEveryServerFails(t *testing.T) {
	ctx := testContext(t)
	first := startFaultServer(t, faultServerConfig{faults: []fault{{stepMail, -1, smtpReply(451, "try later")}}})
	secondPort := testenv.FreePort(t)
	opts := mailVia(plainServer(first.port), plainServer(secondPort))
	if err := opts.validate(false); err != nil {
		t.Fatalf("validate() error = %v", err)
	}

	_, err := newMailer(opts).deliver(ctx, testEvent(), time.Now())
	var de *DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("deliver() error = %v, want a *DeliveryError", err)
	}
	if de.Permanent || de.Server != "" || de.Code != 0 {
		t.Errorf("deliver() = permanent %t server %q code %d, want temporary, no server, code 0 of the last",
			de.Permanent, de.Server, de.Code)
	}
	for _, want := range []string{"send to " + addrOf(first.port), "451", "send to " + addrOf(secondPort),
		"connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("deliver() error = %q, want it to contain %q", err, want)
		}
	}
	var se interface{ ErrorCode() int }
	if !errors.As(err, &se) || se.ErrorCode() != 451 {
		t.Errorf("errors.As(deliver() error) finds no SendError with code 451 in %v", err)
	}
}

// The mechanism that auth selects is the one the server receives, and the password is
// accepted with each of them.
func TestAuthMechanisms(t *testing.T) {
	const password = "s3cret-Pa55-w0rd"
	serverTLS, clientTLS := selfSignedTLS(t)
	all := []string{"PLAIN", "LOGIN", "CRAM-MD5"}
	tests := []struct {
		name    string
		offered []string
		auth    AuthMechanism
		tls     bool
		want    string
	}{
		{"auto prefers CRAM-MD5", all, AuthAuto, false, "CRAM-MD5"},
		{"auto prefers PLAIN to LOGIN", []string{"LOGIN", "PLAIN"}, AuthAuto, true, "PLAIN"},
		{"auto takes LOGIN", []string{"LOGIN"}, AuthAuto, true, "LOGIN"},
		{"empty is auto", all, "", true, "CRAM-MD5"},
		{"plain", all, AuthPlain, true, "PLAIN"},
		{"login", all, AuthLogin, true, "LOGIN"},
		{"cram-md5", all, AuthCRAMMD5, false, "CRAM-MD5"},
		{"plain on loopback without TLS", all, AuthPlain, false, "PLAIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := faultServerConfig{username: "tend", password: password, mechanisms: tt.offered,
				insecureAuth: !tt.tls}
			server := plainServer(0)
			if tt.tls {
				cfg.tls = serverTLS
				server.TLS, server.TLSConfig = TLSStartTLS, clientTLS
			}
			fs := startFaultServer(t, cfg)
			server.Port, server.Auth, server.Username, server.Password = fs.port, tt.auth, "tend", password
			opts := mailVia(server)
			if err := opts.validate(false); err != nil {
				t.Fatalf("validate() error = %v", err)
			}

			if err := newMailer(opts).send(testContext(t), testEvent(), time.Now()); err != nil {
				t.Fatalf("send() error = %v", err)
			}
			got := fs.messages()
			if len(got) != 1 {
				t.Fatalf("server accepted %d messages, want 1", len(got))
			}
			if got[0].mechanism != tt.want || got[0].username != "tend" {
				t.Errorf("server authenticated %q with %q, want tend with %q",
					got[0].username, got[0].mechanism, tt.want)
			}
			if got[0].tls != tt.tls {
				t.Errorf("message went with TLS %t, want %t", got[0].tls, tt.tls)
			}
		})
	}
}

func TestAuthMechanismNotOffered(t *testing.T) {
	fs := startFaultServer(t, faultServerConfig{username: "tend", password: "pw", insecureAuth: true})
	server := plainServer(fs.port)
	server.Auth, server.Username, server.Password = AuthCRAMMD5, "tend", "pw"
	opts := mailVia(server)
	if err := opts.validate(false); err != nil {
		t.Fatalf("validate() error = %v", err)
	}

	err := newMailer(opts).send(testContext(t), testEvent(), time.Now())
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent {
		t.Fatalf("send() error = %v, want a temporary *DeliveryError", err)
	}
	if !strings.Contains(err.Error(), "server does not offer AUTH CRAM-MD5, only PLAIN") {
		t.Errorf("send() error = %q, want it to say CRAM-MD5 is not offered", err)
	}
	if got := fs.callCount(stepAuth); got != 0 {
		t.Errorf("server saw %d AUTH exchanges, want none", got)
	}
}

// PLAIN and LOGIN send the password itself, so over clear text they are used only for
// a loopback host. CRAM-MD5 sends a digest and is allowed.
func TestServerAuthClearText(t *testing.T) {
	tests := []struct {
		name     string
		host     string
		tls      bool
		auth     AuthMechanism
		offered  []string
		wantMech string
		wantErr  string
	}{
		{"plain without TLS", "smtp.example.com", false, AuthPlain, []string{"PLAIN"}, "",
			"PLAIN and LOGIN would send the password in clear text"},
		{"login without TLS", "smtp.example.com", false, AuthLogin, []string{"LOGIN"}, "",
			"PLAIN and LOGIN would send the password in clear text"},
		{"auto without TLS, no CRAM-MD5", "smtp.example.com", false, AuthAuto, []string{"PLAIN", "LOGIN"}, "",
			"PLAIN and LOGIN would send the password in clear text"},
		{"auto without TLS takes CRAM-MD5", "smtp.example.com", false, AuthAuto,
			[]string{"PLAIN", "CRAM-MD5"}, "CRAM-MD5", ""},
		{"plain with TLS", "smtp.example.com", true, AuthPlain, []string{"PLAIN"}, "PLAIN", ""},
		{"plain on ::1 without TLS", "::1", false, AuthPlain, []string{"PLAIN"}, "PLAIN", ""},
		{"lower-case offer", "smtp.example.com", true, AuthLogin, []string{"login"}, "LOGIN", ""},
		{"no AUTH offered", "smtp.example.com", true, AuthAuto, nil, "", "server offers no AUTH mechanism"},
		{"unknown mechanisms only", "smtp.example.com", true, AuthAuto, []string{"XOAUTH2", "NTLM"}, "",
			"server offers AUTH XOAUTH2 NTLM, none of CRAM-MD5, PLAIN and LOGIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const password = "hunter2-secret"
			a := &serverAuth{mechanism: tt.auth, host: tt.host, username: "tend", password: password}
			mech, resp, err := a.Start(&gomailsmtp.ServerInfo{Name: tt.host, TLS: tt.tls, Auth: tt.offered})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Start() error = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(string(resp), password) {
					t.Errorf("Start() returned the password after an error")
				}
				return
			}
			if err != nil || mech != tt.wantMech {
				t.Errorf("Start() = %q, %v, want %q, nil", mech, err, tt.wantMech)
			}
		})
	}
}

// starttls_optional encrypts when the server offers STARTTLS and sends in clear text
// when it does not.
func TestStartTLSOptional(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)
	for _, offered := range []bool{true, false} {
		t.Run("STARTTLS offered "+strconv.FormatBool(offered), func(t *testing.T) {
			cfg := faultServerConfig{}
			if offered {
				cfg.tls = serverTLS
			}
			fs := startFaultServer(t, cfg)
			server := plainServer(fs.port)
			server.TLS, server.TLSConfig = TLSStartTLSOptional, clientTLS
			opts := mailVia(server)
			if err := opts.validate(false); err != nil {
				t.Fatalf("validate() error = %v", err)
			}

			if err := newMailer(opts).send(testContext(t), testEvent(), time.Now()); err != nil {
				t.Fatalf("send() error = %v", err)
			}
			got := fs.messages()
			if len(got) != 1 || got[0].tls != offered {
				t.Errorf("server received %d messages, TLS %t, want 1 with TLS %t", len(got),
					len(got) == 1 && got[0].tls, offered)
			}
		})
	}
}

// A server whose certificate is not trusted fails with starttls_optional too: offering
// STARTTLS commits the client to TLS, and the next server gets the message.
func TestStartTLSOptionalBadCertificate(t *testing.T) {
	serverTLS, _ := selfSignedTLS(t)
	first := startFaultServer(t, faultServerConfig{tls: serverTLS})
	second := startFaultServer(t, faultServerConfig{})
	firstOpts := plainServer(first.port)
	firstOpts.TLS = TLSStartTLSOptional
	opts := mailVia(firstOpts, plainServer(second.port))
	if err := opts.validate(false); err != nil {
		t.Fatalf("validate() error = %v", err)
	}

	result, err := newMailer(opts).deliver(testContext(t), testEvent(), time.Now())
	if err != nil {
		t.Fatalf("deliver() error = %v", err)
	}
	if result.server != addrOf(second.port) {
		t.Errorf("deliver() server = %q, want %s", result.server, addrOf(second.port))
	}
	if result.skipped == nil || !strings.Contains(result.skipped.Error(), "certificate") {
		t.Errorf("deliver() skipped = %v, want the certificate failure of the first server", result.skipped)
	}
	if len(first.messages()) != 0 {
		t.Errorf("first server accepted %d messages in clear text, want none", len(first.messages()))
	}
}

// The next server receives the same Message-ID and a Date header, so a duplicate is
// recognisable.
func TestFailoverKeepsHeaders(t *testing.T) {
	first := startFaultServer(t, faultServerConfig{faults: []fault{{stepData, -1, smtpReply(451, "queue full")}}})
	second := startFaultServer(t, faultServerConfig{})
	opts := mailVia(plainServer(first.port), plainServer(second.port))
	if err := opts.validate(false); err != nil {
		t.Fatalf("validate() error = %v", err)
	}

	ev := testEvent()
	if err := newMailer(opts).send(testContext(t), ev, time.Now()); err != nil {
		t.Fatalf("send() error = %v", err)
	}
	firstIDs, got := first.attempts(), second.messages()
	if len(firstIDs) != 1 || len(got) != 1 {
		t.Fatalf("servers read %d and accepted %d messages, want 1 and 1", len(firstIDs), len(got))
	}
	wantID := "<" + ev.ID + "@" + ev.Host + ">"
	if firstIDs[0] != wantID || got[0].messageID != wantID {
		t.Errorf("Message-IDs = %q then %q, want %q twice", firstIDs[0], got[0].messageID, wantID)
	}
	if _, err := got[0].header.Date(); err != nil {
		t.Errorf("Date header of the delivered message: %v", err)
	}
}

// mailpit v1.33.1, started with --smtp-auth-accept-any and --smtp-auth-allow-insecure,
// offers LOGIN and PLAIN over clear text and records the username of each message.
func TestMailpitAuth(t *testing.T) {
	mp := testenv.StartMailpit(t)
	for _, auth := range []AuthMechanism{AuthPlain, AuthLogin, AuthAuto} {
		t.Run(auth.String(), func(t *testing.T) {
			server := plainServer(mp.SMTPPort)
			server.Auth, server.Username, server.Password = auth, "user-"+auth.String(), "any-password"
			opts := mailVia(server)
			if err := opts.validate(false); err != nil {
				t.Fatalf("validate() error = %v", err)
			}

			if err := newMailer(opts).send(testContext(t), testEvent(), time.Now()); err != nil {
				t.Fatalf("send() error = %v", err)
			}
			if !mailpitHasUser(t, mp, server.Username) {
				t.Errorf("mailpit has no message from user %q", server.Username)
			}
		})
	}
}

// mailpitHasUser reports whether mailpit holds a message whose SMTP AUTH username was
// username.
func mailpitHasUser(t *testing.T, mp *testenv.Mailpit, username string) bool {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), http.MethodGet,
		mp.API+"/api/v1/messages?limit=500", http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("list mailpit messages: %v", err)
	}
	defer resp.Body.Close()
	var list struct{ Messages []struct{ Username string } }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("decode mailpit messages: %v", err)
	}
	for _, m := range list.Messages {
		if m.Username == username {
			return true
		}
	}
	return false
}

func TestMailOptionsValidateServers(t *testing.T) {
	const secret = "hunter2-secret"
	tests := []struct {
		name    string
		mail    *MailOptions
		wantErr string
	}{
		{"host and servers", func() *MailOptions {
			m := mailVia(ServerOptions{Host: "smtp1.example.com"})
			m.Host = "smtp0.example.com"
			return m
		}(), "both Servers and the server fields"},
		{"timeout and servers", func() *MailOptions {
			m := mailVia(ServerOptions{Host: "smtp1.example.com"})
			m.Timeout = time.Second
			return m
		}(), "both Servers and the server fields"},
		{"second server without host", mailVia(ServerOptions{Host: "smtp1.example.com"}, ServerOptions{}),
			"server 2 (): host is empty"},
		{"bad port", mailVia(ServerOptions{Host: "smtp1.example.com", Port: -1}),
			"server 1 (smtp1.example.com): invalid port -1"},
		{"unknown TLS mode", mailVia(ServerOptions{Host: "smtp1.example.com", TLS: "ssl"}),
			`invalid TLS mode "ssl": want none, starttls, starttls_optional or tls`},
		{"unknown auth", mailVia(ServerOptions{Host: "smtp1.example.com", Auth: "digest-md5",
			Username: "tend", Password: secret}), `invalid auth mechanism "digest-md5"`},
		{"auth without username", mailVia(ServerOptions{Host: "smtp1.example.com", Auth: AuthPlain}),
			`auth "plain" is set but username is empty`},
		{"plain in clear text", mailVia(ServerOptions{Host: "smtp1.example.com", TLS: TLSNone,
			Auth: AuthPlain, Username: "tend", Password: secret}), "would send the password in clear text"},
		{"auto in clear text", mailVia(ServerOptions{Host: "smtp1.example.com", TLS: TLSNone,
			Username: "tend", Password: secret}), "would send the password in clear text"},
		{"no recipient", &MailOptions{Servers: []ServerOptions{{Host: "smtp1.example.com"}},
			From: "tend@example.com"}, "no recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.mail.validate(false)
			if err == nil {
				t.Fatalf("validate() = nil, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("validate() = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("validate() = %q contains the password", err)
			}
		})
	}
}

func TestMailOptionsValidateServerDefaults(t *testing.T) {
	servers := []ServerOptions{
		{Host: "smtp1.example.com"},
		{Host: "smtp2.example.com", TLS: TLSStartTLSOptional, Username: "tend", Password: "pw"},
		{Host: "smtp3.example.com", TLS: TLSNone, Auth: AuthCRAMMD5, Username: "tend", Password: "pw"},
		{Host: "smtp4.example.com", TLS: TLSImplicit, Timeout: time.Second},
	}
	m := mailVia(servers...)
	if err := m.validate(false); err != nil {
		t.Fatalf("validate() error = %v", err)
	}

	want := []struct {
		tls     TLSMode
		port    int
		auth    AuthMechanism
		timeout time.Duration
	}{
		{TLSStartTLS, 587, "", DefaultMailTimeout},
		{TLSStartTLSOptional, 587, AuthAuto, DefaultMailTimeout},
		{TLSNone, 25, AuthCRAMMD5, DefaultMailTimeout},
		{TLSImplicit, 465, "", time.Second},
	}
	for i, w := range want {
		got := m.Servers[i]
		if got.TLS != w.tls || got.Port != w.port || got.Auth != w.auth || got.Timeout != w.timeout {
			t.Errorf("server %d after validate() = TLS %q port %d auth %q timeout %s, want %q %d %q %s",
				i+1, got.TLS, got.Port, got.Auth, got.Timeout, w.tls, w.port, w.auth, w.timeout)
		}
	}
	if servers[0].Port != 0 {
		t.Errorf("validate() changed the caller's Servers: Port = %d", servers[0].Port)
	}
}

func TestMailOptionsLogValueHidesServerPasswords(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	m := mailVia(
		ServerOptions{Host: "smtp1.example.com", Username: "tend", Password: "first-secret"},
		ServerOptions{Host: "smtp2.example.com", Username: "backup", Password: "second-secret"})
	logger.Info("mail settings", "mail", m)

	if strings.Contains(buf.String(), "secret") {
		t.Errorf("logged MailOptions contain a password: %s", buf.String())
	}
	for _, want := range []string{"mail.server1.host=smtp1.example.com", "mail.server2.username=backup"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("logged MailOptions lack %s: %s", want, buf.String())
		}
	}
}

func TestParseAuthMechanism(t *testing.T) {
	for _, word := range []string{"auto", "plain", "login", "cram-md5"} {
		a, err := ParseAuthMechanism(word)
		if err != nil || a.String() != word {
			t.Errorf("ParseAuthMechanism(%q) = %q, %v, want %q, nil", word, a, err, word)
		}
	}
	for _, word := range []string{"", "PLAIN", "xoauth2"} {
		if _, err := ParseAuthMechanism(word); err == nil {
			t.Errorf("ParseAuthMechanism(%q) error = nil, want an error", word)
		}
	}
	if m, err := ParseTLSMode("starttls_optional"); err != nil || m != TLSStartTLSOptional {
		t.Errorf("ParseTLSMode(starttls_optional) = %q, %v, want %q, nil", m, err, TLSStartTLSOptional)
	}
}
