// Package checks observes: the process table, process identity, resource usage and port
// probes. A check returns an observation with a reason an operator can act on; it never
// acts and never logs.
package checks

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
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
	// Flags is the kernel's per-process flags word (PF_* in include/linux/sched.h).
	Flags uint64
	// StartTicks is the start time in clock ticks after boot. PID and StartTicks
	// together identify a process: the kernel may reuse a PID, never both.
	StartTicks uint64
	// CPUTicks is user plus system time in clock ticks.
	CPUTicks uint64
	// RSS is the resident set size in bytes.
	RSS uint64
	// Threads is the number of threads in the process, at least 1.
	Threads int
	// Cmdline is the command line with the NUL bytes between arguments turned into
	// spaces. It is empty for kernel threads and zombies, and in a snapshot read
	// without SnapshotOptions.Cmdline.
	Cmdline string
}

// pfKthread marks a kernel thread in Process.Flags (PF_KTHREAD in include/linux/sched.h).
const pfKthread = 0x00200000

// Zombie reports whether the process has exited and waits to be reaped.
func (p *Process) Zombie() bool { return p.State == 'Z' || p.State == 'X' }

// KernelThread reports whether the process is a kernel thread, such as kthreadd or a
// kworker. Kernel threads have no command line and no user-space memory.
func (p *Process) KernelThread() bool { return p.Flags&pfKthread != 0 }

// SnapshotOptions selects what ReadSnapshotWith reads beyond /proc/PID/stat.
type SnapshotOptions struct {
	// Cmdline reads /proc/PID/cmdline of every process into Process.Cmdline. Only
	// FindByMatch needs it, and it costs one more file per process.
	Cmdline bool
}

// Snapshot is the process table at one moment: one pass over /proc for all services.
type Snapshot struct {
	Time     time.Time
	BootTime time.Time
	// PageSize converts the RSS field of /proc/PID/stat from pages to bytes.
	PageSize int
	// Options records what the pass read, so FindByMatch can tell a snapshot
	// without command lines from one where no command line matches.
	Options   SnapshotOptions
	Processes map[int]*Process
	children  map[int][]int
}

// ReadSnapshot reads every process under procDir (normally "/proc") without command
// lines. It is ReadSnapshotWith with zero options.
func ReadSnapshot(procDir string) (*Snapshot, error) {
	return ReadSnapshotWith(procDir, SnapshotOptions{})
}

// ReadSnapshotWith reads every process under procDir (normally "/proc"). A process that
// exits during the pass is left out. /proc lists thread group leaders only, so each
// entry is a process and never a thread of one. The error is non-nil only when procDir
// or its stat file cannot be read, and then the snapshot is nil.
func ReadSnapshotWith(procDir string, opts SnapshotOptions) (*Snapshot, error) {
	boot, err := readBootTime(filepath.Join(procDir, "stat"))
	if err != nil {
		return nil, err
	}
	// The stat files are opened relative to the directory, with raw system calls into
	// one buffer: an os.File per file cost a third of the cycle at 1000 services.
	dirfd, err := unix.Open(procDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("read process table: %w", err)
	}
	defer func() { _ = unix.Close(dirfd) }()
	buf := make([]byte, 0, 8192)
	pids, err := listPIDs(dirfd, buf[:cap(buf)])
	if err != nil {
		return nil, fmt.Errorf("read process table: %w", err)
	}

	s := &Snapshot{
		Time:      time.Now(),
		BootTime:  boot,
		PageSize:  os.Getpagesize(),
		Options:   opts,
		Processes: make(map[int]*Process, len(pids)),
		children:  make(map[int][]int, len(pids)),
	}
	// One allocation contains every Process of the pass, so the garbage collector
	// tracks one object per cycle instead of one per process.
	procs := make([]Process, len(pids))
	path := make([]byte, 0, 32)
	for i, pid := range pids {
		path = strconv.AppendInt(path[:0], int64(pid), 10)
		name := len(path)
		path = append(path, "/stat"...)
		data, err := readAt(dirfd, string(path), buf[:cap(buf)])
		if err != nil {
			continue // The process exited after the directory was listed.
		}
		p := &procs[i]
		if err := parseStatInto(p, data, s.PageSize); err != nil {
			continue
		}
		p.PID = pid
		if opts.Cmdline && !p.KernelThread() {
			buf, p.Cmdline = readCmdline(filepath.Join(procDir, string(path[:name]), "cmdline"), buf)
		}
		s.Processes[pid] = p
		s.children[p.PPID] = append(s.children[p.PPID], pid)
	}
	return s, nil
}

// listPIDs returns the PIDs that the directory dirfd of /proc lists, read with getdents
// into buf so that no name becomes a string. Entries that are not numbers, such as
// "self" or "sys", are skipped.
func listPIDs(dirfd int, buf []byte) ([]int, error) {
	pids := make([]int, 0, 512)
	for {
		n, err := unix.Getdents(dirfd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return pids, nil
		}
		pids = appendDirentPIDs(pids, buf[:n])
	}
}

// appendDirentPIDs appends the numeric names of the linux_dirent64 records in data:
// an 8-byte inode, an 8-byte offset, a 2-byte record length, a type byte, then the
// NUL-terminated name.
func appendDirentPIDs(pids []int, data []byte) []int {
	const nameOff = 19
	for len(data) >= nameOff {
		reclen := int(binary.NativeEndian.Uint16(data[16:18]))
		if reclen < nameOff || reclen > len(data) {
			break
		}
		name := data[nameOff:reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if pid, ok := parseUint(name); ok && pid > 0 && pid <= math.MaxInt32 {
			pids = append(pids, int(pid))
		}
		data = data[reclen:]
	}
	return pids
}

// readCmdline returns the command line in the file at path with NUL bytes as spaces,
// and buf, grown when the command line did not fit. A process that exited in the
// meantime has an empty command line.
func readCmdline(path string, buf []byte) ([]byte, string) {
	f, err := os.Open(path)
	if err != nil {
		return buf, ""
	}
	defer f.Close()
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil || n == 0 {
			break
		}
	}
	line := bytes.TrimRight(buf, "\x00")
	return buf, strings.ReplaceAll(string(line), "\x00", " ")
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

// Children returns the PIDs of the direct children of pid, in the order /proc listed
// them. The slice is the caller's to keep or change.
func (s *Snapshot) Children(pid int) []int {
	return slices.Clone(s.children[pid])
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
//
// The CPU figures come in two scales. CPU and TotalCPU are shares of the whole
// machine: 100 means every core was busy for the whole interval, so on a 2-core
// machine one busy single-threaded process shows 50. CPUCore and TotalCPUCore are in
// units of one core, as top and ps show them: the same process shows 100, and a
// process that keeps both cores busy shows 200.
type Usage struct {
	// CPU is the share of all cores the process used between two snapshots, 0 to 100.
	CPU float64
	// CPUCore is the CPU time the process used between two snapshots as a percentage
	// of one core, 0 to 100 times the number of cores.
	CPUCore float64
	// TotalCPU is CPU including every descendant, 0 to 100.
	TotalCPU float64
	// TotalCPUCore is CPUCore including every descendant.
	TotalCPUCore float64
	// CPUKnown is false on the first snapshot of a process, when no interval exists
	// to measure CPU over, and then all four CPU figures are zero.
	CPUKnown bool

	// Memory is the resident set size in bytes; TotalMemory includes every descendant.
	Memory      uint64
	TotalMemory uint64
	// Children counts the direct children of the process and Descendants every
	// process below it.
	Children    int
	Descendants int
	// Threads counts the threads of the process. TotalThreads adds the threads of
	// every descendant.
	Threads      int
	TotalThreads int
}

// Usage measures the process pid in s. CPU comes from the difference to prev, the
// previous snapshot, over the elapsed wall-clock time, never from a lifetime average.
// cores is the number of CPUs that CPU and TotalCPU divide among. CPUKnown stays false
// and all CPU figures zero when prev is nil, cores is below 1, or no time elapsed since
// prev. The same holds when prev does not contain pid with the same start time, so a
// new process or a reused PID never shows a CPU figure on its first cycle. A
// descendant that is new since prev adds nothing to the totals of that cycle. A pid
// that s does not contain returns the zero Usage.
func (s *Snapshot) Usage(prev *Snapshot, pid, cores int) Usage {
	p, ok := s.Processes[pid]
	if !ok {
		return Usage{}
	}
	descendants := s.Descendants(pid)
	u := Usage{
		Memory: p.RSS, TotalMemory: p.RSS,
		Threads: p.Threads, TotalThreads: p.Threads,
		Children: len(s.children[pid]), Descendants: len(descendants),
	}
	for _, d := range descendants {
		u.TotalMemory += s.Processes[d].RSS
		u.TotalThreads += s.Processes[d].Threads
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
	// One core for the whole interval is elapsed*ClockTicks ticks.
	oneCore := elapsed * ClockTicks / 100
	own := tickDelta(before, p)
	total := own
	for _, d := range descendants {
		if b, ok := prev.Processes[d]; ok && b.StartTicks == s.Processes[d].StartTicks {
			total += tickDelta(b, s.Processes[d])
		}
	}
	u.CPUCore = own / oneCore
	u.TotalCPUCore = total / oneCore
	u.CPU = u.CPUCore / float64(cores)
	u.TotalCPU = u.TotalCPUCore / float64(cores)
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
	p, err := parseStat(data, pageSize)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return p, nil
}

// readAt reads the file name, relative to the directory dirfd, into buf with one read,
// which returns a whole file of /proc that fits.
func readAt(dirfd int, name string, buf []byte) ([]byte, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	n, err := unix.Read(fd, buf)
	_ = unix.Close(fd)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// statFields lists the fields of /proc/PID/stat that parseStat keeps, by their number
// in proc(5), in order.
var statFields = [...]int{3, 4, 5, 9, 14, 15, 20, 22, 24}

// parseStat parses the content of /proc/PID/stat into a new Process.
func parseStat(data []byte, pageSize int) (*Process, error) {
	p := new(Process)
	if err := parseStatInto(p, data, pageSize); err != nil {
		return nil, err
	}
	return p, nil
}

// parseStatInto parses the content of /proc/PID/stat into p without allocating.
func parseStatInto(p *Process, data []byte, pageSize int) error {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 || end+2 >= len(data) {
		return errStatFormat
	}
	var values [len(statFields)]uint64
	var state byte
	field, next := 3, 0
	rest := data[end+2:]
	for next < len(statFields) {
		rest = bytes.TrimLeft(rest, " ")
		if len(rest) == 0 {
			return errStatFormat
		}
		token := rest
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			token, rest = rest[:i], rest[i:]
		} else {
			rest = nil
		}
		if field == statFields[next] {
			if field == 3 {
				state = token[0]
			} else {
				v, ok := parseUint(bytes.TrimRight(token, "\n"))
				if !ok {
					return errStatFormat
				}
				values[next] = v
			}
			next++
		}
		field++
	}
	*p = Process{
		State: state, PPID: int(values[1]), PGID: int(values[2]), Flags: values[3],
		CPUTicks: values[4] + values[5], Threads: int(values[6]), StartTicks: values[7],
		RSS: values[8] * uint64(pageSize),
	}
	return nil
}

// parseUint parses a decimal number of /proc.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
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

// CountFDs returns the number of open file descriptors of the process pid: the entries
// of /proc/PID/fd under procDir. Reading another user's process needs root or
// CAP_SYS_PTRACE, so the error is non-nil when the process does not exist or the
// directory is not readable, and the count is then 0.
func CountFDs(procDir string, pid int) (int, error) {
	dir := filepath.Join(procDir, strconv.Itoa(pid), "fd")
	f, err := os.Open(dir)
	if err != nil {
		return 0, fmt.Errorf("count open files of PID %d: %w", pid, err)
	}
	defer f.Close()

	count := 0
	for {
		names, err := f.Readdirnames(256)
		count += len(names)
		if errors.Is(err, io.EOF) {
			return count, nil
		}
		if err != nil {
			return 0, fmt.Errorf("count open files of PID %d: %w", pid, err)
		}
	}
}

// FDLimit returns the soft limit on open files (RLIMIT_NOFILE) of the process pid, from
// the "Max open files" line of /proc/PID/limits under procDir. An unlimited soft limit
// returns math.MaxUint64. The error is non-nil when the file cannot be read or has no
// such line, and the limit is then 0.
func FDLimit(procDir string, pid int) (uint64, error) {
	path := filepath.Join(procDir, strconv.Itoa(pid), "limits")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read open file limit of PID %d: %w", pid, err)
	}
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, "Max open files ")
		if !ok {
			continue
		}
		// The columns after the name are the soft limit, the hard limit and the unit.
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			break
		}
		if fields[0] == "unlimited" {
			return math.MaxUint64, nil
		}
		limit, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse open file limit in %s: %w", path, err)
		}
		return limit, nil
	}
	return 0, fmt.Errorf("read open file limit: no \"Max open files\" line in %s", path)
}
