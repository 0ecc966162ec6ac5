package supervisor

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"tend/config"
)

// roleVariable selects what the test binary does when a test runs it as a service.
const roleVariable = "TEND_SUPERVISOR_TEST_ROLE"

// TestMain lets a test run this binary as a supervised program, so that the tests need
// no programs of their own:
//
//	notify         send READY=1 to NOTIFY_SOCKET after READY_AFTER, then WATCHDOG=1
//	               every PING_EVERY for PINGS pings (-1: for ever), then sleep
//	setsid-listen  start a copy of itself in a new session that listens on a loopback
//	               port and writes the port to PORT_FILE, then sleep
//	listen         listen on a loopback port, write it to PORT_FILE, and sleep
//	open-files     open /dev/null FILES times, keep the descriptors open, and sleep
//	fork-children  start CHILDREN child processes that sleep, then sleep
//	threads        lock THREADS goroutines to OS threads of their own, then sleep
func TestMain(m *testing.M) {
	switch os.Getenv(roleVariable) {
	case "":
		os.Exit(m.Run())
	case "notify":
		runNotifyRole()
	case "setsid-listen":
		runSetsidListenRole()
	case "listen":
		runListenRole()
	case "open-files":
		runOpenFilesRole()
	case "fork-children":
		runForkChildrenRole()
	case "threads":
		runThreadsRole()
	default:
		fmt.Fprintf(os.Stderr, "unknown role %q\n", os.Getenv(roleVariable))
		os.Exit(2)
	}
}

func envDuration(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

func runNotifyRole() {
	conn, err := net.Dial("unixgram", os.Getenv("NOTIFY_SOCKET"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial NOTIFY_SOCKET:", err)
		os.Exit(1)
	}
	time.Sleep(envDuration("READY_AFTER"))
	if _, err := conn.Write([]byte("READY=1\nSTATUS=serving\n")); err != nil {
		fmt.Fprintln(os.Stderr, "send READY=1:", err)
		os.Exit(1)
	}
	pings, _ := strconv.Atoi(os.Getenv("PINGS"))
	every := envDuration("PING_EVERY")
	for i := 0; pings < 0 || i < pings; i++ {
		time.Sleep(every)
		_, _ = conn.Write([]byte("WATCHDOG=1"))
	}
	time.Sleep(time.Hour)
}

func runSetsidListenRole() {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), roleVariable+"=listen")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start listener:", err)
		os.Exit(1)
	}
	time.Sleep(time.Hour)
}

func runListenRole() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(os.Getenv("PORT_FILE"), []byte(port), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "write port:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(1)
		}
		_ = c.Close()
	}
}

// envCount returns the count in the variable name, or exits when it is not one.
func envCount(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil || n < 0 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a count\n", name, os.Getenv(name))
		os.Exit(2)
	}
	return n
}

func runOpenFilesRole() {
	// Raw descriptors have no finalizer, so they stay open while the role sleeps.
	for range envCount("FILES") {
		if _, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err != nil {
			fmt.Fprintln(os.Stderr, "open /dev/null:", err)
			os.Exit(1)
		}
	}
	time.Sleep(time.Hour)
}

func runForkChildrenRole() {
	for range envCount("CHILDREN") {
		if err := exec.Command("sleep", "3600").Start(); err != nil {
			fmt.Fprintln(os.Stderr, "start child:", err)
			os.Exit(1)
		}
	}
	time.Sleep(time.Hour)
}

func runThreadsRole() {
	block := make(chan struct{})
	for range envCount("THREADS") {
		go func() {
			// A locked goroutine that blocks keeps its thread, so the runtime makes
			// a new thread for every one of them.
			runtime.LockOSThread()
			<-block
		}()
	}
	time.Sleep(time.Hour)
}

// roleService returns an owned service that runs this test binary in role, with the
// variables of env.
func roleService(t *testing.T, name, role string, env map[string]string) config.Service {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	svc := ownedService(name, exe)
	svc.Environment = map[string]string{roleVariable: role}
	for k, v := range env {
		svc.Environment[k] = v
	}
	return svc
}
