package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// freePort returns a port on 127.0.0.1 that no listener holds now. It picks from
// below the kernel's ephemeral range, where outgoing connections take no local port.
func freePort() (int, error) {
	low := ephemeralLow()
	for range 100 {
		port := 10000 + rand.IntN(low-10000)
		l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr(port))
		if err != nil {
			continue
		}
		if err := l.Close(); err != nil {
			return 0, err
		}
		return port, nil
	}
	return 0, fmt.Errorf("no free port on 127.0.0.1 between 10000 and %d", low)
}

// ephemeralLow returns the lowest port of net.ipv4.ip_local_port_range, or 32768 when
// it cannot be read or leaves too little room below it.
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
	if err != nil || low < 20000 {
		return 32768
	}
	return low
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// pingPong reports whether the port service at port replies "pong" to "ping"
// within timeout.
func pingPong(port int, timeout time.Duration) bool {
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(context.Background(), "tcp", addr(port))
	if err != nil {
		return false
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && line == "pong\n"
}

// errTimeout marks a wait that ran out of time.
var errTimeout = errors.New("timed out")

// waitUntil calls cond every step until it returns true and returns the time since
// from, or errTimeout once limit has passed since from.
func waitUntil(from time.Time, limit, step time.Duration, cond func() bool) (time.Duration, error) {
	for {
		if cond() {
			return time.Since(from), nil
		}
		if time.Since(from) > limit {
			return 0, fmt.Errorf("after %v: %w", limit, errTimeout)
		}
		time.Sleep(step)
	}
}

// lookPath finds a program on PATH and in the usual system directories, which a
// minimal PATH may lack.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH", name)
}
