package checks

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTestFile(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

// probeFile runs p and fails the test unless the result's OK is wantOK and its reason
// contains every string of want.
func probeFile(t *testing.T, step string, p *FileProbe, wantOK bool, want ...string) Result {
	t.Helper()
	r := p.Probe(context.Background())
	if r.OK != wantOK {
		t.Errorf("%s: Probe OK = %v, want %v (reason %q)", step, r.OK, wantOK, r.Reason)
	}
	for _, w := range want {
		if !strings.Contains(r.Reason, w) {
			t.Errorf("%s: Probe reason = %q, want it to contain %q", step, r.Reason, w)
		}
	}
	if wantOK && r.Reason != "" {
		t.Errorf("%s: Probe passed with reason %q, want none", step, r.Reason)
	}
	return r
}

func TestFileProbeAttributes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	writeTestFile(t, path, "0123456789")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	uid, gid := os.Getuid(), os.Getgid()

	tests := []struct {
		name   string
		set    func(p *FileProbe)
		wantOK bool
		want   string
	}{
		{"exists", func(*FileProbe) {}, true, ""},
		{"missing", func(p *FileProbe) { p.Path += ".none" }, false, path + ".none not found"},
		{"young enough", func(p *FileProbe) { p.MaxAge = 2 * time.Hour }, true, ""},
		{"too old", func(p *FileProbe) { p.MaxAge = time.Minute }, false,
			path + " was last modified 1h0m"},
		{"size within", func(p *FileProbe) { p.Above, p.Below = 10, 10 }, true, ""},
		{"size above", func(p *FileProbe) { p.Above = 9 }, false, path + " is 10 bytes, above 9"},
		{"size below", func(p *FileProbe) { p.Below = 11 }, false, path + " is 10 bytes, below 11"},
		{"owner and group", func(p *FileProbe) { p.Owner, p.Group = uid, gid }, true, ""},
		{"wrong owner", func(p *FileProbe) { p.Owner = uid + 1 }, false,
			fmt.Sprintf("%s is owned by user %d, want %d", path, uid, uid+1)},
		{"wrong group", func(p *FileProbe) { p.Group = gid + 1 }, false,
			fmt.Sprintf("%s belongs to group %d, want %d", path, gid, gid+1)},
		{"mode", func(p *FileProbe) { p.Mode, p.HasMode = 0o640, true }, true, ""},
		{"wrong mode", func(p *FileProbe) { p.Mode, p.HasMode = 0o600, true }, false,
			path + " has mode 0640, want 0600"},
		{"mode unchecked", func(p *FileProbe) { p.Mode = 0o600 }, true, ""},
		{"setuid expected", func(p *FileProbe) { p.Mode, p.HasMode = 0o640|fs.ModeSetuid, true }, false,
			path + " has mode 0640, want 4640"},
		{"two failures", func(p *FileProbe) { p.Above, p.MaxAge = 1, time.Minute }, false,
			"max age 1m0s; " + path + " is 10 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
			p := NewFileProbe(path)
			tt.set(p)
			probeFile(t, tt.name, p, tt.wantOK, tt.want)
		})
	}
}

func TestFileProbeSetuidMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tool")
	writeTestFile(t, path, "")
	if err := os.Chmod(path, 0o755|fs.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	p := NewFileProbe(path)
	p.Mode, p.HasMode = 0o755|fs.ModeSetuid, true
	probeFile(t, "setuid file", p, true)
	p.Mode = 0o755
	probeFile(t, "setuid file, plain mode expected", p, false, "has mode 4755, want 0755")
}

func TestFileProbeChecksum(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeTestFile(t, path, "listen 80\n")
	p := NewFileProbe(path)
	p.Checksum = true

	probeFile(t, "first run records", p, true)
	probeFile(t, "unchanged", p, true)
	writeTestFile(t, path, "listen 8080\n")
	probeFile(t, "changed", p, false, path+" changed: SHA-256 ")
	probeFile(t, "after the change", p, true)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	probeFile(t, "removed", p, false, "not found")
	writeTestFile(t, path, "listen 8080\n")
	probeFile(t, "restored with the same content", p, true)
}

func TestFileProbePattern(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	writeTestFile(t, path, "ERROR before the first run\n")
	p := NewFileProbe(path)
	p.Pattern = regexp.MustCompile("ERROR")

	probeFile(t, "first run starts at the end", p, true)
	appendTestFile(t, path, "ok\nERROR one\nfine\nERROR two\npartial ERROR")
	probeFile(t, "two new matches", p, false,
		`2 new lines match "ERROR" in `+path+`, first: "ERROR one"`)
	probeFile(t, "nothing new", p, true)
	appendTestFile(t, path, " completed\r\n")
	probeFile(t, "completed line", p, false, `1 new line matches "ERROR" in `+path+`, first: "partial ERROR completed"`)

	// Rotation: the file is renamed and a new one, shorter than the offset read so
	// far but with another inode, takes its place.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, path, "ERROR after rotation\n")
	probeFile(t, "rotated", p, false, `first: "ERROR after rotation"`)

	// Rotation by copy and truncate keeps the inode but shrinks the file.
	appendTestFile(t, path, strings.Repeat("filler\n", 10))
	probeFile(t, "filler", p, true)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendTestFile(t, path, "ERROR after truncation\n")
	probeFile(t, "truncated", p, false, `first: "ERROR after truncation"`)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	probeFile(t, "removed", p, false, "not found")
	writeTestFile(t, path, "ERROR in a new file\n")
	probeFile(t, "recreated", p, false, `first: "ERROR in a new file"`)
}

func TestFileProbePatternReadLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.log")
	writeTestFile(t, path, "")
	p := NewFileProbe(path)
	p.Pattern = regexp.MustCompile("^ERROR")
	probeFile(t, "first run", p, true)

	// 20000 lines of 100 bytes: more than the 1 MiB read per run.
	const lines, width = 20000, 100
	line := "ERROR " + strings.Repeat("x", width-len("ERROR ")-1) + "\n"
	appendTestFile(t, path, strings.Repeat(line, lines))

	first := (1 << 20) / width
	probeFile(t, "first 1 MiB", p, false, fmt.Sprintf("%d new lines match", first))
	probeFile(t, "rest", p, false, fmt.Sprintf("%d new lines match", lines-first))
	probeFile(t, "caught up", p, true)
}

func TestFileProbePatternLongLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.log")
	writeTestFile(t, path, "")
	p := NewFileProbe(path)
	p.Pattern = regexp.MustCompile("E+")
	probeFile(t, "first run", p, true)

	appendTestFile(t, path, strings.Repeat("E", 500)+"\n")
	r := probeFile(t, "long line", p, false)
	if want := `first: "` + strings.Repeat("E", 200) + `"`; !strings.HasSuffix(r.Reason, want) {
		t.Errorf("Probe reason = %q, want the match cut to 200 bytes", r.Reason)
	}

	// A line without a newline longer than the read limit is taken in pieces.
	appendTestFile(t, path, strings.Repeat("y", 1<<20)+"E")
	probeFile(t, "1 MiB without newline", p, true)
	appendTestFile(t, path, "\n")
	probeFile(t, "rest of the long line", p, false, `first: "E"`)
}

func TestFileProbeCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	writeTestFile(t, path, "x")
	p := NewFileProbe(path)
	p.Checksum = true
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := p.Probe(ctx)
	if r.OK || !strings.Contains(r.Reason, "timed out") {
		t.Errorf("Probe with a canceled context = %+v, want a failure that says it timed out", r)
	}
	if got, want := p.String(), "file "+path; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
