package checks

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"tend/internal/testenv"
)

// netTestUnixListen listens on a unix socket in a new directory and returns its path.
func netTestUnixListen(t *testing.T) (string, *net.UnixListener) {
	t.Helper()
	path := filepath.Join(testenv.SocketDir(t), "probe.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return path, l
}

func TestUnixProbe(t *testing.T) {
	listening, _ := netTestUnixListen(t)
	stale, l := netTestUnixListen(t)
	l.SetUnlinkOnClose(false)
	_ = l.Close()
	missing := filepath.Join(t.TempDir(), "missing.sock")
	plainFile := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(plainFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		socket     string
		wantOK     bool
		wantReason string
	}{
		{"listening", listening, true, ""},
		{"missing", missing, false, "socket " + missing + " does not exist"},
		{"nobody listening", stale, false, "connection refused on " + stale},
		{"not a socket", plainFile, false, "connection refused on " + plainFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			netTestExpect(t, UnixProbe{Socket: tt.socket}, tt.wantOK, tt.wantReason)
		})
	}
}

// unixProbeChildEnv names the socket that the test binary, started again by
// TestUnixProbePermissionDenied, probes as an unprivileged user.
const unixProbeChildEnv = "TEND_TEST_UNIX_PROBE_SOCKET"

// TestUnixProbeChild is the probe half of TestUnixProbePermissionDenied. It prints the
// reason and does nothing when run on its own.
func TestUnixProbeChild(t *testing.T) {
	socket := os.Getenv(unixProbeChildEnv)
	if socket == "" {
		return
	}
	r, _ := netTestRun(t, UnixProbe{Socket: socket}, netTestBound)
	_, _ = io.WriteString(os.Stdout, "reason: "+r.Reason+"\n")
}

// A socket that the probe's user may not write to fails with a reason naming the
// permission. Root bypasses file permissions, so as root the probe runs in a copy of
// the test binary under the user nobody.
func TestUnixProbePermissionDenied(t *testing.T) {
	socket, _ := netTestUnixListen(t)
	if err := os.Chmod(socket, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(socket), 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		want := "permission denied on socket " + socket
		if err := os.Chmod(socket, 0); err != nil {
			t.Fatal(err)
		}
		netTestExpect(t, UnixProbe{Socket: socket}, false, want)
		return
	}

	bin := unixProbeCopyTestBinary(t)
	cmd := exec.Command(bin, "-test.run=^TestUnixProbeChild$", "-test.v")
	cmd.Env = append(os.Environ(), unixProbeChildEnv+"="+socket)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run the probe as nobody: %v\n%s", err, out)
	}
	if want := "reason: permission denied on socket " + socket + "\n"; !strings.Contains(string(out), want) {
		t.Errorf("probe as nobody printed:\n%s\nwant a line %q", out, want)
	}
}

// unixProbeCopyTestBinary copies the running test binary to a directory that the user
// nobody can reach, since the go tool builds it in a directory private to root.
func unixProbeCopyTestBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "checks.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
