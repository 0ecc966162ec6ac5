// Package logfile writes the output of an owned service to a log file with size-based
// rotation. The file at path is rotated to path.1, path.1 to path.2 and so on up to
// path.keep, and the oldest file is removed, so the files take about (keep+1) × maxSize
// bytes of disk.
package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
)

// Writer appends to a log file and rotates it by size. Its methods are safe for concurrent
// use, so the goroutines copying a service's stdout and stderr can share one Writer.
type Writer struct {
	path    string
	maxSize int64
	keep    int

	mu   sync.Mutex
	file *os.File // nil after Close
	size int64    // bytes in file, counted by this Writer and corrected before a rotation
}

// Open opens the log file at path for appending, creating it with mode 0640 when it does
// not exist. The parent directory must exist. maxSize must be positive and keep must not be
// negative. With keep 0 a rotation truncates the file instead of renaming it. Open
// returns the Writer and a nil error, or a nil Writer and an error naming path.
func Open(path string, maxSize int64, keep int) (*Writer, error) {
	if maxSize <= 0 {
		return nil, fmt.Errorf("open log file %s: maximum size must be positive, got %d", path, maxSize)
	}
	if keep < 0 {
		return nil, fmt.Errorf("open log file %s: number of rotated files to keep must not be negative, got %d",
			path, keep)
	}

	w := &Writer{path: path, maxSize: maxSize, keep: keep}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// open opens w.path and makes it the current file. The caller holds w.mu, or has the only
// reference to w.
func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("open log file: %w", err)
	}
	w.file, w.size = f, fi.Size()
	return nil
}

// Write appends p to the log file. When the file is not empty and p would take it past
// maxSize, Write first rotates the files. A p larger than maxSize goes whole into a fresh
// file, so a file may exceed maxSize by up to one write.
//
// Write returns len(p) and nil on success. When the rotation fails, Write still appends p
// to the current file so that no bytes are lost, and returns len(p) with an error that
// wraps the rotation failure. The next Write tries the rotation again. When the append
// fails, for example because the disk is full, Write returns the bytes written and the
// error. After Close it returns 0 and an error wrapping os.ErrClosed.
//
// io.Copy stops at the first error, so the caller copies a service's output with a loop
// that counts and logs errors and keeps reading, which keeps the service from blocking or
// receiving SIGPIPE on a full pipe.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.file == nil {
		return 0, fmt.Errorf("write log file %s: %w", w.path, os.ErrClosed)
	}

	var rotateErr error
	if w.size > 0 && w.size+int64(len(p)) > w.maxSize && w.needsRotation(len(p)) {
		rotateErr = w.rotate()
	}

	n, err := w.file.Write(p)
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write log file: %w", err)
	}
	return n, rotateErr
}

// needsRotation checks the file's actual size, which differs from w.size after another
// program truncated the file (logrotate's copytruncate) or appended to it. It updates w.size
// and reports whether appending n bytes would take the file past maxSize.
func (w *Writer) needsRotation(n int) bool {
	if fi, err := w.file.Stat(); err == nil {
		w.size = fi.Size()
	}
	return w.size > 0 && w.size+int64(n) > w.maxSize
}

// rotate makes room for a new file at path. With keep 0 it truncates the current file.
// Otherwise it shifts path.N to path.N+1 for each kept file from the oldest down, removes
// the file that would go past keep, renames path to path.1 and opens a new file at path. A
// missing file in the sequence is skipped.
func (w *Writer) rotate() error {
	if w.keep == 0 {
		if err := w.file.Truncate(0); err != nil {
			return fmt.Errorf("rotate log file: %w", err)
		}
		w.size = 0
		return nil
	}
	if err := w.shift(); err != nil {
		return fmt.Errorf("rotate log file %s: %w", w.path, err)
	}

	old := w.file
	if err := w.open(); err != nil {
		// The current file stays open, and moves back to path so that the next rotation
		// shifts it to path.1 again instead of further up and eventually away.
		_ = os.Rename(w.rotated(1), w.path)
		return fmt.Errorf("rotate log file: %w", err)
	}
	_ = old.Close()
	return nil
}

// shift moves each rotated file one place up, removes the one that would go past keep and
// renames path to path.1.
func (w *Writer) shift() error {
	if err := removeIfExists(w.rotated(w.keep)); err != nil {
		return err
	}
	for i := w.keep - 1; i >= 1; i-- {
		if err := renameIfExists(w.rotated(i), w.rotated(i+1)); err != nil {
			return err
		}
	}
	return renameIfExists(w.path, w.rotated(1))
}

// rotated returns the name of the i-th rotated file.
func (w *Writer) rotated(i int) string {
	return w.path + "." + strconv.Itoa(i)
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func renameIfExists(from, to string) error {
	if err := os.Rename(from, to); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Reopen closes the current file and opens path again, creating it when it does not exist.
// An operator's logrotate calls for it after moving the file away. When opening fails, the
// Writer keeps the old file and Reopen returns the error. After Close it returns an error
// wrapping os.ErrClosed.
func (w *Writer) Reopen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.file == nil {
		return fmt.Errorf("reopen log file %s: %w", w.path, os.ErrClosed)
	}

	old := w.file
	if err := w.open(); err != nil {
		return fmt.Errorf("reopen log file: %w", err)
	}
	_ = old.Close()
	return nil
}

// Close closes the log file. Later calls to Write and Reopen fail, and later calls to Close
// return nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.file == nil {
		return nil
	}

	err := w.file.Close()
	w.file = nil
	if err != nil {
		return fmt.Errorf("close log file: %w", err)
	}
	return nil
}
