package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// serveUsage is the help of the serve subcommand, the workload's port service.
const serveUsage = `usage: harness serve -port PORT -pidfile FILE

Writes its PID to FILE, listens on 127.0.0.1:PORT and answers each line "ping" with
"pong" until it is killed.
`

// runServe runs the port service of the workload and returns only on an error.
func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), serveUsage) }
	port := fs.Int("port", 0, "TCP `port` on 127.0.0.1 to listen on")
	pidfile := fs.String("pidfile", "", "`file` to write the PID to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *port <= 0 || *pidfile == "" {
		return errors.New("serve: -port and -pidfile are required")
	}

	// The PID goes out first, so that the harness detects the replacement process as soon
	// as it runs and observes the port reply as a separate, later event.
	if err := os.WriteFile(*pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("serve: write pidfile: %w", err)
	}
	ln, err := listenRetry(net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)), 5*time.Second)
	if err != nil {
		return err
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("serve: accept: %w", err)
		}
		go answerPing(conn)
	}
}

// listenRetry listens on addr, retrying for up to limit while the port is still held,
// as it is for a moment after the previous process was killed.
func listenRetry(addr string, limit time.Duration) (net.Listener, error) {
	deadline := time.Now().Add(limit)
	for {
		ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
		if err == nil || time.Now().After(deadline) {
			if err != nil {
				return nil, fmt.Errorf("serve: listen: %w", err)
			}
			return ln, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// answerPing replies "pong" to every line "ping" on conn until the peer closes it.
func answerPing(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		if sc.Text() != "ping" {
			continue
		}
		if _, err := conn.Write([]byte("pong\n")); err != nil {
			return
		}
	}
}
