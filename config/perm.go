package config

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// requiredOwner is the user ID that must own every configuration file and every
// directory that holds one, or -1 to check nothing. tend runs the commands of its
// configuration, as root when it runs as root, so a file that another user can write
// would give that user root's privileges. Only root's configuration is checked: a tend
// run by another user runs commands with that user's privileges only. Tests set it to
// check ownership and modes without running as root.
var requiredOwner = rootOwner()

// rootOwner returns 0 when the process runs as root, and -1 otherwise.
func rootOwner() int {
	if os.Geteuid() == 0 {
		return 0
	}
	return -1
}

// checkPermissions reports the configuration file of f, and the directory that holds
// it unless an earlier file was in the same directory, when another user than
// requiredOwner owns it or when its group or others may write to it.
func (l *loader) checkPermissions(f *fileDecoder) {
	if requiredOwner < 0 {
		return
	}
	f.checkPath(f.name, "")
	dirs := []string{filepath.Dir(f.name)}
	// A file reached through a symbolic link is as safe as the directory that
	// contains its target, because a user who may write there may replace it.
	if target, err := filepath.EvalSymlinks(f.name); err == nil {
		dirs = append(dirs, filepath.Dir(target))
	}
	if l.checkedDirs == nil {
		l.checkedDirs = map[string]bool{}
	}
	for _, dir := range dirs {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		if !l.checkedDirs[dir] {
			l.checkedDirs[dir] = true
			f.checkPath(dir, dir)
		}
	}
}

// checkPath adds an error for path when its owner or mode is unsafe. report is the
// name the error gives as its file: empty for the configuration file itself.
func (f *fileDecoder) checkPath(path, report string) {
	info, err := os.Stat(path)
	if err != nil {
		return // The read reports a missing or unreadable file.
	}
	add := func(format string, args ...any) {
		if report == "" {
			f.add(0, "", format, args...)
			return
		}
		f.errs = append(f.errs, &Error{File: report, Msg: fmt.Sprintf(format, args...)})
	}

	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != requiredOwner {
		add("owned by user ID %d, not %s; run chown %s on it", st.Uid, ownerName(), ownerArg())
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		add("mode %04o is writable by group or others; run chmod go-w on it", perm)
	}
}

// ownerName names requiredOwner in errors.
func ownerName() string {
	if requiredOwner == 0 {
		return "root"
	}
	return fmt.Sprintf("user ID %d", requiredOwner)
}

// ownerArg returns requiredOwner as the argument of chown.
func ownerArg() string {
	if requiredOwner == 0 {
		return "root"
	}
	return fmt.Sprint(requiredOwner)
}
