package monit

// This file translates the tests of a service into [[service.check]] entries.

import (
	"fmt"
	"strconv"
	"strings"
)

// check translates one test into a [[service.check]] entry, or into none with a note
// saying why.
func (tr *translator) check(t *test, ctx *serviceContext) [][]keyValue {
	switch {
	case t.inverted:
		tr.note(t.pos, "%s: not translated, because a tend check fails when its test fails, never when it passes", t.text)
		return nil
	case t.action.kind == "ignore":
		tr.note(t.pos, "%s: not translated, because its action is ignore", t.text)
		return nil
	}
	body, reason := tr.checkBody(t, ctx)
	if body == nil {
		tr.note(t.pos, "%s: not translated: %s", t.text, reason)
		return nil
	}
	if t.elseAction != "" {
		tr.note(t.pos, "%s: the else action %s is not translated: tend alerts when a check recovers", t.text, t.elseAction)
	}
	return [][]keyValue{append(body, tr.rule(t, ctx)...)}
}

// rule returns the keys that every check takes: cycles and action.
func (tr *translator) rule(t *test, ctx *serviceContext) []keyValue {
	var keys []keyValue
	if t.forCycles > 1 || t.withinCycles > 0 {
		keys = append(keys, keyValue{key: "for_cycles", value: max(t.forCycles, 1)})
	}
	if t.withinCycles > 0 {
		keys = append(keys, keyValue{key: "within_cycles", value: t.withinCycles})
	}
	a := t.action
	switch a.kind {
	case "restart", "start", "stop":
		if !ctx.canStart {
			tr.note(t.pos, "%s: the action %s becomes alert, because tend cannot start %s", t.text, a.kind, ctx.svc.name)
			a.kind = "alert"
		}
	case "exec":
		if a.repeat > 0 {
			tr.note(t.pos, "%s: repeat every %d cycles is not translated: tend runs the program once per failure", t.text, a.repeat)
		}
		if a.exec.timeout > 0 {
			tr.note(t.pos, "%s: the exec timeout is not translated: tend bounds it by the service's start_timeout", t.text)
		}
		return append(keys, keyValue{key: "action", value: "exec"}, keyValue{key: "exec", value: tr.programArgv(a.exec)})
	}
	return append(keys, keyValue{key: "action", value: a.kind})
}

// checkBody returns the type and type keys of the check for t, or nil and the
// reason it has no counterpart.
func (tr *translator) checkBody(t *test, ctx *serviceContext) ([]keyValue, string) {
	kind := ctx.svc.kind
	switch t.kind {
	case "resource":
		return tr.resourceCheck(t, ctx)
	case "nonexist":
		return existenceCheck(ctx.svc)
	case "exist":
		return nil, "tend has no check that fails while something exists"
	case "changed":
		return changedCheck(t, ctx.svc)
	case "uptime":
		if kind != "process" {
			return nil, "tend has no check of the machine's uptime"
		}
		return limitCheck(t, "uptime", durationLimit)
	case "filedescriptors":
		if kind != "process" {
			return nil, "tend counts the file descriptors of processes only"
		}
		return limitCheck(t, "fds", countOrPercent)
	case "connection", "unix", "url":
		return tr.connectionCheck(t, ctx)
	case "timestamp", "size", "checksum", "permission", "uid", "gid":
		return fileCheck(t, ctx.svc)
	case "content":
		if kind == "program" {
			return tr.programCheck(t, ctx.svc)
		}
		return fileCheck(t, ctx.svc)
	case "status":
		return tr.programCheck(t, ctx.svc)
	case "space", "inode":
		return filesystemCheck(t, ctx.svc)
	}
	return nil, "tend has no counterpart of this test"
}

// existenceCheck translates "if does not exist".
func existenceCheck(svc *service) ([]keyValue, string) {
	switch svc.kind {
	case "process":
		return []keyValue{{key: "type", value: "process"}}, ""
	case "file", "fifo", "directory":
		return []keyValue{{key: "type", value: "file"}, {key: "path", value: svc.path}}, ""
	}
	return nil, "tend has no existence test for check " + svc.kind
}

// changedCheck translates "if changed pid", "ppid" and "checksum".
func changedCheck(t *test, svc *service) ([]keyValue, string) {
	switch {
	case t.resource == "pid" && svc.kind == "process":
		return []keyValue{{key: "type", value: "pid"}}, ""
	case t.resource == "ppid" && svc.kind == "process":
		return []keyValue{{key: "type", value: "ppid"}}, ""
	case t.resource == "checksum" && svc.kind == "file":
		return []keyValue{{key: "type", value: "file"}, {key: "path", value: svc.path}, {key: "checksum", value: true}}, ""
	}
	return nil, "tend notices changes of the pid, the ppid and a file's checksum only"
}

// limitUnits names which values a check type takes.
type limitUnits int

const (
	percentOnly limitUnits = iota + 1
	sizeOrPercent
	countOnly
	countOrPercent
	durationLimit
	sizeOnly
)

// limitCheck returns a check of type typ with the above or below key of t.
func limitCheck(t *test, typ string, units limitUnits) ([]keyValue, string) {
	limit, reason := limitKey(t, units)
	if limit == nil {
		return nil, reason
	}
	return []keyValue{{key: "type", value: typ}, *limit}, ""
}

// limitKey returns the above or below key of t in the form units allows.
func limitKey(t *test, units limitUnits) (*keyValue, string) {
	key := ""
	switch t.op {
	case ">", ">=":
		key = "above"
	case "<", "<=":
		key = "below"
	default:
		return nil, fmt.Sprintf("tend compares with above or below, not with %s", t.op)
	}
	value, reason := limitValue(t, units)
	if reason != "" {
		return nil, reason
	}
	return &keyValue{key: key, value: value}, ""
}

// limitValue formats the value of t, or returns why tend cannot take it.
func limitValue(t *test, units limitUnits) (any, string) {
	number := strconv.FormatFloat(t.value, 'f', -1, 64)
	switch {
	case t.unit == "%" && (units == percentOnly || units == sizeOrPercent || units == countOrPercent):
		if t.value <= 0 || t.value > 100 {
			return nil, fmt.Sprintf("the percentage %s%% is outside tend's range of more than 0%% and at most 100%%", number)
		}
		return number + "%", ""
	case isSizeUnit(t.unit) && (units == sizeOrPercent || units == sizeOnly), t.unit == "" && units == sizeOnly:
		if t.value <= 0 {
			return nil, "a size must be greater than 0"
		}
		return number + cmpUnit(t.unit), ""
	case t.unit == "" && (units == countOnly || units == countOrPercent):
		if t.value == float64(int(t.value)) {
			return int(t.value), ""
		}
		return t.value, ""
	case units == durationLimit:
		seconds, ok := durationSeconds(t.value, t.unit)
		if !ok || seconds <= 0 {
			return nil, "the duration must be greater than 0 and in seconds, minutes, hours or days"
		}
		return formatSeconds(seconds), ""
	}
	return nil, fmt.Sprintf("the value %s%s is not a unit that this tend check takes", number, t.unit)
}

func isSizeUnit(u string) bool { return u == "B" || u == "KB" || u == "MB" || u == "GB" }

func cmpUnit(u string) string {
	if u == "" {
		return "B"
	}
	return u
}

// durationSeconds converts a value and time unit into whole seconds. A month is
// taken as 30 days.
func durationSeconds(v float64, unit string) (int, bool) {
	factor := map[string]float64{"": 1, "s": 1, "ms": 0.001, "m": 60, "h": 3600, "d": 86400, "month": 30 * 86400}
	f, ok := factor[unit]
	if !ok {
		return 0, false
	}
	return int(v * f), true
}

// resourceCheck translates a resource test of a process or of the system.
func (tr *translator) resourceCheck(t *test, ctx *serviceContext) ([]keyValue, string) {
	process, system := ctx.svc.kind == "process", ctx.svc.kind == "system"
	switch r := t.resource; {
	case r == "cpu" && process:
		return limitCheck(t, "cpu", percentOnly)
	case r == "cpu" && system:
		return limitCheck(t, "host_cpu", percentOnly)
	case r == "totalcpu" && process:
		return limitCheck(t, "total_cpu", percentOnly)
	case r == "memory" && process:
		return limitCheck(t, "memory", sizeOrPercent)
	case r == "memory" && system:
		return limitCheck(t, "host_memory", sizeOrPercent)
	case r == "totalmemory" && process:
		return limitCheck(t, "total_memory", sizeOrPercent)
	case r == "swap" && system:
		return limitCheck(t, "swap", sizeOrPercent)
	case (r == "children" || r == "threads") && process:
		return limitCheck(t, r, countOnly)
	case strings.HasPrefix(r, "loadavg"):
		return loadCheck(t)
	case r == "cpuuser" || r == "cpusystem" || r == "cpuwait":
		body, reason := limitCheck(t, "host_cpu", percentOnly)
		usage := map[string]string{"cpuuser": "user", "cpusystem": "system", "cpuwait": "iowait"}[r]
		if body != nil {
			body = append(body, keyValue{key: "usage", value: usage})
		}
		return body, reason
	case strings.HasPrefix(r, "cpu"):
		return nil, "tend measures the total, user, system and iowait CPU time of the machine, not " + strings.TrimPrefix(r, "cpu")
	}
	return nil, fmt.Sprintf("tend has no %s test for check %s", t.resource, ctx.svc.kind)
}

// loadCheck translates a loadavg test.
func loadCheck(t *test) ([]keyValue, string) {
	body, reason := limitCheck(t, "load", countOnly)
	if body == nil {
		return nil, reason
	}
	minutes, _ := strconv.Atoi(strings.TrimPrefix(t.resource, "loadavg"))
	if minutes != 1 {
		body = append(body, keyValue{key: "minutes", value: minutes})
	}
	if t.perCore {
		body = append(body, keyValue{key: "per_core", value: true})
	}
	return body, ""
}

// fileCheck translates a timestamp, size, checksum, permission, uid, gid or content
// test of a file, fifo or directory.
func fileCheck(t *test, svc *service) ([]keyValue, string) {
	if svc.kind != "file" && svc.kind != "fifo" && svc.kind != "directory" {
		return nil, "tend runs this test on files, fifos and directories only"
	}
	body := []keyValue{{key: "type", value: "file"}, {key: "path", value: svc.path}}
	readsContent := t.kind == "checksum" || t.kind == "content"
	if readsContent && svc.kind != "file" {
		return nil, "tend reads the content of regular files only"
	}
	switch t.kind {
	case "timestamp":
		if t.timestamp == "atime" || t.timestamp == "ctime" {
			return nil, "tend tests the modification time only"
		}
		if t.op != ">" && t.op != ">=" {
			return nil, "tend tests that a file was modified within a time (timestamp > N), nothing else"
		}
		value, reason := limitValue(t, durationLimit)
		if reason != "" {
			return nil, reason
		}
		return append(body, keyValue{key: "max_age", value: value}), ""
	case "size":
		limit, reason := limitKey(t, sizeOnly)
		if limit == nil {
			return nil, reason
		}
		return append(body, *limit), ""
	case "checksum":
		if t.word != "" {
			return nil, "tend notices a changed checksum but does not compare with an expected one"
		}
		return append(body, keyValue{key: "checksum", value: true}), ""
	case "permission":
		mode, err := strconv.ParseUint(t.word, 8, 32)
		if err != nil || mode > 0o7777 {
			return nil, fmt.Sprintf("permission %s is not an octal mode", t.word)
		}
		return append(body, keyValue{key: "mode", value: fmt.Sprintf("%04o", mode)}), ""
	case "uid", "gid":
		key := map[string]string{"uid": "owner", "gid": "group"}[t.kind]
		if id, err := strconv.Atoi(t.word); err == nil {
			return append(body, keyValue{key: key, value: id}), ""
		}
		return append(body, keyValue{key: key, value: t.word}), ""
	case "content":
		if t.negate {
			return nil, "tend fails a file check when a new line matches, not when none does"
		}
		return append(body, keyValue{key: "pattern", value: t.word}), ""
	}
	return nil, "tend has no counterpart of this file test"
}

// filesystemCheck translates a space or inode test of a check filesystem. A free
// percentage is turned into the used one: space free < 10% is space > 90%.
func filesystemCheck(t *test, svc *service) ([]keyValue, string) {
	if svc.kind != "filesystem" {
		return nil, "tend tests space and inodes of filesystems only"
	}
	if strings.HasPrefix(svc.path, "/dev/") {
		return nil, fmt.Sprintf("tend needs a path on the filesystem, such as its mount point, not the device %s", svc.path)
	}
	typ := "filesystem"
	units := sizeOrPercent
	if t.kind == "inode" {
		typ, units = "inodes", countOrPercent
	}
	u := *t
	if t.free {
		if t.unit != "%" {
			return nil, "tend compares the used space or inodes; a free amount translates only as a percentage"
		}
		u.value = 100 - t.value
		u.op = map[string]string{">": "<", ">=": "<=", "<": ">", "<=": ">="}[t.op]
		if u.op == "" {
			u.op = t.op
		}
	}
	limit, reason := limitKey(&u, units)
	if limit == nil {
		return nil, reason
	}
	return []keyValue{{key: "type", value: typ}, {key: "path", value: svc.path}, *limit}, ""
}

// programCheck translates a status or content test of a check program.
func (tr *translator) programCheck(t *test, svc *service) ([]keyValue, string) {
	if svc.kind != "program" {
		return nil, "tend tests exit statuses of check program only"
	}
	body := []keyValue{{key: "type", value: "program"}, {key: "command", value: tr.programArgv(svc.command)}}
	if svc.command.timeout > 0 {
		body = append(body, keyValue{key: "timeout", value: formatSeconds(svc.command.timeout)})
	}
	switch {
	case t.kind == "content" && t.negate:
		return append(body, keyValue{key: "output", value: t.word}), ""
	case t.kind == "content":
		return nil, "tend fails a program check when the output does not match, not when it does"
	case t.op == "changed":
		return nil, "tend compares the exit status with one expected value"
	case t.op == "!=", t.op == ">" && t.value == 0:
		if t.value < 0 || t.value > 255 || t.value != float64(int(t.value)) {
			return nil, "the exit status must be a whole number from 0 to 255"
		}
		return append(body, keyValue{key: "status", value: int(t.value)}), ""
	}
	return nil, fmt.Sprintf("tend passes a program check on one exit status (status != N), not on status %s %s", t.op, strconv.FormatFloat(t.value, 'f', -1, 64))
}
