package web

// The browser test drives headless Chromium (Debian package chromium) against a Server
// over a real Supervisor. It skips when chromium is missing, and fails then under
// CI=true. Set TEND_ARTIFACTS to a directory to keep the screenshot.

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"tend/alert"
	"tend/config"
	"tend/internal/testenv"
	"tend/supervisor"
	"tend/supervisor/api"
)

// supervisorBackend is the api.Backend of a bare Supervisor, without an alert
// pipeline or reload.
type supervisorBackend struct {
	*supervisor.Supervisor
	started time.Time
}

func (supervisorBackend) Reload(context.Context, bool, string) (supervisor.ReloadPlan, error) {
	return supervisor.ReloadPlan{}, errors.New("reload is not supported by the test backend")
}

func (supervisorBackend) Alerts() alert.Status { return alert.Status{} }

func (b supervisorBackend) Daemon() api.Daemon {
	return api.Daemon{Version: "test", PID: os.Getpid(), Started: b.started, Hostname: "browser-test"}
}

type discardAlerts struct{}

func (discardAlerts) Send(alert.Event) error { return nil }

// startSupervisor runs a Supervisor with one owned service, sleeper, until the test
// ends, and waits until the service has a PID.
func startSupervisor(t *testing.T) supervisorBackend {
	t.Helper()
	svc := config.Service{
		Name:         "sleeper",
		Command:      []string{"sleep", "600"},
		StopSignal:   config.Signal(syscall.SIGTERM),
		StartTimeout: config.Duration(5 * time.Second),
		StopTimeout:  config.Duration(2 * time.Second),
		RestartLimit: config.RestartLimit{Restarts: 5, Cycles: 5},
		Checks:       []config.Check{{Type: config.CheckProcess, ForCycles: 1, Action: config.ActionRestart}},
	}
	cfg := &config.Config{Interval: config.Duration(time.Second), Hostname: "browser-test",
		StateDir: t.TempDir(), Services: []config.Service{svc}}
	sup, err := supervisor.New(supervisor.Options{Config: cfg, Alerter: discardAlerts{}, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("supervisor.New: %v", err)
	}
	sup.StopOwnedOnExit()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, func() {}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("supervisor Run: %v", err)
		}
	})

	b := supervisorBackend{Supervisor: sup, started: time.Now()}
	if pid := waitPID(t, b, func(pid int) bool { return pid != 0 }); pid == 0 {
		t.Fatal("sleeper did not start")
	}
	return b
}

// waitPID polls the PID of sleeper until cond holds, and returns the last PID seen.
func waitPID(t *testing.T, b api.Backend, cond func(int) bool) int {
	t.Helper()
	pid := 0
	testenv.WaitFor(testenv.Context(t, 30*time.Second), func() bool {
		pid = currentPID(t, b)
		return cond(pid)
	})
	return pid
}

func currentPID(t *testing.T, b api.Backend) int {
	t.Helper()
	st, err := b.Status(testenv.Context(t, 10*time.Second))
	if err != nil || len(st) != 1 {
		t.Fatalf("Status = %+v, %v; want sleeper", st, err)
	}
	return st[0].PID
}

// browserTab opens a tab that sends the Basic credentials of user with every request.
func browserTab(t *testing.T, browser context.Context, user, password string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	credentials := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		if _, err := cdp.Call(ctx, target, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		headers := network.Headers{"Authorization": "Basic " + credentials}
		_, err := cdp.Call(ctx, target, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: headers})
		return err
	}))
	if err != nil {
		t.Fatalf("open tab for %s: %v", user, err)
	}
	return tab
}

func TestBrowser(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "chromium")
	b := startSupervisor(t)
	s := startServer(t, &config.HTTP{Listen: "127.0.0.1:0", Users: testUsers(t)}, b)

	ctx := testenv.Context(t, 2*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 700))...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	t.Run("admin restarts", func(t *testing.T) { testAdminRestart(t, browser, s, b) })
	t.Run("read-only refused", func(t *testing.T) { testReadOnlyRefused(t, browser, s, b) })
}

func testAdminRestart(t *testing.T, browser context.Context, s *Server, b supervisorBackend) {
	tab := browserTab(t, browser, adminName, adminPassword)
	before := currentPID(t, b)
	pidSel := chromedp.CSS(`article[data-service="sleeper"] .pid`)
	if err := chromedp.Do(tab, chromedp.Navigate(s.URL()+"/"), chromedp.WaitVisible(pidSel)); err != nil {
		t.Fatalf("load the page: %v", err)
	}
	shown, err := chromedp.Run(tab, chromedp.Text(pidSel))
	if err != nil {
		t.Fatalf("read the PID: %v", err)
	}
	if shown != strconv.Itoa(before) {
		t.Errorf("page shows PID %q, want %d", shown, before)
	}

	button := chromedp.CSS(`button[data-service="sleeper"][data-command="restart"]`)
	if err := chromedp.Do(tab, chromedp.Click(button)); err != nil {
		t.Fatalf("click restart: %v", err)
	}
	after := waitPID(t, b, func(pid int) bool { return pid != 0 && pid != before })
	if after == before || after == 0 {
		t.Fatalf("PID after restart = %d, want a new one (was %d)", after, before)
	}

	// The page refreshes itself every few seconds.
	ok := testenv.WaitFor(testenv.Context(t, 30*time.Second), func() bool {
		shown, err = chromedp.Run(tab, chromedp.Text(pidSel))
		return err == nil && shown == strconv.Itoa(after)
	})
	if !ok {
		t.Errorf("page shows PID %q after the restart, want %d", shown, after)
	}
	saveScreenshot(t, tab, "status-page-admin.png")
}

func testReadOnlyRefused(t *testing.T, browser context.Context, s *Server, b supervisorBackend) {
	tab := browserTab(t, browser, viewerName, viewerPassword)
	before := currentPID(t, b)
	err := chromedp.Do(tab,
		chromedp.Navigate(s.URL()+"/"),
		chromedp.WaitVisible(chromedp.CSS(`article[data-service="sleeper"]`)))
	if err != nil {
		t.Fatalf("load the page: %v", err)
	}
	buttons, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll("button[data-command]").length`))
	if err != nil {
		t.Fatalf("count the buttons: %v", err)
	}
	// The page shows no buttons to a read-only user, so the test calls the function
	// behind them.
	status, err := chromedp.Run(tab, chromedp.Evaluate[int](`window.tend.control("sleeper", "restart")`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("restart as a read-only user: %v", err)
	}
	message, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("#message")))
	if err != nil {
		t.Fatalf("read the message: %v", err)
	}
	if buttons != 0 {
		t.Errorf("page for a read-only user has %d buttons, want 0", buttons)
	}
	if status != 403 {
		t.Errorf("restart as a read-only user: HTTP %d, want 403", status)
	}
	if !strings.Contains(message, "read-only") {
		t.Errorf("message after the refused restart = %q, want it to say read-only", message)
	}
	if after := currentPID(t, b); after != before {
		t.Errorf("PID after the refused restart = %d, want %d", after, before)
	}
	saveScreenshot(t, tab, "status-page-read-only.png")
}

// saveScreenshot writes a screenshot of the tab into $TEND_ARTIFACTS, or a temporary
// directory, and logs its path.
func saveScreenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	dir := os.Getenv("TEND_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("create %s: %v", dir, err)
		return
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("write screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}
