package checks

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pidfileSlack is how much later than its pidfile's last modification a process may
// have started and still be taken for the process the pidfile names. Clock ticks and
// file system timestamps have different resolutions, so a daemon that writes its
// pidfile at once can seem to start a few milliseconds after writing it.
const pidfileSlack = time.Second

// Identity is the result of a process lookup.
type Identity struct {
	// Process is nil when no live process was found, and then Reason explains why.
	Process *Process
	// Reason explains a failed lookup. When Process is set, Reason is empty, except
	// after FindByMatch found several processes, when it names the one it picked.
	Reason string
	// Stale is true when the pidfile names a live process that cannot be the service:
	// one that started after the pidfile was written. That process must never be
	// signalled.
	Stale bool
}

// FindByPidfile identifies the process that the pidfile at path names. The first line
// of the file holds the PID, as written by redis-server, PostgreSQL (postmaster.pid) and
// start-stop-daemon. A PID whose process started after the pidfile was last written is
// a reused PID, not the service.
//
// PID 1, kernel threads and the process exclude, which tend passes its own PID as, are
// never the service: such a pidfile is Stale, so that nothing signals them.
func FindByPidfile(s *Snapshot, path string, exclude int) Identity {
	pid, mtime, err := ReadPidfile(path)
	if err != nil {
		return Identity{Reason: err.Error()}
	}
	p, ok := s.Processes[pid]
	if !ok {
		return Identity{Reason: fmt.Sprintf("PID %d from pidfile %s is not running", pid, path)}
	}
	switch {
	case pid == exclude:
		return Identity{Stale: true, Reason: fmt.Sprintf(
			"pidfile %s names PID %d, which is tend itself", path, pid)}
	case pid == 1:
		return Identity{Stale: true, Reason: fmt.Sprintf(
			"pidfile %s names PID 1, the init process", path)}
	case p.KernelThread():
		return Identity{Stale: true, Reason: fmt.Sprintf(
			"pidfile %s names PID %d, a kernel thread", path, pid)}
	}
	if p.Zombie() {
		return Identity{Reason: fmt.Sprintf("PID %d from pidfile %s has exited (zombie)", pid, path)}
	}
	if started := s.StartTime(p); started.After(mtime.Add(pidfileSlack)) {
		return Identity{Stale: true, Reason: fmt.Sprintf(
			"pidfile %s names PID %d, which started after the pidfile was written (%s > %s)",
			path, pid, started.Format(time.RFC3339), mtime.Format(time.RFC3339))}
	}
	return Identity{Process: p}
}

// FindByMatch identifies a process by its command line: the one whose Process.Cmdline
// re matches. s must be read with SnapshotOptions.Cmdline, or nothing matches and
// Reason states that. Zombies, kernel threads and the process exclude are skipped, so
// tend passes its own PID and never takes itself for the service. /proc lists no
// threads, so a thread of exclude is never a candidate either. Of several matches, the
// process that started first wins, or the one that started last when newest is true.
// Processes that started in the same clock tick are ordered by PID: the lowest wins
// for the oldest, the highest for the newest. Reason then gives how many matched and
// which PID was picked.
func FindByMatch(s *Snapshot, re *regexp.Regexp, newest bool, exclude int) Identity {
	if !s.Options.Cmdline {
		return Identity{Reason: fmt.Sprintf(
			"cannot match %q: the process table was read without command lines", re)}
	}
	var best *Process
	count := 0
	for _, p := range s.Processes {
		if p.PID == exclude || p.Zombie() || p.KernelThread() || !re.MatchString(p.Cmdline) {
			continue
		}
		count++
		if best == nil || startedBefore(p, best) != newest {
			best = p
		}
	}

	switch count {
	case 0:
		return Identity{Reason: fmt.Sprintf("no process matches %q", re)}
	case 1:
		return Identity{Process: best}
	}
	which := "the oldest"
	if newest {
		which = "the newest"
	}
	return Identity{Process: best, Reason: fmt.Sprintf(
		"%d processes match %q; picked PID %d, %s", count, re, best.PID, which)}
}

// startedBefore orders processes by start time, then by PID.
func startedBefore(a, b *Process) bool {
	if a.StartTicks != b.StartTicks {
		return a.StartTicks < b.StartTicks
	}
	return a.PID < b.PID
}

// ReadPidfile returns the PID in the first line of the pidfile at path and the time the
// file was last modified.
func ReadPidfile(path string) (int, time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, time.Time{}, fmt.Errorf("pidfile %s not found", path)
		}
		return 0, time.Time{}, fmt.Errorf("read pidfile: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read pidfile: %w", err)
	}
	buf := make([]byte, 64)
	n, _ := f.Read(buf)
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, time.Time{}, fmt.Errorf("pidfile %s does not contain a PID: %q", path, line)
	}
	return pid, fi.ModTime(), nil
}
