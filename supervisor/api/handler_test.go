package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tend/alert"
	"tend/config"
	"tend/internal/testenv"
	"tend/supervisor"
)

// sleepSeconds is the argument of the owned services' sleep, unusual enough that the
// procmatch test finds only them.
const sleepSeconds = "6007"

// discardAlerts is an Alerter that drops every event.
type discardAlerts struct{}

func (discardAlerts) Send(alert.Event) error { return nil }

// testBackend is a Backend over a real Supervisor, with a reload that records its
// arguments instead of reading files.
type testBackend struct {
	sup *supervisor.Supervisor

	mu        sync.Mutex
	reloadBy  string
	reloadDry bool
	reloadErr error
}

func (b *testBackend) Status(ctx context.Context, names ...string) ([]supervisor.ServiceStatus, error) {
	return b.sup.Status(ctx, names...)
}

func (b *testBackend) Control(ctx context.Context, name string, cmd supervisor.Command, by string) error {
	return b.sup.Control(ctx, name, cmd, by)
}

func (b *testBackend) Reload(_ context.Context, dryRun bool, by string) (supervisor.ReloadPlan, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reloadBy, b.reloadDry = by, dryRun
	if b.reloadErr != nil {
		return supervisor.ReloadPlan{}, b.reloadErr
	}
	return supervisor.ReloadPlan{Added: []string{"new"}, Unchanged: []string{"redis"}}, nil
}

func (b *testBackend) Alerts() alert.Status {
	return alert.Status{Pending: 3, LastError: "dial tcp 127.0.0.1:25: connection refused",
		LastErrorAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Failures: 7}
}

func (b *testBackend) Daemon() Daemon {
	return Daemon{Version: "test", PID: 42, Started: time.Now().Add(-time.Minute), Hostname: "host1",
		Config: "/etc/tend/tend.toml", ConfigError: "conf.d/x.toml:3: unknown key"}
}

func ownedService(name string, groups ...string) config.Service {
	return config.Service{
		Name:         name,
		Command:      []string{"sleep", sleepSeconds},
		Groups:       groups,
		StopSignal:   config.Signal(syscall.SIGTERM),
		StartTimeout: config.Duration(5 * time.Second),
		StopTimeout:  config.Duration(2 * time.Second),
		RestartLimit: config.RestartLimit{Restarts: 5, Cycles: 5},
		Checks:       []config.Check{{Type: config.CheckProcess, ForCycles: 1, Action: config.ActionRestart}},
	}
}

// startBackend runs a Supervisor with the services redis and worker (group workers),
// a service named "workers" in group other, and the pidfile service external without a
// start program. It returns once redis runs and its usage is known.
func startBackend(t *testing.T) *testBackend {
	t.Helper()
	external := config.Service{
		Name: "external", Pidfile: filepath.Join(t.TempDir(), "missing.pid"),
		StopSignal: config.Signal(syscall.SIGTERM), StartTimeout: config.Duration(time.Second),
		StopTimeout: config.Duration(time.Second), RestartLimit: config.RestartLimit{Restarts: 5, Cycles: 5},
		Checks: []config.Check{{Type: config.CheckProcess, ForCycles: 1, Action: config.ActionAlert}},
	}
	cfg := &config.Config{
		Interval: config.Duration(200 * time.Millisecond), Hostname: "test", StateDir: t.TempDir(),
		Services: []config.Service{
			ownedService("redis", "cache"), ownedService("worker", "workers"),
			ownedService("workers", "other"), external,
		},
	}
	sup, err := supervisor.New(supervisor.Options{Config: cfg, Alerter: discardAlerts{},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("supervisor.New: %v", err)
	}
	sup.StopOwnedOnExit()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("supervisor Run: %v", err)
		}
	})

	b := &testBackend{sup: sup}
	ok := testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		list, err := sup.Status(ctx)
		return err == nil && list[0].State == supervisor.StateRunning && list[0].Usage.CPUKnown
	})
	if !ok {
		t.Fatal("redis did not reach state running with known CPU usage")
	}
	return b
}

var (
	admin    = Caller{Name: "uid 1000 (alice)", Role: RoleAdmin}
	readOnly = Caller{Name: "viewer", Role: RoleReadOnly}
)

// serve sends a request with caller to h and returns the status and the body.
func serve(t *testing.T, h http.Handler, caller *Caller, method, target, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if caller != nil {
		req = req.WithContext(WithCaller(req.Context(), *caller))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, target, ct)
	}
	return rec.Code, rec.Body.Bytes()
}

func decode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

func TestHandlerServices(t *testing.T) {
	b := startBackend(t)
	h := NewHandler(b, slog.New(slog.DiscardHandler))

	code, body := serve(t, h, &readOnly, http.MethodGet, "/api/v1/services", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/services: status %d, want 200; body %s", code, body)
	}
	list := decode[[]ServiceView](t, body)
	if len(list) != 4 {
		t.Fatalf("GET /api/v1/services: %d services, want 4", len(list))
	}
	redis := list[0]
	if redis.Name != "redis" || redis.State != "running" || redis.PID == 0 || !redis.Owned {
		t.Errorf("redis = %+v, want name redis, state running, a PID, owned", redis)
	}
	if redis.Started == nil || redis.UptimeSeconds == nil || *redis.UptimeSeconds < 0 {
		t.Errorf("redis started %v, uptime %v: want both set", redis.Started, redis.UptimeSeconds)
	}
	if redis.Usage == nil || redis.Usage.CPUPercent == nil || redis.Usage.MemoryBytes == 0 {
		t.Errorf("redis usage = %+v, want CPU and memory", redis.Usage)
	}
	if len(redis.Checks) != 1 || !redis.Checks[0].Known || !redis.Checks[0].OK {
		t.Errorf("redis checks = %+v, want one known, passing check", redis.Checks)
	}
	if external := list[3]; external.Usage != nil || external.Started != nil {
		t.Errorf("external without a process: usage %+v, started %v, want both absent", external.Usage, external.Started)
	}

	// The JSON names are snake_case and the times RFC 3339.
	raw := string(body)
	for _, key := range []string{`"uptime_seconds"`, `"cpu_percent"`, `"total_memory_bytes"`, `"duration_seconds"`} {
		if !strings.Contains(raw, key) {
			t.Errorf("GET /api/v1/services: body lacks %s", key)
		}
	}
	var fields []map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatal(err)
	}
	if s, _ := fields[0]["started"].(string); !isRFC3339(s) {
		t.Errorf("started = %q, want an RFC 3339 time", s)
	}
}

func isRFC3339(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

func TestHandlerServiceAndHistory(t *testing.T) {
	b := startBackend(t)
	h := NewHandler(b, slog.New(slog.DiscardHandler))

	code, body := serve(t, h, &readOnly, http.MethodGet, "/api/v1/services/redis", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/services/redis: status %d, want 200; body %s", code, body)
	}
	first := decode[ServiceView](t, body)
	if first.Name != "redis" || first.PID == 0 {
		t.Fatalf("GET /api/v1/services/redis = %+v, want redis with a PID", first)
	}

	code, body = serve(t, h, &admin, http.MethodPost, "/api/v1/control", `{"command": "restart", "target": "redis"}`)
	if code != http.StatusOK {
		t.Fatalf("POST restart redis: status %d, want 200; body %s", code, body)
	}
	ok := testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		_, body = serve(t, h, &readOnly, http.MethodGet, "/api/v1/services/redis/history", "")
		return len(decode[HistoryView](t, body).Restarts) == 1
	})
	if !ok {
		t.Fatalf("history after one restart: %s, want one entry", body)
	}
	hist := decode[HistoryView](t, body)
	if want := "restart requested by " + admin.Name; hist.Service != "redis" || hist.Restarts[0].Trigger != want {
		t.Errorf("history = %+v, want service redis and trigger %q", hist, want)
	}
	if e := hist.Restarts[0].Exit; e != nil && e.PID != first.PID {
		t.Errorf("history exit PID %d, want the old PID %d", e.PID, first.PID)
	}
}

func TestHandlerUnknownService(t *testing.T) {
	b := startBackend(t)
	h := NewHandler(b, slog.New(slog.DiscardHandler))
	tests := []struct {
		method, target, body string
		want                 string
	}{
		{http.MethodGet, "/api/v1/services/redsi", "", "no service named 'redsi'; did you mean 'redis'?"},
		{http.MethodGet, "/api/v1/services/redsi/history", "", "no service named 'redsi'; did you mean 'redis'?"},
		{http.MethodGet, "/api/v1/services/postgres", "", "no service named 'postgres'"},
		{http.MethodPost, "/api/v1/control", `{"command": "stop", "target": "cahce"}`,
			"no service or group named 'cahce'; did you mean 'cache'?"},
	}
	for _, tt := range tests {
		code, body := serve(t, h, &admin, tt.method, tt.target, tt.body)
		if code != http.StatusNotFound {
			t.Errorf("%s %s %s: status %d, want 404", tt.method, tt.target, tt.body, code)
		}
		if got := decode[ErrorBody](t, body).Error; got != tt.want {
			t.Errorf("%s %s %s: error %q, want %q", tt.method, tt.target, tt.body, got, tt.want)
		}
	}
}

func TestHandlerControlTargets(t *testing.T) {
	b := startBackend(t)
	h := NewHandler(b, slog.New(slog.DiscardHandler))
	tests := []struct {
		target string
		want   []string
	}{
		{"redis", []string{"redis"}},
		{"cache", []string{"redis"}},
		// A service name wins over the group of the same name.
		{"workers", []string{"workers"}},
		{"other", []string{"workers"}},
	}
	for _, tt := range tests {
		code, body := serve(t, h, &admin, http.MethodPost, "/api/v1/control",
			fmt.Sprintf(`{"command": "monitor", "target": %q}`, tt.target))
		if code != http.StatusOK {
			t.Errorf("monitor %s: status %d, want 200; body %s", tt.target, code, body)
			continue
		}
		res := decode[ControlResult](t, body)
		var got []string
		for _, s := range res.Services {
			got = append(got, s.Service)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") || res.Command != "monitor" || res.Target != tt.target {
			t.Errorf("monitor %s = %+v, want services %v", tt.target, res, tt.want)
		}
	}

	// "all" reaches every service, and the one that cannot start gives 409.
	code, body := serve(t, h, &admin, http.MethodPost, "/api/v1/control", `{"command": "start", "target": "all"}`)
	if code != http.StatusConflict {
		t.Fatalf("start all: status %d, want 409; body %s", code, body)
	}
	res := decode[ControlResult](t, body)
	if len(res.Services) != 4 || res.Services[3].Service != "external" || res.Services[3].Error == "" {
		t.Errorf("start all = %+v, want 4 services and an error for external", res)
	}
	if res.Services[0].Error != "" || !strings.Contains(res.Error, "external has no start program") {
		t.Errorf("start all = %+v, want redis accepted and the error of external", res)
	}
}

func TestHandlerStopHoldsService(t *testing.T) {
	b := startBackend(t)
	h := NewHandler(b, slog.New(slog.DiscardHandler))

	code, body := serve(t, h, &admin, http.MethodPost, "/api/v1/control", `{"command": "stop", "target": "cache"}`)
	if code != http.StatusOK {
		t.Fatalf("stop cache: status %d, want 200; body %s", code, body)
	}
	ok := testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		_, body = serve(t, h, &readOnly, http.MethodGet, "/api/v1/services/redis", "")
		v := decode[ServiceView](t, body)
		return v.State == "stopped" && v.Held && v.PID == 0
	})
	if !ok {
		t.Fatalf("redis after stop: %s, want stopped, held, no PID", body)
	}
}

func TestHandlerRequestErrors(t *testing.T) {
	b := startBackend(t)
	h := NewHandler(b, slog.New(slog.DiscardHandler))
	tests := []struct {
		name                 string
		caller               *Caller
		method, target, body string
		status               int
		want                 string
	}{
		{"no caller", nil, http.MethodGet, "/api/v1/services", "", http.StatusUnauthorized, "authentication required"},
		{"read-only POST", &readOnly, http.MethodPost, "/api/v1/control", `{"command": "stop", "target": "redis"}`,
			http.StatusForbidden, "permission denied: viewer may not send commands"},
		{"read-only reload", &readOnly, http.MethodPost, "/api/v1/reload", ``,
			http.StatusForbidden, "permission denied: viewer may not send commands"},
		{"unknown command", &admin, http.MethodPost, "/api/v1/control", `{"command": "kill", "target": "redis"}`,
			http.StatusBadRequest, `unknown command "kill": want start, stop, restart, monitor, unmonitor`},
		{"missing target", &admin, http.MethodPost, "/api/v1/control", `{"command": "stop"}`,
			http.StatusBadRequest, `missing target: want a service name, a group name or "all"`},
		{"unknown field", &admin, http.MethodPost, "/api/v1/control", `{"command": "stop", "service": "redis"}`,
			http.StatusBadRequest, `invalid request body: json: unknown field "service"`},
		{"wrong method", &admin, http.MethodDelete, "/api/v1/services", "",
			http.StatusMethodNotAllowed, "DELETE /api/v1/services: method not allowed, want GET"},
		{"GET on POST endpoint", &admin, http.MethodGet, "/api/v1/reload", "",
			http.StatusMethodNotAllowed, "GET /api/v1/reload: method not allowed, want POST"},
		{"no endpoint", &admin, http.MethodGet, "/api/v1/nothing", "", http.StatusNotFound, "no API endpoint at /api/v1/nothing"},
		{"read-only procmatch", &readOnly, http.MethodGet, "/api/v1/procmatch?pattern=x", "",
			http.StatusForbidden, "permission denied: viewer may not list the processes of the host"},
		{"missing pattern", &admin, http.MethodGet, "/api/v1/procmatch", "",
			http.StatusBadRequest, "missing pattern: want a regular expression over the command line, such as pattern=redis-server"},
		{"invalid pattern", &admin, http.MethodGet, "/api/v1/procmatch?pattern=redis(", "",
			http.StatusBadRequest, "invalid pattern: error parsing regexp: missing closing ): `redis(`"},
		{"invalid pick", &admin, http.MethodGet, "/api/v1/procmatch?pattern=x&pick=first", "",
			http.StatusBadRequest, `invalid pick "first": want "oldest" or "newest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := serve(t, h, tt.caller, tt.method, tt.target, tt.body)
			if code != tt.status {
				t.Errorf("%s %s: status %d, want %d", tt.method, tt.target, code, tt.status)
			}
			if got := decode[ErrorBody](t, body).Error; got != tt.want {
				t.Errorf("%s %s: error %q, want %q", tt.method, tt.target, got, tt.want)
			}
		})
	}
}

func TestHandlerDaemon(t *testing.T) {
	b := startBackend(t)
	h := NewHandler(b, slog.New(slog.DiscardHandler))

	code, body := serve(t, h, &readOnly, http.MethodGet, "/api/v1/daemon", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/daemon: status %d, want 200; body %s", code, body)
	}
	d := decode[DaemonView](t, body)
	if d.Version != "test" || d.PID != 42 || d.Hostname != "host1" || d.ConfigError == "" {
		t.Errorf("daemon = %+v, want the backend's facts", d)
	}
	if d.UptimeSeconds < 59 {
		t.Errorf("daemon uptime %.1fs, want at least 59s", d.UptimeSeconds)
	}
	if a := d.Alerts; a.QueueDepth != 3 || a.Failures != 7 || a.LastErrorAt == nil || !strings.Contains(a.LastError, "refused") {
		t.Errorf("daemon alerts = %+v, want depth 3, 7 failures and the last error", a)
	}
	if !strings.Contains(string(body), `"queue_depth": 3`) {
		t.Errorf("GET /api/v1/daemon: body lacks queue_depth:\n%s", body)
	}
}

func TestHandlerReload(t *testing.T) {
	b := startBackend(t)
	var logged bytes.Buffer
	h := NewHandler(b, slog.New(slog.NewTextHandler(&logged, nil)))

	code, body := serve(t, h, &admin, http.MethodPost, "/api/v1/reload", `{"dry_run": true}`)
	if code != http.StatusOK {
		t.Fatalf("POST reload dry run: status %d, want 200; body %s", code, body)
	}
	plan := decode[ReloadResult](t, body)
	if !plan.DryRun || len(plan.Added) != 1 || plan.Added[0] != "new" || plan.Removed == nil {
		t.Errorf("reload dry run = %+v, want dry_run, added [new] and empty lists, not null", plan)
	}
	if !b.reloadDry || b.reloadBy != admin.Name {
		t.Errorf("Backend.Reload got dryRun %v, by %q; want true, %q", b.reloadDry, b.reloadBy, admin.Name)
	}
	if want := `by="uid 1000 (alice)"`; !strings.Contains(logged.String(), want) {
		t.Errorf("log lacks %s:\n%s", want, logged.String())
	}

	// An empty body applies the reload.
	if code, body = serve(t, h, &admin, http.MethodPost, "/api/v1/reload", ""); code != http.StatusOK {
		t.Fatalf("POST reload: status %d, want 200; body %s", code, body)
	}
	if b.reloadDry {
		t.Error("POST reload without a body: Backend.Reload got dryRun true, want false")
	}

	b.reloadErr = errors.New("conf.d/redis.toml:4: unknown key")
	code, body = serve(t, h, &admin, http.MethodPost, "/api/v1/reload", "")
	if code != http.StatusUnprocessableEntity {
		t.Errorf("POST reload of a bad configuration: status %d, want 422", code)
	}
	if got, want := decode[ErrorBody](t, body).Error, "reload rejected: conf.d/redis.toml:4: unknown key"; got != want {
		t.Errorf("POST reload of a bad configuration: error %q, want %q", got, want)
	}
}

func TestHandlerControlLogsCaller(t *testing.T) {
	b := startBackend(t)
	var logged bytes.Buffer
	h := NewHandler(b, slog.New(slog.NewTextHandler(&logged, nil)))

	serve(t, h, &admin, http.MethodPost, "/api/v1/control", `{"command": "monitor", "target": "redis"}`)
	line := logged.String()
	for _, want := range []string{"msg=\"control command\"", "command=monitor", "target=redis", `by="uid 1000 (alice)"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log lacks %s:\n%s", want, line)
		}
	}
}

func TestHandlerProcMatch(t *testing.T) {
	b := startBackend(t)
	h := NewHandler(b, slog.New(slog.DiscardHandler))
	list, err := b.Status(testenv.Context(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// redis, worker and workers each run one sleep; redis started first.
	ok := testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		list, err = b.Status(testenv.Context(t, time.Minute))
		return err == nil && list[1].PID != 0 && list[2].PID != 0
	})
	if !ok {
		t.Fatal("worker and workers did not start")
	}

	for _, pick := range []string{"oldest", "newest"} {
		code, body := serve(t, h, &admin, http.MethodGet, "/api/v1/procmatch?pattern=^sleep+"+sleepSeconds+"$&pick="+pick, "")
		if code != http.StatusOK {
			t.Fatalf("GET procmatch: status %d, want 200; body %s", code, body)
		}
		m := decode[ProcMatchView](t, body)
		if m.Count != 3 || len(m.Processes) != 3 {
			t.Fatalf("procmatch pick %s: count %d, %d processes, want 3: %+v", pick, m.Count, len(m.Processes), m)
		}
		if m.Processes[0].Cmdline != "sleep "+sleepSeconds {
			t.Errorf("procmatch: first cmdline %q, want %q", m.Processes[0].Cmdline, "sleep "+sleepSeconds)
		}
		want := m.Processes[0]
		if pick == "newest" {
			want = m.Processes[2]
		}
		if m.Winner != want.PID || !want.Winner || m.Pick != pick {
			t.Errorf("procmatch pick %s: winner %d, want PID %d marked as winner", pick, m.Winner, want.PID)
		}
	}

	code, body := serve(t, h, &admin, http.MethodGet, "/api/v1/procmatch?pattern=^no-such-program-anywhere$", "")
	m := decode[ProcMatchView](t, body)
	if code != http.StatusOK || m.Count != 0 || m.Winner != 0 || !strings.Contains(m.Reason, "no process matches") {
		t.Errorf("procmatch without a match: status %d, %+v; want 200, count 0, a reason", code, m)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"redis", "redis", 0},
		{"redsi", "redis", 1},
		{"rdis", "redis", 1},
		{"postgres", "postgers", 1},
		{"", "abc", 3},
		{"sidekiq", "caddy", 6},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
