package checks

import (
	"context"
	"time"
)

// UnixProbe connects to a unix stream socket, such as PostgreSQL's
// /var/run/postgresql/.s.PGSQL.5432, and closes the connection again.
type UnixProbe struct {
	// Socket is the path of the socket.
	Socket string
}

// Probe connects to the socket. It fails when the socket does not exist, when nothing
// listens on it, or when permission to connect is denied.
func (p UnixProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	s, reason := netOpen(ctx, start, "unix", p.Socket, nil)
	if reason != "" {
		return netResult(start, reason)
	}
	s.close()
	return netResult(start, "")
}

// String returns "unix PATH".
func (p UnixProbe) String() string {
	return "unix " + p.Socket
}
