package monit

// This file translates connection tests into tcp, udp, unix, send_expect, http,
// redis, postgres and smtp checks.

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// connectionCheck translates a port, unixsocket or url test.
func (tr *translator) connectionCheck(t *test, ctx *serviceContext) ([]keyValue, string) {
	c := t.conn
	var body []keyValue
	var reason string
	switch t.kind {
	case "url":
		body, reason = tr.urlCheck(t, ctx)
	case "unix":
		body, reason = tr.socketCheck(t, ctx)
	default:
		body, reason = tr.portCheck(t, ctx)
	}
	if body == nil {
		return nil, reason
	}
	if len(c.unsupported) > 0 {
		tr.note(t.pos, "%s: the options %s are not translated", t.text, strings.Join(c.unsupported, ", "))
	}
	if c.timeout > 0 {
		body = append(body, keyValue{key: "timeout", value: formatSeconds(c.timeout)})
	}
	if c.retry > 0 {
		retries := min(c.retry, 10)
		if retries != c.retry {
			tr.note(t.pos, "%s: retry %d is lowered to 10, tend's maximum", t.text, c.retry)
		}
		body = append(body, keyValue{key: "retries", value: retries})
	}
	return body, ""
}

// portCheck translates "if failed [host H] port N ...".
func (tr *translator) portCheck(t *test, ctx *serviceContext) ([]keyValue, string) {
	c := t.conn
	if c.port < 1 || c.port > 65535 {
		return nil, "the test has no port from 1 to 65535"
	}
	host := c.host
	if host == "" {
		host = "localhost"
		if ctx.svc.kind == "host" {
			host = ctx.svc.address
		}
	}
	address := net.JoinHostPort(host, strconv.Itoa(c.port))
	switch c.protocol {
	case "", "default":
		return tr.plainCheck(t, address), ""
	case "http", "https":
		scheme := "http"
		if c.ssl {
			scheme = "https"
		}
		return tr.httpCheck(t, scheme+"://"+address+requestPath(c.request), ctx), ""
	case "redis":
		return []keyValue{{key: "type", value: "redis"}, {key: "address", value: address}}, ""
	case "pgsql":
		return tr.postgresCheck(t, "address", address, ctx), ""
	case "smtp":
		if !c.ssl {
			tr.credentialsNote(t, ctx, "smtp")
			return []keyValue{{key: "type", value: "smtp"}, {key: "address", value: address}}, ""
		}
	}
	tr.note(t.pos, "%s: tend has no %s protocol test, so it checks that the port accepts a connection", t.text, c.protocol)
	tr.credentialsNote(t, ctx, c.protocol)
	return tr.tcpCheck(t, address), ""
}

// plainCheck translates a connection test without a protocol: tcp, udp or
// send_expect.
func (tr *translator) plainCheck(t *test, address string) []keyValue {
	c := t.conn
	switch {
	case c.udp:
		body := []keyValue{{key: "type", value: "udp"}, {key: "address", value: address}}
		if len(c.steps) > 0 {
			body = append(body, keyValue{key: "send", value: c.steps[0].send})
			if c.steps[0].expect != "" {
				body = append(body, keyValue{key: "expect", value: c.steps[0].expect})
			}
		}
		if len(c.steps) > 1 {
			tr.note(t.pos, "%s: only the first send and expect are translated, since a udp check sends one datagram", t.text)
		}
		return body
	case len(c.steps) > 0:
		body := []keyValue{{key: "type", value: "send_expect"}, {key: "address", value: address}}
		if c.ssl {
			body = append(body, keyValue{key: "tls", value: true})
		}
		return append(body, keyValue{key: "steps", value: inline(renderSteps(c.steps))})
	}
	return tr.tcpCheck(t, address)
}

// tcpCheck returns a tcp check of address, with TLS when the test sets ssl.
func (tr *translator) tcpCheck(t *test, address string) []keyValue {
	c := t.conn
	body := []keyValue{{key: "type", value: "tcp"}, {key: "address", value: address}}
	if c.ssl {
		body = append(body, keyValue{key: "tls", value: true})
		tr.note(t.pos, "%s: tend verifies the server's certificate, which Monit does only with ssl { verify: enable }; set tls_verify = false for a self-signed one", t.text)
	}
	if c.certDays > 0 {
		body = append(body, keyValue{key: "cert_expiry", value: strconv.Itoa(c.certDays) + "d"})
	}
	return body
}

// renderSteps writes the steps of a send_expect check as an inline array.
func renderSteps(steps []sendExpect) string {
	items := make([]string, len(steps))
	for i, s := range steps {
		var fields []string
		if s.send != "" {
			fields = append(fields, "send = "+tomlString(s.send))
		}
		if s.expect != "" {
			fields = append(fields, "expect = "+tomlString(s.expect))
		}
		items[i] = "{ " + strings.Join(fields, ", ") + " }"
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// requestPath returns the request of a Monit http test as a URL path, "/" when unset.
func requestPath(request string) string {
	if request == "" {
		return "/"
	}
	if !strings.HasPrefix(request, "/") {
		return "/" + request
	}
	return request
}

// httpCheck returns an http check of rawURL with the http options of the test.
func (tr *translator) httpCheck(t *test, rawURL string, ctx *serviceContext) []keyValue {
	c := t.conn
	body := []keyValue{{key: "type", value: "http"}, {key: "url", value: rawURL}}
	if c.method != "" {
		body = append(body, keyValue{key: "method", value: c.method})
	}
	if c.hostHeader != "" {
		body = append(body, keyValue{key: "host", value: c.hostHeader})
	}
	switch {
	case c.statusOp == "=" && c.status >= 100 && c.status <= 599:
		body = append(body, keyValue{key: "status", value: c.status})
	case c.statusOp != "":
		tr.note(t.pos, "%s: status %s %d is not translated: tend expects one status code, or any 2xx or 3xx", t.text, c.statusOp, c.status)
	}
	switch {
	case c.content != "" && c.contentNegate:
		tr.note(t.pos, "%s: content != is not translated: tend's http check fails when the body does not match", t.text)
	case c.content != "":
		body = append(body, keyValue{key: "body", value: c.content})
	}
	if strings.HasPrefix(rawURL, "https:") {
		tr.note(t.pos, "%s: tend verifies the server's certificate, which Monit does only with ssl { verify: enable }; set tls_verify = false for a self-signed one", t.text)
	}
	tr.credentialsNote(t, ctx, "http")
	return body
}

// postgresCheck returns a postgres check at the address or socket given by key.
func (tr *translator) postgresCheck(t *test, key, target string, ctx *serviceContext) []keyValue {
	c := t.conn
	body := []keyValue{{key: "type", value: "postgres"}, {key: key, value: target}}
	if c.username != "" {
		body = append(body, keyValue{key: "user", value: c.username})
	}
	if c.database != "" {
		body = append(body, keyValue{key: "database", value: c.database})
	}
	if c.password != "" {
		env := tr.addSecret("TEND_"+tr.names[ctx.svc.name]+"_PGSQL_PASSWORD", c.password, "PostgreSQL password of the check of "+ctx.svc.name)
		tr.note(t.pos, "%s: tend's postgres check logs in without a password (trust or peer authentication); the password is %s in secrets.env", t.text, env)
	}
	return body
}

// credentialsNote records the user name and password of a protocol test, which tend's
// checks of that protocol do not send.
func (tr *translator) credentialsNote(t *test, ctx *serviceContext, protocol string) {
	c := t.conn
	if c.username == "" && c.password == "" {
		return
	}
	if c.password == "" {
		tr.note(t.pos, "%s: the user name is not translated: tend's %s check does not log in", t.text, protocol)
		return
	}
	env := tr.addSecret("TEND_"+tr.names[ctx.svc.name]+"_"+protocol+"_PASSWORD", c.password, protocol+" password of the check of "+ctx.svc.name)
	tr.note(t.pos, "%s: the credentials are not translated: tend's %s check does not log in; the password is %s in secrets.env", t.text, protocol, env)
}

// socketCheck translates "if failed unixsocket PATH ...".
func (tr *translator) socketCheck(t *test, ctx *serviceContext) ([]keyValue, string) {
	c := t.conn
	switch c.protocol {
	case "redis":
		return []keyValue{{key: "type", value: "redis"}, {key: "socket", value: c.socket}}, ""
	case "pgsql":
		return tr.postgresCheck(t, "socket", c.socket, ctx), ""
	case "", "default":
		if len(c.steps) > 0 {
			return []keyValue{{key: "type", value: "send_expect"}, {key: "socket", value: c.socket},
				{key: "steps", value: inline(renderSteps(c.steps))}}, ""
		}
	default:
		tr.note(t.pos, "%s: tend has no %s protocol test over a unix socket, so it checks that the socket accepts a connection", t.text, c.protocol)
	}
	return []keyValue{{key: "type", value: "unix"}, {key: "socket", value: c.socket}}, ""
}

// urlCheck translates "if failed url URL ...". Credentials in the URL go to
// secrets.env, since tend's http check sends none.
func (tr *translator) urlCheck(t *test, ctx *serviceContext) ([]keyValue, string) {
	u, err := url.Parse(t.conn.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "tend's http check takes http and https URLs with a host"
	}
	if u.User != nil {
		if password, ok := u.User.Password(); ok && password != "" {
			env := tr.addSecret("TEND_"+tr.names[ctx.svc.name]+"_URL_PASSWORD", password, "password in the URL of the check of "+ctx.svc.name)
			tr.note(t.pos, "%s: the credentials of the URL are not translated: tend's http check sends none; the password is %s in secrets.env", t.text, env)
		} else {
			tr.note(t.pos, "%s: the user name of the URL is not translated: tend's http check sends no credentials", t.text)
		}
		u.User = nil
	}
	return tr.httpCheck(t, u.String(), ctx), ""
}
