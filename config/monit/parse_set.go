package monit

// This file parses the set statements: the daemon, mail, alert, event queue and
// HTTP settings.

import (
	"net"
	"slices"
	"strings"
)

// otherSettings are the set statements of Monit that tend has no counterpart of: the
// import notes them and goes on.
var otherSettings = []string{
	"log", "logfile", "pidfile", "idfile", "statefile", "limits", "onreboot", "ssl", "init",
	"fips", "expectbuffer", "terminal", "heartbeat", "mmonit",
}

// set reads one set statement; at is the set keyword.
func (p *parser) set(at token) {
	t := p.next()
	switch {
	case t.is("daemon"):
		p.setDaemon(at)
	case t.is("mailserver"):
		p.setMailServers()
	case t.is("mail-format"):
		p.setMailFormat()
	case t.is("alert"):
		p.rc.alerts = append(p.rc.alerts, p.recipient(at.pos))
	case t.is("eventqueue"):
		p.setEventQueue(at)
	case t.is("httpd"):
		p.setHTTPD(at)
	case t.is("mmonit"):
		p.note(at.pos, "set mmonit is not translated: tend reports to no M/Monit server; scrape its /metrics with Prometheus instead")
		p.skipToStatement()
	case t.kind == tokWord && slices.Contains(otherSettings, strings.ToLower(t.text)):
		p.note(at.pos, "set %s is not translated: tend has no such setting", strings.ToLower(t.text))
		p.skipToStatement()
	case t.kind == tokWord:
		p.fail(t.pos, "unknown setting %q: Monit does not know it either; expected daemon, mailserver, "+
			"alert, httpd, eventqueue or another set statement of the Monit manual", t.text)
	default:
		p.fail(t.pos, "unexpected %s: expected what to set, such as daemon, mailserver, alert or httpd", describe(t))
	}
}

// setDaemon reads "set daemon N [with start delay N]".
func (p *parser) setDaemon(at token) {
	d := &daemonSetting{pos: at.pos}
	d.interval = p.number("the cycle length in seconds, such as set daemon 30")
	if d.interval == 0 {
		p.fail(at.pos, "set daemon 0: expected a cycle length of at least 1 second")
	}
	if p.accept("start") {
		p.expectWord("delay after start", "delay")
		d.startDelay = p.number("the start delay in seconds")
	}
	p.rc.daemon = d
}

// setMailServers reads the list of "set mailserver" and its common options.
func (p *parser) setMailServers() {
	for {
		t := p.peek()
		switch {
		case t.is("timeout"):
			p.next()
			p.rc.mailTimeout = p.seconds()
			continue
		case t.is("hostname"):
			p.next()
			host := p.value("the host name for EHLO")
			p.note(host.pos, "using hostname %q is not translated: tend sends the machine's host name in EHLO", host.text)
			continue
		case p.atStatement() || t.kind != tokWord && t.kind != tokString:
			if len(p.rc.mailServers) == 0 {
				p.fail(t.pos, "unexpected %s: expected the host name of a mail server", describe(t))
			}
			return
		}
		p.rc.mailServers = append(p.rc.mailServers, p.mailServer())
	}
}

// mailServer reads one mail server of set mailserver with its options.
func (p *parser) mailServer() mailServer {
	host := p.value("the host name of a mail server")
	s := mailServer{host: host.text, pos: host.pos}
	for {
		t := p.peek()
		switch {
		case t.is("port"):
			p.next()
			s.port = p.number("a port number")
		case t.is("username"):
			p.next()
			s.username = p.value("the user name").text
		case t.is("password"):
			p.next()
			s.password = p.value("the password").text
		case t.is("ssl", "tls", "sslv2", "sslv3", "tlsv1", "tlsv11", "tlsv12", "tlsv13", "auto", "sslauto", "enable"):
			p.next()
			s.ssl = true
			if p.peek().kind == tokLBrace {
				p.skipBraces()
			}
		case t.is("certmd5"):
			p.next()
			p.value("a certificate checksum")
			p.note(t.pos, "certmd5 is not translated: tend verifies the mail server's certificate against the system's CAs")
		case t.is("certificate"):
			p.next()
			p.expectWord("checksum", "checksum")
			p.accept("md5", "sha1", "sha256")
			p.acceptEqual()
			p.value("a certificate checksum")
			p.note(t.pos, "certificate checksum is not translated: tend verifies the mail server's certificate against the system's CAs")
		default:
			return s
		}
	}
}

// setMailFormat reads "set mail-format { ... }" and keeps its from address.
func (p *parser) setMailFormat() {
	open := p.next()
	if open.kind != tokLBrace {
		p.fail(open.pos, "unexpected %s: expected { after set mail-format", describe(open))
	}
	for {
		t := p.nextRaw()
		switch {
		case t.kind == 0:
			p.fail(open.pos, "the { of set mail-format has no closing }")
		case t.kind == tokRBrace:
			return
		case t.is("from:"):
			value := p.nextRaw()
			p.rc.mailFrom, p.rc.mailFromPos = value.text, t.pos
		case t.is("subject:", "message:", "reply-to:"):
			p.nextRaw()
			p.note(t.pos, "mail-format %s is not translated: write a Go template in [alerts] subject or body_file instead", strings.TrimSuffix(strings.ToLower(t.text), ":"))
		}
	}
}

// recipient reads the rest of an alert statement: an address, an event filter, a
// mail format and a reminder.
func (p *parser) recipient(at position) recipient {
	addr := p.value("a mail address")
	r := recipient{address: addr.text, pos: at}
	if p.accept("not") {
		r.except = true
		if p.peek().kind != tokLBrace {
			p.fail(p.peek().pos, "unexpected %s: expected { and the events after not", describe(p.peek()))
		}
	}
	if p.peek().kind == tokLBrace {
		r.events = p.eventList()
	}
	if p.peek().is("mail-format") {
		p.next()
		p.skipBraces()
		p.note(at, "the mail-format of alert %s is not translated: tend uses one format for every recipient", r.address)
	}
	if p.accept("reminder") {
		r.reminder = p.number("the number of cycles between reminders")
		p.accept("cycle", "cycles")
	}
	return r
}

// eventList reads { EVENT ... } and returns the event names in lower case.
func (p *parser) eventList() []string {
	open := p.next()
	var events []string
	for {
		t := p.nextRaw()
		switch {
		case t.kind == 0:
			p.fail(open.pos, "the { of the event list has no closing }")
		case t.kind == tokRBrace:
			if len(events) == 0 {
				p.fail(open.pos, "empty event list: expected events such as { nonexist, timeout }")
			}
			return events
		case t.kind == tokWord && !noiseWords[strings.ToLower(t.text)]:
			events = append(events, strings.ToLower(t.text))
		}
	}
}

// setEventQueue reads "set eventqueue [basedir PATH] [slots N]".
func (p *parser) setEventQueue(at token) {
	q := &eventQueue{pos: at.pos}
	for {
		switch {
		case p.accept("basedir"):
			q.basedir = p.value("the event queue directory").text
		case p.accept("slot", "slots"):
			q.slots = p.number("the number of slots")
		default:
			if q.basedir == "" && q.slots == 0 {
				p.fail(p.peek().pos, "unexpected %s: expected basedir or slots", describe(p.peek()))
			}
			p.rc.eventQueue = q
			return
		}
	}
}

// setHTTPD reads "set httpd" with its options.
func (p *parser) setHTTPD(at token) {
	h := &httpd{pos: at.pos}
	for !p.atStatement() {
		t := p.next()
		switch {
		case t.is("port"):
			h.port = p.number("the port of the web interface")
			p.accept("read-only", "readonly")
		case t.is("address"):
			h.address = p.value("the address to listen on").text
		case t.is("allow"):
			p.allow(h, t)
		case t.is("ssl", "tls"):
			if p.peek().kind == tokLBrace {
				p.httpdSSL(h)
			}
		case t.is("pemfile"):
			h.pemFile = p.value("the PEM file").text
		case t.is("unixsocket", "unix"):
			path := p.value("the socket path")
			p.note(t.pos, "httpd unixsocket %s is not translated: tend's CLI uses the [control] socket", path.text)
			for p.peek().is("uid", "gid", "permission") {
				p.next()
				p.value("a value")
			}
		case t.is("signature", "enable", "disable", "clientpemfile", "allowselfcertification", "read-only", "readonly"):
			if t.is("clientpemfile") {
				p.value("the PEM file")
			}
			p.note(t.pos, "httpd option %s is not translated", strings.ToLower(t.text))
		default:
			p.fail(t.pos, "unexpected %s: expected an httpd option: port, address, allow or ssl", describe(t))
		}
	}
	if h.port == 0 {
		p.fail(at.pos, "set httpd without a port: expected port N")
	}
	p.rc.httpd = h
}

// httpdSSL reads ssl { ... } of set httpd and keeps the certificate files.
func (p *parser) httpdSSL(h *httpd) {
	open := p.next()
	for {
		t := p.nextRaw()
		switch {
		case t.kind == 0:
			p.fail(open.pos, "the { of ssl has no closing }")
		case t.kind == tokRBrace:
			return
		case t.is("pemfile:", "pemchain:", "pemkey:"):
			value := p.nextRaw()
			switch strings.ToLower(t.text) {
			case "pemfile:":
				h.pemFile = value.text
			case "pemchain:":
				h.pemChain = value.text
			default:
				h.pemKey = value.text
			}
		}
	}
}

// allow reads one allow entry of set httpd: a user and password, a host or network,
// a PAM group or an htpasswd file.
func (p *parser) allow(h *httpd, at token) {
	t := p.value("a user:password, host or network after allow")
	text := t.text
	// A quoted user name is followed by ":" and the quoted password as tokens of
	// their own.
	if t.kind == tokString && p.peek().kind == tokWord && p.peek().text == ":" {
		p.next()
		text += ":" + p.value("the password").text
	} else if t.kind == tokWord && strings.HasSuffix(text, ":") && p.peek().kind == tokString {
		text += p.next().text
	}

	switch {
	case strings.HasPrefix(text, "@"):
		p.note(at.pos, "allow %s (PAM group) is not translated: add [[http.user]] entries", text)
		p.accept("read-only", "readonly")
	case strings.HasPrefix(text, "/") || t.is("cleartext", "md5", "crypt"):
		if !strings.HasPrefix(text, "/") {
			text = p.value("the htpasswd file").text
		}
		p.note(at.pos, "allow %s (htpasswd file) is not translated: add [[http.user]] entries with bcrypt hashes from tend hash-password", text)
		for p.peek().kind == tokWord && !p.peek().is("allow", "port", "address", "ssl", "set", "check") && !strings.Contains(p.peek().text, ":") {
			p.next()
		}
	case isHostEntry(text):
		h.allowHosts = append(h.allowHosts, text)
	default:
		name, password, _ := strings.Cut(text, ":")
		u := httpUser{name: name, password: password, pos: at.pos}
		u.readOnly = p.accept("read-only", "readonly")
		h.users = append(h.users, u)
	}
}

// isHostEntry reports whether an allow entry names a host or network rather than a
// user and password.
func isHostEntry(s string) bool {
	if !strings.Contains(s, ":") || strings.Contains(s, "::") {
		return true
	}
	host, _, _ := strings.Cut(s, "/")
	return net.ParseIP(host) != nil
}
