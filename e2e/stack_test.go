package e2e

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/internal/testenv"
)

// stack is the Rails stack of conf.d, set up in a temporary directory.
type stack struct {
	// cfg is tend's main file.
	cfg string
	mp  *testenv.Mailpit
	// redisAddr, pumaAddr and caddyAddr are the listening addresses on 127.0.0.1.
	redisAddr, pumaAddr, caddyAddr string
	// postgresAddr is PostgreSQL's TCP address.
	postgresAddr string
	// jobMarker is the file that the Sidekiq job of the test writes.
	jobMarker string
}

// stackServices are the services of the stack that have a process, in the order the
// test kills them: the leaves first, then what they depend on.
var stackServices = []string{"sidekiq", "puma", "caddy", "redis", "postgresql"}

// The whole stack under tend: every service with a process is killed with SIGKILL in
// turn, and tend must start it again and send a failure mail for it. Sidekiq must
// reach READY=1 through NOTIFY_SOCKET at every start.
func TestStackSurvivesKills(t *testing.T) {
	s := setUpStack(t)
	out := startTend(t, s.cfg)
	waitRunning(t, s.cfg, stackServices...)
	if views := status(t, s.cfg); views["host"].Name != "host" {
		t.Errorf("tend status lacks the host service: %s", describe(views))
	}
	waitSidekiqReady(t, s.cfg, 0)
	if !loggedReady(out.String(), "sidekiq") {
		t.Errorf("tend did not log the READY=1 that Sidekiq sent")
	}
	s.runJob(t)

	for _, name := range stackServices {
		t.Run(name, func(t *testing.T) {
			s.killAndRecover(t, name)
		})
	}
}

// killAndRecover kills the process of service name with SIGKILL and waits until
// tend has started a new one that serves again, and a failure mail arrived.
func (s *stack) killAndRecover(t *testing.T, name string) {
	old := waitRunning(t, s.cfg, stackServices...)[name]
	subject := name + " failed: process"
	mails := countMail(t, s.mp, subject)

	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d (%s): %v", old, name, err)
	}
	ctx := testenv.Context(t, 3*time.Minute)
	restarted := testenv.WaitFor(ctx, func() bool {
		v := status(t, s.cfg)[name]
		return v.State == "running" && v.PID != 0 && v.PID != old
	})
	if !restarted {
		t.Fatalf("%s was not restarted after kill -9 of PID %d: %s", name, old, describe(status(t, s.cfg)))
	}
	if !s.serves(ctx, t, name, old) {
		t.Errorf("%s does not serve again after the restart: %s", name, describe(status(t, s.cfg)))
	}
	waitMail(t, s.mp, subject, mails)
	waitRunning(t, s.cfg, stackServices...)
}

// serves waits until the service name responds as it should: Sidekiq with READY=1
// from a process other than old, Puma's health route directly and through Caddy,
// Redis with PONG, PostgreSQL on its port.
func (s *stack) serves(ctx context.Context, t *testing.T, name string, old int) bool {
	switch name {
	case "sidekiq":
		waitSidekiqReady(t, s.cfg, old)
		return true
	case "puma":
		return testenv.WaitFor(ctx, func() bool { return httpOK(ctx, "http://"+s.pumaAddr+"/health", "ok") })
	case "caddy":
		return testenv.WaitFor(ctx, func() bool { return httpOK(ctx, "http://"+s.caddyAddr+"/health", "ok") })
	case "redis":
		return testenv.WaitFor(ctx, func() bool {
			reply, err := redisCommand(ctx, s.redisAddr, "PING")
			return err == nil && reply == "+PONG"
		})
	case "postgresql":
		return testenv.WaitTCP(ctx, s.postgresAddr)
	}
	t.Fatalf("no readiness test for service %s", name)
	return false
}

// waitSidekiqReady waits until tend shows Sidekiq running because of its READY=1, in
// a process other than old.
func waitSidekiqReady(t *testing.T, cfg string, old int) {
	t.Helper()
	ok := testenv.WaitFor(testenv.Context(t, 2*time.Minute), func() bool {
		v := status(t, cfg)["sidekiq"]
		return v.State == "running" && v.PID != old && strings.Contains(v.Reason, "READY=1")
	})
	if !ok {
		t.Fatalf("sidekiq is not running after READY=1: %s", describe(status(t, cfg)))
	}
}

// loggedReady reports whether the debug log of tend has a notify message READY=1
// from service.
func loggedReady(log, service string) bool {
	for line := range strings.Lines(log) {
		if strings.Contains(line, `msg="notify message"`) && strings.Contains(line, "service="+service+" ") &&
			strings.Contains(line, `message="READY=1"`) {
			return true
		}
	}
	return false
}

// runJob pushes a job onto Sidekiq's default queue in Redis and waits until the
// worker has run it, which shows that Sidekiq reached the Redis of the test.
func (s *stack) runJob(t *testing.T) {
	t.Helper()
	ctx := testenv.Context(t, time.Minute)
	now := float64(time.Now().UnixNano()) / 1e9
	job := fmt.Sprintf(`{"class":"TouchJob","args":[%q],"queue":"default","jid":"0123456789abcdef01234567",`+
		`"retry":false,"created_at":%f,"enqueued_at":%f}`, s.jobMarker, now, now)
	if reply, err := redisCommand(ctx, s.redisAddr, "LPUSH", "queue:default", job); err != nil || reply != ":1" {
		t.Fatalf("LPUSH queue:default = %q, %v; want :1", reply, err)
	}
	ran := testenv.WaitFor(ctx, func() bool {
		_, err := os.Stat(s.jobMarker)
		return err == nil
	})
	if !ran {
		t.Fatalf("sidekiq did not run the job: %s does not exist", s.jobMarker)
	}
}

// setUpStack looks up every component, writes the app, the configuration of Redis
// and Caddy, the shipped drop-ins adapted to the test's paths and ports, and tend's
// main file. It starts mailpit; tend starts everything else.
func setUpStack(t *testing.T) *stack {
	t.Helper()
	bins := map[string]string{
		"redis-server": testenv.LookPath(t, "redis-server", testenv.RedisInstall),
		"sidekiq":      testenv.LookPath(t, "sidekiq", "apt-get install ruby-sidekiq"),
		"puma":         testenv.LookPath(t, "puma", "apt-get install puma"),
		"caddy":        testenv.LookPath(t, "caddy", "apt-get install caddy"),
	}
	pg := testenv.InitPostgres(t, testenv.PostgresOptions{})
	dir := testenv.SocketDir(t)
	s := &stack{
		cfg: filepath.Join(dir, "tend.toml"), mp: testenv.StartMailpit(t),
		redisAddr: testenv.Addr(testenv.FreePort(t)), pumaAddr: testenv.Addr(testenv.FreePort(t)),
		caddyAddr: testenv.Addr(testenv.FreePort(t)), postgresAddr: pg.Addr(),
		jobMarker: filepath.Join(dir, "job-ran"),
	}
	app := filepath.Join(dir, "app")
	writeApp(t, app)

	dropIns := map[string]string{
		"postgresql.toml": postgresDropIn(t, pg),
		"redis.toml":      s.redisDropIn(t, dir, bins["redis-server"]),
		"sidekiq.toml":    s.railsDropIn(t, "sidekiq.toml", bins["sidekiq"], dir),
		"puma.toml":       s.railsDropIn(t, "puma.toml", bins["puma"], dir),
		"caddy.toml":      s.caddyDropIn(t, dir, bins["caddy"]),
		"host.toml":       adaptDropIn(t, "host.toml"),
	}
	for name, text := range dropIns {
		mustWrite(t, filepath.Join(dir, "conf.d", name), text)
	}
	mustWrite(t, s.cfg, fmt.Sprintf(`interval = "1s"
state_dir = "state"
include = ["conf.d/*.toml"]
hostname = "stack-e2e"

[control]
socket = "tend.sock"

[alerts]
digest_window = "0s"   # one message per event, which the test counts

[mail]
host = "127.0.0.1"
port = %d
tls = "none"
from = "tend@stack-e2e.test"
to = ["ops@stack-e2e.test"]
timeout = "5s"
`, s.mp.SMTPPort))
	return s
}

// writeApp writes the Rack app that Puma serves, with a /health route, and the
// Sidekiq worker file with the job that runJob enqueues.
func writeApp(t *testing.T, app string) {
	t.Helper()
	mustWrite(t, filepath.Join(app, "config.ru"), `# The app of the end-to-end test: /health returns "ok".
run lambda { |env|
  if env["PATH_INFO"] == "/health"
    [200, { "content-type" => "text/plain" }, ["ok\n"]]
  else
    [404, { "content-type" => "text/plain" }, ["not found\n"]]
  end
}
`)
	mustWrite(t, filepath.Join(app, "worker.rb"), `# The worker of the end-to-end test: TouchJob writes its argument as a file.
require "sidekiq"

# redis-rb 4.8 warns about every call that Sidekiq 6.4 makes the old way.
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

class TouchJob
  include Sidekiq::Worker

  def perform(path)
    File.write(path, Process.pid.to_s)
  end
end
`)
}

// account returns the replacement of the shipped account "deploy": the test's own
// user when the test runs as root, and no user key otherwise, since only root may
// run a program as a named user.
func account(t *testing.T) replacement {
	t.Helper()
	if os.Geteuid() != 0 {
		return replacement{`user = "deploy"` + "\n", ""}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("current user: %v", err)
	}
	return replacement{`user = "deploy"`, fmt.Sprintf("user = %q", u.Username)}
}

// postgresDropIn adapts postgresql.toml to the cluster pg, which pg_ctl starts and
// stops in place of Debian's pg_ctlcluster.
func postgresDropIn(t *testing.T, pg *testenv.Postgres) string {
	t.Helper()
	return adaptDropIn(t, "postgresql.toml",
		replacement{"/var/run/postgresql/15-main.pid", filepath.Join(pg.Data, "postmaster.pid")},
		replacement{`["/usr/bin/pg_ctlcluster", "15", "main", "start"]`, tomlList(pg.Ctl("start", "-w", "-t", "60"))},
		replacement{`["/usr/bin/pg_ctlcluster", "--mode", "fast", "15", "main", "stop"]`,
			tomlList(pg.Ctl("stop", "-m", "fast"))},
		replacement{"/var/run/postgresql/.s.PGSQL.5432", pg.Socket()},
		replacement{"127.0.0.1:5432", pg.Addr()},
	)
}

// redisDropIn writes a redis.conf that daemonizes and writes a pidfile, as Debian's
// does, and adapts redis.toml to start redis-server on it. The test has no systemd,
// so the stop program goes, and tend stops Redis with its stop signal instead.
func (s *stack) redisDropIn(t *testing.T, dir, bin string) string {
	t.Helper()
	pidfile := filepath.Join(dir, "redis.pid")
	conf := filepath.Join(dir, "redis.conf")
	_, port, _ := strings.Cut(s.redisAddr, ":")
	mustWrite(t, conf, fmt.Sprintf("port %s\nbind 127.0.0.1\ndaemonize yes\npidfile %s\ndir %s\n"+
		"logfile %s\nsave \"\"\nappendonly no\n", port, pidfile, dir, filepath.Join(dir, "redis.log")))
	t.Cleanup(func() { killByPidfile(pidfile) })

	return adaptDropIn(t, "redis.toml",
		replacement{"/run/redis/redis-server.pid", pidfile},
		replacement{`["/usr/bin/systemctl", "start", "redis-server.service"]`, tomlList([]string{bin, conf})},
		replacement{`stop = ["/usr/bin/systemctl", "stop", "redis-server.service"]` + "\n", ""},
		replacement{"127.0.0.1:6379", s.redisAddr},
	)
}

// railsDropIn adapts sidekiq.toml or puma.toml to the app in dir/app, the shared
// files in dir/shared, and the Redis and Puma addresses of the test. Sidekiq
// requires the worker file, where a Rails app has its root directory.
func (s *stack) railsDropIn(t *testing.T, name, bin, dir string) string {
	t.Helper()
	app, shared := filepath.Join(dir, "app"), filepath.Join(dir, "shared")
	if err := os.MkdirAll(filepath.Join(shared, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	program := "/usr/bin/" + strings.TrimSuffix(name, ".toml")
	repl := []replacement{{program, bin}}
	if name == "sidekiq.toml" {
		repl = append(repl, replacement{`"--require", "/srv/app/current"`,
			fmt.Sprintf(`"--require", %q`, filepath.Join(app, "worker.rb"))})
	} else {
		repl = append(repl, replacement{"127.0.0.1:3000", s.pumaAddr})
	}
	repl = append(repl,
		replacement{"/srv/app/current", app},
		replacement{"/srv/app/shared", shared},
		replacement{"127.0.0.1:6379", s.redisAddr},
		account(t),
	)
	return adaptDropIn(t, name, repl...)
}

// caddyDropIn writes a Caddyfile that proxies to Puma, with the admin endpoint off
// (it would listen on the fixed port 2019), and adapts caddy.toml to start Caddy on
// it with `caddy start`. Caddy keeps its state in dir. The stop program goes, as for
// Redis, and tend stops Caddy with its stop signal.
func (s *stack) caddyDropIn(t *testing.T, dir, bin string) string {
	t.Helper()
	caddyfile := filepath.Join(dir, "caddy", "Caddyfile")
	pidfile := filepath.Join(dir, "caddy", "caddy.pid")
	mustWrite(t, caddyfile, fmt.Sprintf("{\n\tadmin off\n}\n\nhttp://%s {\n\treverse_proxy %s\n}\n",
		s.caddyAddr, s.pumaAddr))
	t.Cleanup(func() { killByPidfile(pidfile) })

	start := []string{"env", "XDG_CONFIG_HOME=" + filepath.Join(dir, "caddy", "config"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "caddy", "data"),
		bin, "start", "--config", caddyfile, "--pidfile", pidfile}
	match := "'^" + regexp.QuoteMeta(bin) + " run .*--config " + regexp.QuoteMeta(caddyfile) + "'"
	return adaptDropIn(t, "caddy.toml",
		replacement{`'^/usr/bin/caddy run .*--config /etc/caddy/Caddyfile'`, match},
		replacement{`["/usr/bin/systemctl", "start", "caddy.service"]`, tomlList(start)},
		replacement{`stop = ["/usr/bin/systemctl", "stop", "caddy.service"]` + "\n", ""},
		replacement{"127.0.0.1:80", s.caddyAddr},
	)
}
