package monit

// This file parses check statements and the options of a service other than tests.

import (
	"strings"
)

// checkKinds maps the word after check to the kind of service. Monit also accepts
// "check NAME pidfile ...", a process check without the word process.
var checkKinds = map[string]string{
	"process": "process", "file": "file", "fifo": "fifo", "directory": "directory",
	"filesystem": "filesystem", "device": "filesystem", "host": "host", "system": "system",
	"program": "program", "network": "network",
}

// check reads one check statement and its options; at is the check keyword.
func (p *parser) check(at token) {
	kindTok := p.nextRaw()
	if kindTok.kind == 0 {
		p.fail(at.pos, "check without a type and name: expected check process NAME")
	}
	kind, ok := checkKinds[strings.ToLower(kindTok.text)]
	if !ok || kindTok.kind != tokWord {
		kind = "process"
		p.i-- // The word is the service name.
	}
	name := p.nextRaw()
	if name.kind != tokWord && name.kind != tokString {
		p.fail(at.pos, "check %s without a name: expected check %s NAME", kind, kind)
	}
	svc := &service{kind: kind, name: name.text, pos: at.pos}
	p.checkTarget(svc)
	p.serviceOptions(svc)
	p.rc.services = append(p.rc.services, svc)
}

// checkTarget reads what a check watches: a pidfile or pattern, a path, an address or
// a program.
func (p *parser) checkTarget(svc *service) {
	switch svc.kind {
	case "process":
		switch t := p.next(); {
		case t.is("pidfile", "path"):
			svc.pidfile = p.value("the path of the pidfile").text
		case t.is("matching", "match") || t.kind == tokOp && t.text == "=~":
			svc.match = p.value("a regular expression in quotes").text
		default:
			p.fail(t.pos, "unexpected %s: expected pidfile PATH or matching \"PATTERN\" after check process %s", describe(t), svc.name)
		}
	case "file", "fifo", "directory", "filesystem":
		p.expectWord("path PATH after check "+svc.kind+" "+svc.name, "path")
		svc.path = p.value("a path").text
	case "host":
		p.expectWord("address HOST after check host "+svc.name, "address")
		svc.address = p.value("a host name or IP address").text
	case "network":
		p.expectWord("address or interface", "address", "interface")
		svc.address = p.value("an address or interface name").text
	case "program":
		p.expectWord("path \"COMMAND\" after check program "+svc.name, "path")
		svc.command = p.programArgs(p.value("the program and its arguments"))
	}
}

// serviceOptions reads the options and tests of a service up to the next statement.
func (p *parser) serviceOptions(svc *service) {
	for !p.atStatement() {
		t := p.peek()
		switch {
		case t.is("if"):
			p.ifStatement(svc)
		case t.is("start", "stop", "restart"):
			p.next()
			if op := p.peek(); op.kind == tokOp && op.text == "=" {
				p.next()
			}
			prog := p.programArgs(p.value("the program in quotes, such as start program = \"/etc/init.d/redis start\""))
			switch {
			case t.is("start"):
				svc.start = prog
			case t.is("stop"):
				svc.stop = prog
			default:
				svc.restart = prog
			}
		case t.is("depends", "depend"):
			p.next()
			p.dependsOn(svc, t.pos)
		case t.is("group"):
			p.next()
			svc.groups = append(svc.groups, p.nextRaw().text)
		case t.is("alert"):
			p.next()
			svc.alerts = append(svc.alerts, p.recipient(t.pos))
		case t.is("noalert"):
			p.next()
			addr := p.value("a mail address")
			p.note(t.pos, "noalert %s is not translated: a [[service.alert]] entry adds recipients but cannot remove those of the main file", addr.text)
		case t.is("every"), t.is("not") && p.peekAt(1).is("every"):
			p.every(svc)
		case t.is("mode", "onreboot"):
			p.next()
			value := p.value("a mode")
			p.note(t.pos, "%s %s is not translated: tend monitors every service actively and adopts running ones after a restart", strings.ToLower(t.text), value.text)
		case t.is("ignore"):
			p.next()
			p.skipTest()
			p.note(t.pos, "ignore statement is not translated: tend has no content exclusion")
		default:
			p.fail(t.pos, "unexpected %s in check %s: expected if, start, stop, restart, depends on, group, alert, every, mode or onreboot", describe(t), svc.name)
		}
	}
}

// dependsOn reads a comma-separated list of service names.
func (p *parser) dependsOn(svc *service, at position) {
	svc.dependsPos = at
	for {
		name := p.nextRaw()
		if noiseWords[strings.ToLower(name.text)] && name.kind == tokWord && len(svc.dependsOn) == 0 {
			continue // "depends on"
		}
		if name.kind != tokWord && name.kind != tokString {
			p.fail(name.pos, "unexpected %s: expected the name of a service after depends on", describe(name))
		}
		svc.dependsOn = append(svc.dependsOn, name.text)
		if !name.commaAfter {
			return
		}
	}
}

// every reads an every statement, which tend does not translate.
func (p *parser) every(svc *service) {
	t := p.next()
	if t.is("not") {
		p.next()
	}
	spec := p.next()
	what := spec.text
	if isNumber(spec) {
		p.accept("cycle", "cycles")
		what += " cycles"
	}
	p.note(t.pos, "every %s of %s is not translated: tend checks every service each cycle", what, svc.name)
}

// programArgs splits a program string into its arguments and reads the as uid, gid
// and timeout options that follow it. Monit splits at white space, and single quotes
// group words into one argument.
func (p *parser) programArgs(t token) *program {
	prog := &program{argv: splitArgs(t.text), pos: t.pos}
	if len(prog.argv) == 0 {
		p.fail(t.pos, "empty program: expected the program and its arguments")
	}
	for {
		switch {
		case p.accept("uid"):
			prog.uid = p.value("a user name or ID").text
		case p.accept("gid"):
			prog.gid = p.value("a group name or ID").text
		case p.peek().is("timeout") && isNumber(p.peekAt(1)):
			p.next()
			prog.timeout = p.seconds()
		default:
			return prog
		}
	}
}

// splitArgs splits s at white space outside single quotes.
func splitArgs(s string) []string {
	var args []string
	var cur strings.Builder
	inArg, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
			inArg = true
		case !quoted && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}

// seconds reads "N [seconds|minutes|...]" and returns it in seconds.
func (p *parser) seconds() int {
	n := p.number("a number of seconds")
	switch {
	case p.accept("ms", "millisecond", "milliseconds"):
		return max(1, n/1000)
	case p.accept("m", "minute", "minutes"):
		return n * 60
	case p.accept("h", "hour", "hours"):
		return n * 3600
	}
	p.accept("s", "second", "seconds")
	return n
}
