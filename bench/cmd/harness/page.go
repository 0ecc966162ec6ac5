package main

import (
	"fmt"
	"strings"
)

// writeIntro writes the page's heading, the machine, the command and the work that
// every tool did.
func (r *report) writeIntro(b *strings.Builder) {
	m := r.machine
	fmt.Fprintf(b, `# tend against Monit and supervisord

Figures measured by the harness in bench/cmd/harness, every tool in the same run on the
same machine. Each figure is the median over %d repetitions, with the range in brackets.
The ratio columns divide tend's median by the other tool's: below 1 tend is faster or
smaller. Compare figures from one run only: they move with the machine's load.

## Machine

- CPU: %s, %d cores
- memory: %s
- system: %s, Linux %s
- tools: %s; %s; supervisord %s; mailpit %s; %s
- date: %s; the whole run took %s

## Commands

`+"```sh\n%s\n```"+`

`+"`make bench`"+` runs the Go benchmarks and then this harness. The harness needs root: it
installs monit and supervisor with apt-get when missing, builds tend, and starts every
daemon, service and mailpit itself, under one temporary directory and on free ports of
127.0.0.1.
`, r.plan.Reps, m.CPU, m.Cores, m.Memory, m.OS, m.Kernel, m.Versions["tend"], m.Versions["Monit"],
		m.Versions["supervisord"], m.Versions["mailpit"], m.Versions["Go"], m.Date,
		r.took.Round(1e9), r.command())
	r.writeWork(b)
	b.WriteString("\n## Results\n")
}

func (r *report) command() string {
	return strings.TrimSpace("go run ./bench/cmd/harness " + strings.Join(r.args, " "))
}

// writeWork describes the workload and what each tool was asked to do.
func (r *report) writeWork(b *strings.Builder) {
	fmt.Fprintf(b, `
## The work

At each N the workload has N services: a tenth of them (at least two) are port
services, a small Go program that listens on a free loopback port and answers "ping"
with "pong"; the others are sleep processes. Every tool gets the same services:

| | tend (pidfile) | Monit | tend (owned) | supervisord |
| --- | --- | --- | --- | --- |
| cycle | %[1]v | %[1]v (`+"`set daemon`"+`) | %[1]v | none: it reacts to SIGCHLD and wakes at least once a second |
| how it finds a service | pidfile; starts it with `+"`sh -c`"+` in the background | the same pidfile and start script | runs it as its child | runs it as its child (`+"`startsecs=0`"+`) |
| process gone | restart (implicit) | restart (implicit) | restart (implicit) | `+"`autorestart=true`"+` |
| resource test | total memory above %[2]s: alert | `+"`totalmem > 600 MB`"+`: alert | total memory above %[2]s: alert | none: supervisord has no resource tests |
| port services | send "ping", expect "pong", timeout %[3]v: restart | the same send/expect test | the same as tend (pidfile) | none: supervisord has no probes |
| start timeout | %[4]v | %[4]v | %[4]v | none (`+"`startsecs=0`"+`) |
| stop timeout, then SIGKILL | %[6]v | %[6]v, in the stop script | %[6]v | `+"`stopwaitsecs`"+` %[6]v |
| alerts | mail to mailpit, default digest window of 5 s | `+"`set alert`"+` mail to mailpit, every event | as tend (pidfile) | none |

How each figure is taken:

- Steady window: it starts at the first cycle boundary two intervals after all
  services run. For tend and Monit the harness first times %[5]d cycles that the tool
  really ran, however long they took. Every %[7]v it requests the time at which the
  tool last checked service %[8]s, a sleep process. tend's control API gives it for that
  one service (the latest `+"`at`"+` time of its checks). Monit's page of that one service
  (`+"`/%[8]s`"+`) gives its "Data collected" time, in whole seconds. Each change of that time is one cycle. tend starts a cycle every %[1]v, or
  later when the previous one overran, and Monit sleeps %[1]v after each cycle. Then,
  from the last boundary, it reads the tool's CPU over %[5]d cycles of the mean length
  with no request to the tool, so that replying to the harness costs nothing in the
  figures. supervisord has no cycle, so its window is %[5]d times %[1]v of wall time.
- CPU per second: the daemon's run time over the window without requests, summed
  over its threads from /proc/PID/task/TID/schedstat (nanoseconds; utime+stime in
  /proc/PID/stat counts in 10 ms ticks), divided by the window's wall time. Cycle
  length: the mean of the %[5]d timed cycles. CPU per cycle: CPU per second times
  the cycle length.
- Memory: the median of reads of /proc/PID/status, once per cycle in the window
  (once per %[1]v for supervisord). Resident memory is VmRSS, which also counts the
  resident pages of the executable and of shared libraries. Most of tend's are its own
  Go binary of about 21 MB, linked only to the C library. Monit and the Python
  interpreter that runs supervisord map more shared libraries. Private memory is RssAnon, the resident anonymous pages such as heap and
  stacks, which no file backs.
- Kill -9: SIGKILL to the second port service's process. Replacement running is when
  its pidfile, which the program writes first thing, names another live process; port
  answering is when "ping" gets "pong" again; mail is when mailpit holds a message that
  names the service.
- Hung: SIGSTOP to the first port service's process, so that the kernel still accepts
  connections on its port and nothing answers, then the time to a replacement running.
  The stop waits until the service ran for the start timeout, within which tend does
  not count probe failures. A stopped process keeps SIGTERM pending until it is
  continued, so every tool's stop waits its stop timeout and then sends SIGKILL; the
  figure is the probe timeout, up to one cycle, the stop timeout and the start.
- Start, must start: from the daemon's exec to its status (tend's control socket,
  Monit's web server at /_status?format=xml, supervisord's XML-RPC) showing all N
  services running. Start, already running: the daemon is ended with its services
  left running (SIGTERM) and started again on the same state; the count beside it is
  the services whose PID changed, that is, started twice.
- Validate: `+"`tend validate -config`"+` and `+"`monit -t -c`"+`, each a fresh process.
  Reload: tend only; one drop-in's memory limit changes and the reload request over the
  control socket returns once the new configuration runs.
`, r.plan.Interval, memoryLimit, probeTimeout, startTimeout, r.plan.Window, stopTimeout,
		cyclePoll, serviceName(watchedIndex))
}
