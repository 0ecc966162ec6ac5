package config

import (
	"fmt"
	"regexp"
)

// Check is one rule: a test, how long it must fail, and the action to take.
//
// Which fields are set depends on Type. A field that Type does not use has its zero
// value, except Owner and Group, which are -1 unless set.
type Check struct {
	Type CheckType
	// Pos is the position of the [[service.check]] header, or of the [[service]]
	// header for the process check that Load adds.
	Pos Position

	// Limit is the threshold from above or below. It is set for every type that
	// observes a figure: cpu, total_cpu, memory, total_memory, children, threads, fds,
	// uptime, load, host_cpu, host_memory, swap, filesystem and inodes. A file check
	// has one when it tests the file's size. Percentages are greater than 0 and at
	// most 100, or at most 100000 for a cpu or total_cpu check with Of CPUScopeCore.
	// Sizes and durations are greater than 0, and counts are 0 or more for above and
	// greater than 0 for below.
	Limit Limit
	// Of is the meaning of 100% for cpu and total_cpu: CPUScopeMachine unless set.
	Of CPUScope
	// Minutes is the load average of a load check: 1 unless set, or 5 or 15.
	Minutes int
	// PerCore divides the load average of a load check by the number of cores.
	PerCore bool
	// Usage is the CPU time that a host_cpu check measures: CPUUsageTotal unless set.
	Usage CPUUsage

	// Path is the absolute path of the file of a file check, or of a file or
	// directory on the filesystem of a filesystem or inodes check.
	Path string
	// Address is host:port, with a port from 1 to 65535, for tcp, udp and smtp checks,
	// and for redis, postgres and send_expect checks without Socket.
	Address string
	// Socket is the absolute path of a unix socket for a unix check, and for redis,
	// postgres and send_expect checks without Address. For postgres it is the socket
	// file itself, such as /run/postgresql/.s.PGSQL.5432.
	Socket string

	// TLS makes a tcp or send_expect check speak TLS after connecting.
	TLS bool
	// TLSVerify checks the server's certificate and host name. It is true unless
	// tls_verify = false, and it matters for tcp and send_expect checks with TLS and
	// for http checks of an https URL.
	TLSVerify bool
	// ServerName is the host name that a tcp or send_expect check with TLS sends and
	// verifies, or empty to use the host of Address.
	ServerName string
	// CertExpiry makes a tcp check with TLS fail when the server's certificate expires
	// within this time. It is zero when unset.
	CertExpiry Duration

	// Send is the datagram of a udp check, or empty to send an empty datagram.
	Send string
	// Expect must match the reply of a udp check. It is nil to accept any reply.
	Expect *regexp.Regexp

	// URL is the http or https URL of an http check, with a host.
	URL string
	// Method is the request method of an http check: GET unless set.
	Method string
	// Host replaces the host of URL in the Host header of an http check, or is empty.
	Host string
	// Status is the status code an http check expects, from 100 to 599, or 0 for any
	// 2xx or 3xx code. For a program check it is the exit status Command must return,
	// from 0 to 255, and 0 unless set.
	Status int
	// Body must match the response body of an http check. It is nil to accept any body.
	Body *regexp.Regexp
	// Headers are added to the request of an http check. It is nil when unset.
	Headers map[string]string

	// Username and Password authenticate a redis check. Both may be empty, and a
	// Username is set only with a Password. Password comes from password,
	// password_env or password_file.
	Username string
	Password Secret
	// User is the PostgreSQL role of a postgres check: "postgres" unless set.
	User string
	// Database is the database of a postgres check: the value of User unless set.
	Database string
	// Hello is the name an smtp check sends with EHLO: "localhost" unless set.
	Hello string
	// Steps is the dialogue of a send_expect check, with at least one step.
	Steps []Step

	// Command is the argument vector of a program check.
	Command []string
	// Output must match the combined output of Command in a program check. It is nil
	// to accept any output.
	Output *regexp.Regexp

	// MaxAge makes a file check fail when the file was last modified longer ago. It is
	// zero when unset.
	MaxAge Duration
	// Owner and Group are the user and group IDs that the file of a file check must
	// have, resolved from names at load time, or -1 when unset.
	Owner int
	Group int
	// Mode is the permission bits that the file of a file check must have, 0 to
	// 0o7777 as chmod takes them, when HasMode is set.
	Mode    uint32
	HasMode bool
	// Checksum makes a file check fail when the SHA-256 of the file's content differs
	// from the previous cycle's.
	Checksum bool
	// Pattern makes a file check fail when a line appended since the previous cycle
	// matches it. The first cycle starts at the end of the file. It is nil when unset.
	Pattern *regexp.Regexp

	// Timeout bounds one attempt of a probe: tcp, unix, udp, http, redis, postgres,
	// smtp, send_expect, program and file. It is DefaultProbeTimeout unless set, and
	// zero for the other types.
	Timeout Duration
	// Retries is how many more attempts a probe makes after a failed one within the
	// same cycle, from 0 to 10. It is 0 unless set.
	Retries int

	// ForCycles is how many failed cycles trigger the action. It is at least 1.
	ForCycles int
	// WithinCycles is 0 when the ForCycles failures must be consecutive. Otherwise the
	// action runs when ForCycles of the last WithinCycles cycles failed, and
	// WithinCycles is at least ForCycles.
	WithinCycles int
	// Action is ActionAlert unless set. ActionRestart, ActionStart and ActionStop are
	// set only on a service that tend can start: an owned service, or an external one
	// with a Start program.
	Action Action
	// Exec is the argument vector that ActionExec runs. It is set only with ActionExec.
	Exec []string
}

// Step is one exchange of a send_expect check: Send is written first, then Expect
// must match what the server sends. A step has Send, Expect or both.
type Step struct {
	Send   string
	Expect *regexp.Regexp
}

// serviceKind is the set of facts about a service that its checks depend on. It is
// taken from the presence of keys, so that a key of the wrong type causes one error,
// not two.
type serviceKind struct {
	// hasProcess is false for a host service: one without command, pidfile or match.
	hasProcess bool
	// canStart is true for an owned service and for an external one with start.
	canStart bool
	// finder names how an external service is found, for errors: "a pidfile" or "a
	// match pattern".
	finder string
}

func kindOf(svc *table) serviceKind {
	k := serviceKind{
		hasProcess: svc.has("command") || svc.has("pidfile") || svc.has("match"),
		canStart:   svc.has("command") || svc.has("start"),
		finder:     "a pidfile",
	}
	if !svc.has("pidfile") {
		k.finder = "a match pattern"
	}
	return k
}

// decodeServiceChecks decodes the [[service.check]] entries of the service in svc and
// adds the implicit process check first when a service with a process has none.
func (l *loader) decodeServiceChecks(svc *table, s *Service) []Check {
	kind := kindOf(svc)
	entries := svc.entries("check", "[[service.check]]")
	// A Check is half a kilobyte, and a service keeps its slice for as long as it is
	// configured: room for the implicit check is made once, without spare capacity.
	checks := make([]Check, 1, len(entries)+1)
	processCheck := 0
	for i, t := range entries {
		t.prefix = svc.prefix + fmt.Sprintf("check %d ", i+1)
		c := l.decodeCheck(t, kind)
		if c.Type == CheckProcess {
			if processCheck > 0 {
				t.errorf("type", "a second process check: a service has at most one, and check %d is one",
					processCheck)
			} else {
				processCheck = i + 1
			}
		}
		checks = append(checks, c)
	}
	if processCheck > 0 || !kind.hasProcess {
		if len(checks) == 1 {
			return nil
		}
		return checks[1:]
	}

	implicit := newCheck(s.Pos)
	implicit.Type = CheckProcess
	implicit.Action = ActionRestart
	if !kind.canStart {
		implicit.Action = ActionAlert
	}
	checks[0] = implicit
	return checks
}

// newCheck returns a check declared at pos with the defaults of the common keys.
func newCheck(pos Position) Check {
	return Check{Pos: pos, ForCycles: DefaultForCycles, Action: ActionAlert, Owner: -1, Group: -1}
}

// decodeCheck decodes one [[service.check]] entry of a service of the given kind.
func (l *loader) decodeCheck(t *table, kind serviceKind) Check {
	c := newCheck(Position{File: t.f.name, Line: t.line()})
	typed := t.text("type", &c.Type, `"process"`)
	if !t.has("type") {
		t.missing("type", wordList(checkTypeWords(), "or"))
	}
	filterKeys(t, c.Type, typed)
	decodeRule(t, &c, kind)
	if !typed {
		return c
	}

	spec := specOf(c.Type)
	if spec.scope == scopeProcess && !kind.hasProcess {
		t.errorf("type", "%s needs a process, but this service has none of command, pidfile and match: "+
			"for the host, use load, host_cpu, host_memory, swap, filesystem or inodes", checkNoun(c.Type))
	}
	if spec.scope == scopeProbe {
		c.Timeout = Duration(DefaultProbeTimeout)
		decodeTimeout(t, "timeout", &c.Timeout)
		if t.integer("retries", &c.Retries) && (c.Retries < 0 || c.Retries > 10) {
			t.errorf("retries", "%d is out of range: want 0 to 10", c.Retries)
		}
	}
	l.decodeTypeKeys(t, &c)
	decodeLimit(t, &c, spec)
	return c
}

// decodeTypeKeys decodes the keys that belong to the type of c.
func (l *loader) decodeTypeKeys(t *table, c *Check) {
	switch c.Type {
	case CheckCPU, CheckTotalCPU:
		c.Of = CPUScopeMachine
		t.text("of", &c.Of, `"machine"`)
	case CheckLoad:
		decodeLoad(t, c)
	case CheckHostCPU:
		c.Usage = CPUUsageTotal
		t.text("usage", &c.Usage, `"total"`)
	case CheckFilesystem, CheckInodes:
		requirePath(t, "path", &c.Path, `"/var/lib/postgresql"`)
	case CheckTCP:
		requireAddress(t, c)
	case CheckUDP:
		requireAddress(t, c)
		t.str("send", &c.Send)
		decodeRegexp(t, "expect", &c.Expect)
	case CheckSMTP:
		requireAddress(t, c)
		c.Hello = "localhost"
		if t.str("hello", &c.Hello) && c.Hello == "" {
			t.errorf("hello", `empty: want a host name such as "monitor.example.com", or leave the key out to send "localhost"`)
		}
	case CheckUnix:
		requirePath(t, "socket", &c.Socket, `"/run/redis/redis.sock"`)
	case CheckHTTP:
		decodeHTTP(t, c)
	case CheckRedis:
		decodeEndpoint(t, c)
		l.decodeRedisAuth(t, c)
	case CheckPostgres:
		decodeEndpoint(t, c)
		decodePostgres(t, c)
	case CheckSendExpect:
		decodeEndpoint(t, c)
		decodeSteps(t, c)
	case CheckProgram:
		decodeProgram(t, c)
	case CheckFile:
		decodeFile(t, c)
	}
	decodeTLS(t, c)
}

// decodeLoad decodes which load average a load check reads and whether per core.
func decodeLoad(t *table, c *Check) {
	c.Minutes = 1
	if t.integer("minutes", &c.Minutes) && c.Minutes != 1 && c.Minutes != 5 && c.Minutes != 15 {
		t.errorf("minutes", "%d is not a load average: want 1, 5 or 15", c.Minutes)
	}
	t.boolean("per_core", &c.PerCore)
}

// decodeRule decodes the keys that every check takes: how many failed cycles trigger
// the action, and the action.
func decodeRule(t *table, c *Check, kind serviceKind) {
	decodeCount(t, "for_cycles", &c.ForCycles)
	if t.integer("within_cycles", &c.WithinCycles) {
		switch {
		case c.WithinCycles < 1:
			t.errorf("within_cycles", "%d is too small: want 1 or more", c.WithinCycles)
		case c.WithinCycles < c.ForCycles:
			t.errorf("within_cycles", "%d is less than for_cycles (%d): want at least for_cycles, "+
				"or leave within_cycles out to count consecutive cycles", c.WithinCycles, c.ForCycles)
		}
	}

	hasAction := t.text("action", &c.Action, `"alert"`)
	decodeArgv(t, "exec", &c.Exec)
	switch {
	case !hasAction && t.has("action"):
		// The action is invalid, which t.text has reported.
	case c.Action == ActionExec && !t.has("exec"):
		t.missing("exec", `the program to run and its arguments, such as ["/usr/local/bin/notify", "redis"]`)
	case c.Action != ActionExec && t.has("exec"):
		t.errorf("exec", `only allowed with action "exec"`)
	}
	if hasAction {
		checkAction(t, c.Action, kind)
	}
}

// checkAction rejects an action that needs to start the service on a service that
// tend cannot start.
func checkAction(t *table, a Action, kind serviceKind) {
	if a != ActionRestart && a != ActionStart && a != ActionStop {
		return
	}
	switch {
	case !kind.hasProcess:
		t.errorf("action", `%s needs a process that tend can start, but this service has none of `+
			`command, pidfile and match: use action "alert", "exec" or "unmonitor"`, a)
	case !kind.canStart:
		t.errorf("action", `%s needs a start program, and this service has %s but no start: `+
			`set start, or use action "alert"`, a, kind.finder)
	}
}

// decodeRegexp compiles the regular expression at key into dst. It rejects an empty
// expression, which would match anything.
func decodeRegexp(t *table, key string, dst **regexp.Regexp) {
	var pattern string
	if !t.str(key, &pattern) {
		return
	}
	re, err := regexp.Compile(pattern)
	switch {
	case pattern == "":
		t.errorf(key, `empty: want a regular expression, such as "^OK", or "." for any text`)
	case err != nil:
		t.errorf(key, "%s", describeRegexpError(err))
	default:
		*dst = re
	}
}
