package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tend/supervisor/api"
)

// toolKind is one supervisor configuration under test.
type toolKind string

const (
	tendExternal toolKind = "tend-pidfile"
	tendOwned    toolKind = "tend-owned"
	monit        toolKind = "monit"
	supervisord  toolKind = "supervisord"
)

// allTools lists the tools in the order of the tables.
var allTools = []toolKind{tendExternal, monit, tendOwned, supervisord}

// label returns the name of the tool in tables.
func (k toolKind) label() string {
	switch k {
	case tendExternal:
		return "tend (pidfile)"
	case tendOwned:
		return "tend (owned)"
	case monit:
		return "Monit"
	default:
		return "supervisord"
	}
}

// peer returns the tool that tend is compared with: Monit for pidfile services and
// supervisord for owned ones, and empty for the other tools.
func (k toolKind) peer() toolKind {
	switch k {
	case tendExternal:
		return monit
	case tendOwned:
		return supervisord
	}
	return ""
}

func (k toolKind) isTend() bool { return k == tendExternal || k == tendOwned }

// binaries are the programs under test.
type binaries struct {
	Tend, Monit, Supervisord, Mailpit string
}

// daemon is one running supervisor, started by the harness.
type daemon struct {
	kind   toolKind
	cmd    *exec.Cmd
	done   chan error
	config string
	// started is when the harness started the daemon process.
	started time.Time
	// status returns the PIDs of the services the tool reports as running.
	status func(ctx context.Context) (map[string]int, error)
	// checkStamp changes once per cycle; it is nil for supervisord, which has no cycle.
	checkStamp checkStamp
}

// pid returns the PID of the daemon process.
func (d *daemon) pid() int { return d.cmd.Process.Pid }

// configure writes the tool's configuration for w under dir and returns a function
// that starts the daemon on it, and the configuration file.
func configure(kind toolKind, bins binaries, w *workload, dir string, ports *portPool) (func() (*daemon, error), string, error) {
	var (
		file   string
		err    error
		args   []string
		status func(context.Context) (map[string]int, error)
		stamp  checkStamp
		bin    string
	)
	switch kind {
	case tendExternal, tendOwned:
		file, err = w.writeTend(dir, kind == tendOwned)
		client := api.NewClient(filepath.Join(dir, "tend.sock"))
		bin, args, status = bins.Tend, []string{"run", "-config", file}, tendStatus(client)
		stamp = tendCheckStamp(client, w.watched().Name)
	case monit:
		port, perr := ports.take()
		if perr != nil {
			return nil, "", perr
		}
		file, err = w.writeMonit(dir, port)
		bin, args, status = bins.Monit, []string{"-I", "-c", file}, monitStatus(port)
		stamp = monitCheckStamp(port, w.watched().Name)
	case supervisord:
		file, err = w.writeSupervisord(dir)
		bin, args, status = bins.Supervisord, []string{"-n", "-c", file}, supervisorStatus(w.supervisorSocket(dir))
	}
	if err != nil {
		return nil, "", err
	}
	start := func() (*daemon, error) {
		log, err := os.OpenFile(filepath.Join(dir, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		defer func() { _ = log.Close() }()
		cmd := exec.CommandContext(context.Background(), bin, args...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.Dir = dir
		started := time.Now()
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", kind, err)
		}
		d := &daemon{kind: kind, cmd: cmd, done: make(chan error, 1), config: file, status: status,
			checkStamp: stamp, started: started}
		go func() { d.done <- cmd.Wait() }()
		return d, nil
	}
	return start, file, nil
}

// stop ends the daemon. With leave, it asks the daemon to exit and leave its services
// running (SIGTERM for tend and Monit), or otherwise to stop them first (SIGINT for tend,
// SIGTERM for supervisord, which always stops its children). Monit never stops its
// services on exit. After limit the daemon is killed.
func (d *daemon) stop(leave bool, limit time.Duration) error {
	sig := syscall.SIGTERM
	if d.kind.isTend() && !leave {
		sig = syscall.SIGINT
	}
	if err := d.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-d.done: //nolint:errcheck // The exit status of a stopped daemon is not a figure.
		return nil
	case <-time.After(limit):
		_ = d.cmd.Process.Kill()
		<-d.done //nolint:errcheck // The daemon was killed; its exit status is known.
		return fmt.Errorf("%s did not exit within %v of %v and was killed", d.kind, limit, sig)
	}
}

// exited reports whether the daemon process ended.
func (d *daemon) exited() bool {
	select {
	case err := <-d.done:
		d.done <- err
		return true
	default:
		return false
	}
}

func tendStatus(c *api.Client) func(context.Context) (map[string]int, error) {
	return func(ctx context.Context) (map[string]int, error) {
		views, err := c.Services(ctx)
		if err != nil {
			return nil, err
		}
		running := make(map[string]int, len(views))
		for _, v := range views {
			if v.State == "running" && v.PID > 0 {
				running[v.Name] = v.PID
			}
		}
		return running, nil
	}
}

// monitXML is the part of Monit's XML status that the harness reads.
type monitXML struct {
	Services []struct {
		Name    string `xml:"name"`
		Status  int    `xml:"status"`
		Monitor int    `xml:"monitor"`
		PID     int    `xml:"pid"`
	} `xml:"service"`
}

func monitStatus(port int) func(context.Context) (map[string]int, error) {
	url := "http://" + addr(port) + "/_status?format=xml"
	return func(ctx context.Context) (map[string]int, error) {
		body, err := httpGet(ctx, http.DefaultClient, url)
		if err != nil {
			return nil, err
		}
		var doc monitXML
		dec := xml.NewDecoder(bytes.NewReader(body))
		// Monit declares ISO-8859-1; the names read here are ASCII.
		dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("parse monit status: %w", err)
		}
		running := make(map[string]int, len(doc.Services))
		for _, s := range doc.Services {
			if s.PID > 0 && s.Status == 0 {
				running[s.Name] = s.PID
			}
		}
		return running, nil
	}
}

// rpcValue is an XML-RPC value as supervisord sends it: a string, an integer, or a
// struct or array of values.
type rpcValue struct {
	String  *string     `xml:"string"`
	Int     *int        `xml:"int"`
	Members []rpcMember `xml:"struct>member"`
	Array   []rpcValue  `xml:"array>data>value"`
	Text    string      `xml:",chardata"`
}

type rpcMember struct {
	Name  string   `xml:"name"`
	Value rpcValue `xml:"value"`
}

type rpcResponse struct {
	Value rpcValue `xml:"params>param>value"`
	Fault *struct {
		Value rpcValue `xml:"value"`
	} `xml:"fault"`
}

const getAllProcessInfo = `<?xml version="1.0"?>
<methodCall><methodName>supervisor.getAllProcessInfo</methodName><params/></methodCall>`

func supervisorStatus(socket string) func(context.Context) (map[string]int, error) {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
	return func(ctx context.Context) (map[string]int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://supervisord/RPC2",
			strings.NewReader(getAllProcessInfo))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "text/xml")
		body, err := doRequest(client, req)
		if err != nil {
			return nil, err
		}
		var resp rpcResponse
		if err := xml.Unmarshal(body, &resp); err != nil {
			return nil, fmt.Errorf("parse supervisord reply: %w", err)
		}
		if resp.Fault != nil {
			return nil, errors.New("supervisord returned a fault")
		}
		running := make(map[string]int, len(resp.Value.Array))
		for _, proc := range resp.Value.Array {
			fields := map[string]string{}
			for _, m := range proc.Members {
				fields[m.Name] = m.Value.text()
			}
			pid, _ := strconv.Atoi(fields["pid"])
			if fields["statename"] == "RUNNING" && pid > 0 {
				running[fields["name"]] = pid
			}
		}
		return running, nil
	}
}

// text returns a scalar value as a string.
func (v rpcValue) text() string {
	switch {
	case v.String != nil:
		return *v.String
	case v.Int != nil:
		return strconv.Itoa(*v.Int)
	}
	return strings.TrimSpace(v.Text)
}

func httpGet(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return doRequest(client, req)
}

func doRequest(client *http.Client, req *http.Request) ([]byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: status %d", req.Method, req.URL, resp.StatusCode)
	}
	return body, nil
}
