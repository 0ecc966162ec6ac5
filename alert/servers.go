package alert

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// ServerOptions describe one SMTP server of MailOptions.
type ServerOptions struct {
	// Host is the SMTP server's name or IP address. It is also the name its TLS
	// certificate must carry, unless TLSConfig sets ServerName.
	Host string
	// Port defaults by TLS mode: 25 for none, 587 for starttls and starttls_optional,
	// 465 for tls.
	Port int
	// TLS defaults to TLSStartTLS.
	TLS TLSMode

	// Username enables SMTP AUTH when it is not empty, with the mechanism Auth, which
	// defaults to AuthAuto. PLAIN and LOGIN send the password itself, so they are used
	// only over TLS or to a loopback Host: TLSNone with a username is accepted only for
	// a loopback Host or with AuthCRAMMD5.
	Username string
	Auth     AuthMechanism
	// Password is never logged and never part of an error text.
	Password string

	// Timeout bounds the attempt at this server as a whole: the dial, the TLS
	// handshake and the SMTP dialogue. The default is DefaultMailTimeout.
	Timeout time.Duration

	// TLSConfig, when not nil, is used for TLS instead of a configuration that trusts
	// the system's roots. Its ServerName defaults to Host.
	TLSConfig *tls.Config
}

// LogValue returns the options without the password.
func (s ServerOptions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", s.Host), slog.Int("port", s.Port),
		slog.String("tls", s.TLS.String()), slog.String("auth", s.Auth.String()),
		slog.String("username", s.Username), slog.Duration("timeout", s.Timeout))
}

// validate checks s and fills in defaults. It never puts the password in an error.
func (s *ServerOptions) validate() error {
	if s.Host == "" {
		return errors.New("host is empty")
	}
	if s.TLS == "" {
		s.TLS = TLSStartTLS
	}
	if !s.TLS.valid() {
		return fmt.Errorf("invalid TLS mode %q: want none, starttls, starttls_optional or tls", s.TLS)
	}
	if s.Port == 0 {
		s.Port = s.TLS.defaultPort()
	}
	if s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("invalid port %d: want 1 to 65535", s.Port)
	}
	if s.Timeout < 0 {
		return fmt.Errorf("negative timeout %s", s.Timeout)
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultMailTimeout
	}
	return s.validateAuth()
}

func (s *ServerOptions) validateAuth() error {
	if s.Username == "" {
		switch {
		case s.Password != "":
			return errors.New("password is set but username is empty")
		case s.Auth != "":
			return fmt.Errorf("auth %q is set but username is empty", s.Auth)
		}
		return nil
	}
	if s.Password == "" {
		return fmt.Errorf("username %q is set but password is empty", s.Username)
	}
	if s.Auth == "" {
		s.Auth = AuthAuto
	}
	if !s.Auth.valid() {
		return fmt.Errorf("invalid auth mechanism %q: want auto, plain, login or cram-md5", s.Auth)
	}
	if s.TLS == TLSNone && s.Auth != AuthCRAMMD5 && !isLoopback(s.Host) {
		return fmt.Errorf("username is set with TLS mode none on %s, which would send the password "+
			"in clear text: use starttls or tls, or auth cram-md5", s.Host)
	}
	return nil
}

// AuthMechanism is the SASL mechanism of SMTP AUTH.
type AuthMechanism string

// Authentication mechanisms.
const (
	// AuthAuto uses the strongest of CRAM-MD5, PLAIN and LOGIN, in that order, that
	// the server offers. Over clear text to a host that is not loopback it uses only
	// CRAM-MD5, which never sends the password itself.
	AuthAuto AuthMechanism = "auto"
	// AuthPlain is PLAIN (RFC 4616): the password in one base64 line.
	AuthPlain AuthMechanism = "plain"
	// AuthLogin is LOGIN: the username and the password in two base64 lines.
	AuthLogin AuthMechanism = "login"
	// AuthCRAMMD5 is CRAM-MD5 (RFC 2195): an HMAC-MD5 of the server's challenge keyed
	// with the password.
	AuthCRAMMD5 AuthMechanism = "cram-md5"
)

// ParseAuthMechanism returns the AuthMechanism named s: "auto", "plain", "login" or
// "cram-md5". Any other word returns an error that lists the valid ones.
func ParseAuthMechanism(s string) (AuthMechanism, error) {
	a := AuthMechanism(s)
	if !a.valid() {
		return "", fmt.Errorf("invalid auth mechanism %q: want auto, plain, login or cram-md5", s)
	}
	return a, nil
}

// String returns the mechanism's word.
func (a AuthMechanism) String() string { return string(a) }

func (a AuthMechanism) valid() bool {
	return a == AuthAuto || a == AuthPlain || a == AuthLogin || a == AuthCRAMMD5
}

// saslName returns the SASL name of a, or "" for AuthAuto.
func (a AuthMechanism) saslName() string {
	switch a {
	case AuthPlain:
		return saslPlain
	case AuthLogin:
		return saslLogin
	case AuthCRAMMD5:
		return saslCRAMMD5
	}
	return ""
}

// SASL names of the mechanisms, as servers list them after AUTH in the EHLO reply.
const (
	saslPlain   = "PLAIN"
	saslLogin   = "LOGIN"
	saslCRAMMD5 = "CRAM-MD5"
)

// errClearTextPassword is the failure of PLAIN or LOGIN over an unencrypted connection
// to a host that is not loopback.
var errClearTextPassword = errors.New("the connection is not encrypted and the host is not " +
	"loopback, so PLAIN and LOGIN would send the password in clear text")

// serverAuth authenticates with the configured mechanism, or for AuthAuto with one it
// chooses from the server's EHLO reply. It implements go-mail's smtp.Auth (v0.8.1),
// whose Start receives that reply. A new serverAuth serves one connection.
type serverAuth struct {
	mechanism          AuthMechanism
	host               string
	username, password string
	// chosen is go-mail's implementation of the mechanism that Start picked.
	chosen smtp.Auth
}

// Start picks the mechanism and begins the exchange. It returns an error, and sends
// nothing, when the server does not offer the mechanism, or when the mechanism would
// send the password in clear text.
func (a *serverAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	clearTextOK := server.TLS || isLoopback(a.host)
	mech, err := a.pick(server.Auth, clearTextOK)
	if err != nil {
		return "", nil, err
	}
	switch mech {
	case saslCRAMMD5:
		a.chosen = smtp.CRAMMD5Auth(a.username, a.password)
	case saslPlain:
		a.chosen = smtp.PlainAuth("", a.username, a.password, a.host, false)
	default:
		a.chosen = smtp.LoginAuth(a.username, a.password, a.host, false)
	}
	return a.chosen.Start(server)
}

// Next continues the exchange of the mechanism that Start picked.
func (a *serverAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.chosen.Next(fromServer, more)
}

// pick returns the SASL name of the mechanism to use among offered. clearTextOK is
// whether PLAIN and LOGIN may be used.
func (a *serverAuth) pick(offered []string, clearTextOK bool) (string, error) {
	if len(offered) == 0 {
		return "", errors.New("server offers no AUTH mechanism")
	}
	has := func(name string) bool {
		return slices.ContainsFunc(offered, func(o string) bool { return strings.EqualFold(o, name) })
	}
	list := strings.Join(offered, " ")

	if want := a.mechanism.saslName(); want != "" {
		switch {
		case !has(want):
			return "", fmt.Errorf("server does not offer AUTH %s, only %s", want, list)
		case want != saslCRAMMD5 && !clearTextOK:
			return "", errClearTextPassword
		}
		return want, nil
	}

	for _, name := range []string{saslCRAMMD5, saslPlain, saslLogin} {
		if has(name) && (name == saslCRAMMD5 || clearTextOK) {
			return name, nil
		}
	}
	if has(saslPlain) || has(saslLogin) {
		return "", errClearTextPassword
	}
	return "", fmt.Errorf("server offers AUTH %s, none of CRAM-MD5, PLAIN and LOGIN", list)
}
