package alert

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"time"
)

// Defaults applied by New when a field is zero.
const (
	DefaultRetryMin    = time.Second
	DefaultRetryMax    = 5 * time.Minute
	DefaultMailTimeout = 15 * time.Second
)

// Default SMTP ports per TLS mode.
const (
	DefaultPortNone     = 25
	DefaultPortStartTLS = 587
	DefaultPortTLS      = 465
)

// TLSMode selects how the SMTP connection is encrypted.
type TLSMode string

// TLS modes.
const (
	// TLSNone sends everything in clear text.
	TLSNone TLSMode = "none"
	// TLSStartTLS connects in clear text and requires the server to offer STARTTLS. A
	// server without it fails the attempt, so the message is never sent unencrypted.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit starts TLS before the first SMTP byte (SMTPS, usually port 465).
	TLSImplicit TLSMode = "tls"
)

// ParseTLSMode returns the TLSMode named s: "none", "starttls" or "tls". Any other word
// returns an error that lists the valid ones.
func ParseTLSMode(s string) (TLSMode, error) {
	m := TLSMode(s)
	if !m.valid() {
		return "", fmt.Errorf("invalid TLS mode %q: want none, starttls or tls", s)
	}
	return m, nil
}

// String returns the mode's word.
func (m TLSMode) String() string { return string(m) }

func (m TLSMode) valid() bool {
	return m == TLSNone || m == TLSStartTLS || m == TLSImplicit
}

func (m TLSMode) defaultPort() int {
	switch m {
	case TLSNone:
		return DefaultPortNone
	case TLSImplicit:
		return DefaultPortTLS
	}
	return DefaultPortStartTLS
}

// Options configure a Notifier. StateDir and Logger are required.
type Options struct {
	// StateDir is the daemon's state directory. The queue is its subdirectory "outbox",
	// created with mode 0700, and messages the server rejected for good are moved to
	// "outbox/dead".
	StateDir string
	// Mail configures SMTP delivery. When it is nil, Run logs each event and removes it
	// from the queue.
	Mail *MailOptions
	// Logger receives delivery results. Required.
	Logger *slog.Logger

	// RetryMin is the wait after the first failed attempt of a message, and each further
	// failure doubles it up to RetryMax. The defaults are DefaultRetryMin and
	// DefaultRetryMax.
	RetryMin time.Duration
	RetryMax time.Duration
}

// MailOptions configure SMTP delivery.
type MailOptions struct {
	// Host is the SMTP server's name or IP address. It is also the name its TLS
	// certificate must carry, unless TLSConfig sets ServerName.
	Host string
	// Port defaults by TLS mode: 25 for none, 587 for starttls, 465 for tls.
	Port int
	// TLS defaults to TLSStartTLS.
	TLS TLSMode

	// Username enables SMTP AUTH PLAIN when it is not empty. The password then goes
	// over TLS only, so TLSNone with a username is accepted only for a loopback Host.
	Username string
	// Password is never logged and never part of an error text.
	Password string

	// From is the sender address, To the recipients: each a single RFC 5322 address
	// such as "tend@example.com" or "Tend <tend@example.com>".
	From string
	To   []string

	// Timeout bounds one delivery attempt as a whole: the dial, the TLS handshake and
	// the SMTP dialogue. The default is DefaultMailTimeout.
	Timeout time.Duration

	// TLSConfig, when not nil, is used for TLS instead of a configuration that trusts
	// the system's roots. Its ServerName defaults to Host.
	TLSConfig *tls.Config
}

// LogValue returns the options without the password, so that logging a MailOptions
// value never prints it.
func (m MailOptions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", m.Host), slog.Int("port", m.Port),
		slog.String("tls", m.TLS.String()), slog.String("username", m.Username),
		slog.String("from", m.From), slog.Any("to", m.To),
		slog.Duration("timeout", m.Timeout))
}

// validate checks o and fills in defaults.
func (o *Options) validate() error {
	switch {
	case o.StateDir == "":
		return errors.New("alert: Options.StateDir is empty")
	case o.Logger == nil:
		return errors.New("alert: Options.Logger is nil")
	case o.RetryMin < 0 || o.RetryMax < 0:
		return fmt.Errorf("alert: negative retry backoff (min %s, max %s)", o.RetryMin, o.RetryMax)
	}
	if o.RetryMin == 0 {
		o.RetryMin = DefaultRetryMin
	}
	if o.RetryMax == 0 {
		o.RetryMax = max(DefaultRetryMax, o.RetryMin)
	}
	if o.RetryMin > o.RetryMax {
		return fmt.Errorf("alert: retry backoff min %s is greater than max %s", o.RetryMin, o.RetryMax)
	}
	if o.Mail == nil {
		return nil
	}
	mail := *o.Mail
	if err := mail.validate(); err != nil {
		return fmt.Errorf("alert: mail: %w", err)
	}
	o.Mail = &mail
	return nil
}

// validate checks m and fills in defaults. It never puts the password in an error.
func (m *MailOptions) validate() error {
	if m.Host == "" {
		return errors.New("host is empty")
	}
	if m.TLS == "" {
		m.TLS = TLSStartTLS
	}
	if !m.TLS.valid() {
		return fmt.Errorf("invalid TLS mode %q: want none, starttls or tls", m.TLS)
	}
	if m.Port == 0 {
		m.Port = m.TLS.defaultPort()
	}
	if m.Port < 1 || m.Port > 65535 {
		return fmt.Errorf("invalid port %d: want 1 to 65535", m.Port)
	}
	if m.Timeout < 0 {
		return fmt.Errorf("negative timeout %s", m.Timeout)
	}
	if m.Timeout == 0 {
		m.Timeout = DefaultMailTimeout
	}
	if err := m.validateAuth(); err != nil {
		return err
	}
	return m.validateAddresses()
}

func (m *MailOptions) validateAuth() error {
	if m.Username == "" {
		if m.Password != "" {
			return errors.New("password is set but username is empty")
		}
		return nil
	}
	if m.Password == "" {
		return fmt.Errorf("username %q is set but password is empty", m.Username)
	}
	if m.TLS == TLSNone && !isLoopback(m.Host) {
		return fmt.Errorf("username is set with TLS mode none on %s, which would send the password "+
			"in clear text: use starttls or tls", m.Host)
	}
	return nil
}

func (m *MailOptions) validateAddresses() error {
	if _, err := mail.ParseAddress(m.From); err != nil {
		return fmt.Errorf("invalid from address %q: %w", m.From, err)
	}
	if len(m.To) == 0 {
		return errors.New("no recipient: to is empty")
	}
	for _, to := range m.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("invalid to address %q: %w", to, err)
		}
	}
	return nil
}

// isLoopback reports whether host is one of the names for which go-mail's PLAIN
// authentication (v0.8.1, smtp/auth.go) sends the password without TLS.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
