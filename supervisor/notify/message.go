package notify

import (
	"strconv"
	"strings"
	"time"
)

// Message is one datagram received on a notify socket.
type Message struct {
	// PID is the process that sent the datagram, from the kernel's SCM_CREDENTIALS. It is
	// not always the service's main process: systemd-notify run from a shell script sends
	// from a short-lived child. A sender with CAP_SYS_ADMIN may put any existing PID in its
	// credentials, and systemd-notify (systemd 252) then sends its parent's PID.
	PID int

	// Fields maps each KEY of a KEY=VALUE line to its VALUE. When a key repeats, the last
	// line wins. Lines without "=" or with an empty key are left out.
	Fields map[string]string

	// Raw is the datagram as received.
	Raw string
}

// Parse builds the Message that pid sent as raw, a text of newline-separated KEY=VALUE
// lines.
func Parse(pid int, raw string) Message {
	fields := make(map[string]string)
	for line := range strings.SplitSeq(raw, "\n") {
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" {
			continue
		}
		fields[key] = value
	}
	return Message{PID: pid, Fields: fields, Raw: raw}
}

// Ready reports whether the message contains READY=1: the service finished starting up.
func (m Message) Ready() bool {
	return m.Fields["READY"] == "1"
}

// Reloading reports whether the message contains RELOADING=1: the service is reloading its
// configuration and sends READY=1 when it is done.
func (m Message) Reloading() bool {
	return m.Fields["RELOADING"] == "1"
}

// Stopping reports whether the message contains STOPPING=1: the service is shutting down.
func (m Message) Stopping() bool {
	return m.Fields["STOPPING"] == "1"
}

// Watchdog reports whether the message contains WATCHDOG=1, a keep-alive ping. The value
// "trigger" is not a ping, and WatchdogTrigger reports it.
func (m Message) Watchdog() bool {
	return m.Fields["WATCHDOG"] == "1"
}

// WatchdogTrigger reports whether the message contains WATCHDOG=trigger: the service requests
// to be handled as if its watchdog timeout had passed.
func (m Message) WatchdogTrigger() bool {
	return m.Fields["WATCHDOG"] == "trigger"
}

// Status returns the value of STATUS, a free-form line describing the service's state, or
// "" when the message has none.
func (m Message) Status() string {
	return m.Fields["STATUS"]
}

// MainPID returns the PID in MAINPID and true, or 0 and false when MAINPID is missing or
// not a positive integer.
func (m Message) MainPID() (int, bool) {
	v, ok := m.Fields["MAINPID"]
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(v)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// Errno returns the errno value in ERRNO, with which a failing service reports why it fails,
// and true. It returns 0 and false when ERRNO is missing or not a non-negative integer.
func (m Message) Errno() (int, bool) {
	v, ok := m.Fields["ERRNO"]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// ExtendTimeout returns the time in EXTEND_TIMEOUT_USEC and true. With it a service requests
// that its current start, stop or reload timeout be extended so that it ends no earlier
// than this long after the message. It returns 0 and false when the field is missing or not
// a non-negative count of microseconds.
func (m Message) ExtendTimeout() (time.Duration, bool) {
	return m.usec("EXTEND_TIMEOUT_USEC")
}

// WatchdogTimeout returns the time in WATCHDOG_USEC and true. With it a service sets a new
// watchdog timeout for itself. It returns 0 and false when the field is missing or not a
// non-negative count of microseconds.
func (m Message) WatchdogTimeout() (time.Duration, bool) {
	return m.usec("WATCHDOG_USEC")
}

func (m Message) usec(key string) (time.Duration, bool) {
	v, ok := m.Fields[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil || n > uint64(1<<63-1)/uint64(time.Microsecond) {
		return 0, false
	}
	return time.Duration(n) * time.Microsecond, true
}
