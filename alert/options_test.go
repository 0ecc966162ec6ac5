package alert

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func validMail() *MailOptions {
	return &MailOptions{Host: "smtp.example.com", From: "tend@example.com", To: []string{"ops@example.com"}}
}

func TestOptionsValidateRejects(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	const secret = "hunter2-secret"
	tests := []struct {
		name    string
		edit    func(o *Options)
		wantErr string
	}{
		{"no state dir", func(o *Options) { o.StateDir = "" }, "StateDir is empty"},
		{"no logger", func(o *Options) { o.Logger = nil }, "Logger is nil"},
		{"negative retry", func(o *Options) { o.RetryMin = -time.Second }, "negative retry backoff"},
		{"min above max", func(o *Options) { o.RetryMin, o.RetryMax = time.Minute, time.Second },
			"min 1m0s is greater than max 1s"},
		{"no host", func(o *Options) { o.Mail.Host = "" }, "host is empty"},
		{"unknown TLS mode", func(o *Options) { o.Mail.TLS = "ssl" }, `invalid TLS mode "ssl"`},
		{"port out of range", func(o *Options) { o.Mail.Port = 70000 }, "invalid port 70000"},
		{"negative timeout", func(o *Options) { o.Mail.Timeout = -1 }, "negative timeout"},
		{"bad from", func(o *Options) { o.Mail.From = "not an address" }, `invalid from address "not an address"`},
		{"no recipient", func(o *Options) { o.Mail.To = nil }, "no recipient"},
		{"bad recipient", func(o *Options) { o.Mail.To = []string{"ops@example.com", "@"} }, `invalid to address "@"`},
		{"password without username", func(o *Options) { o.Mail.Password = secret },
			"password is set but username is empty"},
		{"username without password", func(o *Options) { o.Mail.Username = "tend" },
			`username "tend" is set but password is empty`},
		{"password in clear text", func(o *Options) {
			o.Mail.TLS, o.Mail.Username, o.Mail.Password = TLSNone, "tend", secret
		}, "would send the password in clear text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{StateDir: t.TempDir(), Logger: logger, Mail: validMail()}
			tt.edit(&o)
			err := o.validate()
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

func TestOptionsValidateDefaults(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	tests := []struct {
		name     string
		tls      TLSMode
		wantTLS  TLSMode
		wantPort int
	}{
		{"empty is starttls", "", TLSStartTLS, 587},
		{"none", TLSNone, TLSNone, 25},
		{"tls", TLSImplicit, TLSImplicit, 465},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mail := validMail()
			mail.TLS = tt.tls
			o := Options{StateDir: "/state", Logger: logger, Mail: mail}
			if err := o.validate(); err != nil {
				t.Fatalf("validate() error = %v", err)
			}
			if o.Mail.TLS != tt.wantTLS || o.Mail.Port != tt.wantPort {
				t.Errorf("validate() set TLS %q port %d, want %q port %d",
					o.Mail.TLS, o.Mail.Port, tt.wantTLS, tt.wantPort)
			}
			if o.Mail.Timeout != DefaultMailTimeout {
				t.Errorf("validate() set Timeout %s, want %s", o.Mail.Timeout, DefaultMailTimeout)
			}
			if o.RetryMin != DefaultRetryMin || o.RetryMax != DefaultRetryMax {
				t.Errorf("validate() set retry %s..%s, want %s..%s",
					o.RetryMin, o.RetryMax, DefaultRetryMin, DefaultRetryMax)
			}
			if mail.Port != 0 {
				t.Errorf("validate() changed the caller's MailOptions: Port = %d", mail.Port)
			}
		})
	}
}

func TestOptionsPlainTextPasswordOnLoopback(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		mail := validMail()
		mail.Host, mail.TLS, mail.Username, mail.Password = host, TLSNone, "tend", "pw"
		o := Options{StateDir: "/state", Logger: logger, Mail: mail}
		if err := o.validate(); err != nil {
			t.Errorf("validate() with TLS none and a username on %s = %v, want nil", host, err)
		}
	}
}

func TestParseTLSMode(t *testing.T) {
	for _, word := range []string{"none", "starttls", "tls"} {
		m, err := ParseTLSMode(word)
		if err != nil || m.String() != word {
			t.Errorf("ParseTLSMode(%q) = %q, %v, want %q, nil", word, m, err, word)
		}
	}
	for _, word := range []string{"", "STARTTLS", "ssl"} {
		if _, err := ParseTLSMode(word); err == nil {
			t.Errorf("ParseTLSMode(%q) error = nil, want an error", word)
		}
	}
}

func TestMailOptionsLogValueHidesPassword(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	mail := validMail()
	mail.Username, mail.Password = "tend", "hunter2-secret"
	logger.Info("mail settings", "mail", mail)
	if strings.Contains(buf.String(), "hunter2") {
		t.Errorf("logged MailOptions contain the password: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "mail.username=tend") {
		t.Errorf("logged MailOptions lack the username: %s", buf.String())
	}
}
