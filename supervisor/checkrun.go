package supervisor

import (
	"context"
	"fmt"
	"os"
	"time"

	"tend/checks"
	"tend/config"
	"tend/internal/units"
	"tend/supervisor/execenv"
)

// newProbe builds the probe of a check that runs off the loop, or returns nil for a
// check that the cycle evaluates from the snapshot. The probe of a file check keeps
// state between runs, so each check builds its probe once.
func newProbe(c config.Check) checks.Probe {
	var p checks.Probe
	switch c.Type {
	case config.CheckTCP:
		p = checks.TCPProbe{Address: c.Address, TLS: c.TLS, TLSVerify: c.TLSVerify, ServerName: c.ServerName,
			CertExpiry: c.CertExpiry.D()}
	case config.CheckUnix:
		p = checks.UnixProbe{Socket: c.Socket}
	case config.CheckUDP:
		p = checks.UDPProbe{Address: c.Address, Send: []byte(c.Send), Expect: c.Expect}
	case config.CheckHTTP:
		p = checks.HTTPProbe{URL: c.URL, Method: c.Method, Host: c.Host, Status: c.Status, Body: c.Body,
			Headers: c.Headers, TLSVerify: c.TLSVerify}
	case config.CheckRedis:
		network, address := endpoint(c)
		p = checks.RedisProbe{Network: network, Address: address, Username: c.Username, Password: c.Password.Value()}
	case config.CheckPostgres:
		network, address := endpoint(c)
		p = checks.PostgresProbe{Network: network, Address: address, User: c.User, Database: c.Database}
	case config.CheckSMTP:
		p = checks.SMTPProbe{Network: "tcp", Address: c.Address, Hello: c.Hello}
	case config.CheckSendExpect:
		network, address := endpoint(c)
		steps := make([]checks.Step, len(c.Steps))
		for i, s := range c.Steps {
			steps[i] = checks.Step{Send: s.Send, Expect: s.Expect}
		}
		p = checks.DialogueProbe{Network: network, Address: address, TLS: c.TLS, TLSVerify: c.TLSVerify, Steps: steps}
	case config.CheckProgram:
		// The same environment as start and stop programs: PATH, never tend's own.
		p = &checks.ProgramProbe{Argv: c.Command, Status: c.Status, Output: c.Output,
			Env: execenv.Build(execenv.Options{})}
	case config.CheckFile:
		p = newFileProbe(c)
	case config.CheckFilesystem, config.CheckInodes:
		// statfs(2) on a hung network file system blocks, so these run off the loop too.
		p = filesystemProbe{check: c}
	default:
		return nil
	}
	if c.Retries > 0 {
		return checks.Retry{Inner: p, Retries: c.Retries, Timeout: c.Timeout.D()}
	}
	return p
}

// probeTimeout bounds one run of a check's probe with all its attempts.
func probeTimeout(c *config.Check) time.Duration {
	timeout := c.Timeout.D()
	if timeout <= 0 {
		timeout = config.DefaultProbeTimeout
	}
	return timeout * time.Duration(c.Retries+1)
}

// endpoint returns the network and address of a probe that takes address or socket.
func endpoint(c config.Check) (network, address string) {
	if c.Socket != "" {
		return "unix", c.Socket
	}
	return "tcp", c.Address
}

func newFileProbe(c config.Check) *checks.FileProbe {
	p := checks.NewFileProbe(c.Path)
	p.MaxAge = c.MaxAge.D()
	if c.Limit.IsSet() {
		if c.Limit.Below {
			p.Below = int64(c.Limit.Value)
		} else {
			p.Above = int64(c.Limit.Value)
		}
	}
	p.Owner, p.Group = c.Owner, c.Group
	if c.HasMode {
		p.Mode, p.HasMode = fileMode(c.Mode), true
	}
	p.Checksum = c.Checksum
	p.Pattern = c.Pattern
	return p
}

// fileMode converts permission bits as chmod(1) writes them, such as 04755, to an
// os.FileMode, whose setuid, setgid and sticky bits lie elsewhere.
func fileMode(mode uint32) os.FileMode {
	m := os.FileMode(mode & 0o777)
	if mode&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if mode&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

// resourceFigure returns the figure of a process-scoped check of svc from the usage
// of the cycle's snapshot, in the unit of the check's limit, and how to show it. ok is false when the figure is not known in
// this cycle, such as CPU on the first cycle of a process.
func (s *Supervisor) resourceFigure(svc *service, c *config.Check) (value float64, shown string, ok bool) {
	u := svc.usage
	switch c.Type {
	case config.CheckCPU, config.CheckTotalCPU:
		if !u.CPUKnown {
			return 0, "", false
		}
		total, core := c.Type == config.CheckTotalCPU, c.Of == config.CPUScopeCore
		switch {
		case total && core:
			value = u.TotalCPUCore
		case total:
			value = u.TotalCPU
		case core:
			value = u.CPUCore
		default:
			value = u.CPU
		}
		return value, fmt.Sprintf("%.1f%%", value), true
	case config.CheckMemory:
		return s.memoryFigure(u.Memory, c.Limit)
	case config.CheckTotalMemory:
		return s.memoryFigure(u.TotalMemory, c.Limit)
	case config.CheckChildren:
		return float64(u.Children), fmt.Sprintf("%d children", u.Children), true
	case config.CheckThreads:
		return float64(u.Threads), fmt.Sprintf("%d threads", u.Threads), true
	case config.CheckFDs:
		return s.fdFigure(svc, c.Limit)
	case config.CheckUptime:
		if svc.started.IsZero() {
			return 0, "", false
		}
		up := time.Since(svc.started)
		return up.Seconds(), up.Round(time.Second).String(), true
	}
	return 0, "", false
}

// fdFigure returns the open file descriptors of svc's process, as a count or as a
// percentage of its soft limit.
func (s *Supervisor) fdFigure(svc *service, limit config.Limit) (float64, string, bool) {
	n, err := checks.CountFDs(s.opts.ProcDir, svc.pid)
	if err != nil {
		svc.log.Debug("count open files", "pid", svc.pid, "err", err)
		return 0, "", false
	}
	if limit.Unit != config.UnitPercent {
		return float64(n), fmt.Sprintf("%d open files", n), true
	}
	max, err := checks.FDLimit(s.opts.ProcDir, svc.pid)
	if err != nil || max == 0 {
		return 0, "", false
	}
	pct := float64(n) * 100 / float64(max)
	return pct, fmt.Sprintf("%.1f%% (%d of %d open files)", pct, n, max), true
}

// hostFigure returns the figure of a host check from this cycle's host reading.
func (s *Supervisor) hostFigure(c *config.Check) (float64, string, bool) {
	h := s.host
	if !s.hostKnown {
		return 0, "", false
	}
	switch c.Type {
	case config.CheckLoad:
		load := h.Load1
		switch c.Minutes {
		case 5:
			load = h.Load5
		case 15:
			load = h.Load15
		}
		if c.PerCore {
			load = h.PerCore(load)
			return load, fmt.Sprintf("%.2f per core", load), true
		}
		return load, fmt.Sprintf("%.2f", load), true
	case config.CheckHostCPU:
		usage, ok := checks.HostCPU(s.prevHost, h)
		if !ok || !s.prevHostKnown {
			return 0, "", false
		}
		v := usage.Total
		switch c.Usage {
		case config.CPUUsageUser:
			v = usage.User
		case config.CPUUsageSystem:
			v = usage.System
		case config.CPUUsageIOWait:
			v = usage.IOWait
		}
		return v, fmt.Sprintf("%.1f%%", v), true
	case config.CheckHostMemory:
		if c.Limit.Unit == config.UnitPercent {
			v := h.MemUsedPercent()
			return v, fmt.Sprintf("%.1f%%", v), true
		}
		used := h.MemTotal - h.MemAvailable
		return float64(used), units.Bytes(used), true
	case config.CheckSwap:
		if c.Limit.Unit == config.UnitPercent {
			v := h.SwapUsedPercent()
			return v, fmt.Sprintf("%.1f%%", v), true
		}
		return float64(h.SwapUsed), units.Bytes(h.SwapUsed), true
	}
	return 0, "", false
}

// filesystemProbe runs a filesystem or inodes check as a probe.
type filesystemProbe struct{ check config.Check }

func (p filesystemProbe) String() string { return p.check.Type.String() + " " + p.check.Path }

// Probe reads the file system's figures and compares them with the limit. A statfs(2)
// that hangs keeps its goroutine, but the probe returns when ctx ends.
func (p filesystemProbe) Probe(ctx context.Context) checks.Result {
	start := time.Now()
	type reading struct {
		fs  checks.Filesystem
		err error
	}
	done := make(chan reading, 1)
	go func() {
		fs, err := checks.ReadFilesystem(p.check.Path)
		done <- reading{fs, err}
	}()
	var r reading
	select {
	case r = <-done:
	case <-ctx.Done():
		return checks.Result{Reason: fmt.Sprintf("statfs of %s timed out", p.check.Path), Duration: time.Since(start)}
	}
	res := checks.Result{Duration: time.Since(start)}
	if r.err != nil {
		res.Reason = r.err.Error()
		return res
	}
	value, shown := filesystemFigure(p.check, r.fs)
	if p.check.Limit.Exceeded(value) {
		res.Reason = fmt.Sprintf("%s of %s (mounted on %s) is %s, limit %s", usedWhat(p.check), p.check.Path,
			r.fs.Mount, shown, p.check.Limit)
		return res
	}
	res.OK = true
	return res
}

func usedWhat(c config.Check) string {
	if c.Type == config.CheckInodes {
		return "inode use"
	}
	return "space used"
}

func filesystemFigure(c config.Check, fs checks.Filesystem) (float64, string) {
	switch {
	case c.Type == config.CheckInodes && c.Limit.Unit == config.UnitPercent:
		v := fs.InodesUsedPercent()
		return v, fmt.Sprintf("%.1f%%", v)
	case c.Type == config.CheckInodes:
		return float64(fs.InodesUsed), fmt.Sprintf("%d inodes", fs.InodesUsed)
	case c.Limit.Unit == config.UnitPercent:
		v := fs.UsedPercent()
		return v, fmt.Sprintf("%.1f%%", v)
	}
	return float64(fs.Used), units.Bytes(fs.Used)
}
