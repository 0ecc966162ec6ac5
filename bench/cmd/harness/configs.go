package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// writeFiles writes name → content under dir with mode, creating dir.
func writeFiles(dir string, mode os.FileMode, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			return err
		}
	}
	return nil
}

// tomlList returns args as a TOML array of basic strings. strconv.Quote escapes the
// way TOML basic strings do for the ASCII paths and arguments used here.
func tomlList(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// writeTend writes tend's main file and one drop-in per service under dir and returns
// the main file. With owned, tend runs each service as its child; otherwise it starts
// each through a shell script and finds it through its pidfile.
func (w *workload) writeTend(dir string, owned bool) (string, error) {
	main := fmt.Sprintf(`interval = %q
state_dir = %q
include = ["conf.d/*.toml"]

[control]
socket = %q

[mail]
host = "127.0.0.1"
port = %d
tls = "none"
from = "tend@localhost"
to = ["ops@example.com"]
`, w.Interval.String(), filepath.Join(dir, "state"), filepath.Join(dir, "tend.sock"), w.MailPort)
	if err := writeFiles(dir, 0o644, map[string]string{"tend.toml": main}); err != nil {
		return "", err
	}

	dropins := make(map[string]string, len(w.Services))
	for _, s := range w.Services {
		dropins[s.Name+".toml"] = w.tendService(s, owned)
	}
	if err := writeFiles(filepath.Join(dir, "conf.d"), 0o644, dropins); err != nil {
		return "", err
	}
	return filepath.Join(dir, "tend.toml"), nil
}

func (w *workload) tendService(s service, owned bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[[service]]\nname = %q\n", s.Name)
	if owned {
		fmt.Fprintf(&b, "command = %s\n", tomlList(w.argv(s)))
	} else {
		fmt.Fprintf(&b, "pidfile = %q\nstart = %s\n", s.Pidfile, tomlList([]string{"/bin/sh", "-c", w.startScript(s)}))
	}
	fmt.Fprintf(&b, "start_timeout = %q\nstop_timeout = %q\n", startTimeout.String(), stopTimeout.String())
	fmt.Fprintf(&b, "\n[[service.check]]\ntype = \"total_memory\"\nabove = %q\naction = \"alert\"\n", memoryLimit)
	if s.Port != 0 {
		fmt.Fprintf(&b, "\n[[service.check]]\ntype = \"send_expect\"\naddress = %q\n", addr(s.Port))
		fmt.Fprintf(&b, "steps = [{ send = \"ping\\n\", expect = \"pong\" }]\ntimeout = %q\naction = \"restart\"\n",
			probeTimeout.String())
	}
	return b.String()
}

// writeMonit writes a Monit control file and one included file per service under dir
// and returns the control file. Monit's web server, which its command line needs,
// listens on 127.0.0.1:httpPort and accepts only 127.0.0.1.
func (w *workload) writeMonit(dir string, httpPort int) (string, error) {
	rc := fmt.Sprintf(`set daemon %d
set logfile %s
set pidfile %s
set idfile %s
set statefile %s
set mailserver 127.0.0.1 port %d
set mail-format { from: monit@localhost }
set alert ops@example.com
set httpd port %d and use address 127.0.0.1
    allow 127.0.0.1
include %s
`, int(w.Interval.Seconds()), filepath.Join(dir, "monit.log"), filepath.Join(dir, "monit.pid"),
		filepath.Join(dir, "monit.id"), filepath.Join(dir, "monit.state"), w.MailPort, httpPort,
		filepath.Join(dir, "conf.d", "*.conf"))
	// Monit rejects a control file that others may read.
	if err := writeFiles(dir, 0o600, map[string]string{"monitrc": rc}); err != nil {
		return "", err
	}

	files := make(map[string]string, len(w.Services))
	for _, s := range w.Services {
		files[s.Name+".conf"] = w.monitService(s)
	}
	if err := writeFiles(filepath.Join(dir, "conf.d"), 0o600, files); err != nil {
		return "", err
	}
	return filepath.Join(dir, "monitrc"), nil
}

func (w *workload) monitService(s service) string {
	var b strings.Builder
	fmt.Fprintf(&b, "check process %s with pidfile %s\n", s.Name, s.Pidfile)
	fmt.Fprintf(&b, "  start program = \"/bin/sh -c '%s'\" with timeout %d seconds\n",
		w.startScript(s), int(startTimeout.Seconds()))
	fmt.Fprintf(&b, "  stop program = \"/bin/sh -c '%s'\"\n", w.stopScript(s))
	fmt.Fprintf(&b, "  if totalmem > %s then alert\n", strings.Replace(memoryLimit, "MB", " MB", 1))
	if s.Port != 0 {
		fmt.Fprintf(&b, "  if failed host 127.0.0.1 port %d send \"ping\\n\" expect \"pong\" with timeout %d seconds then restart\n",
			s.Port, int(probeTimeout.Seconds()))
	}
	return b.String()
}

// writeSupervisord writes a supervisord configuration with one included file per
// service under dir and returns it. Its XML-RPC interface is on a unix socket in dir.
func (w *workload) writeSupervisord(dir string) (string, error) {
	conf := fmt.Sprintf(`[supervisord]
nodaemon=true
logfile=%s
pidfile=%s
childlogdir=%s
loglevel=warn
minfds=%d

[unix_http_server]
file=%s
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%s

[include]
files = %s
`, filepath.Join(dir, "supervisord.log"), filepath.Join(dir, "supervisord.pid"), dir,
		1024+4*len(w.Services), w.supervisorSocket(dir), w.supervisorSocket(dir),
		filepath.Join(dir, "conf.d", "*.conf"))
	if err := writeFiles(dir, 0o644, map[string]string{"supervisord.conf": conf}); err != nil {
		return "", err
	}

	files := make(map[string]string, len(w.Services))
	for _, s := range w.Services {
		// startsecs=0 counts a process as running once it started, as the other tools
		// do; the default of 1 s would add a second to every start.
		files[s.Name+".conf"] = fmt.Sprintf(`[program:%s]
command=%s
autostart=true
autorestart=true
startsecs=0
stopsignal=TERM
stopwaitsecs=%d
stdout_logfile=NONE
stderr_logfile=NONE
`, s.Name, strings.Join(w.argv(s), " "), int(stopTimeout.Seconds()))
	}
	if err := writeFiles(filepath.Join(dir, "conf.d"), 0o644, files); err != nil {
		return "", err
	}
	return filepath.Join(dir, "supervisord.conf"), nil
}

func (w *workload) supervisorSocket(dir string) string {
	return filepath.Join(dir, "supervisor.sock")
}
