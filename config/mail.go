package config

import (
	"net/mail"
	"os"
	"strings"
)

// decodeMail decodes the [mail] table of the main file.
func (l *loader) decodeMail(t *table) *Mail {
	m := &Mail{
		TLS:     DefaultMailTLS,
		Timeout: Duration(DefaultMailTimeout),
		Pos:     Position{File: t.f.name, Line: t.line()},
	}
	t.rejectUnknown("host", "port", "tls", "username", "password", "password_env", "password_file",
		"from", "to", "timeout")

	if !t.has("host") {
		t.missing("host", "the SMTP server's host name or IP address")
	} else if t.str("host", &m.Host) && m.Host == "" {
		t.errorf("host", "empty: want the SMTP server's host name or IP address")
	}
	t.text("tls", &m.TLS, `"starttls"`)
	m.Port = m.TLS.DefaultPort()
	if t.integer("port", &m.Port) && (m.Port < 1 || m.Port > 65535) {
		t.errorf("port", "%d is out of range: want a port from 1 to 65535", m.Port)
	}
	decodeTimeout(t, "timeout", &m.Timeout)

	l.decodeCredentials(t, m)
	decodeAddresses(t, m)
	return m
}

// decodeCredentials decodes the username and the one key that gives the password.
func (l *loader) decodeCredentials(t *table, m *Mail) {
	if t.str("username", &m.Username) && m.Username == "" {
		t.errorf("username", "empty: leave the key out when the server needs no authentication")
	}

	var sources []string
	for _, key := range []string{"password", "password_env", "password_file"} {
		if t.has(key) {
			sources = append(sources, key)
		}
	}
	if len(sources) == 0 {
		if m.Username != "" {
			t.errorf("username", "set without a password: add password, password_env or password_file, "+
				"or remove username")
		}
		return
	}
	if len(sources) > 1 {
		t.errorf(sources[1], "cannot be combined with %s: set only one of password, password_env "+
			"and password_file", sources[0])
		return
	}

	if password, ok := l.readPassword(t, sources[0]); ok {
		m.Password = NewSecret(password)
	}
	if !t.has("username") {
		// The alert package authenticates only with a username, so the password would
		// go unused.
		t.errorf(sources[0], "set without username: add username, or remove %s", sources[0])
	}
	if m.Username != "" && m.TLS == TLSNone && !isLoopback(m.Host) {
		t.errorf("tls", "none would send the password in clear text to %s: use starttls or tls, "+
			"or a server on localhost", m.Host)
	}
}

// readPassword returns the password from the key source: the password itself, an
// environment variable or a file. Its errors name the variable or file, never the
// password.
func (l *loader) readPassword(t *table, source string) (string, bool) {
	var value string
	if !t.str(source, &value) {
		return "", false
	}
	switch source {
	case "password_env":
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
	case "password_file":
		if value == "" {
			t.errorf(source, "empty: want the path of a file that contains the password")
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
		t.errorf(source, "empty: want the password, or use password_env or password_file")
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

	if !t.has("to") {
		t.missing("to", `an array of recipient addresses, such as ["ops@example.com"]`)
		return
	}
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
