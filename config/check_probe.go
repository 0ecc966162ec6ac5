package config

// This file decodes the keys of the probes that talk to a server.

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// requireAddress decodes the address of a check that needs one.
func requireAddress(t *table, c *Check) {
	if !t.has("address") {
		t.missing("address", `host:port, such as "127.0.0.1:6379"`)
		return
	}
	if t.str("address", &c.Address) {
		checkAddress(t, c.Address)
	}
}

// checkAddress checks a host:port address.
func checkAddress(t *table, address string) {
	host, port, err := net.SplitHostPort(address)
	if err != nil || host == "" {
		t.errorf("address", `invalid address %q: want host:port, such as "127.0.0.1:6379" or "[::1]:6379"`,
			address)
		return
	}
	n, err := strconv.Atoi(port)
	if err != nil || !allDigits(port) || n < 1 || n > 65535 {
		t.errorf("address", "invalid port %q in %q: want a number from 1 to 65535", port, address)
	}
}

// requirePath decodes the absolute path at key, which the check needs.
func requirePath(t *table, key string, dst *string, example string) {
	if !t.has(key) {
		t.missing(key, "an absolute path such as "+example)
		return
	}
	var p string
	switch {
	case !t.str(key, &p):
		// The value has the wrong type, which t.str has reported.
	case !filepath.IsAbs(p):
		t.errorf(key, "%q is not an absolute path: want a path such as %s", p, example)
	default:
		*dst = p
	}
}

// decodeEndpoint decodes the address or the unix socket of a check that takes
// exactly one of them.
func decodeEndpoint(t *table, c *Check) {
	switch {
	case t.has("address") && t.has("socket"):
		t.errorf("socket", "cannot be combined with address: %s connects to one of them", checkNoun(c.Type))
	case t.has("socket"):
		example := `"/run/redis/redis.sock"`
		if c.Type == CheckPostgres {
			example = `"/run/postgresql/.s.PGSQL.5432"`
		}
		requirePath(t, "socket", &c.Socket, example)
	case t.has("address"):
		requireAddress(t, c)
	default:
		t.missing("address", `address, host:port such as "127.0.0.1:6379", or socket, the path of a unix socket`)
	}
}

// decodeTLS decodes the TLS keys of tcp, send_expect and http checks. tls_verify,
// server_name and cert_expiry need tls = true, except that an http check takes TLS
// from the scheme of its URL.
func decodeTLS(t *table, c *Check) {
	if c.Type != CheckTCP && c.Type != CheckSendExpect && c.Type != CheckHTTP {
		return
	}
	c.TLSVerify = true
	t.boolean("tls", &c.TLS)
	t.boolean("tls_verify", &c.TLSVerify)
	if t.str("server_name", &c.ServerName) && c.ServerName == "" {
		t.errorf("server_name", "empty: want a host name, or leave the key out to use the host of address")
	}
	decodeTimeout(t, "cert_expiry", &c.CertExpiry)
	if c.Type == CheckHTTP || c.TLS {
		return
	}
	for _, key := range []string{"tls_verify", "server_name", "cert_expiry"} {
		if t.has(key) {
			t.errorf(key, "only allowed with tls = true")
		}
	}
}

// httpMethods returns the request methods of RFC 9110 and RFC 5789 (PATCH).
func httpMethods() []string {
	return []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"}
}

// decodeHTTP decodes the request and the expected response of an http check.
func decodeHTTP(t *table, c *Check) {
	if !t.has("url") {
		t.missing("url", `an http or https URL, such as "http://127.0.0.1:8080/health"`)
	} else if t.str("url", &c.URL) {
		checkURL(t, c.URL)
	}

	c.Method = "GET"
	if t.str("method", &c.Method) && !slices.Contains(httpMethods(), c.Method) {
		t.errorf("method", "unknown method %q: want %s", c.Method, wordList(httpMethods(), "or"))
	}
	if t.str("host", &c.Host) && (c.Host == "" || strings.ContainsAny(c.Host, " \t\r\n/")) {
		t.errorf("host", `invalid host %q: want a host name, with a port if needed, such as "app.example.com"`, c.Host)
	}
	if t.integer("status", &c.Status) && c.Status != 0 && (c.Status < 100 || c.Status > 599) {
		t.errorf("status", "%d is out of range: want a status code from 100 to 599, or 0 for any 2xx or 3xx", c.Status)
	}
	decodeRegexp(t, "body", &c.Body)
	decodeHeaders(t, c)
}

// checkURL checks that raw is an absolute http or https URL with a host.
func checkURL(t *table, raw string) {
	const want = `want http:// or https:// and a host, such as "http://127.0.0.1:8080/health"`
	u, err := url.Parse(raw)
	if err != nil {
		t.errorf("url", "invalid URL %q: %s", raw, want)
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Hostname() == "" {
		t.errorf("url", "invalid URL %q: %s", raw, want)
		return
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.errorf("url", "invalid port %q in %q: want a number from 1 to 65535", port, raw)
		}
	}
}

// decodeHeaders decodes the header fields that an http check adds to its request.
func decodeHeaders(t *table, c *Check) {
	headers, ok := t.sub("headers", `{ Accept = "application/json" }`)
	if !ok {
		return
	}
	names := make([]string, 0, len(headers.values))
	for name := range headers.values {
		names = append(names, name)
	}
	slices.Sort(names)

	c.Headers = make(map[string]string, len(names))
	for _, name := range names {
		var value string
		switch {
		case !headers.str(name, &value):
			// The value has the wrong type, which headers.str has reported.
		case !isToken(name):
			headers.errorf(name, "invalid header name: want letters, digits and !#$%%&'*+-.^_`|~")
		case strings.EqualFold(name, "Host"):
			headers.errorf(name, "set the host key of the check instead")
		case strings.ContainsAny(value, "\r\n\x00"):
			headers.errorf(name, "invalid header value: contains a line break or a NUL byte")
		default:
			c.Headers[name] = value
		}
	}
}

// isToken reports whether s is a token of RFC 9110 section 5.6.2, as a header name is.
func isToken(s string) bool {
	for _, b := range []byte(s) {
		alphanumeric := b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
		if !alphanumeric && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(b)) {
			return false
		}
	}
	return s != ""
}

// decodeRedisAuth decodes the username and password of a redis check. A password
// without a username authenticates as the default user.
func (l *loader) decodeRedisAuth(t *table, c *Check) {
	if t.str("username", &c.Username) && c.Username == "" {
		t.errorf("username", "empty: leave the key out to authenticate as the default user")
	}
	source, ok := oneSource(t, "password")
	if !ok {
		if c.Username != "" {
			t.errorf("username", "set without a password: add password, password_env or password_file, "+
				"or remove username")
		}
		return
	}
	if password, ok := l.readSecret(t, source, "password"); ok {
		c.Password = NewSecret(password)
	}
}

// decodePostgres decodes the role and database of a postgres check.
func decodePostgres(t *table, c *Check) {
	c.User = "postgres"
	if t.str("user", &c.User) && c.User == "" {
		t.errorf("user", `empty: want a role name, or leave the key out for "postgres"`)
	}
	c.Database = c.User
	if t.str("database", &c.Database) && c.Database == "" {
		t.errorf("database", "empty: want a database name, or leave the key out for the name of user")
	}
}

// decodeSteps decodes the dialogue of a send_expect check.
func decodeSteps(t *table, c *Check) {
	if !t.has("steps") {
		t.missing("steps", `an array of steps, such as [{ send = "PING\r\n", expect = "^\\+PONG" }]`)
		return
	}
	entries := t.entries("steps", `[[service.check.steps]]`)
	if len(entries) == 0 && isEmptyArray(t.values["steps"]) {
		t.errorf("steps", "empty: want at least one step")
	}
	for i, step := range entries {
		step.prefix = t.prefix + fmt.Sprintf("step %d ", i+1)
		step.rejectUnknown("send", "expect")
		var s Step
		step.str("send", &s.Send)
		decodeRegexp(step, "expect", &s.Expect)
		if !step.has("send") && !step.has("expect") {
			step.missing("send", "send, expect or both")
		}
		c.Steps = append(c.Steps, s)
	}
}

// decodeProgram decodes the command and the expected result of a program check.
func decodeProgram(t *table, c *Check) {
	if !t.has("command") {
		t.missing("command", `the program and its arguments, such as ["/usr/local/bin/check-queue", "--max", "100"]`)
	}
	decodeArgv(t, "command", &c.Command)
	if t.integer("status", &c.Status) && (c.Status < 0 || c.Status > 255) {
		t.errorf("status", "%d is out of range: want an exit status from 0 to 255", c.Status)
	}
	decodeRegexp(t, "output", &c.Output)
}
