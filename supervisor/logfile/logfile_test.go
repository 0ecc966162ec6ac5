package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// open opens a Writer and closes it when the test ends.
func open(t testing.TB, path string, maxSize int64, keep int) *Writer {
	t.Helper()
	w, err := Open(path, maxSize, keep)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func write(t *testing.T, w *Writer, s string) {
	t.Helper()
	n, err := w.Write([]byte(s))
	if err != nil || n != len(s) {
		t.Fatalf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		maxSize int64
		keep    int
		want    string
	}{
		{"missing directory", filepath.Join(dir, "missing", "app.log"), 100, 1, filepath.Join(dir, "missing", "app.log")},
		{"zero size", filepath.Join(dir, "app.log"), 0, 1, "maximum size must be positive, got 0"},
		{"negative keep", filepath.Join(dir, "app.log"), 100, -1, "must not be negative, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Open(tt.path, tt.maxSize, tt.keep)

			if w != nil {
				t.Errorf("Open returned a Writer with error %v", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%s, %d, %d) = %v, want an error containing %q", tt.path, tt.maxSize, tt.keep, err, tt.want)
			}
		})
	}
}

func TestOpenMissingDirectoryIsNotExist(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing", "app.log"), 100, 1)

	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open in a missing directory = %v, want fs.ErrNotExist", err)
	}
}

func TestOpenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := open(t, path, 100, 1)

	write(t, w, "new\n")

	if got := readFile(t, path); got != "old\nnew\n" {
		t.Errorf("content = %q, want %q", got, "old\nnew\n")
	}
}

func TestOpenCreatesMode0640(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	old := unix.Umask(0) // so the mode is exactly the one Open passes to open(2)
	defer unix.Umask(old)

	open(t, path, 100, 1)

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o640 {
		t.Errorf("mode = %v, want -rw-r-----", perm)
	}
}

func TestRotationSequence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := open(t, path, 10, 3)

	for i := range 6 {
		write(t, w, fmt.Sprintf("line %d..\n", i)) // 10 bytes: each write fills a file
	}

	want := map[string]string{
		"app.log":   "line 5..\n",
		"app.log.1": "line 4..\n",
		"app.log.2": "line 3..\n",
		"app.log.3": "line 2..\n",
	}
	names := listDir(t, dir)
	if len(names) != len(want) {
		t.Errorf("files = %q, want %d files", names, len(want))
	}
	for name, content := range want {
		if got := readFile(t, filepath.Join(dir, name)); got != content {
			t.Errorf("%s = %q, want %q", name, got, content)
		}
	}
}

func TestRotationFillsBeforeRotating(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := open(t, path, 10, 2)

	write(t, w, "abcd\n")
	write(t, w, "efgh\n") // exactly maxSize: no rotation yet
	write(t, w, "ij\n")

	if got := readFile(t, path+".1"); got != "abcd\nefgh\n" {
		t.Errorf("app.log.1 = %q, want both first writes", got)
	}
	if got := readFile(t, path); got != "ij\n" {
		t.Errorf("app.log = %q, want %q", got, "ij\n")
	}
}

func TestRotationKeepZero(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := open(t, path, 10, 0)

	write(t, w, "first...\n")
	write(t, w, "second..\n")

	if got := readFile(t, path); got != "second..\n" {
		t.Errorf("app.log = %q, want only the second write", got)
	}
	if names := listDir(t, dir); !slices.Equal(names, []string{"app.log"}) {
		t.Errorf("files = %q, want only app.log", names)
	}
}

func TestWriteLargerThanMaxSize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := open(t, path, 10, 2)
	big := strings.Repeat("x", 35) + "\n"

	write(t, w, big) // an empty file takes it whole, without a rotation
	if names := listDir(t, dir); !slices.Equal(names, []string{"app.log"}) {
		t.Errorf("files after the first large write = %q, want only app.log", names)
	}
	write(t, w, "small\n")
	write(t, w, big)

	if got := readFile(t, path); got != big {
		t.Errorf("app.log = %q, want the whole large write", got)
	}
	if got := readFile(t, path+".1"); got != "small\n" {
		t.Errorf("app.log.1 = %q, want %q", got, "small\n")
	}
	if got := readFile(t, path+".2"); got != big {
		t.Errorf("app.log.2 = %q, want the first large write", got)
	}
}

// TestTotalSizeBound protects the disk: after writing 100 × maxSize, the files take at most
// (keep+1) × maxSize, and they contain exactly the newest bytes written, in order.
func TestTotalSizeBound(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	const maxSize, keep = 1000, 3
	w := open(t, path, maxSize, keep)

	var all bytes.Buffer
	for i := 0; all.Len() < 100*maxSize; i++ {
		line := fmt.Sprintf("%06d %s\n", i, strings.Repeat("y", 29)) // 37 bytes, not a divisor of maxSize
		all.WriteString(line)
		write(t, w, line)
	}

	names := listDir(t, dir)
	if len(names) != keep+1 {
		t.Errorf("files = %q, want %d", names, keep+1)
	}
	var total int
	var joined strings.Builder
	for i := keep; i >= 0; i-- {
		name := path
		if i > 0 {
			name = fmt.Sprintf("%s.%d", path, i)
		}
		content := readFile(t, name)
		if len(content) > maxSize {
			t.Errorf("%s has %d bytes, want at most %d", filepath.Base(name), len(content), maxSize)
		}
		total += len(content)
		joined.WriteString(content)
	}
	if total > (keep+1)*maxSize {
		t.Errorf("total size = %d, want at most %d", total, (keep+1)*maxSize)
	}
	if !strings.HasSuffix(all.String(), joined.String()) {
		t.Errorf("the %d files, oldest first, are not the last %d bytes written", keep+1, total)
	}
	if total < keep*maxSize {
		t.Errorf("total size = %d, want at least %d: rotated files should be nearly full", total, keep*maxSize)
	}
}

// TestConcurrentWriters checks under -race that writes from several goroutines each land
// whole and exactly once, across rotations.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	const writers, lines = 8, 500
	w := open(t, path, 4096, 1000) // keep enough files to hold every line

	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				line := fmt.Sprintf("writer %d line %04d\n", g, i)
				if n, err := w.Write([]byte(line)); err != nil || n != len(line) {
					t.Errorf("Write(%q) = %d, %v", line, n, err)
				}
			}
		})
	}
	wg.Wait()

	seen := make(map[string]int)
	for _, name := range listDir(t, dir) {
		content := readFile(t, filepath.Join(dir, name))
		if len(content) > 4096 {
			t.Errorf("%s has %d bytes, want at most 4096", name, len(content))
		}
		for line := range strings.Lines(content) {
			seen[line]++
		}
	}
	if len(seen) != writers*lines {
		t.Errorf("found %d distinct lines, want %d", len(seen), writers*lines)
	}
	for line, count := range seen {
		if count != 1 || !strings.HasPrefix(line, "writer ") || !strings.HasSuffix(line, "\n") {
			t.Errorf("line %q found %d times, want once and whole", line, count)
		}
	}
}

func TestReopenAfterMove(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	moved := filepath.Join(dir, "app.log-20250101")
	w := open(t, path, 1000, 1)
	write(t, w, "before\n")
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	write(t, w, "between\n") // still the moved file until Reopen

	if err := w.Reopen(); err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	write(t, w, "after\n")

	if got := readFile(t, moved); got != "before\nbetween\n" {
		t.Errorf("moved file = %q, want the writes before Reopen", got)
	}
	if got := readFile(t, path); got != "after\n" {
		t.Errorf("app.log = %q, want %q", got, "after\n")
	}
}

func TestRotationAfterExternalTruncate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := open(t, path, 20, 1)
	write(t, w, "0123456789abcdef\n")
	if err := os.Truncate(path, 0); err != nil { // what logrotate's copytruncate does
		t.Fatal(err)
	}

	write(t, w, "after truncate\n")

	if _, err := os.Stat(path + ".1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(app.log.1) = %v, want no rotation of a truncated file", err)
	}
	if got := readFile(t, path); got != "after truncate\n" {
		t.Errorf("app.log = %q, want %q", got, "after truncate\n")
	}
}

// TestRotationFailureKeepsBytes protects the rule that a failed rotation loses no output:
// the write goes to the current file and the error is returned.
func TestRotationFailureKeepsBytes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	w := open(t, path, 10, 1)
	write(t, w, "first....\n")
	blocker := filepath.Join(path+".1", "x") // a non-empty directory cannot be removed by os.Remove
	if err := os.MkdirAll(blocker, 0o700); err != nil {
		t.Fatal(err)
	}

	n, err := w.Write([]byte("second...\n"))

	if n != 10 || err == nil || !strings.Contains(err.Error(), "rotate log file "+path) {
		t.Errorf("Write during a failing rotation = %d, %v; want 10 and a rotate error naming %s", n, err, path)
	}
	if got := readFile(t, path); got != "first....\nsecond...\n" {
		t.Errorf("app.log = %q, want both writes", got)
	}

	if err := os.RemoveAll(path + ".1"); err != nil {
		t.Fatal(err)
	}
	write(t, w, "third....\n")
	if got := readFile(t, path+".1"); got != "first....\nsecond...\n" {
		t.Errorf("app.log.1 after the retried rotation = %q, want both earlier writes", got)
	}
	if got := readFile(t, path); got != "third....\n" {
		t.Errorf("app.log after the retried rotation = %q, want %q", got, "third....\n")
	}
}

func TestWriteErrorReturned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "full.log")
	if err := os.Symlink("/dev/full", path); err != nil { // every write to /dev/full fails with ENOSPC
		t.Fatal(err)
	}
	w := open(t, path, 100, 1)

	n, err := w.Write([]byte("lost\n"))

	if n != 0 || err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("Write to a full device = %d, %v; want 0 and ENOSPC", n, err)
	}
}

func TestClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	w, err := Open(path, 100, 1)
	if err != nil {
		t.Fatal(err)
	}

	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	if n, err := w.Write([]byte("x")); n != 0 || !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %d, %v; want 0, os.ErrClosed", n, err)
	}
	if err := w.Reopen(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Reopen after Close = %v, want os.ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func BenchmarkWrite(b *testing.B) {
	line := []byte(strings.Repeat("x", 99) + "\n")
	w := open(b, filepath.Join(b.TempDir(), "app.log"), 16<<20, 1)
	b.SetBytes(int64(len(line)))

	for b.Loop() {
		if _, err := w.Write(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteParallel(b *testing.B) {
	line := []byte(strings.Repeat("x", 99) + "\n")
	w := open(b, filepath.Join(b.TempDir(), "app.log"), 16<<20, 1)
	b.SetBytes(int64(len(line)))

	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.Write(line); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
