package supervisor

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// historySize is how many restarts the history of a service keeps.
const historySize = 20

// Exit describes how a process of a service ended.
type Exit struct {
	PID int `json:"pid"`
	// Status is "exit status 1", "killed by signal 9 (killed)", or "exit status unknown" for a
	// process that was not tend's child, whose exit status the kernel gives only to its
	// parent.
	Status string `json:"status"`
	// Code is the exit code, or -1 when the process was killed by a signal or the
	// status is unknown.
	Code int `json:"code"`
	// Signal is the number of the signal that killed the process, 0 when none did.
	Signal int `json:"signal,omitempty"`
	// OOM is true when the process was killed by SIGKILL while the kernel's OOM killer
	// ended a process (the oom_kill counter of /proc/vmstat grew during its life). The
	// counter covers the whole machine, so on a host where the OOM killer ends other
	// processes at the same time this is an inference, not a certainty.
	OOM    bool          `json:"oom,omitempty"`
	Uptime time.Duration `json:"uptime"`
}

// Restart is one entry of a service's restart history.
type Restart struct {
	Time time.Time `json:"time"`
	// Trigger is the cause of the restart: "crash", "check tcp 127.0.0.1:6379: …",
	// "restart requested by …", "dependency redis restarted", "watchdog".
	Trigger string `json:"trigger"`
	// Exit is the exit of the previous process, when tend noticed it.
	Exit *Exit `json:"exit,omitempty"`
}

// addRestart appends a restart to the history of svc, dropping the oldest entry past
// historySize. It takes the exit noticed last, so each exit is recorded once.
func (svc *service) addRestart(trigger string, now time.Time) {
	r := Restart{Time: now, Trigger: trigger, Exit: svc.lastExit}
	svc.lastExit = nil
	svc.history = append(svc.history, r)
	if len(svc.history) > historySize {
		svc.history = append(svc.history[:0:0], svc.history[len(svc.history)-historySize:]...)
	}
}

// readOOMKills returns the count of processes the kernel's OOM killer ended since boot,
// the oom_kill line of /proc/vmstat (Linux 4.13 and later), or -1 when it is unknown.
func readOOMKills(procDir string) int64 {
	data, err := os.ReadFile(filepath.Join(procDir, "vmstat"))
	if err != nil {
		return -1
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, value, ok := bytes.Cut(sc.Bytes(), []byte{' '})
		if ok && string(name) == "oom_kill" {
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
