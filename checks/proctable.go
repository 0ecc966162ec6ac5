// Package checks observes: the process table, process identity, resource usage and port
// probes. A check returns an observation with a reason an operator can act on; it never
// acts and never logs.
package checks

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// ClockTicks is the unit of the time fields in /proc/PID/stat (USER_HZ). Linux fixes it
// at 100 on every architecture Go supports, whatever the kernel's internal HZ.
const ClockTicks = 100

// Process is one process as one pass over /proc saw it.
type Process struct {
	PID  int
	PPID int
	// PGID is the process group ID.
	PGID int
	// State is the one-letter state of /proc/PID/stat: R, S, D, Z, T and so on.
	State byte
	// StartTicks is the start time in clock ticks after boot. PID and StartTicks
	// together identify a process: the kernel may reuse a PID, never both.
	StartTicks uint64
	// CPUTicks is user plus system time in clock ticks.
	CPUTicks uint64
	// RSS is the resident set size in bytes.
	RSS     uint64
	Threads int
}

// Zombie reports whether the process has exited and waits to be reaped.
func (p *Process) Zombie() bool { return p.State == 'Z' || p.State == 'X' }

// Snapshot is the process table at one moment: one pass over /proc for all services.
type Snapshot struct {
	Time     time.Time
	BootTime time.Time
	// PageSize converts the RSS field of /proc/PID/stat from pages to bytes.
	PageSize  int
	Processes map[int]*Process
	children  map[int][]int
}

// ReadSnapshot reads every process under procDir (normally "/proc"). A process that
// exits during the pass is left out.
func ReadSnapshot(procDir string) (*Snapshot, error) {
	boot, err := readBootTime(filepath.Join(procDir, "stat"))
	if err != nil {
		return nil, err
	}
	dir, err := os.Open(procDir)
	if err != nil {
		return nil, fmt.Errorf("read process table: %w", err)
	}
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read process table: %w", err)
	}

	s := &Snapshot{
		Time:      time.Now(),
		BootTime:  boot,
		PageSize:  os.Getpagesize(),
		Processes: make(map[int]*Process, len(names)),
		children:  make(map[int][]int, len(names)),
	}
	buf := make([]byte, 0, 1024)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		p, err := readStat(filepath.Join(procDir, name, "stat"), buf, s.PageSize)
		if err != nil {
			continue // The process exited after Readdirnames listed it.
		}
		p.PID = pid
		s.Processes[pid] = p
		s.children[p.PPID] = append(s.children[p.PPID], pid)
	}
	return s, nil
}

// StartTime converts a process's StartTicks to wall-clock time.
func (s *Snapshot) StartTime(p *Process) time.Time {
	return s.BootTime.Add(time.Duration(p.StartTicks) * time.Second / ClockTicks)
}

// Alive returns the process with pid when it exists, is not a zombie and, when
// startTicks is not zero, started at startTicks.
func (s *Snapshot) Alive(pid int, startTicks uint64) (*Process, bool) {
	p, ok := s.Processes[pid]
	if !ok || p.Zombie() || (startTicks != 0 && p.StartTicks != startTicks) {
		return nil, false
	}
	return p, true
}

// GroupAlive reports whether a process of the process group pgid exists that is not a
// zombie.
func (s *Snapshot) GroupAlive(pgid int) bool {
	for _, p := range s.Processes {
		if p.PGID == pgid && !p.Zombie() {
			return true
		}
	}
	return false
}

// Descendants returns the PIDs of every process below pid in the process tree.
func (s *Snapshot) Descendants(pid int) []int {
	var out []int
	queue := append([]int(nil), s.children[pid]...)
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		out = append(out, next)
		queue = append(queue, s.children[next]...)
	}
	return out
}

// Usage is the resource usage of a process, alone and with its descendants.
type Usage struct {
	// CPU is the share of all cores the process used between two snapshots, 0 to 100.
	CPU float64
	// TotalCPU is CPU including every descendant.
	TotalCPU float64
	// Memory is the resident set size in bytes; TotalMemory includes every descendant.
	Memory      uint64
	TotalMemory uint64
	// CPUKnown is false on the first snapshot of a process, when no interval exists
	// to measure CPU over, and then CPU and TotalCPU are zero.
	CPUKnown bool
}

// Usage measures the process pid in s. CPU comes from the difference to prev, the
// previous snapshot, over the elapsed wall-clock time divided among cores CPUs, never
// from a lifetime average. A process that prev does not contain, or that prev
// contains with another start time, has no CPU figure yet.
func (s *Snapshot) Usage(prev *Snapshot, pid, cores int) Usage {
	p, ok := s.Processes[pid]
	if !ok {
		return Usage{}
	}
	u := Usage{Memory: p.RSS, TotalMemory: p.RSS}
	descendants := s.Descendants(pid)
	for _, d := range descendants {
		u.TotalMemory += s.Processes[d].RSS
	}

	if prev == nil || cores < 1 {
		return u
	}
	elapsed := s.Time.Sub(prev.Time).Seconds()
	before, ok := prev.Processes[pid]
	if elapsed <= 0 || !ok || before.StartTicks != p.StartTicks {
		return u
	}
	u.CPUKnown = true
	budget := elapsed * ClockTicks * float64(cores) / 100
	u.CPU = tickDelta(before, p) / budget
	total := tickDelta(before, p)
	for _, d := range descendants {
		if b, ok := prev.Processes[d]; ok && b.StartTicks == s.Processes[d].StartTicks {
			total += tickDelta(b, s.Processes[d])
		}
	}
	u.TotalCPU = total / budget
	return u
}

func tickDelta(before, after *Process) float64 {
	if after.CPUTicks < before.CPUTicks {
		return 0
	}
	return float64(after.CPUTicks - before.CPUTicks)
}

var errStatFormat = errors.New("unexpected /proc stat format")

// readStat parses /proc/PID/stat. The command name in field 2 is in parentheses and may
// itself contain spaces and parentheses, so the fields after it are found from the
// last closing parenthesis.
func readStat(path string, buf []byte, pageSize int) (*Process, error) {
	data, err := readFileInto(path, buf)
	if err != nil {
		return nil, err
	}

	end := bytes.LastIndexByte(data, ')')
	if end < 0 || end+2 >= len(data) {
		return nil, errStatFormat
	}
	fields := bytes.Fields(data[end+2:])
	// fields[0] is field 3 of proc(5): state. Field n of proc(5) is fields[n-3].
	if len(fields) < 22 {
		return nil, errStatFormat
	}

	p := &Process{State: fields[0][0]}
	var perr error
	num := func(n int) uint64 {
		v, err := strconv.ParseUint(string(fields[n-3]), 10, 64)
		if err != nil {
			perr = err
		}
		return v
	}
	p.PPID = int(num(4))
	p.PGID = int(num(5))
	p.CPUTicks = num(14) + num(15)
	p.Threads = int(num(20))
	p.StartTicks = num(22)
	p.RSS = num(24) * uint64(pageSize)

	if perr != nil {
		return nil, fmt.Errorf("parse %s: %w", path, perr)
	}
	return p, nil
}

func readFileInto(path string, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf = buf[:cap(buf)]
	n, err := f.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

func readBootTime(path string) (time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, fmt.Errorf("read boot time: %w", err)
	}
	for line := range bytes.Lines(data) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			sec, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("read boot time: %w", err)
			}
			return time.Unix(sec, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("read boot time: no btime line in %s", path)
}

// ReadProcess reads one process from procDir, for callers that must verify a PID and its
// start time right before they signal it.
func ReadProcess(procDir string, pid int) (*Process, error) {
	p, err := readStat(filepath.Join(procDir, strconv.Itoa(pid), "stat"), make([]byte, 0, 1024), os.Getpagesize())
	if err != nil {
		return nil, err
	}
	p.PID = pid
	return p, nil
}
