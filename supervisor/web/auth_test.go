package web

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tend/config"
	"tend/supervisor"
	"tend/supervisor/api"
)

func authServer(t *testing.T) (*Server, *fakeBackend) {
	t.Helper()
	b := &fakeBackend{
		statuses: []supervisor.ServiceStatus{{Name: "redis", State: supervisor.StateRunning, PID: 4242}},
		daemon:   api.Daemon{Version: "test", Hostname: "host1"},
	}
	cfg := &config.HTTP{Listen: "127.0.0.1:0", Users: testUsers(t)}
	return startServer(t, cfg, b), b
}

func TestAuthentication(t *testing.T) {
	s, b := authServer(t)
	action := "/api/v1/control"
	restart := `{"command": "restart", "target": "redis"}`
	tests := []struct {
		name, method, path string
		user, password     string
		header             map[string]string
		wantStatus         int
		wantBody           string
		wantCommand        string
	}{
		{name: "page without credentials", method: "GET", path: "/", wantStatus: 401},
		{name: "metrics without credentials", method: "GET", path: "/metrics", wantStatus: 401},
		{name: "api without credentials", method: "POST", path: action, wantStatus: 401,
			header: map[string]string{actionHeader: "1"}},
		{name: "wrong password", method: "GET", path: "/", user: adminName, password: "wrong", wantStatus: 401},
		{name: "unknown user", method: "GET", path: "/", user: "mallory", password: adminPassword, wantStatus: 401},
		{name: "viewer reads page", method: "GET", path: "/", user: viewerName, password: viewerPassword,
			wantStatus: 200, wantBody: "redis"},
		{name: "viewer reads metrics", method: "GET", path: "/metrics", user: viewerName, password: viewerPassword,
			wantStatus: 200, wantBody: "tend_up"},
		{name: "viewer action", method: "POST", path: action, user: viewerName, password: viewerPassword,
			header: map[string]string{actionHeader: "1"}, wantStatus: 403, wantBody: "read-only"},
		{name: "admin action", method: "POST", path: action, user: adminName, password: adminPassword,
			header: map[string]string{actionHeader: "1"}, wantStatus: 200, wantCommand: "restart redis by ops"},
		{name: "admin action same origin", method: "POST", path: action, user: adminName, password: adminPassword,
			header:     map[string]string{actionHeader: "1", "Origin": s.URL(), "Sec-Fetch-Site": "same-origin"},
			wantStatus: 200, wantCommand: "restart redis by ops"},
		{name: "missing CSRF header", method: "POST", path: action, user: adminName, password: adminPassword,
			wantStatus: 403, wantBody: "missing header X-Tend-Request"},
		{name: "wrong CSRF header", method: "POST", path: action, user: adminName, password: adminPassword,
			header: map[string]string{actionHeader: "yes"}, wantStatus: 403, wantBody: "missing header X-Tend-Request"},
		{name: "cross-site origin", method: "POST", path: action, user: adminName, password: adminPassword,
			header:     map[string]string{actionHeader: "1", "Origin": "https://attacker.example"},
			wantStatus: 403, wantBody: "cross-origin request rejected"},
		{name: "cross-site fetch", method: "POST", path: action, user: adminName, password: adminPassword,
			header:     map[string]string{actionHeader: "1", "Sec-Fetch-Site": "cross-site"},
			wantStatus: 403, wantBody: "cross-origin request rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(b.commands())
			var body string
			if tt.method == "POST" {
				body = restart
			}
			resp := doBody(t, http.DefaultClient, tt.method, s.URL()+tt.path, body, func(r *http.Request) {
				if tt.user != "" {
					r.SetBasicAuth(tt.user, tt.password)
				}
				for k, v := range tt.header {
					r.Header.Set(k, v)
				}
			})
			if resp.status != tt.wantStatus {
				t.Fatalf("%s %s: status %d, want %d; body %q", tt.method, tt.path, resp.status, tt.wantStatus, resp.body)
			}
			if !strings.Contains(resp.body, tt.wantBody) {
				t.Errorf("%s %s: body %q does not contain %q", tt.method, tt.path, resp.body, tt.wantBody)
			}
			if tt.wantStatus == 401 && !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge", resp.header.Get("WWW-Authenticate"))
			}
			got := b.commands()[before:]
			var want []string
			if tt.wantCommand != "" {
				want = []string{tt.wantCommand}
			}
			if !slices.Equal(got, want) {
				t.Errorf("commands sent to the backend = %q, want %q", got, want)
			}
		})
	}
}

// The page offers buttons only to admins.
func TestPageButtonsForAdminsOnly(t *testing.T) {
	s, _ := authServer(t)
	for _, tt := range []struct {
		user, password string
		buttons        bool
	}{
		{adminName, adminPassword, true},
		{viewerName, viewerPassword, false},
	} {
		resp := do(t, http.DefaultClient, "GET", s.URL()+"/", func(r *http.Request) {
			r.SetBasicAuth(tt.user, tt.password)
		})
		button := `data-command="restart"`
		if got := strings.Contains(resp.body, button); got != tt.buttons {
			t.Errorf("page for %s contains %s: %v, want %v", tt.user, button, got, tt.buttons)
		}
	}
}

// Without users, a loopback listener serves everyone as a read-only caller.
func TestAnonymousLoopbackReadOnly(t *testing.T) {
	b := &fakeBackend{statuses: []supervisor.ServiceStatus{{Name: "redis", State: supervisor.StateRunning}}}
	s := startServer(t, &config.HTTP{Listen: "127.0.0.1:0"}, b)

	resp := do(t, http.DefaultClient, "GET", s.URL()+"/", nil)
	if resp.status != 200 || !strings.Contains(resp.body, "anonymous (loopback)") {
		t.Errorf("GET /: status %d, body without the anonymous caller: %q", resp.status, resp.body)
	}
	stop := `{"command": "stop", "target": "redis"}`
	resp = doBody(t, http.DefaultClient, "POST", s.URL()+"/api/v1/control", stop, func(r *http.Request) {
		r.Header.Set(actionHeader, "1")
	})
	if resp.status != 403 {
		t.Errorf("POST stop: status %d, want 403; body %q", resp.status, resp.body)
	}
	if got := b.commands(); len(got) != 0 {
		t.Errorf("commands sent to the backend = %q, want none", got)
	}
}

func TestNewRejectsAnonymousNonLoopback(t *testing.T) {
	a, err := newAuthenticator(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{auth: a}
	for _, addr := range []string{"0.0.0.0:2812", "[::]:2812", "192.0.2.10:2812"} {
		tcp, err := netResolve(addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.checkAnonymous(tcp); err == nil || !strings.Contains(err.Error(), "without [[http.user]] entries is rejected") {
			t.Errorf("checkAnonymous(%s) = %v, want an error about users", addr, err)
		}
	}
	tcp, _ := netResolve("127.0.0.1:2812")
	if err := s.checkAnonymous(tcp); err != nil {
		t.Errorf("checkAnonymous(127.0.0.1:2812) = %v, want nil", err)
	}
}

// A verified password is cached for a minute, so that a page refresh costs no bcrypt.
func TestAuthenticatorCache(t *testing.T) {
	a, err := newAuthenticator(testUsers(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a.now = func() time.Time { return now }
	req, _ := http.NewRequest("GET", "/", nil)

	if _, err := a.verify(req, adminName, adminPassword); err != nil {
		t.Fatalf("verify(ops, right password) = %v", err)
	}
	// With the hash gone, only the cache can accept the password.
	a.users[adminName] = account{hash: []byte("not a hash"), role: api.RoleAdmin}
	if c, err := a.verify(req, adminName, adminPassword); err != nil || c.Name != adminName || c.Role != api.RoleAdmin {
		t.Errorf("verify within a minute = %+v, %v; want ops as admin from the cache", c, err)
	}
	if _, err := a.verify(req, adminName, "wrong"); err == nil {
		t.Errorf("verify(ops, wrong password) = nil error, want one")
	}
	now = now.Add(cacheTTL)
	if _, err := a.verify(req, adminName, adminPassword); err == nil {
		t.Errorf("verify after the cache expired = nil error, want one")
	}
}
