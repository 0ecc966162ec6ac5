package config

import (
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// DefaultHTTPListen is the address of the HTTP server when [http] does not set listen.
const DefaultHTTPListen = "127.0.0.1:2812"

// HTTP contains the [http] settings of the main file: the status page, the JSON API and
// the metrics.
type HTTP struct {
	// Listen is the host:port the HTTP server listens on. Port 0 picks a free port.
	// Load rejects a host other than a loopback address or localhost when Users is
	// empty, because every caller would then be anonymous.
	Listen string
	// TLSCert and TLSKey are the paths of a PEM certificate chain and its private key.
	// Both are empty, and the server speaks plain HTTP, or both are set.
	TLSCert, TLSKey string
	// Users lists the accounts of HTTP Basic authentication, in file order, with
	// unique names. Without users, every caller of a loopback listener is anonymous
	// and read-only.
	Users []HTTPUser
	// Pos is the position of the [http] header.
	Pos Position
}

// HTTPUser is one [[http.user]] entry.
type HTTPUser struct {
	// Name is the Basic authentication user name: not empty, without ":".
	Name string
	// PasswordHash is a bcrypt hash, from password_hash or read from
	// password_hash_file. It is masked when printed.
	PasswordHash Secret
	Role         HTTPRole
	// Pos is the position of the [[http.user]] entry.
	Pos Position
}

// HTTPRole is the permission level of an HTTP user. The zero value is invalid.
type HTTPRole int

// HTTP roles, written read-only and admin.
const (
	// HTTPReadOnly may read the status page, the JSON API and the metrics.
	HTTPReadOnly HTTPRole = iota + 1
	// HTTPAdmin may also start, stop, restart, monitor and unmonitor services.
	HTTPAdmin
)

// String returns the word for r: read-only or admin.
func (r HTTPRole) String() string {
	switch r {
	case HTTPReadOnly:
		return "read-only"
	case HTTPAdmin:
		return "admin"
	}
	return fmt.Sprintf("HTTPRole(%d)", int(r))
}

// MarshalText returns the word for r.
func (r HTTPRole) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses read-only or admin.
func (r *HTTPRole) UnmarshalText(text []byte) error {
	return parseWord(r, "role", text, HTTPReadOnly, HTTPAdmin)
}

// httpUserKeys are the keys of a [[http.user]] entry.
var httpUserKeys = []string{"name", "password_hash", "password_hash_file", "role"}

// decodeHTTP decodes the [http] table of the main file; it returns nil when the table
// is absent.
func (l *loader) decodeHTTP(root *table) *HTTP {
	t, ok := root.sub("http", "[http]")
	if !ok {
		return nil
	}
	h := &HTTP{Listen: DefaultHTTPListen, Pos: Position{File: t.f.name, Line: t.line()}}
	t.rejectUnknown("listen", "tls_cert", "tls_key", "user")

	listenOK := true
	if t.str("listen", &h.Listen) {
		listenOK = checkListen(t, h.Listen)
	}
	decodeHTTPTLS(t, h)
	var declared int
	h.Users, declared = l.decodeHTTPUsers(t)

	// With invalid entries the users are reported already, and not missing.
	if listenOK && declared == 0 && !isLoopbackListen(h.Listen) {
		t.errorf("listen", "refuses to listen on %s without [[http.user]] entries: anyone who "+
			"reaches the port could read the status; add [[http.user]] entries, or listen on "+
			"127.0.0.1 or [::1]", h.Listen)
	}
	return h
}

// checkListen reports whether listen is a valid host:port, and reports the error at
// the listen key when it is not.
func checkListen(t *table, listen string) bool {
	const want = `want host:port, such as "127.0.0.1:2812" or "[::1]:2812"`
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.errorf("listen", "invalid address %q: %s", listen, want)
		return false
	}
	if _, ok := parsePort(port); !ok {
		t.errorf("listen", "invalid port %q in %q: want a number from 0 to 65535, 0 for any free port",
			port, listen)
		return false
	}
	if host != "" && strings.ContainsAny(host, " /") {
		t.errorf("listen", "invalid host %q in %q: %s", host, listen, want)
		return false
	}
	return true
}

// parsePort parses a decimal port from 0 to 65535.
func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 65535
}

// isLoopbackListen reports whether the host of a host:port is localhost or a loopback
// IP address. An empty host listens on every interface, so it is not loopback.
func isLoopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// decodeHTTPTLS decodes tls_cert and tls_key, which go together.
func decodeHTTPTLS(t *table, h *HTTP) {
	certOK := t.resolvePath("tls_cert", &h.TLSCert)
	keyOK := t.resolvePath("tls_key", &h.TLSKey)
	switch {
	case certOK && !t.has("tls_key"):
		t.errorf("tls_cert", "set without tls_key: add tls_key with the path of the private key, "+
			"or remove tls_cert")
	case keyOK && !t.has("tls_cert"):
		t.errorf("tls_key", "set without tls_cert: add tls_cert with the path of the certificate, "+
			"or remove tls_key")
	}
	if !certOK || !keyOK {
		h.TLSCert, h.TLSKey = "", ""
	}
}

// decodeHTTPUsers decodes the [[http.user]] entries of the [http] table t. It returns
// the valid users and the count of entries, valid or not.
func (l *loader) decodeHTTPUsers(t *table) (users []HTTPUser, declared int) {
	first := map[string]int{}
	entries := t.entries("user", "[[http.user]]")
	for i, entry := range entries {
		entry.prefix = fmt.Sprintf("%suser %d ", t.prefix, i+1)
		u, ok := l.decodeHTTPUser(entry)
		if line, dup := first[u.Name]; dup && u.Name != "" {
			entry.errorf("name", "duplicate user name %q: first declared at line %d", u.Name, line)
			continue
		}
		first[u.Name] = entry.keyLine("name")
		if ok {
			users = append(users, u)
		}
	}
	return users, len(entries)
}

// decodeHTTPUser decodes one [[http.user]] entry and reports whether it is valid.
func (l *loader) decodeHTTPUser(t *table) (HTTPUser, bool) {
	u := HTTPUser{Pos: Position{File: t.f.name, Line: t.line()}}
	errsBefore := len(t.f.errs)
	if t.has("password") {
		t.errorf("password", "plain passwords are not accepted: run `tend hash-password` and "+
			"set password_hash to the bcrypt hash it prints")
	}
	rest := &table{f: t.f, path: t.path, prefix: t.prefix, values: map[string]any{}}
	for key, v := range t.values {
		if key != "password" {
			rest.values[key] = v
		}
	}
	rest.rejectUnknown(httpUserKeys...)

	if !t.has("name") {
		t.missing("name", `the user name, such as "ops"`)
	} else if t.str("name", &u.Name) {
		switch {
		case u.Name == "":
			t.errorf("name", `empty: want the user name, such as "ops"`)
		case strings.ContainsAny(u.Name, ":\x00\r\n"):
			t.errorf("name", "invalid user name %q: HTTP Basic authentication allows no colon or "+
				"control character in it", u.Name)
		}
	}
	if !t.has("role") {
		t.missing("role", `"read-only" or "admin"`)
	} else {
		t.text("role", &u.Role, `"read-only"`)
	}
	l.decodePasswordHash(t, &u)
	return u, len(t.f.errs) == errsBefore
}

// decodePasswordHash stores the bcrypt hash of password_hash or password_hash_file,
// exactly one of which must be set. Its errors never quote the hash.
func (l *loader) decodePasswordHash(t *table, u *HTTPUser) {
	const run = "run `tend hash-password` to make one"
	var source string
	switch {
	case t.has("password_hash") && t.has("password_hash_file"):
		t.errorf("password_hash_file", "cannot be combined with password_hash: set only one of them")
		return
	case t.has("password_hash"):
		source = "password_hash"
	case t.has("password_hash_file"):
		source = "password_hash_file"
	case t.has("password"):
		return // Reported as a plain password already.
	default:
		t.missing("password_hash", "a bcrypt hash, or password_hash_file; "+run)
		return
	}

	var hash string
	if !t.str(source, &hash) {
		return
	}
	if source == "password_hash_file" {
		if hash == "" {
			t.errorf(source, "empty: want the path of a file that contains a bcrypt hash")
			return
		}
		path := t.f.resolve(hash)
		data, err := l.read(path)
		if err != nil {
			t.errorf(source, "cannot read %q: %s", path, describeReadError(err))
			return
		}
		hash = strings.TrimSpace(string(data))
		if hash == "" {
			t.errorf(source, "file %q is empty: want a bcrypt hash; %s", path, run)
			return
		}
	}
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		t.errorf(source, "not a bcrypt hash (want one that starts with $2a$, $2b$ or $2y$); %s", run)
		return
	}
	u.PasswordHash = NewSecret(hash)
}
