package api

import (
	"cmp"
	"net/http"
	"os"
	"regexp"
	"slices"
	"time"

	"tend/checks"
)

// maxProcMatches bounds how many matching processes a procmatch reply lists; Count
// still counts them all.
const maxProcMatches = 100

// ProcMatchView lists the processes that a match rule with Pattern would consider,
// oldest first, and the one it picks.
type ProcMatchView struct {
	Pattern string `json:"pattern"`
	// Pick is "oldest" or "newest", as match_pick sets it.
	Pick string `json:"pick"`
	// Count counts every matching process; Processes lists the first maxProcMatches.
	Count     int            `json:"count"`
	Processes []ProcessMatch `json:"processes"`
	// Winner is the PID that the rule picks, 0 when nothing matches.
	Winner int `json:"winner"`
	// Reason explains the pick, or why nothing matched.
	Reason string `json:"reason,omitempty"`
}

// ProcessMatch is one process whose command line matches.
type ProcessMatch struct {
	PID     int       `json:"pid"`
	PPID    int       `json:"ppid"`
	Started time.Time `json:"started"`
	Cmdline string    `json:"cmdline"`
	Winner  bool      `json:"winner"`
}

// procMatch reads the process table as a cycle does and applies the pattern the way a
// service's match key does: the daemon's own process, zombies and kernel threads are
// skipped. The caller's process is skipped too, because its command line contains
// the pattern.
func (h *handler) procMatch(w http.ResponseWriter, r *http.Request) error {
	pattern := r.URL.Query().Get("pattern")
	if pattern == "" {
		return errorf(http.StatusBadRequest, "missing pattern: want a regular expression over the command line, such as pattern=redis-server")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid pattern: %v", err)
	}
	pick := r.URL.Query().Get("pick")
	switch pick {
	case "":
		pick = "oldest"
	case "oldest", "newest":
	default:
		return errorf(http.StatusBadRequest, "invalid pick %q: want \"oldest\" or \"newest\"", pick)
	}

	snap, err := checks.ReadSnapshotWith(h.procDir, checks.SnapshotOptions{Cmdline: true})
	if err != nil {
		return err
	}
	// FindByMatch skips one PID, the daemon's own; the caller's process goes too.
	delete(snap.Processes, CallerFrom(r.Context()).PID)
	writeJSON(w, http.StatusOK, matchProcesses(snap, re, pick))
	return nil
}

func matchProcesses(snap *checks.Snapshot, re *regexp.Regexp, pick string) ProcMatchView {
	self := os.Getpid()
	id := checks.FindByMatch(snap, re, pick == "newest", self)
	v := ProcMatchView{Pattern: re.String(), Pick: pick, Processes: []ProcessMatch{}, Reason: id.Reason}
	if id.Process != nil {
		v.Winner = id.Process.PID
	}

	var found []*checks.Process
	for _, p := range snap.Processes {
		if p.PID != self && !p.Zombie() && !p.KernelThread() && re.MatchString(p.Cmdline) {
			found = append(found, p)
		}
	}
	slices.SortFunc(found, func(a, b *checks.Process) int {
		return cmp.Or(cmp.Compare(a.StartTicks, b.StartTicks), cmp.Compare(a.PID, b.PID))
	})
	v.Count = len(found)
	listed := found[:min(len(found), maxProcMatches)]
	if id.Process != nil && !slices.Contains(listed, id.Process) {
		listed = append(listed, id.Process) // The newest of many matches is past the bound.
	}
	for _, p := range listed {
		v.Processes = append(v.Processes, ProcessMatch{
			PID: p.PID, PPID: p.PPID, Started: snap.StartTime(p), Cmdline: p.Cmdline,
			Winner: p.PID == v.Winner,
		})
	}
	return v
}
