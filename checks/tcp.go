package checks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// ProbeTCP connects to address (host:port) and closes the connection again. The probe
// fails when the connection is not established before ctx ends.
func ProbeTCP(ctx context.Context, address string) Result {
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", address)
	r := Result{Duration: time.Since(start)}
	if err != nil {
		r.Reason = describeDialError(err, address)
		return r
	}
	_ = conn.Close()
	r.OK = true
	return r
}

func describeDialError(err error, address string) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused on " + address
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "connection to " + address + " timed out"
	case errors.Is(err, context.Canceled):
		return "probe of " + address + " canceled"
	}
	return fmt.Sprintf("connect to %s: %v", address, err)
}
