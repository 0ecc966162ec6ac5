package monit

// This file parses the "if ... then ..." tests of a service.

import (
	"net/url"
	"strconv"
	"strings"
)

// resourceWords maps the words of resource tests to the figure they name.
var resourceWords = map[string]string{
	"cpu": "cpu", "totalcpu": "totalcpu", "mem": "memory", "memory": "memory",
	"totalmem": "totalmemory", "totalmemory": "totalmemory", "swap": "swap",
	"child": "children", "children": "children", "thread": "threads", "threads": "threads",
	"loadavg": "loadavg1",
}

// cpuFigures maps the word in parentheses after cpu to the figure it names.
var cpuFigures = map[string]string{
	"us": "cpuuser", "usr": "cpuuser", "user": "cpuuser",
	"sy": "cpusystem", "sys": "cpusystem", "system": "cpusystem",
	"wa": "cpuwait", "wait": "cpuwait",
	"nice": "cpunice", "hardirq": "cpuhardirq", "softirq": "cpusoftirq",
	"steal": "cpusteal", "guest": "cpuguest", "guestnice": "cpuguestnice",
}

// operatorWords maps the comparison words and symbols to their symbol.
var operatorWords = map[string]string{
	">": ">", "more": ">", "greater": ">", "gt": ">", "older": ">",
	"<": "<", "less": "<", "lt": "<", "newer": "<",
	">=": ">=", "ge": ">=", "<=": "<=", "le": "<=",
	"=": "=", "==": "=", "eq": "=", "equal": "=",
	"!=": "!=", "ne": "!=", "notequal": "!=",
}

// ifStatement reads one test of svc, from if to its action and else clause.
func (p *parser) ifStatement(svc *service) {
	start := p.i
	at := p.next()
	t := &test{pos: at.pos}
	if isNumber(p.peek()) && p.peekAt(1).is("restart", "restarts") {
		svc.restartLimit = p.actionRate(at.pos)
		return
	}
	p.testCondition(t)
	p.rate(t)
	then := p.next()
	if !then.is("then") {
		p.fail(then.pos, "unexpected %s: expected then and an action", describe(then))
	}
	t.action = p.action()
	p.elseClause(t)
	t.text = redact(p.toks[start:p.i])
	svc.tests = append(svc.tests, t)
}

// testCondition reads what a test observes, up to its rate or then.
func (p *parser) testCondition(t *test) {
	w := p.peek()
	lower := strings.ToLower(w.text)
	switch {
	case w.is("failed", "succeeded"):
		p.next()
		t.inverted = w.is("succeeded")
		p.failedTest(t)
	case w.is("changed"):
		p.next()
		p.accept("md5", "sha1", "sha256")
		what := p.next()
		t.kind, t.resource = "changed", strings.ToLower(what.text)
	case w.is("not") && p.peekAt(1).is("exist", "exists"):
		p.next()
		p.next()
		t.kind = "nonexist"
	case w.is("nonexist", "nonexists"):
		p.next()
		t.kind = "nonexist"
	case w.is("exist", "exists"):
		p.next()
		t.kind = "exist"
	case w.is("total") && p.peekAt(1).is("cpu", "mem", "memory", "filedescriptors"):
		p.next()
		next := strings.ToLower(p.next().text)
		if next == "filedescriptors" {
			t.kind = "unknown"
			p.skipTest()
			return
		}
		t.kind, t.resource = "resource", resourceWords["total"+next]
		p.comparison(t)
	case resourceWords[lower] != "":
		p.next()
		p.resource(t, lower)
	case w.is("uptime", "size", "hardlink", "hardlinks", "filedescriptors", "status"):
		p.next()
		t.kind = lower
		if lower == "hardlinks" || lower == "hardlink" {
			t.kind = "unknown"
		}
		p.comparison(t)
	case w.is("time", "timestamp", "atime", "ctime", "mtime"):
		p.next()
		t.kind, t.timestamp = "timestamp", lower
		p.comparison(t)
	case w.is("space", "inode", "inodes"):
		p.next()
		t.kind = "space"
		if lower != "space" {
			t.kind = "inode"
		}
		t.free = p.accept("free")
		p.comparison(t)
	case w.is("content"):
		p.next()
		p.content(t)
	default:
		t.kind = "unknown"
		p.skipTest()
	}
}

// resource reads a resource figure and its comparison; word is the figure's first
// word in lower case.
func (p *parser) resource(t *test, word string) {
	t.kind, t.resource = "resource", resourceWords[word]
	next := p.peek()
	switch {
	case word == "loadavg" && next.inParens && next.kind == tokWord:
		p.next()
		switch strings.TrimRight(strings.ToLower(next.text), "min") {
		case "1":
			t.resource = "loadavg1"
		case "5":
			t.resource = "loadavg5"
		case "15":
			t.resource = "loadavg15"
		default:
			p.fail(next.pos, "unexpected %s: expected loadavg (1min), (5min) or (15min)", describe(next))
		}
	case word == "cpu" && next.inParens && next.kind == tokWord:
		p.next()
		figure, ok := cpuFigures[strings.ToLower(next.text)]
		if !ok {
			p.fail(next.pos, "unexpected %s: expected cpu (user), (system), (wait) or another CPU figure", describe(next))
		}
		t.resource = figure
	}
	if strings.HasPrefix(t.resource, "loadavg") && p.accept("core") {
		t.perCore = true
	}
	p.comparison(t)
}

// comparison reads an optional operator, a value and its unit. An absent operator
// means equal, as in Monit.
func (p *parser) comparison(t *test) {
	t.op = "="
	op := p.peek()
	if symbol, ok := operatorWords[strings.ToLower(op.text)]; ok && (op.kind == tokOp || op.kind == tokWord) {
		p.next()
		t.op = symbol
	} else if op.is("changed") {
		p.next()
		t.op = "changed"
		return
	}
	v := p.next()
	number, unit := splitNumber(v.text)
	f, err := strconv.ParseFloat(number, 64)
	if v.kind != tokWord || err != nil || f < 0 {
		p.fail(v.pos, "unexpected %s: expected a number after the comparison", describe(v))
	}
	t.value = f
	t.unit = unit
	if unit == "" {
		t.unit = p.unit()
	}
}

// splitNumber splits "600MB" into "600" and "MB"; Monit itself needs white space
// between them, but operators write both.
func splitNumber(s string) (number, unit string) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == 0 || i == len(s) {
		return s, ""
	}
	return s[:i], normalizeUnit(s[i:])
}

// unit reads an optional unit after a value and returns its normal form.
func (p *parser) unit() string {
	t := p.peek()
	if t.kind == tokPercent {
		p.next()
		return "%"
	}
	if t.kind != tokWord {
		return ""
	}
	if u := normalizeUnit(t.text); u != "" {
		p.next()
		return u
	}
	return ""
}

// normalizeUnit returns the normal form of a Monit unit word, or "" when word is not
// a unit.
func normalizeUnit(word string) string {
	switch strings.TrimSuffix(strings.ToLower(word), "/s") {
	case "percent", "%":
		return "%"
	case "b", "byte", "bytes":
		return "B"
	case "kb", "kilobyte", "kilobytes":
		return "KB"
	case "mb", "megabyte", "megabytes":
		return "MB"
	case "gb", "gigabyte", "gigabytes":
		return "GB"
	case "ms", "millisecond", "milliseconds":
		return "ms"
	case "s", "second", "seconds":
		return "s"
	case "m", "minute", "minutes":
		return "m"
	case "h", "hour", "hours":
		return "h"
	case "day", "days":
		return "d"
	case "month", "months":
		return "month"
	}
	return ""
}

// failedTest reads what follows "if failed": a connection, or a checksum,
// permission, uid or gid test.
func (p *parser) failedTest(t *test) {
	w := p.peek()
	switch {
	case w.is("host", "port", "portnumber", "unixsocket", "unix", "url"):
		t.kind = "connection"
		t.conn = p.connection()
		switch {
		case t.conn.url != "":
			t.kind = "url"
		case t.conn.socket != "":
			t.kind = "unix"
		}
	case w.is("md5", "sha1", "sha256", "checksum"):
		p.accept("md5", "sha1", "sha256")
		p.expectWord("checksum", "checksum")
		t.kind = "checksum"
		if p.accept("expect") {
			t.word = p.value("the expected checksum").text
		}
	case w.is("perm", "permission", "uid", "gid"):
		p.next()
		t.kind = strings.ToLower(w.text)
		if t.kind == "perm" {
			t.kind = "permission"
		}
		t.word = p.value("the expected value").text
	default:
		t.kind = "unknown"
		p.skipTest()
	}
}

// content reads "content = "REGEX"" or "content != "REGEX"".
func (p *parser) content(t *test) {
	t.kind = "content"
	op := p.next()
	switch {
	case op.text == "=" || op.text == "==" || op.is("match", "matching", "equal", "eq"):
	case op.text == "!=" || op.is("notmatch", "notmatching", "ne", "notequal"):
		t.negate = true
	case op.is("changed") || op.is("not") && p.accept("changed"):
		t.kind = "unknown"
		return
	default:
		p.fail(op.pos, "unexpected %s: expected = or != after content", describe(op))
	}
	t.word = p.value("a regular expression in quotes").text
}

// rate reads "N cycles" or "N times within M cycles" before then.
func (p *parser) rate(t *test) {
	if !isNumber(p.peek()) {
		return
	}
	first := p.number("a number of cycles")
	if p.accept("cycle", "cycles") {
		t.forCycles = first
		return
	}
	second := p.number("the number of cycles of N times within M cycles")
	p.expectWord("cycles", "cycle", "cycles")
	t.forCycles, t.withinCycles = first, second
}

// skipTest reads the tokens of a test that is not translated, up to then.
func (p *parser) skipTest() {
	for !p.peek().is("then") {
		if p.atStatement() || p.peek().is("if") {
			p.fail(p.peek().pos, "unexpected %s: expected then and an action", describe(p.peek()))
		}
		p.next()
	}
}

// action reads the action after then.
func (p *parser) action() action {
	t := p.next()
	switch {
	case t.is("alert", "restart", "start", "stop", "unmonitor", "ignore"):
		return action{kind: strings.ToLower(t.text)}
	case t.is("exec", "execute"):
		a := action{kind: "exec", exec: p.programArgs(p.value("the program to execute in quotes"))}
		if p.accept("repeat") {
			p.expectWord("every", "every")
			a.repeat = 1
			if isNumber(p.peek()) {
				a.repeat = p.number("a number of cycles")
			}
			p.expectWord("cycles", "cycle", "cycles")
		}
		return a
	}
	p.fail(t.pos, "unexpected %s: expected an action: alert, restart, start, stop, exec, unmonitor or ignore", describe(t))
	return action{}
}

// elseClause reads "else [if succeeded|recovered|passed [rate] then] ACTION".
func (p *parser) elseClause(t *test) {
	if !p.accept("else") {
		return
	}
	if p.accept("if") {
		p.expectWord("succeeded, recovered, passed or failed", "succeeded", "recovered", "passed", "failed")
		var ignored test
		p.rate(&ignored)
		p.expectWord("then", "then")
	}
	if a := p.action(); a.kind != "alert" {
		t.elseAction = a.kind
	}
}

// actionRate reads "N restarts within M cycles then ACTION".
func (p *parser) actionRate(at position) *actionRate {
	r := &actionRate{pos: at}
	r.restarts = p.number("a number of restarts")
	p.next() // restarts
	r.cycles = p.number("a number of cycles")
	p.expectWord("cycles", "cycle", "cycles")
	p.expectWord("then", "then")
	a := p.next()
	if !a.is("alert", "unmonitor", "timeout", "stop", "restart", "start", "exec") {
		p.fail(a.pos, "unexpected %s: expected unmonitor, timeout or alert", describe(a))
	}
	r.action = strings.ToLower(a.text)
	if r.action == "exec" {
		p.programArgs(p.value("the program to execute"))
	}
	return r
}

// redact joins tokens into the text of a statement for notes, leaving out passwords
// and the user information of URLs.
func redact(toks []token) string {
	words := make([]string, 0, len(toks))
	hide := false
	for _, t := range toks {
		text := t.text
		switch {
		case hide:
			text, hide = "***", false
		case t.is("password", "secret"):
			hide = true
		case t.kind == tokWord && isURLStart(text):
			text = stripUserinfo(text)
		case t.kind == tokString:
			text = strconv.Quote(text)
		}
		words = append(words, text)
	}
	return strings.Join(words, " ")
}

// stripUserinfo removes the user and password from a URL.
func stripUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
