package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withOwner sets the user ID that must own configuration files until the test ends.
func withOwner(t *testing.T, uid int) {
	t.Helper()
	saved := requiredOwner
	requiredOwner = uid
	t.Cleanup(func() { requiredOwner = saved })
}

// permissionTree writes tend.toml and conf.d/redis.toml into a new directory and
// returns the paths of the main file and the drop-in.
func permissionTree(t *testing.T) (main, dropIn string) {
	t.Helper()
	dir := t.TempDir()
	main = filepath.Join(dir, "tend.toml")
	dropIn = filepath.Join(dir, "conf.d", "redis.toml")
	if err := os.Mkdir(filepath.Dir(dropIn), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, main, "state_dir = \"state\"\ninclude = [\"conf.d/*.toml\"]\n", 0o644)
	writeFile(t, dropIn, "[[service]]\nname = \"redis\"\ncommand = [\"redis-server\"]\n", 0o644)
	return main, dropIn
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile applies the umask; Chmod sets the mode the test wants.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// loadErrors loads main and returns its errors, failing when it loads.
func loadErrors(t *testing.T, main string) Errors {
	t.Helper()
	cfg, err := Load(main)
	if err == nil {
		t.Fatalf("Load(%s) = %d services, want an error", main, len(cfg.Services))
	}
	var list Errors
	if !errors.As(err, &list) {
		t.Fatalf("Load(%s): error %v (%T) is not Errors", main, err, err)
	}
	return list
}

func TestPermissionsSafeTreeLoads(t *testing.T) {
	withOwner(t, os.Geteuid())
	main, _ := permissionTree(t)
	if _, err := Load(main); err != nil {
		t.Fatalf("Load(%s): %v, want no error for files 0644 and directories 0755", main, err)
	}
}

func TestPermissionsWritableDropInRejected(t *testing.T) {
	withOwner(t, os.Geteuid())
	main, dropIn := permissionTree(t)
	if err := os.Chmod(dropIn, 0o666); err != nil {
		t.Fatal(err)
	}

	list := loadErrors(t, main)
	if len(list) != 1 {
		t.Fatalf("Load: %d errors, want 1: %v", len(list), list)
	}
	want := dropIn + ": mode 0666 is writable by group or others; run chmod go-w on it"
	if got := list[0].Error(); got != want {
		t.Errorf("Load error = %q, want %q", got, want)
	}
}

func TestPermissionsWritableDirectoryRejected(t *testing.T) {
	withOwner(t, os.Geteuid())
	main, dropIn := permissionTree(t)
	dir := filepath.Dir(dropIn)
	if err := os.Chmod(dir, 0o775); err != nil {
		t.Fatal(err)
	}

	list := loadErrors(t, main)
	if len(list) != 1 {
		t.Fatalf("Load: %d errors, want 1: %v", len(list), list)
	}
	if list[0].File != dir {
		t.Errorf("error file = %q, want the directory %q", list[0].File, dir)
	}
	if !strings.Contains(list[0].Msg, "mode 0775 is writable by group or others") {
		t.Errorf("error message = %q, want it to name mode 0775", list[0].Msg)
	}
}

func TestPermissionsWritableMainFileRejected(t *testing.T) {
	withOwner(t, os.Geteuid())
	main, _ := permissionTree(t)
	if err := os.Chmod(main, 0o620); err != nil {
		t.Fatal(err)
	}

	list := loadErrors(t, main)
	if list[0].File != main || !strings.Contains(list[0].Msg, "mode 0620") {
		t.Errorf("first error = %v, want %s with mode 0620", list[0], main)
	}
}

func TestPermissionsOtherOwnerRejected(t *testing.T) {
	other := os.Geteuid() + 1
	withOwner(t, other)
	main, dropIn := permissionTree(t)

	list := loadErrors(t, main)
	// The main file, its directory, and conf.d with the drop-in.
	wantFiles := []string{main, filepath.Dir(main), dropIn, filepath.Dir(dropIn)}
	if len(list) != len(wantFiles) {
		t.Fatalf("Load: %d errors, want %d: %v", len(list), len(wantFiles), list)
	}
	for _, e := range list {
		if !strings.Contains(e.Msg, "not user ID") || !strings.Contains(e.Msg, "run chown") {
			t.Errorf("error %v does not name the owner and the fix", e)
		}
	}
	for _, file := range wantFiles {
		found := false
		for _, e := range list {
			found = found || e.File == file
		}
		if !found {
			t.Errorf("no error names %s: %v", file, list)
		}
	}
}

func TestPermissionsUncheckedWithoutRoot(t *testing.T) {
	withOwner(t, -1)
	main, dropIn := permissionTree(t)
	if err := os.Chmod(dropIn, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(main); err != nil {
		t.Fatalf("Load(%s) as another user than root: %v, want no permission check", main, err)
	}
}

// A drop-in that is a symbolic link to a file in a directory that others may write is
// rejected, naming that directory.
func TestPermissionsSymlinkTargetDirectoryRejected(t *testing.T) {
	withOwner(t, os.Geteuid())
	main, dropIn := permissionTree(t)
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(open, "evil.toml")
	data, err := os.ReadFile(dropIn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dropIn); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dropIn); err != nil {
		t.Fatal(err)
	}

	list := loadErrors(t, main)
	if len(list) != 1 || list[0].File != open || !strings.Contains(list[0].Msg, "mode 0777") {
		t.Errorf("Load: errors %v, want one naming %s and mode 0777", list, open)
	}
}
