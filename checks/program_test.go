package checks

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tend/internal/testenv"
)

func TestProgramProbe(t *testing.T) {
	sh := testenv.LookPath(t, "sh", "apt-get install dash")
	dir := t.TempDir()

	tests := []struct {
		name       string
		probe      ProgramProbe
		wantOK     bool
		wantReason string
	}{
		{"pass", ProgramProbe{Argv: []string{sh, "-c", "echo fine"}}, true, ""},
		{"expected non-zero status", ProgramProbe{Argv: []string{sh, "-c", "exit 3"}, Status: 3}, true, ""},
		{"wrong status", ProgramProbe{Argv: []string{sh, "-c", "echo checking; echo queue depth 5012 >&2; exit 2"}},
			false, sh + " exited with status 2, want 0: queue depth 5012"},
		{"wrong status without output", ProgramProbe{Argv: []string{sh, "-c", "exit 1"}},
			false, sh + " exited with status 1, want 0"},
		{"output matches", ProgramProbe{Argv: []string{sh, "-c", "echo status: OK; echo done"},
			Output: regexp.MustCompile(`(?m)^status: OK$`)}, true, ""},
		{"output mismatch", ProgramProbe{Argv: []string{sh, "-c", "echo status: DEGRADED"},
			Output: regexp.MustCompile(`status: OK`)},
			false, `output of ` + sh + ` does not match "status: OK": status: DEGRADED`},
		{"dir and env", ProgramProbe{Argv: []string{sh, "-c", `echo "$TEND_PROBE_VALUE in $(pwd)"`},
			Dir: dir, Env: []string{"TEND_PROBE_VALUE=seven"},
			Output: regexp.MustCompile("^seven in " + regexp.QuoteMeta(dir) + "\n$")}, true, ""},
		{"killed by signal", ProgramProbe{Argv: []string{sh, "-c", "kill -KILL $$"}},
			false, sh + " was killed by signal SIGKILL"},
		{"missing program", ProgramProbe{Argv: []string{filepath.Join(dir, "none")}},
			false, "start " + filepath.Join(dir, "none") + ": "},
		{"no command", ProgramProbe{}, false, "program probe has no command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.probe.Probe(testenv.Context(t, 30*time.Second))
			if r.OK != tt.wantOK {
				t.Errorf("Probe: OK = %v, want %v (reason %q)", r.OK, tt.wantOK, r.Reason)
			}
			if !strings.HasPrefix(r.Reason, tt.wantReason) || (tt.wantReason == "") != (r.Reason == "") {
				t.Errorf("Probe: Reason = %q, want %q", r.Reason, tt.wantReason)
			}
		})
	}
}

// Env replaces tend's environment rather than adding to it, so a program check gets
// none of the daemon's variables.
func TestProgramProbeEnvReplaces(t *testing.T) {
	sh := testenv.LookPath(t, "sh", "apt-get install dash")
	t.Setenv("TEND_PROBE_LEAK", "leaked")
	p := ProgramProbe{Argv: []string{sh, "-c", `echo "[$TEND_PROBE_LEAK][$ONLY]"`}, Env: []string{"ONLY=set"},
		Output: regexp.MustCompile(`^\[\]\[set\]\n$`)}
	if r := p.Probe(testenv.Context(t, 30*time.Second)); !r.OK {
		t.Errorf("Probe: %s", r.Reason)
	}
}

func TestProgramProbeLongOutput(t *testing.T) {
	sh := testenv.LookPath(t, "sh", "apt-get install dash")
	// 100000 bytes on one line, then the last line past the 64 KiB that are kept.
	script := `i=0; while [ $i -lt 1000 ]; do printf '%0100d' 0; i=$((i+1)); done; echo; echo last words; exit 4`
	p := ProgramProbe{Argv: []string{sh, "-c", script}, Output: regexp.MustCompile("last words")}

	r := p.Probe(testenv.Context(t, 30*time.Second))
	want := sh + " exited with status 4, want 0: last words"
	if r.OK || r.Reason != want {
		t.Errorf("Probe = %+v, want reason %q", r, want)
	}

	p.Status = 4
	r = p.Probe(testenv.Context(t, 30*time.Second))
	if r.OK || !strings.Contains(r.Reason, "does not match") {
		t.Errorf("Probe = %+v, want an output mismatch: only the first 64 KiB are matched", r)
	}
}

// TestProgramProbeTimeoutKillsGroup checks that a program that outlives its deadline
// is killed with its whole process group, including a child that ignores SIGTERM.
func TestProgramProbeTimeoutKillsGroup(t *testing.T) {
	sh := testenv.LookPath(t, "sh", "apt-get install dash")
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	script := `trap '' TERM; sleep 600 & echo $! > "$1"; echo started; wait`
	p := ProgramProbe{Argv: []string{sh, "-c", script, "sh", pidfile}}

	// The deadline must leave the shell time to start its child and write its PID.
	ctx, cancel := context.WithTimeout(testenv.Context(t, 30*time.Second), time.Second)
	defer cancel()
	r := p.Probe(ctx)

	if r.OK || !strings.Contains(r.Reason, "timed out after") || !strings.HasSuffix(r.Reason, ": started") {
		t.Errorf("Probe = %+v, want a timeout that quotes the output line \"started\"", r)
	}
	assertGone(t, pidfile)
}

// TestProgramProbeKillsLeftovers checks that a background process that a passing
// program leaves behind is killed and does not hold the probe up.
func TestProgramProbeKillsLeftovers(t *testing.T) {
	sh := testenv.LookPath(t, "sh", "apt-get install dash")
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	p := ProgramProbe{Argv: []string{sh, "-c", `sleep 600 & echo $! > "$1"`, "sh", pidfile}}

	r := p.Probe(testenv.Context(t, 30*time.Second))
	if !r.OK {
		t.Errorf("Probe = %+v, want OK", r)
	}
	assertGone(t, pidfile)
}

// assertGone fails the test unless the process whose PID is in pidfile exits soon.
func assertGone(t *testing.T, pidfile string) {
	t.Helper()
	data, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("read child PID: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("child PID %q: %v", data, err)
	}
	// SIGKILL is delivered at once, but the orphan is reaped by PID 1 in its own time,
	// and a zombie counts as gone.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok := testenv.WaitFor(ctx, func() bool {
		s, err := ReadSnapshot("/proc")
		if err != nil {
			return false
		}
		_, alive := s.Alive(pid, 0)
		return !alive
	})
	if !ok {
		t.Errorf("child %d is still running after the probe returned", pid)
	}
}
