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

// Check types, written as the words in their comments. The process-scoped types, from
// CheckProcess to CheckUptime, observe the service's process. The host types, from
// CheckLoad to CheckInodes, observe the machine. The probes, from CheckTCP to
// CheckFile, run a test with a timeout.
const (
	// CheckProcess (process) fails when the service's process is not running.
	CheckProcess CheckType = iota + 1
	// CheckPID (pid) fails when the PID of the service's process has changed.
	CheckPID
	// CheckPPID (ppid) fails when the parent PID of the service's process has changed.
	CheckPPID
	// CheckCPU (cpu) compares the process's CPU usage with Limit.
	CheckCPU
	// CheckTotalCPU (total_cpu) compares the CPU usage of the process and of all its
	// descendants with Limit.
	CheckTotalCPU
	// CheckMemory (memory) compares the process's resident memory with Limit.
	CheckMemory
	// CheckTotalMemory (total_memory) compares the resident memory of the process and
	// of all its descendants with Limit.
	CheckTotalMemory
	// CheckChildren (children) compares the number of the process's child processes
	// with Limit.
	CheckChildren
	// CheckThreads (threads) compares the number of the process's threads with Limit.
	CheckThreads
	// CheckFDs (fds) compares the number of the process's open file descriptors with
	// Limit.
	CheckFDs
	// CheckUptime (uptime) compares the time since the process started with Limit.
	CheckUptime

	// CheckLoad (load) compares the load average of the host with Limit.
	CheckLoad
	// CheckHostCPU (host_cpu) compares the CPU usage of the whole host with Limit.
	CheckHostCPU
	// CheckHostMemory (host_memory) compares the memory in use on the host with Limit.
	CheckHostMemory
	// CheckSwap (swap) compares the swap space in use with Limit.
	CheckSwap
	// CheckFilesystem (filesystem) compares the used space of the filesystem that
	// contains Path with Limit.
	CheckFilesystem
	// CheckInodes (inodes) compares the used inodes of the filesystem that contains
	// Path with Limit.
	CheckInodes

	// CheckTCP (tcp) tests that Address accepts a connection, and a TLS handshake
	// when TLS is set.
	CheckTCP
	// CheckUnix (unix) tests that the unix socket at Socket accepts a connection.
	CheckUnix
	// CheckUDP (udp) sends Send to Address and matches the reply with Expect.
	CheckUDP
	// CheckHTTP (http) sends a request to URL and tests the response's status and body.
	CheckHTTP
	// CheckRedis (redis) sends PING to a Redis server and expects PONG.
	CheckRedis
	// CheckPostgres (postgres) opens a PostgreSQL session as User on Database.
	CheckPostgres
	// CheckSMTP (smtp) reads an SMTP server's greeting and sends EHLO and QUIT.
	CheckSMTP
	// CheckSendExpect (send_expect) runs a dialogue of Steps over a connection.
	CheckSendExpect
	// CheckProgram (program) runs Command and tests its exit status and output.
	CheckProgram
	// CheckFile (file) tests the file at Path: existence, age, size, owner, group,
	// mode, checksum and content.
	CheckFile
)

// checkTypes lists every check type in the order of its constants.
func checkTypes() []CheckType {
	types := make([]CheckType, 0, CheckFile)
	for c := CheckProcess; c <= CheckFile; c++ {
		types = append(types, c)
	}
	return types
}

// checkTypeWords are the words of the check types, indexed by CheckType minus 1.
func checkTypeWords() []string {
	return []string{
		"process", "pid", "ppid", "cpu", "total_cpu", "memory", "total_memory", "children",
		"threads", "fds", "uptime",
		"load", "host_cpu", "host_memory", "swap", "filesystem", "inodes",
		"tcp", "unix", "udp", "http", "redis", "postgres", "smtp", "send_expect", "program", "file",
	}
}

// String returns the word for c, such as "total_memory".
func (c CheckType) String() string {
	if c >= CheckProcess && c <= CheckFile {
		return checkTypeWords()[c-1]
	}
	return "CheckType(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText returns the word for c.
func (c CheckType) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses the word of a check type, such as "cpu".
func (c *CheckType) UnmarshalText(text []byte) error {
	return parseWord(c, "check type", text, checkTypes()...)
}

// Action is the response to a check that has failed for ForCycles cycles. The zero
// value is invalid.
type Action int

// Actions, written as the words in their comments.
const (
	// ActionAlert (alert) sends an alert and leaves the service alone.
	ActionAlert Action = iota + 1
	// ActionRestart (restart) restarts the service and sends an alert.
	ActionRestart
	// ActionStart (start) starts the service unless it is running, and sends an alert.
	ActionStart
	// ActionStop (stop) stops the service, leaves it stopped and sends an alert.
	ActionStop
	// ActionExec (exec) runs the check's Exec program and sends an alert.
	ActionExec
	// ActionUnmonitor (unmonitor) stops watching the service and sends an alert.
	ActionUnmonitor
)

// String returns the word for a, such as "restart".
func (a Action) String() string {
	switch a {
	case ActionAlert:
		return "alert"
	case ActionRestart:
		return "restart"
	case ActionStart:
		return "start"
	case ActionStop:
		return "stop"
	case ActionExec:
		return "exec"
	case ActionUnmonitor:
		return "unmonitor"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// MarshalText returns the word for a.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses alert, restart, start, stop, exec or unmonitor.
func (a *Action) UnmarshalText(text []byte) error {
	return parseWord(a, "action", text,
		ActionAlert, ActionRestart, ActionStart, ActionStop, ActionExec, ActionUnmonitor)
}

// CPUScope is the meaning of 100% in a cpu or total_cpu check. The zero value is
// invalid.
type CPUScope int

// CPU scopes, written machine and core.
const (
	// CPUScopeMachine makes 100% all cores of the machine busy.
	CPUScopeMachine CPUScope = iota + 1
	// CPUScopeCore makes 100% one core busy, so a process that keeps four cores busy
	// uses 400%.
	CPUScopeCore
)

// String returns the word for s: machine or core.
func (s CPUScope) String() string {
	switch s {
	case CPUScopeMachine:
		return "machine"
	case CPUScopeCore:
		return "core"
	}
	return "CPUScope(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns the word for s.
func (s CPUScope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses machine or core.
func (s *CPUScope) UnmarshalText(text []byte) error {
	return parseWord(s, "CPU scope", text, CPUScopeMachine, CPUScopeCore)
}

// CPUUsage is the kind of CPU time that a host_cpu check measures, as a share of the
// time of all cores. The zero value is invalid.
type CPUUsage int

// CPU usages, written total, user, system and iowait.
const (
	// CPUUsageTotal is all time that is neither idle nor iowait.
	CPUUsageTotal CPUUsage = iota + 1
	// CPUUsageUser is time in user mode, niced processes included.
	CPUUsageUser
	// CPUUsageSystem is time in kernel mode, interrupts included.
	CPUUsageSystem
	// CPUUsageIOWait is idle time while disk I/O was outstanding.
	CPUUsageIOWait
)

// String returns the word for u: total, user, system or iowait.
func (u CPUUsage) String() string {
	switch u {
	case CPUUsageTotal:
		return "total"
	case CPUUsageUser:
		return "user"
	case CPUUsageSystem:
		return "system"
	case CPUUsageIOWait:
		return "iowait"
	}
	return "CPUUsage(" + strconv.Itoa(int(u)) + ")"
}

// MarshalText returns the word for u.
func (u CPUUsage) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText parses total, user, system or iowait.
func (u *CPUUsage) UnmarshalText(text []byte) error {
	return parseWord(u, "CPU usage", text, CPUUsageTotal, CPUUsageUser, CPUUsageSystem, CPUUsageIOWait)
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
