package monit

// This file translates check statements into drop-ins.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// runuser is the program that runs a start, stop or exec program as another account,
// as Monit's "as uid USER gid GROUP" does; util-linux installs it on Debian.
const runuser = "/usr/sbin/runuser"

// tendService is a translated service before it is rendered, so that depends_on can
// leave out services that were not translated.
type tendService struct {
	name    string
	source  *service
	keys    []keyValue
	checks  [][]keyValue
	alerts  [][]keyValue
	comment string
}

// serviceContext contains the facts about a service that the translation of its
// tests needs.
type serviceContext struct {
	svc *service
	// canStart is true for a process check with a start program, which tend can
	// start, stop and restart.
	canStart bool
}

// nameServices gives each service a valid, unique tend name.
func (tr *translator) nameServices() {
	used := map[string]bool{}
	for _, svc := range tr.rc.services {
		name := sanitizeName(strings.ReplaceAll(svc.name, "$HOST", tr.opts.Hostname))
		base := name
		for i := 2; used[name]; i++ {
			name = base + "-" + strconv.Itoa(i)
		}
		if name != svc.name {
			tr.note(svc.pos, "service %s is named %s in tend, which allows only letters, digits, '_', '.' and '-'", svc.name, name)
		}
		used[name] = true
		tr.names[svc.name] = name
	}
}

// sanitizeName replaces the characters that tend does not allow in a service name.
func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		ok := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !ok && b.Len() > 0 && (r == '_' || r == '.' || r == '-') {
			ok = true
		}
		switch {
		case ok:
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "service"
	}
	return b.String()
}

// services translates every check statement and renders the drop-ins.
func (tr *translator) services() {
	var translated []*tendService
	emitted := map[string]bool{}
	for _, svc := range tr.rc.services {
		if ts := tr.service(svc); ts != nil {
			translated = append(translated, ts)
			emitted[ts.name] = true
		}
	}
	for _, ts := range translated {
		tr.dependencies(ts, emitted)
		tr.res.DropIns = append(tr.res.DropIns, DropIn{Name: ts.name, Data: renderService(ts)})
	}
}

// service translates one check statement, or returns nil when nothing of it could be
// translated.
func (tr *translator) service(svc *service) *tendService {
	ts := &tendService{name: tr.names[svc.name], source: svc}
	ts.comment = fmt.Sprintf("check %s %s at %s:%d", svc.kind, svc.name, svc.pos.file, svc.pos.line)
	ts.keys = []keyValue{{key: "name", value: ts.name}}
	ctx := &serviceContext{svc: svc}

	switch svc.kind {
	case "network":
		tr.note(svc.pos, "check network %s is not translated: tend has no network interface tests", svc.name)
		return nil
	case "process":
		if !tr.processKeys(ts, ctx) {
			return nil
		}
	default:
		for _, prog := range []*program{svc.start, svc.stop, svc.restart} {
			if prog != nil {
				tr.note(prog.pos, "the programs of check %s %s are not translated: tend starts and stops only processes", svc.kind, svc.name)
				break
			}
		}
	}
	if len(svc.groups) > 0 {
		ts.keys = append(ts.keys, keyValue{key: "groups", value: tr.groups(svc)})
	}

	for _, t := range svc.tests {
		ts.checks = append(ts.checks, tr.check(t, ctx)...)
	}
	if svc.kind == "file" || svc.kind == "fifo" || svc.kind == "directory" {
		ts.checks = tr.withExistenceCheck(svc, ts.checks)
	}
	if svc.kind != "process" && len(ts.checks) == 0 {
		tr.note(svc.pos, "check %s %s is not translated: none of its tests has a counterpart in tend", svc.kind, svc.name)
		return nil
	}
	ts.alerts = tr.serviceAlerts(svc)
	return ts
}

// processKeys adds the keys of a process check: how tend finds it, starts and stops
// it, and its restart limit. It returns false when the service cannot be translated.
func (tr *translator) processKeys(ts *tendService, ctx *serviceContext) bool {
	svc := ctx.svc
	if svc.pidfile != "" {
		ts.keys = append(ts.keys, keyValue{key: "pidfile", value: svc.pidfile})
	} else {
		if _, err := regexp.Compile(svc.match); err != nil {
			tr.note(svc.pos, "check process %s is not translated: its pattern %q is not a valid RE2 regular expression (%v); rewrite it as match in a drop-in", svc.name, svc.match, err)
			return false
		}
		ts.keys = append(ts.keys, keyValue{key: "match", value: svc.match})
	}
	if svc.start != nil {
		ctx.canStart = true
		ts.keys = append(ts.keys, keyValue{key: "start", value: tr.programArgv(svc.start)})
	}
	if svc.stop != nil {
		ts.keys = append(ts.keys, keyValue{key: "stop", value: tr.programArgv(svc.stop)})
	}
	if svc.start != nil && svc.start.timeout > 0 {
		ts.keys = append(ts.keys, keyValue{key: "start_timeout", value: formatSeconds(svc.start.timeout)})
	}
	if svc.stop != nil && svc.stop.timeout > 0 {
		ts.keys = append(ts.keys, keyValue{key: "stop_timeout", value: formatSeconds(svc.stop.timeout)})
	}
	if svc.restart != nil {
		tr.note(svc.restart.pos, "restart program of %s is not translated: tend restarts with the stop program, then the start program", svc.name)
	}
	if svc.start == nil {
		tr.note(svc.pos, "check process %s has no start program: tend only alerts when it is not running, and a restart, start or stop action becomes alert", svc.name)
	}
	tr.restartLimit(ts, ctx)
	return true
}

// restartLimit translates "if N restarts within M cycles then ...".
func (tr *translator) restartLimit(ts *tendService, ctx *serviceContext) {
	r := ctx.svc.restartLimit
	if r == nil {
		return
	}
	if !ctx.canStart {
		tr.note(r.pos, "%d restarts within %d cycles is not translated: tend does not restart %s, which has no start program", r.restarts, r.cycles, ctx.svc.name)
		return
	}
	if r.restarts < 1 || r.cycles < 1 {
		tr.note(r.pos, "%d restarts within %d cycles is not translated: both must be at least 1", r.restarts, r.cycles)
		return
	}
	if r.action != "unmonitor" && r.action != "timeout" {
		tr.note(r.pos, "%d restarts within %d cycles then %s: tend always unmonitors the service and alerts at its restart limit", r.restarts, r.cycles, r.action)
	}
	ts.keys = append(ts.keys, keyValue{key: "restart_limit", value: inline(fmt.Sprintf("{ restarts = %d, cycles = %d }", r.restarts, r.cycles))})
}

// programArgv returns the argument vector of a program, run through runuser when it
// names a user or group.
func (tr *translator) programArgv(p *program) []string {
	if p.uid == "" && p.gid == "" {
		return p.argv
	}
	user := p.uid
	if user == "" {
		user = "root"
	}
	if _, err := strconv.Atoi(user); err == nil {
		tr.note(p.pos, "uid %s: runuser needs a user name, not a numeric ID; replace it in the translated command", user)
	}
	argv := []string{runuser, "-u", user}
	if p.gid != "" {
		argv = append(argv, "-g", p.gid)
	}
	return append(append(argv, "--"), p.argv...)
}

// groups returns the valid, distinct group names of a service.
func (tr *translator) groups(svc *service) []string {
	var groups []string
	for _, g := range svc.groups {
		name := sanitizeName(g)
		if name != g {
			tr.note(svc.pos, "group %s of %s is named %s in tend", g, svc.name, name)
		}
		if !slices.Contains(groups, name) {
			groups = append(groups, name)
		}
	}
	return groups
}

// dependencies adds depends_on with the services that were translated.
func (tr *translator) dependencies(ts *tendService, emitted map[string]bool) {
	var deps []string
	for _, dep := range ts.source.dependsOn {
		name, ok := tr.names[dep]
		switch {
		case !ok:
			tr.note(ts.source.dependsPos, "depends on %s: no check of that name exists, so it is left out", dep)
		case !emitted[name]:
			tr.note(ts.source.dependsPos, "depends on %s: that check was not translated, so it is left out", dep)
		case name != ts.name && !slices.Contains(deps, name):
			deps = append(deps, name)
		}
	}
	if len(deps) > 0 {
		ts.keys = append(ts.keys, keyValue{key: "depends_on", value: deps})
	}
}

// withExistenceCheck puts a file check that the path exists first, as Monit alerts
// when the file of a check file is missing, unless a test already covers it.
func (tr *translator) withExistenceCheck(svc *service, checks [][]keyValue) [][]keyValue {
	for _, t := range svc.tests {
		if t.kind == "nonexist" {
			return checks
		}
	}
	exists := []keyValue{
		{key: "type", value: "file", comment: "Monit alerts when the path does not exist."},
		{key: "path", value: svc.path},
		{key: "action", value: "alert"},
	}
	return append([][]keyValue{exists}, checks...)
}

// renderService renders the drop-in of a service.
func renderService(ts *tendService) []byte {
	var d tomlDoc
	d.table("[[service]]", "Translated from "+ts.comment+".")
	d.keys(ts.keys)
	for _, alert := range ts.alerts {
		d.table("[[service.alert]]", "")
		d.keys(alert)
	}
	for _, check := range ts.checks {
		d.table("[[service.check]]", "")
		d.keys(check)
	}
	return d.bytes()
}
