package alert

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	queueFileSuffix = ".json"
	// queueTempPrefix starts the name of a file that Send has not renamed into place
	// yet. The dot keeps it out of the queue listing.
	queueTempPrefix = ".tmp-"
	deadDirName     = "dead"
	// maxIDLength keeps the queue file name well under the 255 bytes of ext4 and xfs.
	maxIDLength = 200
)

// queue is the on-disk outbox: one JSON file per event, named after the event's ID, so
// that the byte order of the file names is the order of the events. Its methods touch
// only the file system, so any goroutine may call them. Send's lock keeps two writes of
// one ID apart.
type queue struct {
	dir     string
	deadDir string
}

// openQueue creates the outbox dir and its dead-letter directory when they are
// missing, and removes the temporary files of writes that a crash interrupted: no Send
// returned nil for them.
func openQueue(dir string) (*queue, error) {
	q := &queue{dir: dir, deadDir: filepath.Join(dir, deadDirName)}
	if err := os.MkdirAll(q.deadDir, 0o700); err != nil {
		return nil, fmt.Errorf("create alert queue: %w", err)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read alert queue: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), queueTempPrefix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("remove interrupted queue write: %w", err)
			}
		}
	}
	return q, nil
}

// write stores ev durably under its ID: temporary file, fsync, rename, fsync of the
// directory. It returns nil only when all of that succeeded.
func (q *queue) write(ev Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	final := filepath.Join(q.dir, ev.ID+queueFileSuffix)
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("queue event: ID %s is already queued", ev.ID)
	}

	tmp, err := os.CreateTemp(q.dir, queueTempPrefix+"*")
	if err != nil {
		return fmt.Errorf("queue event %s: %w", ev.ID, err)
	}
	if err := writeAndSync(tmp, data); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("queue event %s: %w", ev.ID, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("queue event %s: %w", ev.ID, err)
	}
	if err := syncDir(q.dir); err != nil {
		return fmt.Errorf("queue event %s: %w", ev.ID, err)
	}
	return nil
}

func writeAndSync(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// names returns the queued file names, oldest event first.
func (q *queue) names() ([]string, error) {
	entries, err := os.ReadDir(q.dir)
	if err != nil {
		return nil, fmt.Errorf("read alert queue: %w", err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if e.Type().IsRegular() && !strings.HasPrefix(name, ".") &&
			strings.HasSuffix(name, queueFileSuffix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// errCorrupt marks a queue file that cannot be decoded, so that no retry can help.
var errCorrupt = errors.New("corrupt queue file")

// read returns the event stored in the file name. An error wraps fs.ErrNotExist when
// the file is gone and errCorrupt when it does not hold an event.
func (q *queue) read(name string) (Event, error) {
	data, err := os.ReadFile(filepath.Join(q.dir, name))
	if err != nil {
		return Event{}, fmt.Errorf("read queued event: %w", err)
	}
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Event{}, fmt.Errorf("decode %s: %w: %w", name, errCorrupt, err)
	}
	if ev.ID == "" {
		ev.ID = strings.TrimSuffix(name, queueFileSuffix)
	}
	return ev, nil
}

// remove deletes a delivered event's file and syncs the directory, so that a crash
// right after cannot bring the file back. A file that is already gone is no error.
func (q *queue) remove(name string) error {
	err := os.Remove(filepath.Join(q.dir, name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove delivered event: %w", err)
	}
	if err := syncDir(q.dir); err != nil {
		return fmt.Errorf("remove delivered event: %w", err)
	}
	return nil
}

// bury moves an event that can never be delivered to the dead-letter directory and
// returns its new path.
func (q *queue) bury(name string) (string, error) {
	dst := filepath.Join(q.deadDir, name)
	if err := os.Rename(filepath.Join(q.dir, name), dst); err != nil {
		return "", fmt.Errorf("move event to dead letters: %w", err)
	}
	if err := errors.Join(syncDir(q.deadDir), syncDir(q.dir)); err != nil {
		return "", fmt.Errorf("move event to dead letters: %w", err)
	}
	return dst, nil
}

// syncDir fsyncs a directory, which makes a rename or remove in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// idTimeLayout has a fixed width, so that IDs sort by time as bytes. The Z is a
// literal: IDs are in UTC.
const idTimeLayout = "20060102T150405.000000000Z"

// maxIDSequence is the largest sequence number within one timestamp.
const maxIDSequence = 999_999

// idSource hands out event IDs of the form
// "20260102T150405.123456789Z-000000-1a2b3c4d": UTC time, a sequence number, and a
// random tag chosen per process. Within a process the IDs increase strictly, even when
// several fall into one clock tick or the wall clock steps back. The tag keeps IDs of
// two daemon runs apart if the clock repeats a timestamp. Callers serialise calls.
type idSource struct {
	last time.Time
	seq  int
	tag  string
}

func newIDSource() (*idSource, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("create event ID tag: %w", err)
	}
	return &idSource{tag: hex.EncodeToString(b)}, nil
}

// next returns the ID for an event that happens at now.
func (s *idSource) next(now time.Time) string {
	now = now.UTC()
	switch {
	case now.After(s.last):
		s.last, s.seq = now, 0
	case s.seq < maxIDSequence:
		s.seq++
	default:
		s.last, s.seq = s.last.Add(time.Nanosecond), 0
	}
	return fmt.Sprintf("%s-%06d-%s", s.last.Format(idTimeLayout), s.seq, s.tag)
}

// validateID rejects an ID that cannot serve as a file name and as the left part of a
// Message-ID, which RFC 5322 makes a dot-atom. A valid ID has 1 to 200 characters from
// A-Z, a-z, 0-9, '.', '_' and '-', with no dot at either end and no two dots in a row.
func validateID(id string) error {
	if id == "" || len(id) > maxIDLength || id[0] == '.' || id[len(id)-1] == '.' ||
		strings.Contains(id, "..") {
		return fmt.Errorf("invalid event ID %q: want 1 to %d characters, with no dot at "+
			"either end and no two dots in a row", id, maxIDLength)
	}
	for _, r := range id {
		if !isIDChar(r) {
			return fmt.Errorf("invalid event ID %q: character %q is not one of A-Z a-z 0-9 . _ -", id, r)
		}
	}
	return nil
}

func isIDChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '.' || r == '_' || r == '-'
}
