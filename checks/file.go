package checks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"
)

const (
	// fileReadMax is how much of a log file FileProbe reads per run for Pattern. A
	// file that grows faster is caught up over the following runs.
	fileReadMax = 1 << 20
	// fileQuoteMax is how much of a matching line a reason quotes.
	fileQuoteMax = 200
	// fileModeBits are the bits of os.FileMode that Mode compares.
	fileModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
)

// FileProbe checks a file: that it exists, its age, size, owner, group and mode,
// whether its content changed, and whether new lines match a pattern. Create it with
// NewFileProbe, which leaves every test off, and set the fields of the tests to run.
//
// A FileProbe keeps state between runs (the checksum and the read offset of the
// file), so it is used through a pointer, and one goroutine at a time may call Probe.
type FileProbe struct {
	Path string
	// MaxAge, when above 0, fails the probe when the file was last modified longer
	// ago than MaxAge.
	MaxAge time.Duration
	// Above and Below are size limits in bytes: the probe fails when the size is
	// above Above or below Below. -1 leaves a limit off.
	Above, Below int64
	// Owner and Group are the user and group ID the file must have, or -1.
	Owner, Group int
	// Mode holds the permission bits (with setuid, setgid and sticky) the file must
	// have when HasMode is true.
	Mode    os.FileMode
	HasMode bool
	// Checksum fails the probe once each time the SHA-256 of the content differs
	// from the previous run. The first run records the checksum and passes.
	Checksum bool
	// Pattern fails the probe when a line appended since the previous run matches.
	// The first run starts at the end of the file, and later runs read only new
	// complete lines, up to 1 MiB per run. When the file is replaced (another
	// inode) or truncated (smaller than the offset read so far), reading restarts
	// at its beginning.
	//
	// NOTE: lines written to the old file after the previous run and before its
	// rotation are never read. A file truncated and refilled past the old offset
	// between two runs looks like a file that grew, so its first bytes are skipped.
	Pattern *regexp.Regexp

	sum     []byte // SHA-256 from the previous run, nil before the first
	started bool   // whether Pattern has a starting offset
	offset  int64  // bytes of the file that Pattern has read
	inode   uint64 // inode that offset belongs to
}

// NewFileProbe returns a probe of the file at path with every test off: it only
// checks that the file exists.
func NewFileProbe(path string) *FileProbe {
	return &FileProbe{Path: path, Above: -1, Below: -1, Owner: -1, Group: -1}
}

// String names the probe, such as "file /var/log/app.log".
func (p *FileProbe) String() string { return "file " + p.Path }

// Probe runs every test that is set and fails with the reasons of all that failed,
// joined by "; ". A file that does not exist fails at once. Probe checks ctx between
// the tests, but a file system that blocks in a system call, such as a hung NFS
// mount, delays its return.
func (p *FileProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	var reasons []string
	fail := func(format string, args ...any) {
		reasons = append(reasons, fmt.Sprintf(format, args...))
	}

	fi, err := os.Stat(p.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fail("%s not found", p.Path)
	case err != nil:
		fail("stat %s: %v", p.Path, err)
	default:
		p.checkAttributes(fi, fail)
		for _, test := range []func() string{p.checkChecksum, p.checkPattern} {
			if ctx.Err() != nil {
				fail("check of %s timed out", p.Path)
				break
			}
			if reason := test(); reason != "" {
				reasons = append(reasons, reason)
			}
		}
	}
	reason := strings.Join(reasons, "; ")
	return Result{OK: reason == "", Reason: reason, Duration: time.Since(start)}
}

// checkAttributes runs the tests that need only the file's metadata.
func (p *FileProbe) checkAttributes(fi fs.FileInfo, fail func(string, ...any)) {
	if age := time.Since(fi.ModTime()); p.MaxAge > 0 && age > p.MaxAge {
		fail("%s was last modified %s ago, max age %s", p.Path, age.Round(time.Second), p.MaxAge)
	}
	if size := fi.Size(); p.Above >= 0 && size > p.Above {
		fail("%s is %d bytes, above %d", p.Path, size, p.Above)
	}
	if size := fi.Size(); p.Below >= 0 && size < p.Below {
		fail("%s is %d bytes, below %d", p.Path, size, p.Below)
	}

	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && p.Owner >= 0 && int(st.Uid) != p.Owner {
		fail("%s is owned by user %d, want %d", p.Path, st.Uid, p.Owner)
	}
	if ok && p.Group >= 0 && int(st.Gid) != p.Group {
		fail("%s belongs to group %d, want %d", p.Path, st.Gid, p.Group)
	}
	if got, want := fi.Mode()&fileModeBits, p.Mode&fileModeBits; p.HasMode && got != want {
		fail("%s has mode %04o, want %04o", p.Path, fileModeOctal(got), fileModeOctal(want))
	}
}

// fileModeOctal converts the bits in fileModeBits to the octal notation of chmod.
func fileModeOctal(m os.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= syscall.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		mode |= syscall.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		mode |= syscall.S_ISVTX
	}
	return mode
}

// checkChecksum compares the SHA-256 of the content with the previous run's and
// records the new one. It returns a reason when the content changed.
func (p *FileProbe) checkChecksum() string {
	if !p.Checksum {
		return ""
	}
	f, err := os.Open(p.Path)
	if err != nil {
		return fmt.Sprintf("checksum %s: %v", p.Path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Sprintf("checksum %s: %v", p.Path, err)
	}

	sum := h.Sum(nil)
	previous := p.sum
	p.sum = sum
	if previous == nil || bytes.Equal(previous, sum) {
		return ""
	}
	return fmt.Sprintf("%s changed: SHA-256 %x, was %x", p.Path, sum[:8], previous[:8])
}

// checkPattern reads the complete lines added since the previous run and returns a
// reason when some match Pattern.
func (p *FileProbe) checkPattern() string {
	if p.Pattern == nil {
		return ""
	}
	f, err := os.Open(p.Path)
	if err != nil {
		return fmt.Sprintf("read %s: %v", p.Path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("read %s: %v", p.Path, err)
	}

	var inode uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		inode = st.Ino
	}
	switch {
	case !p.started:
		p.started, p.offset, p.inode = true, fi.Size(), inode
		return ""
	case inode != p.inode || fi.Size() < p.offset:
		// Rotated or truncated: the new content starts at offset 0.
		p.offset, p.inode = 0, inode
	}

	lines, err := p.readNewLines(f, fi.Size())
	if err != nil {
		return fmt.Sprintf("read %s: %v", p.Path, err)
	}
	return p.matchLines(lines)
}

// readNewLines reads from p.offset up to fileReadMax bytes of complete lines and moves
// p.offset past them. A line longer than fileReadMax is taken in pieces of that size,
// so a file without newlines cannot stop the reading.
func (p *FileProbe) readNewLines(f *os.File, size int64) ([]byte, error) {
	n := min(size-p.offset, fileReadMax)
	if n <= 0 {
		return nil, nil
	}
	buf := make([]byte, n)
	read, err := f.ReadAt(buf, p.offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:read]

	end := bytes.LastIndexByte(buf, '\n') + 1
	if end == 0 && len(buf) == fileReadMax {
		end = len(buf)
	}
	p.offset += int64(end)
	return buf[:end], nil
}

// matchLines returns a reason that quotes the first line of lines that matches
// Pattern and counts all matching lines, or "" when none matches.
func (p *FileProbe) matchLines(lines []byte) string {
	var first []byte
	count := 0
	for line := range bytes.Lines(lines) {
		line = bytes.TrimRight(line, "\r\n")
		if !p.Pattern.Match(line) {
			continue
		}
		count++
		if first == nil {
			first = line
		}
	}
	if count == 0 {
		return ""
	}

	quote := strings.ToValidUTF8(string(first[:min(len(first), fileQuoteMax)]), "\uFFFD")
	noun := "line matches"
	if count > 1 {
		noun = "lines match"
	}
	return fmt.Sprintf("%d new %s %q in %s, first: %q", count, noun, p.Pattern, p.Path, quote)
}
