package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// decodeChecks decodes the [[service.check]] entries of the service in svc and adds
// the implicit process check when there is none.
func decodeChecks(svc *table, s *Service) []Check {
	// Only an external service without a start program cannot be restarted. Presence
	// of the keys decides, so that a start key of the wrong type causes one error.
	canRestart := !svc.has("pidfile") || svc.has("command") || svc.has("start")

	var checks []Check
	processCheck := 0
	for i, t := range svc.entries("check", "[[service.check]]") {
		t.prefix = svc.prefix + fmt.Sprintf("check %d ", i+1)
		c := decodeCheck(t, canRestart)
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
	if processCheck > 0 {
		return checks
	}

	implicit := Check{Type: CheckProcess, Pos: s.Pos, ForCycles: 1, Action: ActionRestart}
	if !canRestart {
		implicit.Action = ActionAlert
	}
	return slices.Insert(checks, 0, implicit)
}

// decodeCheck decodes one [[service.check]] entry. canRestart is false for an external
// service without a start program, which rejects the restart action.
func decodeCheck(t *table, canRestart bool) Check {
	c := Check{Pos: Position{File: t.f.name, Line: t.line()}, ForCycles: DefaultForCycles, Action: ActionAlert}
	t.rejectUnknown("type", "address", "timeout", "above", "for_cycles", "action")
	typed := t.text("type", &c.Type, `"process"`)
	if !t.has("type") {
		t.missing("type", "process, tcp, cpu, memory or total_memory")
	}
	decodeCount(t, "for_cycles", &c.ForCycles)
	if t.text("action", &c.Action, `"alert"`) && c.Action == ActionRestart && !canRestart {
		t.errorf("action", `restart needs a start program, and this service has a pidfile `+
			`but no start: set start, or use action "alert"`)
	}

	hasAddress := t.str("address", &c.Address)
	decodeTimeout(t, "timeout", &c.Timeout)
	hasAbove := decodeAbove(t, &c)
	if !typed {
		return c
	}

	switch c.Type {
	case CheckProcess:
		rejectKeys(t, c.Type, "address", "timeout", "above")
	case CheckTCP:
		rejectKeys(t, c.Type, "above")
		if !t.has("address") {
			t.missing("address", `host:port, such as "127.0.0.1:6379"`)
		} else if hasAddress {
			checkAddress(t, c.Address)
		}
		if !t.has("timeout") {
			c.Timeout = Duration(DefaultProbeTimeout)
		}
	default:
		rejectKeys(t, c.Type, "address", "timeout")
		if !t.has("above") {
			t.missing("above", `a threshold such as "95%"`)
		} else if hasAbove {
			checkThreshold(t, c)
		}
	}
	return c
}

// decodeAbove decodes the threshold of a check. A cpu check takes only percentages, so
// its errors speak of percentages alone.
func decodeAbove(t *table, c *Check) bool {
	text, isString := t.values["above"].(string)
	if isString && c.Type == CheckCPU && !strings.HasSuffix(strings.TrimSpace(text), "%") {
		var q Quantity
		if q.UnmarshalText([]byte(text)) != nil {
			t.errorf("above", "%v", invalidPercent([]byte(text)))
			return false
		}
	}
	return t.text("above", &c.Above, `"95%" or "600MB"`)
}

// checkThreshold checks the threshold of a resource check: a percentage for cpu, a
// size or a percentage for memory and total_memory.
func checkThreshold(t *table, c Check) {
	text := t.values["above"].(string)
	switch {
	case c.Type == CheckCPU && !c.Above.IsPercent():
		t.errorf("above", `%q is a size, but a cpu check needs a percentage such as "95%%"`, text)
	case c.Above.IsPercent() && (c.Above.Percent() <= 0 || c.Above.Percent() > 100):
		t.errorf("above", "%q is out of range: want a percentage greater than 0%% and at most 100%%", text)
	case !c.Above.IsPercent() && c.Above.Bytes() == 0:
		t.errorf("above", "%q is out of range: want a size greater than 0", text)
	}
}

// rejectKeys reports each of keys that the check has, since a check of type typ has no
// use for them.
func rejectKeys(t *table, typ CheckType, keys ...string) {
	for _, key := range keys {
		if !t.has(key) {
			continue
		}
		owner := "tcp checks"
		if key == "above" {
			owner = "cpu, memory and total_memory checks"
		}
		t.errorf(key, "not allowed in a %s check: only %s have %s", typ, owner, key)
	}
}

// checkAddress checks the host:port of a tcp check.
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

// Check is one rule: a test, how long it must fail, and the action to take.
type Check struct {
	Type CheckType
	// Pos is the position of the [[service.check]] header, or of the [[service]]
	// header for the process check that Load adds.
	Pos Position

	// Address is host:port for a tcp check, with a port from 1 to 65535. It is empty
	// for the other types.
	Address string
	// Timeout bounds one probe of a tcp check. It is DefaultProbeTimeout unless set,
	// and zero for the other types.
	Timeout Duration

	// Above is the threshold of a resource check: a percentage for cpu, a size or a
	// percentage of physical memory for memory and total_memory. It is the zero
	// Quantity for process and tcp checks. A percentage is greater than 0 and at most
	// 100, and a size is greater than 0.
	Above Quantity

	// ForCycles is how many consecutive cycles the test must fail before the action runs.
	// It is at least 1.
	ForCycles int
	// Action is ActionAlert unless set. ActionRestart is never set on an external
	// service without a Start program.
	Action Action
}
