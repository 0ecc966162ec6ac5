package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// fsizeEnv makes the test binary write a large state to the path in this variable under a
// file size limit of fsizeLimit bytes, print the error and exit.
const fsizeEnv = "TEND_STATEFILE_TEST_FSIZE"

const fsizeLimit = 1024

func TestMain(m *testing.M) {
	if path, ok := os.LookupEnv(fsizeEnv); ok {
		os.Exit(writeUnderLimit(path))
	}
	os.Exit(m.Run())
}

// writeUnderLimit returns 0 when Write failed as the file size limit makes it, and 1 when
// it succeeded or the limit could not be set.
func writeUnderLimit(path string) int {
	limit := unix.Rlimit{Cur: fsizeLimit, Max: fsizeLimit}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &limit); err != nil {
		fmt.Println("setrlimit:", err)
		return 1
	}
	err := Write(path, state{Mode: strings.Repeat("x", 64*fsizeLimit)})
	fmt.Println(err)
	if err == nil {
		return 1
	}
	return 0
}

type state struct {
	Mode     string         `json:"mode"`
	Restarts []int64        `json:"restarts"`
	Pending  map[string]int `json:"pending,omitempty"`
}

// listDir returns the names in dir.
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

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	want := state{Mode: "monitor", Restarts: []int64{1700000000, 1700000030}, Pending: map[string]int{"a": 2}}

	if err := Write(path, want); err != nil {
		t.Fatalf("Write: %v", err)
	}
	var got state
	if err := Read(path, &got); err != nil {
		t.Fatalf("Read: %v", err)
	}

	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read after Write = %+v, want %+v", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %v, want -rw-------", perm)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("directory contains %q, want only state.json", names)
	}
}

func TestWriteReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := Write(path, state{Mode: "monitor", Restarts: []int64{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}

	if err := Write(path, state{Mode: "unmonitor"}); err != nil {
		t.Fatalf("second Write: %v", err)
	}

	var got state
	if err := Read(path, &got); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got.Mode != "unmonitor" || got.Restarts != nil {
		t.Errorf("Read = %+v, want the second value only", got)
	}
}

func TestConcurrentWritersLeaveValidJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	const writers, rounds = 8, 50

	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				restarts := make([]int64, 100+w)
				restarts[0] = int64(r)
				errs <- Write(path, state{Mode: fmt.Sprintf("writer-%d", w), Restarts: restarts})
			}
		})
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Errorf("Write: %v", err)
		}
	}
	var got state
	if err := Read(path, &got); err != nil {
		t.Fatalf("Read after concurrent writes: %v", err)
	}
	var w int
	if _, err := fmt.Sscanf(got.Mode, "writer-%d", &w); err != nil || len(got.Restarts) != 100+w {
		t.Errorf("Read = mode %q with %d restarts, want one writer's value", got.Mode, len(got.Restarts))
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("directory contains %q, want only state.json", names)
	}
}

// TestFailedWriteKeepsOldFile protects the promise of Write: a failure at any step leaves
// the previous content and no temporary file.
func TestFailedWriteKeepsOldFile(t *testing.T) {
	tests := []struct {
		name  string
		write func(t *testing.T, path string) error
		want  string
	}{
		{
			name: "encode error",
			write: func(_ *testing.T, path string) error {
				return Write(path, map[string]any{"bad": make(chan int)})
			},
			want: "encode state",
		},
		{
			name: "file size limit",
			write: func(t *testing.T, path string) error {
				cmd := exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), fsizeEnv+"="+path)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("child: %v: %s", err, out)
				}
				return errors.New(string(out))
			},
			want: "file too large",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			old := state{Mode: "monitor", Restarts: []int64{42}}
			if err := Write(path, old); err != nil {
				t.Fatal(err)
			}

			err := tt.write(t, path)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write error = %v, want one containing %q", err, tt.want)
			}
			var got state
			if err := Read(path, &got); err != nil {
				t.Fatalf("Read after failed Write: %v", err)
			}
			if !reflect.DeepEqual(got, old) {
				t.Errorf("Read after failed Write = %+v, want the old %+v", got, old)
			}
			if names := listDir(t, dir); len(names) != 1 {
				t.Errorf("directory contains %q, want only state.json", names)
			}
		})
	}
}

func TestFailedRenameRemovesTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.Mkdir(path, 0o700); err != nil { // a directory cannot be replaced by a file
		t.Fatal(err)
	}

	err := Write(path, state{Mode: "monitor"})

	if err == nil || !strings.Contains(err.Error(), "replace state file") {
		t.Errorf("Write over a directory: err = %v, want a replace error", err)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("directory contains %q, want only state.json", names)
	}
}

func TestWriteMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "state.json")

	err := Write(path, state{})

	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Write into a missing directory: err = %v, want fs.ErrNotExist", err)
	}
	if err == nil || !strings.Contains(err.Error(), filepath.Dir(path)) {
		t.Errorf("Write into a missing directory: err = %v, want one naming the directory", err)
	}
}

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()

	if err := syncDir(dir); err != nil {
		t.Errorf("syncDir(%s) = %v, want nil", dir, err)
	}
	missing := filepath.Join(dir, "missing")
	if err := syncDir(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("syncDir(%s) = %v, want fs.ErrNotExist", missing, err)
	}
}

func TestReadMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")

	err := Read(path, &state{})

	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read(missing) = %v, want fs.ErrNotExist", err)
	}
	if errors.Is(err, ErrCorrupt) {
		t.Errorf("Read(missing) = %v, must not be ErrCorrupt", err)
	}
}

func TestReadCorrupt(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"empty", "", "unexpected end of JSON input"},
		{"truncated", `{"mode": "moni`, "unexpected end of JSON input"},
		{"not JSON", "mode = monitor\n", "invalid character"},
		{"trailing data", `{"mode": "monitor"} {}`, "invalid character"},
		{"wrong type", `{"mode": 3}`, "cannot unmarshal number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}

			err := Read(path, &state{})

			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("Read(%q) = %v, want ErrCorrupt", tt.content, err)
			}
			if err == nil || !strings.HasPrefix(err.Error(), "corrupt state file "+path+": ") {
				t.Errorf("Read(%q) = %v, want it to start with %q", tt.content, err, "corrupt state file "+path)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read(%q) = %v, want it to contain %q", tt.content, err, tt.want)
			}
		})
	}
}

func TestReadIgnoresUnknownFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(`{"mode": "monitor", "added_later": [1]}`), 0o600); err != nil {
		t.Fatal(err)
	}

	var got state
	if err := Read(path, &got); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got.Mode != "monitor" {
		t.Errorf("Read: mode = %q, want monitor", got.Mode)
	}
}

func TestQuarantine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path+".corrupt", []byte("older"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("{bad"), 0o600); err != nil {
		t.Fatal(err)
	}

	bad, err := Quarantine(path)
	if err != nil {
		t.Fatalf("Quarantine: %v", err)
	}

	if bad != path+".corrupt" {
		t.Errorf("Quarantine = %q, want %q", bad, path+".corrupt")
	}
	if data, err := os.ReadFile(bad); err != nil || string(data) != "{bad" {
		t.Errorf("content of %s = %q, %v; want the corrupt file", bad, data, err)
	}
	if err := Read(path, &state{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read after Quarantine = %v, want fs.ErrNotExist", err)
	}
	if _, err := Quarantine(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Quarantine of a missing file = %v, want fs.ErrNotExist", err)
	}
}

func TestWriteIsJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")

	if err := Write(path, state{Mode: "monitor"}); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) || !strings.HasSuffix(string(data), "}\n") {
		t.Errorf("file content %q, want JSON ending in a newline", data)
	}
}
