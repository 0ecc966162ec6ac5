package config

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// TLSMode selects how the SMTP connection is encrypted. The zero value is invalid.
type TLSMode int

// TLS modes, written none, starttls and tls.
const (
	// TLSNone sends mail in plain text.
	TLSNone TLSMode = iota + 1
	// TLSStartTLS upgrades a plain connection with the STARTTLS command.
	TLSStartTLS
	// TLSImplicit speaks TLS from the first byte, as on port 465.
	TLSImplicit
)

// String returns the word for m: none, starttls or tls.
func (m TLSMode) String() string {
	switch m {
	case TLSNone:
		return "none"
	case TLSStartTLS:
		return "starttls"
	case TLSImplicit:
		return "tls"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// DefaultPort returns the usual SMTP port of the mode: 25, 587 or 465, and 0 for an
// invalid mode.
func (m TLSMode) DefaultPort() int {
	switch m {
	case TLSNone:
		return 25
	case TLSStartTLS:
		return 587
	case TLSImplicit:
		return 465
	}
	return 0
}

// MarshalText returns the word for m.
func (m TLSMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses none, starttls or tls.
func (m *TLSMode) UnmarshalText(text []byte) error {
	return parseWord(m, "TLS mode", text, TLSNone, TLSStartTLS, TLSImplicit)
}

// CheckType is the kind of test a check runs. The zero value is invalid.
type CheckType int

// Check types, written as the words in their comments.
const (
	// CheckProcess (process) tests that the service's process exists.
	CheckProcess CheckType = iota + 1
	// CheckTCP (tcp) tests that Address accepts a connection within Timeout.
	CheckTCP
	// CheckCPU (cpu) compares the process's CPU usage with Above.
	CheckCPU
	// CheckMemory (memory) compares the process's resident memory with Above.
	CheckMemory
	// CheckTotalMemory (total_memory) compares the resident memory of the process and
	// of all its descendants with Above.
	CheckTotalMemory
)

// String returns the word for c, such as "total_memory".
func (c CheckType) String() string {
	switch c {
	case CheckProcess:
		return "process"
	case CheckTCP:
		return "tcp"
	case CheckCPU:
		return "cpu"
	case CheckMemory:
		return "memory"
	case CheckTotalMemory:
		return "total_memory"
	}
	return "CheckType(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText returns the word for c.
func (c CheckType) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses process, tcp, cpu, memory or total_memory.
func (c *CheckType) UnmarshalText(text []byte) error {
	return parseWord(c, "check type", text,
		CheckProcess, CheckTCP, CheckCPU, CheckMemory, CheckTotalMemory)
}

// Action is the response to a check that has failed for ForCycles cycles. The zero
// value is invalid.
type Action int

// Actions, written alert and restart.
const (
	// ActionAlert sends an alert and leaves the service alone.
	ActionAlert Action = iota + 1
	// ActionRestart restarts the service and sends an alert.
	ActionRestart
)

// String returns the word for a: alert or restart.
func (a Action) String() string {
	switch a {
	case ActionAlert:
		return "alert"
	case ActionRestart:
		return "restart"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// MarshalText returns the word for a.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses alert or restart.
func (a *Action) UnmarshalText(text []byte) error {
	return parseWord(a, "action", text, ActionAlert, ActionRestart)
}

// Signal is a signal that a service may be stopped with: SIGHUP, SIGINT, SIGQUIT,
// SIGKILL, SIGUSR1, SIGUSR2 or SIGTERM.
type Signal syscall.Signal

// Signal returns s as a syscall.Signal.
func (s Signal) Signal() syscall.Signal { return syscall.Signal(s) }

// String returns the name of s with its SIG prefix, such as "SIGTERM".
func (s Signal) String() string {
	switch syscall.Signal(s) {
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return "signal " + strconv.Itoa(int(s))
}

// MarshalText returns the name of s, such as "SIGTERM".
func (s Signal) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a signal name with or without the SIG prefix, in any case:
// "SIGTERM", "TERM" and "term" are the same signal.
func (s *Signal) UnmarshalText(text []byte) error {
	name := "SIG" + strings.TrimPrefix(strings.ToUpper(string(text)), "SIG")
	for _, sig := range []syscall.Signal{
		syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGKILL,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM,
	} {
		if Signal(sig).String() == name {
			*s = Signal(sig)
			return nil
		}
	}
	return fmt.Errorf("unknown signal %q: want HUP, INT, QUIT, KILL, USR1, USR2 or TERM, "+
		"with or without the SIG prefix", text)
}

// parseWord sets *dst to the one of values whose String is text, or returns an error
// that names kind and lists the words of values.
func parseWord[T fmt.Stringer](dst *T, kind string, text []byte, values ...T) error {
	words := make([]string, len(values))
	for i, v := range values {
		if v.String() == string(text) {
			*dst = v
			return nil
		}
		words[i] = v.String()
	}
	return fmt.Errorf("unknown %s %q: want %s", kind, text, wordList(words, "or"))
}
