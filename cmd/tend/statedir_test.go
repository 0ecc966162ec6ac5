package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"tend/config"
)

// A state directory made 0700 becomes searchable by all once a service reports
// readiness, so that a service running as another user reaches its notify socket, and
// stays as it is otherwise.
func TestStateDirSearchableForNotify(t *testing.T) {
	for _, notify := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "state")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		cfg := &config.Config{StateDir: dir, Services: []config.Service{{Name: "worker", Notify: notify}}}
		if err := openStateDirForNotify(cfg, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o700)
		if notify {
			want = 0o711
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("notify %v: mode %04o, want %04o", notify, got, want)
		}
	}
}
