package alert

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"text/template"
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
	// server without it fails, so the message is never sent unencrypted.
	TLSStartTLS TLSMode = "starttls"
	// TLSStartTLSOptional uses STARTTLS when the server offers it and clear text
	// otherwise. Over clear text, PLAIN and LOGIN authentication are rejected unless the
	// host is loopback (see isLoopback), so the password stays encrypted.
	TLSStartTLSOptional TLSMode = "starttls_optional"
	// TLSImplicit starts TLS before the first SMTP byte (SMTPS, usually port 465).
	TLSImplicit TLSMode = "tls"
)

// ParseTLSMode returns the TLSMode named s: "none", "starttls", "starttls_optional" or
// "tls". Any other word returns an error that lists the valid ones.
func ParseTLSMode(s string) (TLSMode, error) {
	m := TLSMode(s)
	if !m.valid() {
		return "", fmt.Errorf("invalid TLS mode %q: want none, starttls, starttls_optional or tls", s)
	}
	return m, nil
}

// String returns the mode's word.
func (m TLSMode) String() string { return string(m) }

func (m TLSMode) valid() bool {
	return m == TLSNone || m == TLSStartTLS || m == TLSStartTLSOptional || m == TLSImplicit
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
	// Mail configures SMTP delivery. When it is nil and Routes is empty, Run logs each
	// event and removes it from the queue.
	Mail *MailOptions
	// Routes lists where events go. When it is empty, every event goes to the
	// recipients of Mail, through the queue "outbox".
	Routes []Route
	// Logger receives delivery results. Required.
	Logger *slog.Logger

	// RetryMin is the wait after the first failed attempt of a message, and each further
	// failure doubles it up to RetryMax. The defaults are DefaultRetryMin and
	// DefaultRetryMax.
	RetryMin time.Duration
	RetryMax time.Duration

	// DigestWindow is how long the first event of a burst waits for more; the events
	// queued by then go out as one digest. Zero sends each event at once.
	DigestWindow time.Duration
	// MaxPerHour caps the messages sent within any hour; zero means no cap. What the
	// cap holds back goes out as one digest when it allows another message.
	MaxPerHour int
	// QueueLimit caps the events waiting for delivery; zero means no limit. At the
	// limit Send discards the oldest waiting event, and the next message delivered
	// reports how many were discarded.
	QueueLimit int
}

// MailOptions configure SMTP delivery: the servers, tried in order, and the addresses.
//
// Servers lists the servers. When it is empty, the fields from Host to TLSConfig
// describe the only server, with the meaning of the ServerOptions fields of the same
// names. Setting both is an error.
type MailOptions struct {
	Servers []ServerOptions

	Host      string
	Port      int
	TLS       TLSMode
	Auth      AuthMechanism
	Username  string
	Password  string
	Timeout   time.Duration
	TLSConfig *tls.Config

	// From is the sender address, To the recipients: each a single RFC 5322 address
	// such as "tend@example.com" or "Tend <tend@example.com>".
	From string
	To   []string

	// SubjectTemplate and BodyTemplate, made by ParseTemplate, replace the default
	// subject and body of a message about one event when they are not nil.
	SubjectTemplate *template.Template
	BodyTemplate    *template.Template
	// DigestSubjectTemplate and DigestBodyTemplate, made by ParseDigestTemplate,
	// replace the default subject and body of a digest when they are not nil.
	DigestSubjectTemplate *template.Template
	DigestBodyTemplate    *template.Template
}

// LogValue returns the options without any password, so that logging a MailOptions
// value never prints one. The only server of empty Servers appears as the fields of the
// group, and the servers of Servers as the groups server1, server2 and so on.
func (m MailOptions) LogValue() slog.Value {
	var attrs []slog.Attr
	if len(m.Servers) == 0 {
		attrs = m.onlyServer().LogValue().Group()
	}
	for i, s := range m.Servers {
		attrs = append(attrs, slog.Any("server"+strconv.Itoa(i+1), s))
	}
	attrs = append(attrs, slog.String("from", m.From), slog.Any("to", m.To))
	return slog.GroupValue(attrs...)
}

// servers returns the servers in the order delivery tries them.
func (m *MailOptions) servers() []ServerOptions {
	if len(m.Servers) == 0 {
		return []ServerOptions{m.onlyServer()}
	}
	return m.Servers
}

// onlyServer returns the server that the fields of m describe when Servers is empty.
func (m *MailOptions) onlyServer() ServerOptions {
	return ServerOptions{
		Host: m.Host, Port: m.Port, TLS: m.TLS, Auth: m.Auth, Username: m.Username,
		Password: m.Password, Timeout: m.Timeout, TLSConfig: m.TLSConfig,
	}
}

func (m *MailOptions) setOnlyServer(s ServerOptions) {
	m.Host, m.Port, m.TLS, m.Auth = s.Host, s.Port, s.TLS, s.Auth
	m.Username, m.Password, m.Timeout, m.TLSConfig = s.Username, s.Password, s.Timeout, s.TLSConfig
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
	if o.Mail != nil {
		mail := *o.Mail
		if err := mail.validate(len(o.Routes) > 0); err != nil {
			return fmt.Errorf("alert: mail: %w", err)
		}
		o.Mail = &mail
	}
	routes := slices.Clone(o.Routes)
	seen := map[string]bool{}
	for i := range routes {
		r := &routes[i]
		if seen[r.Name] {
			return fmt.Errorf("alert: two routes named %q", r.Name)
		}
		seen[r.Name] = true
		if r.Webhook != nil {
			w := *r.Webhook
			r.Webhook = &w
		}
		if err := r.validate(o.Mail != nil); err != nil {
			return fmt.Errorf("alert: route %q: %w", r.Name, err)
		}
		if len(r.To) > 0 {
			if err := validateRecipients(r.To); err != nil {
				return fmt.Errorf("alert: route %q: %w", r.Name, err)
			}
		}
	}
	o.Routes = routes
	return nil
}

// validate checks m and fills in defaults. It never puts a password in an error.
// routed is true when routes name the recipients, and To may then be empty.
func (m *MailOptions) validate(routed bool) error {
	if len(m.Servers) == 0 {
		s := m.onlyServer()
		if err := s.validate(); err != nil {
			return err
		}
		m.setOnlyServer(s)
		return m.validateAddresses(routed)
	}

	if m.onlyServer() != (ServerOptions{}) {
		return errors.New("both Servers and the server fields (Host, Port, TLS, Auth, Username, " +
			"Password, Timeout, TLSConfig) are set: describe every server in Servers")
	}
	servers := slices.Clone(m.Servers)
	for i := range servers {
		if err := servers[i].validate(); err != nil {
			return fmt.Errorf("server %d (%s): %w", i+1, servers[i].Host, err)
		}
	}
	m.Servers = servers
	return m.validateAddresses(routed)
}

func (m *MailOptions) validateAddresses(routed bool) error {
	if _, err := mail.ParseAddress(m.From); err != nil {
		return fmt.Errorf("invalid from address %q: %w", m.From, err)
	}
	if routed && len(m.To) == 0 {
		return nil
	}
	return validateRecipients(m.To)
}

// validateRecipients checks a list of recipients.
func validateRecipients(list []string) error {
	if len(list) == 0 {
		return errors.New("no recipient: to is empty")
	}
	for _, to := range list {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("invalid to address %q: %w", to, err)
		}
	}
	return nil
}

// isLoopback reports whether host is one of the names to which PLAIN and LOGIN may send
// the password without TLS. go-mail v0.8.1 (smtp/auth.go) accepts the same names.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
