package checks

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadSnapshotSelf(t *testing.T) {
	s, err := ReadSnapshot("/proc")
	if err != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	p, ok := s.Alive(os.Getpid(), 0)
	if !ok {
		t.Fatalf("Alive(%d): own process not found", os.Getpid())
	}
	if p.PPID != os.Getppid() {
		t.Errorf("PPID = %d, want %d", p.PPID, os.Getppid())
	}
	if p.RSS == 0 {
		t.Error("RSS = 0, want > 0")
	}
	if p.Threads < 1 {
		t.Errorf("Threads = %d, want >= 1", p.Threads)
	}
	if started := s.StartTime(p); time.Since(started) > time.Hour || started.After(time.Now()) {
		t.Errorf("StartTime = %v, not within the last hour", started)
	}
}

// TestListPIDs compares the getdents listing with os.ReadDir of /proc. Processes come
// and go between the two reads, so it checks that every numeric name that exists in
// both reads is in the listing, and that the listing holds nothing but PIDs.
func TestListPIDs(t *testing.T) {
	before, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	dirfd, err := syscall.Open("/proc", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Close(dirfd) }()

	// A small buffer makes listPIDs call getdents many times.
	pids, err := listPIDs(dirfd, make([]byte, 256))
	if err != nil {
		t.Fatalf("listPIDs: %v", err)
	}
	listed := make(map[int]bool, len(pids))
	for _, pid := range pids {
		if listed[pid] {
			t.Errorf("PID %d listed twice", pid)
		}
		listed[pid] = true
	}

	if !listed[os.Getpid()] {
		t.Errorf("own PID %d not listed", os.Getpid())
	}
	for _, e := range before {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join("/proc", e.Name())); err == nil && !listed[pid] {
			t.Errorf("PID %d in /proc but not listed", pid)
		}
	}
}

func TestAppendDirentPIDs(t *testing.T) {
	record := func(name string) []byte {
		reclen := (19 + len(name) + 1 + 7) &^ 7
		b := make([]byte, reclen)
		binary.NativeEndian.PutUint16(b[16:18], uint16(reclen))
		copy(b[19:], name)
		return b
	}
	var data []byte
	for _, name := range []string{".", "..", "1", "self", "thread-self", "4194304", "sys", "17", "99999999999"} {
		data = append(data, record(name)...)
	}
	got := appendDirentPIDs(nil, data)
	want := []int{1, 4194304, 17}
	if !slices.Equal(got, want) {
		t.Errorf("PIDs = %v, want %v", got, want)
	}
	// A record whose length runs past the data ends the parse instead of reading beyond.
	broken := record("23")
	binary.NativeEndian.PutUint16(broken[16:18], 200)
	if got := appendDirentPIDs(nil, append(record("5"), broken...)); !slices.Equal(got, []int{5}) {
		t.Errorf("PIDs of a truncated listing = %v, want [5]", got)
	}
}

func TestReadStatCommandWithParens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stat")
	line := "42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 150 50 0 0 20 0 3 0 9999 1000 25 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := readStat(path, make([]byte, 0, 1024), 4096)
	if err != nil {
		t.Fatalf("readStat: %v", err)
	}
	want := Process{
		State: 'S', PPID: 7, PGID: 42, Flags: 4194560, CPUTicks: 200,
		Threads: 3, StartTicks: 9999, RSS: 25 * 4096,
	}
	if *p != want {
		t.Errorf("readStat = %+v, want %+v", *p, want)
	}
}

func TestUsageChildrenAndCPU(t *testing.T) {
	// A shell that runs a CPU-bound loop in a child and waits for it.
	cmd := exec.Command("sh", "-c", "sh -c 'while :; do :; done' & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	var prev, cur *Snapshot
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s, err := ReadSnapshot("/proc")
		if err != nil {
			t.Fatal(err)
		}
		prev, cur = cur, s
		if prev != nil && len(cur.Descendants(cmd.Process.Pid)) == 1 &&
			cur.Usage(prev, cmd.Process.Pid, 1).TotalCPU > 50 {
			break
		}
		time.Sleep(200 * time.Millisecond) // The interval CPU is measured over.
	}
	kids := cur.Descendants(cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("Descendants = %v, want one child", kids)
	}
	for _, k := range kids {
		_ = syscallKill(k)
	}
	u := cur.Usage(prev, cmd.Process.Pid, 1)
	if !u.CPUKnown {
		t.Fatal("CPUKnown = false on the second snapshot")
	}
	if u.TotalCPU < 50 {
		t.Errorf("TotalCPU = %.1f%% of one core for a busy child, want > 50%%", u.TotalCPU)
	}
	if u.CPU > 20 {
		t.Errorf("CPU = %.1f%% for a shell that only waits, want < 20%%", u.CPU)
	}
	if u.TotalMemory <= u.Memory {
		t.Errorf("TotalMemory = %d, want more than Memory = %d", u.TotalMemory, u.Memory)
	}
	if first := cur.Usage(nil, cmd.Process.Pid, 1); first.CPUKnown {
		t.Error("Usage without a previous snapshot: CPUKnown = true, want false")
	}
}

func TestUsageBurnAllCores(t *testing.T) {
	cores := runtime.NumCPU()
	if cores < 2 {
		t.Skipf("needs at least 2 CPUs to tell CPU from CPUCore, have %d", cores)
	}
	pid := startRole(t, "burn", cores).Process.Pid

	// Other tests on the machine may take CPU time, so wait for an interval in which
	// the process kept more than one core busy.
	busy := func(prev, cur *Snapshot) bool { return cur.Usage(prev, pid, cores).CPUCore > 120 }
	describe := func(prev, cur *Snapshot) string {
		return "last reading " + describeUsage(cur.Usage(prev, pid, cores))
	}
	prev, cur := snapshotUntil(t, SnapshotOptions{}, time.Second, 30*time.Second, busy, describe)
	u := cur.Usage(prev, pid, cores)

	if !u.CPUKnown {
		t.Fatal("CPUKnown = false on the second snapshot")
	}
	maxCore := float64(cores) * 100 * 1.15 // clock ticks are 10 ms: allow 15% error
	if u.CPUCore <= 120 || u.CPUCore > maxCore {
		t.Errorf("CPUCore = %.1f for %d busy goroutines, want 120 to %.0f", u.CPUCore, cores, maxCore)
	}
	if want := u.CPUCore / float64(cores); math.Abs(u.CPU-want) > 1e-9 {
		t.Errorf("CPU = %.3f, want CPUCore / %d = %.3f", u.CPU, cores, want)
	}
	if u.CPU <= 120/float64(cores) || u.CPU > 115 {
		t.Errorf("CPU = %.1f, want %.0f to 115 of the whole machine", u.CPU, 120/float64(cores))
	}
	if u.TotalCPUCore < u.CPUCore {
		t.Errorf("TotalCPUCore = %.1f, want at least CPUCore = %.1f", u.TotalCPUCore, u.CPUCore)
	}
	if u.Threads < cores {
		t.Errorf("Threads = %d, want at least %d for %d busy goroutines", u.Threads, cores, cores)
	}
}

func describeUsage(u Usage) string {
	return "CPU " + strconv.FormatFloat(u.CPU, 'f', 1, 64) +
		" CPUCore " + strconv.FormatFloat(u.CPUCore, 'f', 1, 64) +
		" known " + strconv.FormatBool(u.CPUKnown)
}

func TestUsageMemory(t *testing.T) {
	const mib = 200
	pid := startRole(t, "alloc", mib).Process.Pid

	s, err := ReadSnapshot("/proc")
	if err != nil {
		t.Fatal(err)
	}
	u := s.Usage(nil, pid, 1)
	// The race detector's shadow memory about doubles the figure. A unit error in
	// pages or kilobytes would be off by a factor of a thousand or more.
	if u.Memory < mib<<20 || u.Memory > 4*mib<<20 {
		t.Errorf("Memory = %d MiB after touching %d MiB, want %d to %d MiB", u.Memory>>20, mib, mib, 4*mib)
	}
	if u.TotalMemory != u.Memory {
		t.Errorf("TotalMemory = %d, want Memory = %d for a process without children", u.TotalMemory, u.Memory)
	}
	if u.CPUKnown {
		t.Error("Usage without a previous snapshot: CPUKnown = true, want false")
	}
}

func TestUsageChildrenAndThreads(t *testing.T) {
	const n = 3
	pid := startRole(t, "fork", n).Process.Pid

	// The children report ready to /dev/null, so wait until the snapshot shows them.
	hasAll := func(_, cur *Snapshot) bool { return len(cur.Children(pid)) == n }
	describe := func(_, cur *Snapshot) string { return "children " + strconv.Itoa(len(cur.Children(pid))) }
	_, cur := snapshotUntil(t, SnapshotOptions{}, 20*time.Millisecond, 10*time.Second, hasAll, describe)

	kids := cur.Children(pid)
	for _, k := range kids {
		if ppid := cur.Processes[k].PPID; ppid != pid {
			t.Errorf("child %d has PPID %d, want %d", k, ppid, pid)
		}
	}
	u := cur.Usage(nil, pid, 1)
	if u.Children != n || u.Descendants != n {
		t.Errorf("Usage: Children = %d, Descendants = %d, want %d and %d", u.Children, u.Descendants, n, n)
	}
	want := u.Threads
	for _, k := range kids {
		want += cur.Processes[k].Threads
	}
	if u.TotalThreads != want || u.TotalThreads < u.Threads+n {
		t.Errorf("TotalThreads = %d, want %d (Threads %d plus each child's)", u.TotalThreads, want, u.Threads)
	}
	kids[0] = -1
	if cur.Children(pid)[0] == -1 {
		t.Error("Children returned the snapshot's own slice, want a copy")
	}
}

// TestUsageCPUScales checks both CPU scales and the first-cycle rule on hand-made
// snapshots one second apart.
func TestUsageCPUScales(t *testing.T) {
	t0 := time.Unix(1000, 0)
	proc := func(pid, ppid int, start, ticks uint64) *Process {
		return &Process{PID: pid, PPID: ppid, StartTicks: start, CPUTicks: ticks, Threads: 1}
	}
	snap := func(at time.Time, procs ...*Process) *Snapshot {
		s := &Snapshot{Time: at, Processes: map[int]*Process{}, children: map[int][]int{}}
		for _, p := range procs {
			s.Processes[p.PID] = p
			s.children[p.PPID] = append(s.children[p.PPID], p.PID)
		}
		return s
	}
	prev := snap(t0, proc(10, 1, 500, 1000), proc(11, 10, 600, 0))
	// In one second PID 10 used 150 ticks, its child 11 used 50 and a new child 12,
	// unknown to prev, has 70 ticks of its own that must not count.
	cur := snap(t0.Add(time.Second), proc(10, 1, 500, 1150), proc(11, 10, 600, 50), proc(12, 10, 700, 70))

	u := cur.Usage(prev, 10, 2)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"CPUCore", u.CPUCore, 150},
		{"CPU", u.CPU, 75},
		{"TotalCPUCore", u.TotalCPUCore, 200},
		{"TotalCPU", u.TotalCPU, 100},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("Usage(prev, 10, 2).%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	firsts := []struct {
		name string
		prev *Snapshot
	}{
		{"no previous snapshot", nil},
		{"PID not in previous snapshot", snap(t0, proc(11, 10, 600, 0))},
		{"PID reused with another start time", snap(t0, proc(10, 1, 499, 0))},
	}
	for _, f := range firsts {
		if u := cur.Usage(f.prev, 10, 2); u.CPUKnown || u.CPU != 0 || u.CPUCore != 0 {
			t.Errorf("%s: Usage = %+v, want CPUKnown false and no CPU figures", f.name, u)
		}
	}
}

func TestReadSnapshotCmdline(t *testing.T) {
	pid := startRole(t, "sleep", 0, "alpha", "beta gamma").Process.Pid

	with, err := ReadSnapshotWith("/proc", SnapshotOptions{Cmdline: true})
	if err != nil {
		t.Fatal(err)
	}
	want := os.Args[0] + " alpha beta gamma"
	if got := with.Processes[pid].Cmdline; got != want {
		t.Errorf("Cmdline = %q, want %q", got, want)
	}
	if kthreadd := with.Processes[2]; kthreadd != nil && strings.Contains(readComm(t, 2), "kthreadd") {
		if !kthreadd.KernelThread() || kthreadd.Cmdline != "" {
			t.Errorf("kthreadd: KernelThread() = %v, Cmdline = %q, want true and empty",
				kthreadd.KernelThread(), kthreadd.Cmdline)
		}
	}
	if self := with.Processes[os.Getpid()]; self.KernelThread() {
		t.Error("KernelThread() = true for the test process")
	}

	without, err := ReadSnapshot("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if got := without.Processes[pid].Cmdline; got != "" {
		t.Errorf("Cmdline without SnapshotOptions.Cmdline = %q, want empty", got)
	}
}

func readComm(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return string(data)
}

func TestReadCmdlineLong(t *testing.T) {
	// A command line longer than the starting buffer must come back whole.
	path := filepath.Join(t.TempDir(), "cmdline")
	arg := strings.Repeat("x", 10000)
	if err := os.WriteFile(path, []byte("prog\x00"+arg+"\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	buf, got := readCmdline(path, make([]byte, 0, 64))
	if want := "prog " + arg; got != want {
		t.Errorf("readCmdline: got %d bytes, want %d", len(got), len(want))
	}
	if cap(buf) < 10000 {
		t.Errorf("readCmdline returned a buffer of capacity %d, want it grown", cap(buf))
	}
}

func TestCountFDsOwnProcess(t *testing.T) {
	before, err := CountFDs("/proc", os.Getpid())
	if err != nil {
		t.Fatalf("CountFDs: %v", err)
	}
	const n = 10
	for range n {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	after, err := CountFDs("/proc", os.Getpid())
	if err != nil {
		t.Fatalf("CountFDs: %v", err)
	}
	if after-before != n {
		t.Errorf("CountFDs after opening %d files = %d, want %d + %d", n, after, before, n)
	}
}

func TestCountFDsChild(t *testing.T) {
	const n = 300
	pid := startRole(t, "files", n).Process.Pid
	got, err := CountFDs("/proc", pid)
	if err != nil {
		t.Fatalf("CountFDs: %v", err)
	}
	// Standard input, output and error come on top, and the Go runtime opens a few.
	if got < n+3 || got > n+20 {
		t.Errorf("CountFDs of a child holding %d files = %d, want %d to %d", n, got, n+3, n+20)
	}
	if _, err := CountFDs("/proc", 999999999); err == nil {
		t.Error("CountFDs of a missing PID: error = nil, want one")
	}
}

func TestFDLimitOwnProcess(t *testing.T) {
	var rlim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rlim); err != nil {
		t.Fatal(err)
	}
	want := rlim.Cur // RLIM_INFINITY is math.MaxUint64 as a uint64
	got, err := FDLimit("/proc", os.Getpid())
	if err != nil {
		t.Fatalf("FDLimit: %v", err)
	}
	if got != want {
		t.Errorf("FDLimit = %d, want getrlimit's soft limit %d", got, want)
	}
}

func TestFDLimitParse(t *testing.T) {
	header := "Limit                     Soft Limit           Hard Limit           Units     \n" +
		"Max cpu time              unlimited            unlimited            seconds   \n"
	tests := []struct {
		name    string
		limits  string // "" leaves the file out
		want    uint64
		wantErr string
	}{
		{"number", header + "Max open files            1024                 524288               files     \n", 1024, ""},
		{"unlimited", header + "Max open files            unlimited            unlimited            files     \n",
			math.MaxUint64, ""},
		{"no line", header, 0, "no \"Max open files\" line"},
		{"garbage", header + "Max open files            lots                 lots                 files     \n", 0, "parse"},
		{"no file", "", 0, "no such file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			procDir := t.TempDir()
			pid := 100 + i
			if tt.limits != "" {
				dir := filepath.Join(procDir, strconv.Itoa(pid))
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "limits"), []byte(tt.limits), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := FDLimit(procDir, pid)
			if got != tt.want {
				t.Errorf("FDLimit = %d, want %d", got, tt.want)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("FDLimit: error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("FDLimit: error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
