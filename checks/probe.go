package checks

import (
	"context"
	"time"
)

// Probe is a check that talks to something outside the process table: a port, a
// protocol, a program or a file. The supervisor runs each probe in a goroutine of its
// own under a deadline, so a probe that hangs delays nothing else.
type Probe interface {
	// Probe runs the check once and returns its result. It returns soon after ctx
	// ends, with a failing result whose reason is the timeout.
	Probe(ctx context.Context) Result
	// String names the probe in logs and alerts, such as "redis 127.0.0.1:6379".
	String() string
}

// Result is the outcome of one probe.
type Result struct {
	OK bool
	// Reason explains a failure in words an operator can act on, such as
	// "connection refused on 127.0.0.1:6379"; it is empty when OK.
	Reason   string
	Duration time.Duration
}
