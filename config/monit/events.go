package monit

// This file translates alert recipients, their event filters and the event queue.

import (
	"fmt"
	"slices"
	"strings"

	"tend/alert"
)

// failureKinds are the event kinds of a failing check. Monit names an event after
// the test (resource, connection, size ...), and tend after what happened to the
// check, so every Monit test event maps to all three.
var failureKinds = []alert.Kind{alert.KindFailed, alert.KindRecovered, alert.KindReminder}

// monitEventKinds maps the Monit events that have a counterpart other than a check
// failure to tend's event kinds.
var monitEventKinds = map[string][]alert.Kind{
	"pid":      {alert.KindPIDChanged},
	"timeout":  {alert.KindRestartLimit, alert.KindStartTimeout, alert.KindStopTimeout},
	"action":   {alert.KindRestarted},
	"instance": {alert.KindDaemonStarted, alert.KindDaemonStopped},
	"exec":     {alert.KindActionFailed},
}

// monitTestEvents are the Monit events of failing tests.
var monitTestEvents = []string{
	"bytein", "byteout", "checksum", "connection", "content", "data", "exist", "fsflag",
	"fsflags", "gid", "icmp", "invalid", "link", "nonexist", "packetin", "packetout",
	"permission", "ppid", "resource", "saturation", "size", "speed", "status", "time",
	"timestamp", "uid", "uptime",
}

// eventFilter translates the event list of an alert statement into the events or
// except_events key of a route, or returns no key when the list does not filter.
func (tr *translator) eventFilter(r recipient) []keyValue {
	if len(r.events) == 0 {
		return nil
	}
	var kinds []string
	var tests []string
	for _, e := range r.events {
		switch {
		case slices.Contains(monitTestEvents, e):
			tests = append(tests, e)
			if !r.except {
				kinds = appendKinds(kinds, failureKinds)
			}
		case monitEventKinds[e] != nil:
			kinds = appendKinds(kinds, monitEventKinds[e])
		default:
			tr.note(r.pos, "event %s of alert %s is unknown and left out of the filter", e, r.address)
		}
	}

	if len(tests) > 0 && r.except {
		tr.note(r.pos, "alert %s but not on {%s}: tend routes by event kind, not by test, so the failures and recoveries of every check still reach %s",
			r.address, strings.Join(tests, ", "), r.address)
	}
	if len(tests) > 0 && !r.except {
		tr.note(r.pos, "alert %s only on {%s}: tend routes by event kind, not by test, so the failures and recoveries of every check reach %s",
			r.address, strings.Join(tests, ", "), r.address)
	}
	switch {
	case len(kinds) == 0:
		return nil
	case r.except:
		return []keyValue{{key: "except_events", value: kinds}}
	}
	return []keyValue{{key: "events", value: kinds}}
}

func appendKinds(dst []string, kinds []alert.Kind) []string {
	for _, k := range kinds {
		if !slices.Contains(dst, string(k)) {
			dst = append(dst, string(k))
		}
	}
	return dst
}

// reminder translates "reminder on N cycles" into the reminder key of a route.
func (tr *translator) reminder(r recipient) []keyValue {
	if r.reminder == 0 {
		return nil
	}
	seconds := r.reminder * tr.interval
	if seconds < 60 {
		tr.note(r.pos, "reminder of alert %s every %d cycles (%s) is raised to 1m, tend's shortest reminder", r.address, r.reminder, formatSeconds(seconds))
		seconds = 60
	}
	return []keyValue{{key: "reminder", value: formatSeconds(seconds)}}
}

// alerts writes [alerts] and the [[alerts.route]] entries of the set alert
// statements that filter events or set a reminder.
func (tr *translator) alerts(d *tomlDoc) {
	var keys []keyValue
	if q := tr.rc.eventQueue; q != nil {
		if q.slots > 0 {
			limit := max(q.slots, 10)
			if limit != q.slots {
				tr.note(q.pos, "eventqueue slots %d is raised to 10, tend's smallest queue_limit", q.slots)
			}
			keys = append(keys, keyValue{key: "queue_limit", value: limit})
		}
		if q.basedir != "" {
			tr.note(q.pos, "eventqueue basedir %s is not translated: tend queues undelivered alerts in state_dir/outbox", q.basedir)
		}
	}

	var routes [][]keyValue
	for i, r := range tr.rc.alerts {
		if len(r.events) == 0 && r.reminder == 0 {
			continue
		}
		route := []keyValue{{key: "name", value: fmt.Sprintf("alert-%d", i+1)}, {key: "to", value: []string{r.address}}}
		route = append(route, tr.eventFilter(r)...)
		route = append(route, tr.reminder(r)...)
		routes = append(routes, route)
	}
	if len(keys) == 0 && len(routes) == 0 {
		return
	}
	d.table("[alerts]", "")
	d.keys(keys)
	for _, route := range routes {
		d.table("[[alerts.route]]", "")
		d.keys(route)
	}
}

// serviceAlerts translates the alert statements of a service into [[service.alert]]
// entries.
func (tr *translator) serviceAlerts(svc *service) [][]keyValue {
	var entries [][]keyValue
	for _, r := range svc.alerts {
		entry := []keyValue{{key: "to", value: []string{r.address}}}
		entry = append(entry, tr.eventFilter(r)...)
		entry = append(entry, tr.reminder(r)...)
		entries = append(entries, entry)
	}
	return entries
}
