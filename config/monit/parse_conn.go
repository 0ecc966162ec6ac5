package monit

// This file parses the target and options of connection tests: if failed port,
// unixsocket and url.

import (
	"strings"
)

// connection reads a connection test up to its rate or then.
func (p *parser) connection() *connection {
	c := &connection{}
	for {
		t := p.peek()
		if t.is("then") || isNumber(t) || p.atStatement() {
			return c
		}
		p.next()
		switch {
		case t.is("host"):
			c.host = p.value("a host name or address").text
		case t.is("port", "portnumber"):
			c.port = p.number("a port number")
		case t.is("unixsocket", "unix"):
			c.socket = p.value("the path of a unix socket").text
		case t.is("url"):
			c.url = p.value("a URL").text
		case t.is("type"):
			typ := p.expectWord("tcp, tcpssl or udp", "tcp", "tcpssl", "udp")
			c.udp = typ.is("udp")
			c.ssl = c.ssl || typ.is("tcpssl")
		case t.is("proto", "protocol"):
			p.protocol(c)
		default:
			p.connectionOption(c, t)
		}
	}
}

// protocol reads the protocol word of a connection test.
func (p *parser) protocol(c *connection) {
	t := p.next()
	if t.kind != tokWord {
		p.fail(t.pos, "unexpected %s: expected a protocol such as http, redis, pgsql or smtp", describe(t))
	}
	c.protocol = strings.ToLower(t.text)
	switch c.protocol {
	case "https", "smtps", "imaps", "pops":
		c.ssl = true
	}
}

// connectionOption reads one option of a connection test that starts with t, which
// is already read.
func (p *parser) connectionOption(c *connection, t token) {
	switch {
	case t.is("timeout"):
		c.timeout = p.seconds()
	case t.is("retry"):
		c.retry = p.number("a number of retries")
	case t.is("ssl", "tls"):
		c.ssl = true
		if p.peek().kind == tokLBrace {
			p.skipBraces()
			c.unsupported = append(c.unsupported, "ssl { ... }")
		}
	case t.is("certificate"):
		p.certificate(c)
	case t.is("request"):
		c.request = p.value("the request path").text
	case t.is("status"):
		c.statusOp = "="
		if op, ok := operatorWords[strings.ToLower(p.peek().text)]; ok {
			p.next()
			c.statusOp = op
		}
		c.status = p.number("an HTTP status code")
	case t.is("method"):
		c.method = strings.ToUpper(p.expectWord("get or head", "get", "head").text)
	case t.is("hostheader"):
		c.hostHeader = p.value("the Host header").text
	case t.is("content"):
		op := p.next()
		c.contentNegate = op.text == "!=" || op.is("ne", "notequal")
		c.content = p.value("a regular expression in quotes").text
	case t.is("username"):
		c.username = p.value("a user name").text
	case t.is("password"):
		c.password = p.value("a password").text
	case t.is("database"):
		c.database = p.value("a database name").text
	case t.is("send"):
		c.steps = append(c.steps, sendExpect{send: unescape(p.value("the text to send").text)})
	case t.is("expect"):
		expect := p.value("the expected reply").text
		if n := len(c.steps); n > 0 && c.steps[n-1].expect == "" {
			c.steps[n-1].expect = expect
		} else {
			c.steps = append(c.steps, sendExpect{expect: expect})
		}
	case t.is("ipv4", "ipv6"):
		// The address family follows from the host.
	case t.is("http") && p.accept("headers"):
		p.skipBracketList(c)
	default:
		p.skipOption(c, t)
	}
}

// certificate reads "certificate valid > N days" or "certificate checksum ...".
func (p *parser) certificate(c *connection) {
	if p.accept("valid") {
		if op := p.peek(); op.kind == tokOp || op.is("greater", "more", "gt") {
			p.next()
		}
		c.certDays = p.number("a number of days")
		p.accept("day", "days")
		return
	}
	p.expectWord("valid or checksum", "checksum")
	p.accept("md5", "sha1", "sha256")
	p.acceptEqual()
	p.value("a checksum")
	c.unsupported = append(c.unsupported, "certificate checksum")
}

// skipBracketList reads "[ ... ]" of http headers.
func (p *parser) skipBracketList(c *connection) {
	for {
		t := p.nextRaw()
		if t.kind == 0 {
			p.fail(t.pos, "the [ of http headers has no closing ]")
		}
		if strings.HasSuffix(t.text, "]") {
			c.unsupported = append(c.unsupported, "http headers [...]")
			return
		}
	}
}

// skipOption reads an option that has no counterpart in tend, with its value, and
// records it.
func (p *parser) skipOption(c *connection, t token) {
	if t.kind != tokWord {
		p.fail(t.pos, "unexpected %s in a connection test: expected an option such as port, protocol, timeout or then", describe(t))
	}
	name := strings.ToLower(t.text)
	switch {
	case t.is("responsetime"):
		if op := p.peek(); op.kind == tokOp {
			p.next()
		}
		p.number("a response time")
		p.next()
	case t.is("address", "origin", "target", "secret", "checksum", "version", "maxforward", "path", "certmd5"):
		p.value("a value")
	case t.is("loglimit", "closelimit", "dnslimit", "keepalivelimit", "replylimit", "requestlimit",
		"startlimit", "waitlimit", "gracefullimit", "cleanuplimit"):
		p.next()
		p.number("a percentage")
		if p.peek().kind == tokPercent || p.peek().is("percent") {
			p.next()
		}
	case t.is("rsakey"):
		p.expectWord("checksum", "checksum")
		p.accept("md5", "sha1", "sha256")
		p.acceptEqual()
		p.value("a checksum")
	}
	if name == "secret" {
		name = "secret (left out here)"
	}
	c.unsupported = append(c.unsupported, name)
}

// unescape turns the escapes \r, \n, \t, \0 and \\ of a send string into the
// characters they stand for.
func unescape(s string) string {
	return strings.NewReplacer(`\r`, "\r", `\n`, "\n", `\t`, "\t", `\0`, "\x00", `\\`, `\`).Replace(s)
}
