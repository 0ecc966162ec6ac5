package config

import (
	"fmt"
	"net/mail"
	"os"
	"slices"
	"strings"
)

// mailServerKeys are the keys of one SMTP server, in the [mail] table or in a
// [[mail.server]] entry.
var mailServerKeys = []string{
	"host", "port", "tls", "auth", "username", "password", "password_env", "password_file", "timeout",
}

// decodeMail decodes the [mail] table of the main file.
func (l *loader) decodeMail(t *table) *Mail {
	m := &Mail{Pos: Position{File: t.f.name, Line: t.line()}}
	t.rejectUnknown(append(slices.Clone(mailServerKeys), "server", "from", "to")...)

	if t.has("server") {
		m.Servers = l.decodeMailServers(t)
	} else {
		s := l.decodeMailServer(t, "the SMTP server's host name or IP address, or [[mail.server]] entries")
		m.Servers = []MailServer{s}
	}
	decodeAddresses(t, m)
	l.mailTo = t.has("to")
	return m
}

// decodeMailServers decodes the [[mail.server]] entries of the [mail] table t, and
// rejects the server keys in t itself.
func (l *loader) decodeMailServers(t *table) []MailServer {
	for _, key := range mailServerKeys {
		if t.has(key) {
			t.errorf(key, "cannot be combined with [[mail.server]]: set %s in each [[mail.server]] "+
				"entry, or remove the entries", key)
		}
	}
	if isEmptyArray(t.values["server"]) {
		t.errorf("server", "empty: want at least one [[mail.server]] entry")
		return nil
	}

	var servers []MailServer
	for i, entry := range t.entries("server", "[[mail.server]]") {
		entry.prefix = fmt.Sprintf("%sserver %d ", t.prefix, i+1)
		entry.rejectUnknown(mailServerKeys...)
		servers = append(servers, l.decodeMailServer(entry, "the SMTP server's host name or IP address"))
	}
	return servers
}

// decodeMailServer decodes the server keys of t. wantHost describes the host key in
// the error when it is missing.
func (l *loader) decodeMailServer(t *table, wantHost string) MailServer {
	s := MailServer{
		TLS:     DefaultMailTLS,
		Auth:    MailAuthAuto,
		Timeout: Duration(DefaultMailTimeout),
		Pos:     Position{File: t.f.name, Line: t.line()},
	}
	if !t.has("host") {
		t.missing("host", wantHost)
	} else if t.str("host", &s.Host) && s.Host == "" {
		t.errorf("host", "empty: want the SMTP server's host name or IP address")
	}
	decodeMailTLS(t, &s)
	s.Port = s.TLS.DefaultPort()
	if t.integer("port", &s.Port) && (s.Port < 1 || s.Port > 65535) {
		t.errorf("port", "%d is out of range: want a port from 1 to 65535", s.Port)
	}
	decodeTimeout(t, "timeout", &s.Timeout)

	l.decodeCredentials(t, &s)
	return s
}

// decodeMailTLS decodes the tls key, which takes the words of TLSMode and
// "starttls_optional".
func decodeMailTLS(t *table, s *MailServer) {
	var word string
	if !t.str("tls", &word) {
		return
	}
	if word == "starttls_optional" {
		s.TLS, s.TLSOptional = TLSStartTLS, true
		return
	}
	if err := s.TLS.UnmarshalText([]byte(word)); err != nil {
		t.errorf("tls", "unknown TLS mode %q: want none, starttls, starttls_optional or tls", word)
	}
}

// decodeCredentials decodes the username, the auth mechanism and the one key that
// gives the password.
func (l *loader) decodeCredentials(t *table, s *MailServer) {
	if t.str("username", &s.Username) && s.Username == "" {
		t.errorf("username", "empty: leave the key out when the server needs no authentication")
	}
	if t.text("auth", &s.Auth, `"auto"`) && !t.has("username") {
		t.errorf("auth", "set without username: add username, or remove auth")
	}

	source, ok := oneSource(t, "password")
	if !ok {
		if s.Username != "" && !t.has("password_env") && !t.has("password_file") && !t.has("password") {
			t.errorf("username", "set without a password: add password, password_env or password_file, "+
				"or remove username")
		}
		return
	}

	if password, ok := l.readSecret(t, source, "password"); ok {
		s.Password = NewSecret(password)
	}
	if !t.has("username") {
		// The alert package authenticates only with a username, so the password would
		// go unused.
		t.errorf(source, "set without username: add username, or remove %s", source)
	}
	// CRAM-MD5 sends a digest of the password, never the password itself.
	if s.Username != "" && s.TLS == TLSNone && s.Auth != MailAuthCRAMMD5 && !isLoopback(s.Host) {
		t.errorf("tls", "none would send the password in clear text to %s: use starttls or tls, "+
			`auth = "cram-md5", or a server on localhost`, s.Host)
	}
}

// readSecret returns a secret from the key source: the secret itself (key NAME), an
// environment variable (NAME_env) or a file (NAME_file). what names the secret in
// errors, which name the variable or file, never the secret.
func (l *loader) readSecret(t *table, source, what string) (string, bool) {
	var value string
	if !t.str(source, &value) {
		return "", false
	}
	base := strings.TrimSuffix(strings.TrimSuffix(source, "_env"), "_file")
	switch source {
	case base + "_env":
		name := value
		var set bool
		if value, set = os.LookupEnv(name); !set {
			t.errorf(source, "environment variable %q is not set", name)
			return "", false
		}
		if value == "" {
			t.errorf(source, "environment variable %q is empty", name)
			return "", false
		}
	case base + "_file":
		if value == "" {
			t.errorf(source, "empty: want the path of a file that contains the %s", what)
			return "", false
		}
		path := t.f.resolve(value)
		data, err := l.read(path)
		if err != nil {
			t.errorf(source, "cannot read %q: %s", path, describeReadError(err))
			return "", false
		}
		value = strings.TrimRight(string(data), "\r\n")
		if value == "" {
			t.errorf(source, "file %q is empty", path)
			return "", false
		}
	}
	if value == "" {
		t.errorf(source, "empty: want the %s, or use %s_env or %s_file", what, base, base)
		return "", false
	}
	return value, true
}

// isLoopback reports whether host is one of the names to which the alert package
// sends a password without TLS. It must stay the same as the alert package's rule.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// decodeAddresses decodes the sender and the recipients.
func decodeAddresses(t *table, m *Mail) {
	if !t.has("from") {
		t.missing("from", `the sender address, such as "tend@example.com"`)
	} else if t.str("from", &m.From) {
		if _, err := mail.ParseAddress(m.From); err != nil {
			t.errorf("from", "invalid address %q: %v", m.From, err)
		}
	}

	// Without to, routes name the recipients; checkRecipients checks that some do.
	if !t.strs("to", &m.To, `["ops@example.com"]`) {
		return
	}
	if len(m.To) == 0 {
		t.errorf("to", `empty: want at least one recipient address, such as ["ops@example.com"]`)
	}
	for i, address := range m.To {
		if _, err := mail.ParseAddress(address); err != nil {
			t.f.add(t.itemLine("to", i), t.keyName("to"), "item %d: invalid address %q: %v", i+1, address, err)
		}
	}
}

// MailAuth is the SMTP AUTH mechanism of a mail server. The zero value is invalid.
type MailAuth int

// SMTP AUTH mechanisms, written auto, plain, login and cram-md5.
const (
	// MailAuthAuto uses the strongest of CRAM-MD5, PLAIN and LOGIN that the server
	// offers.
	MailAuthAuto MailAuth = iota + 1
	// MailAuthPlain is PLAIN (RFC 4616).
	MailAuthPlain
	// MailAuthLogin is LOGIN.
	MailAuthLogin
	// MailAuthCRAMMD5 is CRAM-MD5 (RFC 2195).
	MailAuthCRAMMD5
)

// String returns the word for a: auto, plain, login or cram-md5.
func (a MailAuth) String() string {
	switch a {
	case MailAuthAuto:
		return "auto"
	case MailAuthPlain:
		return "plain"
	case MailAuthLogin:
		return "login"
	case MailAuthCRAMMD5:
		return "cram-md5"
	}
	return fmt.Sprintf("MailAuth(%d)", int(a))
}

// MarshalText returns the word for a.
func (a MailAuth) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses auto, plain, login or cram-md5.
func (a *MailAuth) UnmarshalText(text []byte) error {
	return parseWord(a, "auth mechanism", text, MailAuthAuto, MailAuthPlain, MailAuthLogin, MailAuthCRAMMD5)
}
