package supervisor

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"tend/checks"
	"tend/supervisor/procwatch"
	"tend/supervisor/statefile"
)

// stateVersion is the format of the state file. A file of another version is set
// aside rather than misread.
const stateVersion = 1

// savedState is the content of the state file, kept across restarts of tend.
type savedState struct {
	Version  int                     `json:"version"`
	Services map[string]savedService `json:"services"`
}

// savedService is the state of one service that survives a restart of tend.
type savedService struct {
	// Held is true after an operator's or a rule's stop or unmonitor.
	Held        bool `json:"held,omitempty"`
	Unmonitored bool `json:"unmonitored,omitempty"`
	// PID and StartTicks identify the process of an owned service, so that tend adopts
	// it instead of starting a second one.
	PID           int       `json:"pid,omitempty"`
	StartTicks    uint64    `json:"start_ticks,omitempty"`
	RestartStreak int       `json:"restart_streak,omitempty"`
	History       []Restart `json:"history,omitempty"`
	// Failing holds the checks whose failure was alerted and has not recovered, by
	// check name, so that a restart of tend sends neither a second failure alert nor
	// a reminder ahead of its time, and still sends the recovery.
	Failing map[string]savedFailure `json:"failing,omitempty"`
}

// savedFailure is the alert state of a failing check.
type savedFailure struct {
	Since   time.Time `json:"since"`
	Alerted time.Time `json:"alerted"`
}

func (s *Supervisor) statePath() string {
	return filepath.Join(s.cfg.StateDir, "services.json")
}

// loadState reads the state file. A missing file is a first start; a corrupt one is
// moved aside and logged, and tend starts with no saved state.
func (s *Supervisor) loadState() map[string]savedService {
	if s.cfg.StateDir == "" {
		return nil
	}
	var st savedState
	err := statefile.Read(s.statePath(), &st)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err == nil && st.Version != stateVersion:
		err = errors.New("unknown state file version")
	}
	if err != nil {
		moved, qerr := statefile.Quarantine(s.statePath())
		s.log.Error("state file unreadable; starting without saved state", "err", err,
			"moved_to", moved, "move_err", qerr)
		return nil
	}
	return st.Services
}

// stateWriteGap is the shortest time between two writes of the state file. Starting or
// adopting hundreds of services changes a service at almost every turn of the loop,
// and a write with its fsyncs at each turn made that take seconds. A process started
// within the gap before a crash of tend is still found by its marker.
const stateWriteGap = 200 * time.Millisecond

// saveStateSoon writes the state file when a service's state changed, at once when the
// last write is stateWriteGap old, otherwise when it will be.
func (s *Supervisor) saveStateSoon() {
	if s.saveTimer != nil || !slices.ContainsFunc(s.services, func(svc *service) bool { return svc.changed }) {
		return
	}
	if wait := stateWriteGap - time.Since(s.lastSave); wait > 0 {
		s.saveTimer = s.after(wait, func(context.Context) {
			s.saveTimer = nil
			s.saveState()
		})
		return
	}
	s.saveState()
}

// saveState writes the state file when a service's state changed since the last write.
func (s *Supervisor) saveState() {
	if s.cfg.StateDir == "" {
		return
	}
	changed := false
	for _, svc := range s.services {
		changed = changed || svc.changed
		svc.changed = false
	}
	if !changed {
		return
	}
	s.lastSave = time.Now()
	st := savedState{Version: stateVersion, Services: make(map[string]savedService, len(s.services))}
	for _, svc := range s.services {
		saved := savedService{
			Held: svc.held, Unmonitored: svc.state == StateUnmonitored,
			RestartStreak: svc.restartStreak, History: svc.history,
		}
		if svc.child != nil && !svc.child.exited() {
			saved.PID, saved.StartTicks = svc.child.pid, svc.child.startTicks
		}
		for _, cs := range svc.checks {
			if cs.failing {
				if saved.Failing == nil {
					saved.Failing = map[string]savedFailure{}
				}
				saved.Failing[cs.name] = savedFailure{Since: cs.failingSince, Alerted: cs.alerted}
			}
		}
		st.Services[svc.cfg.Name] = saved
	}
	if err := statefile.Write(s.statePath(), st); err != nil {
		s.log.Error("write state file", "err", err, "path", s.statePath())
	}
}

// restoreState applies the saved state of each service before the first cycle.
func (s *Supervisor) restoreState(saved map[string]savedService) {
	for _, svc := range s.services {
		st, ok := saved[svc.cfg.Name]
		if !ok {
			continue
		}
		svc.held = st.Held
		svc.restartStreak = st.RestartStreak
		svc.history = st.History
		svc.savedPID, svc.savedTicks = st.PID, st.StartTicks
		for _, cs := range svc.checks {
			if f, ok := st.Failing[cs.name]; ok {
				cs.failing, cs.failingSince, cs.alerted = true, f.Since, f.Alerted
			}
		}
		if st.Unmonitored {
			svc.setState(StateUnmonitored, "unmonitored before tend restarted")
		} else if st.Held {
			svc.setState(StateStopped, "stopped before tend restarted")
		}
	}
}

// findOwned returns the process of an owned service that an earlier run of tend
// started, or nil. It prefers the process recorded in the state file, and otherwise
// takes the newest process group leader marked as the service's, which covers a run
// of tend killed between starting the process and recording it. Other marked group
// leaders are extra instances, returned so the caller stops them.
func (s *Supervisor) findOwned(svc *service, snap *checks.Snapshot) (found *checks.Process, extra []int) {
	var leaders []*checks.Process
	marked := s.ownedMarks[svc.cfg.Name]
	if s.ownedMarks == nil {
		marked = markedProcesses(s.opts.ProcDir, s.cfg.StateDir, svc.cfg.Name)
	}
	for _, pid := range marked {
		if pid == os.Getpid() {
			continue
		}
		p, ok := snap.Alive(pid, 0)
		if ok && p.PGID == p.PID {
			leaders = append(leaders, p)
		}
	}
	// A process that rewrote its environment, as redis-server does to show its process
	// title, has lost the mark. The state file's PID and start time still identify it.
	if p, ok := snap.Alive(svc.savedPID, svc.savedTicks); ok && svc.savedPID != 0 && svc.savedTicks != 0 &&
		!slices.ContainsFunc(leaders, func(l *checks.Process) bool { return l.PID == p.PID }) {
		leaders = append(leaders, p)
	}
	// A marked leader below another one is a child that called setsid, such as a
	// daemonized worker, and not an instance of the service.
	marks := make(map[int]bool, len(leaders))
	for _, p := range leaders {
		marks[p.PID] = true
	}
	leaders = slices.DeleteFunc(leaders, func(p *checks.Process) bool { return belowAny(snap, p, marks) })
	if len(leaders) == 0 {
		return nil, nil
	}
	slices.SortFunc(leaders, func(a, b *checks.Process) int {
		if a.StartTicks != b.StartTicks {
			return int(int64(b.StartTicks) - int64(a.StartTicks)) // Newest first.
		}
		return b.PID - a.PID
	})
	found = leaders[0]
	for _, p := range leaders {
		if p.PID == svc.savedPID && p.StartTicks == svc.savedTicks {
			found = p
		}
	}
	for _, p := range leaders {
		if p != found {
			extra = append(extra, p.PID)
		}
	}
	return found, extra
}

// belowAny reports whether one of the processes in pids is an ancestor of p.
func belowAny(snap *checks.Snapshot, p *checks.Process, pids map[int]bool) bool {
	// The walk is bounded, so that a PPID loop in a snapshot read mid-change ends.
	for range 1024 {
		parent, ok := snap.Processes[p.PPID]
		if !ok {
			return false
		}
		if pids[parent.PID] {
			return true
		}
		p = parent
	}
	return false
}

// adoptChild takes over a running process of an owned service that an earlier run of
// tend started. tend is not its parent, so a pidfd reports its exit, and the exit
// status stays unknown. Its output pipe is opened again through /proc, when the
// process still writes to a pipe, so that its output reaches the log again.
func (s *Supervisor) adoptChild(svc *service, p *checks.Process, snap *checks.Snapshot) (*child, error) {
	c := &child{pid: p.PID, startTicks: p.StartTicks, started: snap.StartTime(p), done: make(chan struct{}), adopted: true}
	exits, done := s.exits, s.done
	// The watch goes on after Run's loop ends, because a stop at shutdown waits for
	// c.done as it does for a child's.
	_, err := procwatch.WatchFunc(p.PID, p.StartTicks, func(w *procwatch.Watcher) {
		_ = w.Close()
		close(c.done)
		select {
		case exits <- childExit{svc: svc, child: c}:
		case <-done:
		}
	})
	if err != nil {
		return nil, err
	}
	s.reopenOutput(svc, c)
	return c, nil
}

// reopenOutput reads the output pipe of an adopted process, found through
// /proc/PID/fd/1. Opening that path for reading gives a read end of the same pipe.
func (s *Supervisor) reopenOutput(svc *service, c *child) {
	fd1 := filepath.Join(s.opts.ProcDir, strconv.Itoa(c.pid), "fd", "1")
	target, err := os.Readlink(fd1)
	if err != nil || !strings.HasPrefix(target, "pipe:") {
		return // Not a pipe: the process writes elsewhere, or is gone.
	}
	log := svc.log.With("pid", c.pid)
	var sink io.Writer
	if svc.logFile != nil {
		sink = svc.logFile
	}
	go func() {
		// Opening a pipe for reading blocks until a writer exists, which the process is.
		f, err := os.OpenFile(fd1, os.O_RDONLY, 0)
		if err != nil {
			log.Warn("reopen output pipe of adopted process", "err", err)
			return
		}
		copyOutput(f, log, sink)
	}()
}
