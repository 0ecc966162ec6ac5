package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tend/internal/testenv"
)

// clientRoleSocket, when set, makes the test binary a client: it requests the services from the control
// socket at that path and prints the outcome as JSON. The peer check
// tests run it under another uid.
const clientRoleSocket = "TEND_API_TEST_CLIENT_SOCKET"

// clientOutcome is what the client role prints.
type clientOutcome struct {
	OK     bool   `json:"ok"`
	Status int    `json:"status"`
	Error  string `json:"error"`
}

func TestMain(m *testing.M) {
	if path := os.Getenv(clientRoleSocket); path != "" {
		runClientRole(path)
		return
	}
	os.Exit(m.Run())
}

func runClientRole(path string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out clientOutcome
	_, err := NewClient(path).Services(ctx)
	out.OK = err == nil
	if err != nil {
		out.Error = err.Error()
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		out.Status = se.Status
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

// callerHandler replies with the caller that the server put into the request.
func callerHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []ServiceView{{Name: CallerFrom(r.Context()).Name}})
	})
}

// startServer runs a control socket server at path until the test ends.
func startServer(t *testing.T, path, group string) *Server {
	t.Helper()
	s, err := Listen(ServerOptions{Socket: path, Group: group, Handler: callerHandler(),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

func TestServerOwnCaller(t *testing.T) {
	path := filepath.Join(testenv.SocketDir(t), "run", "tend.sock")
	startServer(t, path, "tend-no-such-group")

	list, err := NewClient(path).Services(testenv.Context(t, time.Minute))
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("uid %d (%s)", os.Getuid(), u.Username); list[0].Name != want {
		t.Errorf("caller %q, want %q", list[0].Name, want)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != socketMode {
		t.Errorf("socket mode %v, want %v", info.Mode().Perm(), os.FileMode(socketMode))
	}
	dir, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if dir.Mode().Perm() != 0o755 {
		t.Errorf("socket directory mode %v, want 0755", dir.Mode().Perm())
	}
}

func TestServerSocketGroup(t *testing.T) {
	g, err := user.LookupGroupId("65534")
	if err != nil {
		t.Skipf("no group 65534 on this host: %v", err)
	}
	if os.Getuid() != 0 {
		t.Skip("giving the socket another group needs root")
	}
	path := filepath.Join(testenv.SocketDir(t), "tend.sock")
	startServer(t, path, g.Name)

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if gid := info.Sys().(*syscall.Stat_t).Gid; gid != 65534 {
		t.Errorf("socket group %d, want 65534 (%s)", gid, g.Name)
	}
}

func TestServerStaleSocket(t *testing.T) {
	path := filepath.Join(testenv.SocketDir(t), "tend.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket: %v", err)
	}

	startServer(t, path, "")
	if _, err := NewClient(path).Services(testenv.Context(t, time.Minute)); err != nil {
		t.Errorf("Services after replacing a stale socket: %v", err)
	}
}

func TestServerRefusesSecondDaemon(t *testing.T) {
	path := filepath.Join(testenv.SocketDir(t), "tend.sock")
	startServer(t, path, "")

	_, err := Listen(ServerOptions{Socket: path, Handler: callerHandler(), Logger: slog.New(slog.DiscardHandler)})
	want := "another tend is listening on control socket " + path
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second Listen: error %v, want one containing %q", err, want)
	}
	if _, err := NewClient(path).Services(testenv.Context(t, time.Minute)); err != nil {
		t.Errorf("first server after the second Listen: %v", err)
	}
}

func TestServerRefusesNonSocket(t *testing.T) {
	path := filepath.Join(testenv.SocketDir(t), "tend.sock")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Listen(ServerOptions{Socket: path, Handler: callerHandler(), Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "exists and is not a socket") {
		t.Fatalf("Listen on a regular file: error %v, want one saying it is not a socket", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "keep me" {
		t.Errorf("regular file content %q after Listen, want it untouched", data)
	}
}

func TestClientUnreachable(t *testing.T) {
	path := filepath.Join(testenv.SocketDir(t), "tend.sock")
	_, err := NewClient(path).Daemon(testenv.Context(t, time.Minute))
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("Daemon without a server: error %v (%T), want *UnreachableError", err, err)
	}
	want := fmt.Sprintf("cannot reach tend at %s: is the daemon running? (dial unix %s: connect: no such file or directory)", path, path)
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestIdentifyByGroup(t *testing.T) {
	nobody, err := user.LookupId("65534")
	if err != nil {
		t.Skipf("no user 65534 on this host: %v", err)
	}
	s := &Server{uid: os.Getuid(), gid: 65534}
	tests := []struct {
		name string
		cred unix.Ucred
		gid  int
		want Role
	}{
		{"root", unix.Ucred{Uid: 0, Gid: 0}, -1, RoleAdmin},
		{"own user", unix.Ucred{Uid: uint32(os.Getuid()), Gid: 1}, -1, RoleAdmin},
		{"primary group of the process", unix.Ucred{Uid: 4242, Gid: 65534}, 65534, RoleAdmin},
		// The process runs with another group, but the user database lists the group.
		{"group of the user", unix.Ucred{Uid: 65534, Gid: 4242}, 65534, RoleAdmin},
		{"no group", unix.Ucred{Uid: 65534, Gid: 4242}, -1, RoleNone},
		{"other group", unix.Ucred{Uid: 65534, Gid: 4242}, 4343, RoleNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.gid = tt.gid
			c := s.identify(&tt.cred)
			if c.Role != tt.want {
				t.Errorf("identify(uid %d, gid %d) with group %d: role %d, want %d", tt.cred.Uid, tt.cred.Gid, tt.gid, c.Role, tt.want)
			}
		})
	}
	if c := s.identify(&unix.Ucred{Uid: 65534}); c.Name != "uid 65534 ("+nobody.Username+")" {
		t.Errorf("identify(uid 65534): name %q, want %q", c.Name, "uid 65534 ("+nobody.Username+")")
	}
}

// runAsNobody runs a copy of the test binary as uid and gid 65534, the client role
// connecting to path, and returns its outcome. The copy lives in dir, which uid 65534
// can search, because the go tool's build directory is private to its user.
func runAsNobody(t *testing.T, dir, path string) clientOutcome {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "api.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(testenv.Context(t, time.Minute), bin)
	cmd.Env = append(os.Environ(), clientRoleSocket+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client as uid 65534: %v", err)
	}
	var o clientOutcome
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatalf("client as uid 65534 printed %q: %v", out, err)
	}
	return o
}

// publicDir returns a new directory that every user can search.
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tend-api")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A caller whose uid is neither root nor the daemon's and who is not in the control
// group gets 403, even when the socket's mode lets it connect.
func TestPeerCheckRejectsOtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("connecting as another uid needs root")
	}
	dir := publicDir(t)
	path := filepath.Join(dir, "tend.sock")
	startServer(t, path, "tend-no-such-group")
	// Opened wider than Listen leaves it, so that only the peer check can reject the caller.
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}

	got := runAsNobody(t, dir, path)
	if got.OK || got.Status != http.StatusForbidden {
		t.Fatalf("client as uid 65534: %+v, want status 403", got)
	}
	if !strings.Contains(got.Error, "permission denied: uid 65534") || !strings.Contains(got.Error, "tend-no-such-group") {
		t.Errorf("client as uid 65534: error %q, want permission denied naming the uid and the group", got.Error)
	}
}

// A member of the control group gets in through the socket's group permission and the
// peer check.
func TestPeerCheckAdmitsGroupMember(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("connecting as another uid needs root")
	}
	g, err := user.LookupGroupId("65534")
	if err != nil {
		t.Skipf("no group 65534 on this host: %v", err)
	}
	dir := publicDir(t)
	path := filepath.Join(dir, "tend.sock")
	startServer(t, path, g.Name)

	if got := runAsNobody(t, dir, path); !got.OK {
		t.Fatalf("client as uid 65534 in group %s: %+v, want success", g.Name, got)
	}
}
