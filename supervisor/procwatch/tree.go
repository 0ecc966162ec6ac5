package procwatch

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"tend/checks"
)

// KillTree sends sig to pid and everything below it, once each, and returns the PIDs
// it signalled. One snapshot of procDir gives the tree through PPID links, so a
// descendant that called setsid or setpgid is still found while its parent lives.
//
// The order is children first. Descendants outside the process group of pid come
// first, the deepest ones first, each through a pidfd after checking its start time, so
// a PID that was reused since the snapshot is left alone. With them go the members of
// process groups that such a descendant leads, which reaches members re-parented out of
// the tree. Last, when pid leads its process group, one kill(2) sends sig to the whole
// group, which contains pid and its other descendants. Otherwise only pid receives it.
//
// Zombies are skipped, and so are tend's own PID and process group, and PIDs 0 and 1.
// When the snapshot cannot be read, only pid, or its group when it leads one, is
// signalled.
func KillTree(procDir string, pid int, sig unix.Signal) []int {
	if pid <= 1 {
		return nil
	}
	k := &treeKiller{procDir: procDir, sig: sig, self: os.Getpid()}
	k.selfGroup, _ = unix.Getpgid(0)
	snap, err := checks.ReadSnapshot(procDir)
	if err != nil {
		if p, err := checks.ReadProcess(procDir, pid); err == nil {
			k.root(p, nil)
		}
		return k.signalled
	}
	root, ok := snap.Processes[pid]
	if !ok {
		return nil
	}

	for _, p := range k.below(snap, root) {
		k.process(p)
	}
	k.root(root, snap)
	return k.signalled
}

// treeKiller carries the state of one KillTree call.
type treeKiller struct {
	procDir   string
	sig       unix.Signal
	self      int
	selfGroup int
	signalled []int
}

// below returns the live processes to signal one by one before root: the descendants
// of root, deepest first, preceded by the other members of the groups they lead, and
// without the members of root's own group when root leads it.
func (k *treeKiller) below(snap *checks.Snapshot, root *checks.Process) []*checks.Process {
	descendants := snap.Descendants(root.PID)
	slices.Reverse(descendants)
	inTree := make(map[int]bool, len(descendants))
	leaders := make(map[int]bool)
	for _, d := range descendants {
		inTree[d] = true
		if p := snap.Processes[d]; p.PGID == p.PID {
			leaders[d] = true
		}
	}

	var out []*checks.Process
	for _, p := range snap.Processes {
		if leaders[p.PGID] && !inTree[p.PID] && p.PID != root.PID {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *checks.Process) int { return a.PID - b.PID })
	for _, d := range descendants {
		out = append(out, snap.Processes[d])
	}

	rootGroup := root.PGID == root.PID
	return slices.DeleteFunc(out, func(p *checks.Process) bool {
		return p.Zombie() || (rootGroup && p.PGID == root.PID)
	})
}

// root signals root last: its whole group when it leads one, else root alone. The
// members recorded as signalled come from snap; without one, only root is recorded.
func (k *treeKiller) root(root *checks.Process, snap *checks.Snapshot) {
	if root.Zombie() {
		return
	}
	if root.PGID != root.PID {
		k.process(root)
		return
	}
	if root.PGID == k.selfGroup || root.PGID <= 1 {
		return
	}
	if err := unix.Kill(-root.PGID, k.sig); err != nil {
		return
	}
	if snap == nil {
		k.signalled = append(k.signalled, root.PID)
		return
	}
	var members []int
	for _, p := range snap.Processes {
		if p.PGID == root.PGID && !p.Zombie() {
			members = append(members, p.PID)
		}
	}
	slices.Sort(members)
	k.signalled = append(k.signalled, members...)
}

// process signals one process through a pidfd after checking that it still has the
// start time of the snapshot.
func (k *treeKiller) process(p *checks.Process) {
	if p.PID == k.self {
		return
	}
	if err := signalProcess(k.procDir, p.PID, p.StartTicks, k.sig); err != nil {
		return
	}
	k.signalled = append(k.signalled, p.PID)
}

// signalProcess sends sig to pid when pid still has startTicks. Without pidfds it
// falls back to kill(2) right after the check, which leaves a window of a few
// microseconds in which a reused PID could receive the signal.
func signalProcess(procDir string, pid int, startTicks uint64, sig unix.Signal) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ENOSYS) {
		if err := sameStart(procDir, pid, startTicks); err != nil {
			return err
		}
		return unix.Kill(pid, sig)
	}
	if err != nil {
		return err
	}
	defer func() { _ = unix.Close(fd) }()
	if err := sameStart(procDir, pid, startTicks); err != nil {
		return err
	}
	return unix.PidfdSendSignal(fd, sig, nil, 0)
}

func sameStart(procDir string, pid int, startTicks uint64) error {
	p, err := checks.ReadProcess(procDir, pid)
	if err != nil {
		return err
	}
	if p.StartTicks != startTicks {
		return ErrPIDReused
	}
	return nil
}

// Marked returns the PIDs, sorted, whose environment in procDir/PID/environ contains
// the exact entry key=value. The file shows the environment the process started with,
// so a process that changed its own environment later is still found by the original
// one. Processes whose environ cannot be read (another user's, when tend is not root)
// are left out, and so are kernel threads and zombies, whose environ is empty.
func Marked(procDir, key, value string) []int {
	dir, err := os.Open(procDir)
	if err != nil {
		return nil
	}
	names, err := dir.Readdirnames(-1)
	_ = dir.Close()
	if err != nil {
		return nil
	}

	want := []byte(key + "=" + value)
	var out []int
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(procDir, name, "environ"))
		if err != nil || len(data) == 0 {
			continue
		}
		if hasEntry(data, want) {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

// MarkedBy returns, for each value of key, the PIDs whose environment has key with
// that value and also the entry filterKey=filterValue, reading each process's environ
// once. It finds the processes of many services in one pass, where Marked would take
// one pass per service.
func MarkedBy(procDir, key, filterKey, filterValue string) map[string][]int {
	out := map[string][]int{}
	dir, err := os.Open(procDir)
	if err != nil {
		return out
	}
	names, err := dir.Readdirnames(-1)
	_ = dir.Close()
	if err != nil {
		return out
	}
	prefix, filter := []byte(key+"="), []byte(filterKey+"="+filterValue)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(procDir, name, "environ"))
		if err != nil || len(data) == 0 || !hasEntry(data, filter) {
			continue
		}
		for kv := range bytes.SplitSeq(data, []byte{0}) {
			if value, ok := bytes.CutPrefix(kv, prefix); ok {
				out[string(value)] = append(out[string(value)], pid)
				break
			}
		}
	}
	for _, pids := range out {
		slices.Sort(pids)
	}
	return out
}

// hasEntry reports whether the NUL-separated environ contains entry.
func hasEntry(environ, entry []byte) bool {
	for kv := range bytes.SplitSeq(environ, []byte{0}) {
		if bytes.Equal(kv, entry) {
			return true
		}
	}
	return false
}
