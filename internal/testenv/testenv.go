// Package testenv starts the real components that tests talk to (mailpit, redis-server,
// PostgreSQL) on loopback. When a component is missing, the test skips with a message
// naming the Debian package or install command. It fails instead when the environment
// variable CI is "true", so that coverage is never lost in silence.
package testenv

import (
	"context"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LookPath returns the path of the executable name, searched on PATH and then in dirs.
// When it is found nowhere, the test is skipped with a message that names how to install
// it, or fails when CI is "true".
func LookPath(t testing.TB, name, install string, dirs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range dirs {
		matches, _ := filepath.Glob(filepath.Join(d, name))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Mode()&0o111 != 0 {
				return m
			}
		}
	}
	Missing(t, name+" not found on PATH; install it with: "+install)
	return ""
}

// Missing skips the test with reason, or fails it when CI is "true".
func Missing(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true, so a missing component is a failure)", reason)
	}
	t.Skip(reason)
}

// FreePort returns a free TCP port on 127.0.0.1 for a server that cannot listen on
// port 0 and report the port back (redis-server, PostgreSQL, mailpit). The port is
// taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range), where the
// local ports of outgoing connections never land: a port from that range could be
// taken by a client connection of another test before the server binds it. The port
// is checked with a listener that is closed again at once.
func FreePort(t testing.TB) int {
	t.Helper()
	low := ephemeralLow()
	for range 100 {
		port := 10000 + rand.IntN(low-10000)
		l, err := net.Listen("tcp", Addr(port))
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			t.Fatalf("close listener: %v", err)
		}
		return port
	}
	t.Fatalf("no free port on 127.0.0.1 between 10000 and %d", low)
	return 0
}

// ephemeralLow returns the lowest port of the kernel's ephemeral range, or 32768, the
// Linux default, when the range cannot be read or leaves too little room below it.
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 32768
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil || low < 11000 {
		return 32768
	}
	return low
}

// Addr returns "127.0.0.1:port".
func Addr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// Context returns a context that ends after fallback, or shortly before the test's
// deadline when that comes first.
func Context(t testing.TB, fallback time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(fallback)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok && td.Add(-5*time.Second).Before(deadline) {
			deadline = td.Add(-5 * time.Second)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// WaitFor calls cond every 20 ms until it returns true or ctx ends. It reports whether
// cond returned true.
func WaitFor(ctx context.Context, cond func() bool) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return cond()
		case <-tick.C:
		}
	}
}

// WaitTCP waits until addr accepts a TCP connection or ctx ends.
func WaitTCP(ctx context.Context, addr string) bool {
	return WaitFor(ctx, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
}
