// Package statefile stores state that must survive a restart of tend as JSON files that are
// replaced atomically. A reader, or tend after a crash or power loss, finds either the old
// content or the new one, never a mix or a truncated file.
package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrCorrupt marks a state file that exists but does not contain valid JSON for the value.
var ErrCorrupt = errors.New("corrupt state file")

// Write stores v, encoded as indented JSON, at path with mode 0600. It writes a temporary
// file in the same directory, fsyncs it, renames it over path and fsyncs the directory, so
// the rename itself is durable. On any error the temporary file is removed and the file at
// path, if any, is unchanged. The exception is an error from the final fsync of the
// directory, after which the new content is in place but may not survive a power loss.
// Concurrent calls for the same path leave the content of one of them.
func Write(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state for %s: %w", path, err)
	}
	data = append(data, '\n')

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	if err := writeSynced(tmp, data); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write state file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("replace state file: %w", err)
	}
	return syncDir(dir)
}

// writeSynced writes data to f, sets mode 0600, fsyncs and closes f. It closes f on every
// path.
func writeSynced(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(0o600) // CreateTemp uses 0600 already, before the umask.
	}
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	return err
}

// syncDir fsyncs the directory dir, which makes a rename or removal in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync state directory: %w", err)
	}
	err = d.Sync()
	_ = d.Close()
	if err != nil {
		return fmt.Errorf("sync state directory: %w", err)
	}
	return nil
}

// Read decodes the JSON at path into v. It returns nil on success. When path does not exist,
// the error wraps fs.ErrNotExist. When the file is not valid JSON for v, the error wraps
// ErrCorrupt, names path and describes the decoding error, and the caller may move the file aside
// with Quarantine and start fresh. Other errors, such as a missing permission, wrap the
// error from the operating system. Unknown fields in the file are ignored, so state written
// by a newer version of tend can be read.
func Read(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read state file: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w %s: %w", ErrCorrupt, path, err)
	}
	return nil
}

// Quarantine renames the file at path to path+".corrupt", replacing an earlier file of that
// name, and fsyncs the directory. It returns the new name and nil, or "" and an error when
// the rename fails, or the new name and an error when only the fsync fails.
func Quarantine(path string) (string, error) {
	bad := path + ".corrupt"
	if err := os.Rename(path, bad); err != nil {
		return "", fmt.Errorf("quarantine state file: %w", err)
	}
	return bad, syncDir(filepath.Dir(path))
}
