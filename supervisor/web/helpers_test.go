package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tend/alert"
	"tend/config"
	"tend/supervisor"
	"tend/supervisor/api"
)

// Users of the tests: ops is an admin and viewer is read-only.
const (
	adminName, adminPassword   = "ops", "correct horse"
	viewerName, viewerPassword = "viewer", "battery staple"
)

// testUsers returns ops and viewer with hashes of the minimum bcrypt cost.
func testUsers(t testing.TB) []config.HTTPUser {
	t.Helper()
	user := func(name, password string, role config.HTTPRole) config.HTTPUser {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatalf("bcrypt.GenerateFromPassword: %v", err)
		}
		return config.HTTPUser{Name: name, PasswordHash: config.NewSecret(string(hash)), Role: role}
	}
	return []config.HTTPUser{
		user(adminName, adminPassword, config.HTTPAdmin),
		user(viewerName, viewerPassword, config.HTTPReadOnly),
	}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startServer runs a Server on cfg, with the JSON API over b, until the test ends.
func startServer(t testing.TB, cfg *config.HTTP, b api.Backend) *Server {
	t.Helper()
	log := testLogger(t)
	s, err := New(Options{Config: cfg, Backend: b, API: api.NewHandler(b, log), Logger: log})
	if err != nil {
		t.Fatalf("New: %v", err)
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

// fakeBackend serves fixed statuses and records the commands it receives.
type fakeBackend struct {
	statuses []supervisor.ServiceStatus
	alerts   alert.Status
	daemon   api.Daemon

	mu       sync.Mutex
	controls []string
}

func (b *fakeBackend) Status(_ context.Context, names ...string) ([]supervisor.ServiceStatus, error) {
	if len(names) == 0 {
		return b.statuses, nil
	}
	var out []supervisor.ServiceStatus
	for _, st := range b.statuses {
		if slices.Contains(names, st.Name) {
			out = append(out, st)
		}
	}
	return out, nil
}

func (b *fakeBackend) Control(_ context.Context, name string, cmd supervisor.Command, by string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.controls = append(b.controls, cmd.String()+" "+name+" by "+by)
	return nil
}

func (b *fakeBackend) Reload(context.Context, bool, string) (supervisor.ReloadPlan, error) {
	return supervisor.ReloadPlan{}, errors.New("reload is not supported by the test backend")
}

func (b *fakeBackend) Alerts() alert.Status { return b.alerts }
func (b *fakeBackend) Daemon() api.Daemon   { return b.daemon }

func (b *fakeBackend) commands() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.controls...)
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	tls    bool
	body   string
}

// do sends one request and returns the response with its body read.
func do(t testing.TB, client *http.Client, method, url string, setup func(*http.Request)) reply {
	t.Helper()
	return doBody(t, client, method, url, "", setup)
}

// doBody is do with a request body.
func doBody(t testing.TB, client *http.Client, method, url, body string, setup func(*http.Request)) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if setup != nil {
		setup(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, tls: resp.TLS != nil, body: string(data)}
}

func netResolve(addr string) (*net.TCPAddr, error) { return net.ResolveTCPAddr("tcp", addr) }
