package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Settings that every tool gets for every service, so that each does the same work.
const (
	// memoryLimit is the total memory (process and descendants) above which a service
	// alerts, as the resource test of every service.
	memoryLimit = "600MB"
	// probeTimeout bounds one ping/pong exchange with a port service.
	probeTimeout = 2 * time.Second
	// startTimeout is how long a start may take. tend also ignores probe failures for
	// this long after a start, so the hung-service test waits it out first.
	startTimeout = 10 * time.Second
	// stopTimeout is how long a stop may take before SIGKILL. A stopped (SIGSTOP)
	// process keeps SIGTERM pending, so a hung service waits this long.
	stopTimeout = 5 * time.Second
	// sleepSeconds is the argument of the workload's sleep processes.
	sleepSeconds = "1000000"
)

// service is one service of the workload.
type service struct {
	Name    string
	Pidfile string
	// Port is the loopback port of a port service, which replies "pong" to "ping",
	// and 0 for a plain sleep process.
	Port int
}

// workload is the set of services that every tool supervises in one run, with the
// files of that run under Dir.
type workload struct {
	Dir      string
	Interval time.Duration
	MailPort int
	Services []service
	// SleepBin and ServeBin are links in Dir to sleep and to this harness, so that
	// every workload process has a first argument under Dir and is distinguishable
	// from any other process on the machine.
	SleepBin string
	ServeBin string
}

// newWorkload creates dir/bin, dir/run and the links, and picks ports for n services,
// of which a tenth, and at least two, are port services.
func newWorkload(dir string, n int, interval time.Duration, mailPort int, ports *portPool) (*workload, error) {
	w := &workload{Dir: dir, Interval: interval, MailPort: mailPort}
	if err := w.makeLinks(); err != nil {
		return nil, err
	}
	portEvery := 10
	if n < 20 {
		portEvery = n / 2
	}
	for i := range n {
		s := service{Name: serviceName(i), Pidfile: filepath.Join(dir, "run", serviceName(i)+".pid")}
		if i%portEvery == 0 {
			port, err := ports.take()
			if err != nil {
				return nil, err
			}
			s.Port = port
		}
		w.Services = append(w.Services, s)
	}
	return w, nil
}

func (w *workload) makeLinks() error {
	for _, sub := range []string{"bin", "run"} {
		if err := os.MkdirAll(filepath.Join(w.Dir, sub), 0o755); err != nil {
			return err
		}
	}
	sleep, err := lookPath("sleep")
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the harness executable: %w", err)
	}
	w.SleepBin = filepath.Join(w.Dir, "bin", "bench-sleep")
	w.ServeBin = filepath.Join(w.Dir, "bin", "bench-serve")
	if err := os.Symlink(sleep, w.SleepBin); err != nil {
		return err
	}
	return os.Symlink(self, w.ServeBin)
}

// portServices returns the services with a port.
func (w *workload) portServices() []service {
	var out []service
	for _, s := range w.Services {
		if s.Port != 0 {
			out = append(out, s)
		}
	}
	return out
}

// serviceName returns the name of the service at index i of a workload.
func serviceName(i int) string { return fmt.Sprintf("s%04d", i) }

// watchedIndex is the index of the service whose check time marks the cycles of tend
// and Monit. Service 0 is a port service at every N, and service 1 never is, since N
// is at least 4. No measurement restarts service 1.
const watchedIndex = 1

// watched returns the service whose check time marks the cycles of tend and Monit.
func (w *workload) watched() service { return w.Services[watchedIndex] }

// argv returns the command line of a service run in the foreground, as a supervisor
// that owns its children runs it. A port service writes its own pidfile, which the
// harness reads to see it replaced; a sleep process writes none.
func (w *workload) argv(s service) []string {
	if s.Port == 0 {
		return []string{w.SleepBin, sleepSeconds}
	}
	return []string{w.ServeBin, "serve", "-port", strconv.Itoa(s.Port), "-pidfile", s.Pidfile}
}

// startScript returns the shell command that starts a service in the background and
// returns at once, as an init script does, with the pidfile written.
func (w *workload) startScript(s service) string {
	if s.Port == 0 {
		return fmt.Sprintf("%s </dev/null >/dev/null 2>&1 & echo $! > %s",
			strings.Join(w.argv(s), " "), s.Pidfile)
	}
	return strings.Join(w.argv(s), " ") + " </dev/null >/dev/null 2>&1 &"
}

// stopScript returns the shell command that stops a service through its pidfile: it
// sends SIGTERM, waits up to stopTimeout for the process to end and then sends
// SIGKILL, as tend and supervisord do, because Monit itself never escalates.
func (w *workload) stopScript(s service) string {
	tries := int(stopTimeout / (100 * time.Millisecond))
	return fmt.Sprintf("p=$(cat %s); kill $p; n=0; "+
		"while kill -0 $p 2>/dev/null && [ $n -lt %d ]; do sleep 0.1; n=$((n+1)); done; "+
		"kill -9 $p 2>/dev/null; true", s.Pidfile, tries)
}

// portPool hands out distinct free ports on 127.0.0.1.
type portPool struct {
	taken map[int]bool
}

func newPortPool() *portPool { return &portPool{taken: map[int]bool{}} }

// take returns a port that no listener holds now and that the pool has not handed out.
func (p *portPool) take() (int, error) {
	for range 200 {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		if !p.taken[port] {
			p.taken[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free loopback port after 200 tries (%d taken)", len(p.taken))
}
