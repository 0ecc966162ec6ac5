package config

import (
	"os/user"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// checkFile returns a main file with one service and one check. owned services have
// a command, and the others are host services. The check's header is on line 5.
func checkFile(owned bool, check string) string {
	program := "# a host service"
	if owned {
		program = `command = ["app"]`
	}
	return "[[service]]\nname = \"svc\"\n" + program + "\n\n[[service.check]]\n" + check
}

// loadCheck loads a main file with the check and, when they are given, other files in
// the same directory, and returns the last check of the service.
func loadCheck(t *testing.T, owned bool, check string, files map[string]string) (Check, string) {
	t.Helper()
	all := map[string]string{"tend.toml": checkFile(owned, check)}
	for name, text := range files {
		all[name] = text
	}
	dir := writeFiles(t, all)
	path := filepath.Join(dir, "tend.toml")
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := cfg.Services[0].Checks
	return checks[len(checks)-1], path
}

// regexpStrings returns the source of every regular expression in c and sets them to
// nil, so that reflect.DeepEqual compares the rest of the check.
func regexpStrings(c *Check) map[string]string {
	fields := map[string]**regexp.Regexp{
		"Expect": &c.Expect, "Body": &c.Body, "Output": &c.Output, "Pattern": &c.Pattern,
	}
	for i := range c.Steps {
		fields["Steps["+strconv.Itoa(i)+"].Expect"] = &c.Steps[i].Expect
	}
	sources := map[string]string{}
	for name, re := range fields {
		if *re != nil {
			sources[name] = (*re).String()
			*re = nil
		}
	}
	return sources
}

func TestLoadCheckTypes(t *testing.T) {
	current, err := user.Current()
	if err != nil {
		t.Fatalf("user.Current: %v", err)
	}
	uid, err := strconv.Atoi(current.Uid)
	if err != nil {
		t.Fatalf("uid %q: %v", current.Uid, err)
	}

	tests := []struct {
		name   string
		owned  bool
		check  string
		files  map[string]string
		want   func(c *Check)
		regexp map[string]string
		secret string
	}{
		{
			name: "process", owned: true,
			check: "type = \"process\"\naction = \"restart\"\nfor_cycles = 2\nwithin_cycles = 5\n",
			want: func(c *Check) {
				c.Type, c.Action, c.ForCycles, c.WithinCycles = CheckProcess, ActionRestart, 2, 5
			},
		},
		{
			name: "pid", owned: true, check: "type = \"pid\"\n",
			want: func(c *Check) { c.Type = CheckPID },
		},
		{
			name: "ppid", owned: true, check: "type = \"ppid\"\naction = \"unmonitor\"\n",
			want: func(c *Check) { c.Type, c.Action = CheckPPID, ActionUnmonitor },
		},
		{
			name: "cpu", owned: true,
			check: "type = \"cpu\"\nabove = \"95%\"\naction = \"exec\"\nexec = [\"/usr/local/bin/page\", \"cpu\"]\n",
			want: func(c *Check) {
				c.Type, c.Of, c.Action = CheckCPU, CPUScopeMachine, ActionExec
				c.Limit = Limit{Value: 95, Unit: UnitPercent, Text: "95%"}
				c.Exec = []string{"/usr/local/bin/page", "cpu"}
			},
		},
		{
			name: "total_cpu per core", owned: true,
			check: "type = \"total_cpu\"\nabove = \"250%\"\nof = \"core\"\n",
			want: func(c *Check) {
				c.Type, c.Of = CheckTotalCPU, CPUScopeCore
				c.Limit = Limit{Value: 250, Unit: UnitPercent, Text: "250%"}
			},
		},
		{
			name: "memory", owned: true, check: "type = \"memory\"\nabove = \"600MB\"\n",
			want: func(c *Check) {
				c.Type, c.Limit = CheckMemory, Limit{Value: 600 << 20, Unit: UnitBytes, Text: "600MB"}
			},
		},
		{
			name: "total_memory", owned: true, check: "type = \"total_memory\"\nabove = \"2.5%\"\n",
			want: func(c *Check) {
				c.Type, c.Limit = CheckTotalMemory, Limit{Value: 2.5, Unit: UnitPercent, Text: "2.5%"}
			},
		},
		{
			name: "children", owned: true, check: "type = \"children\"\nabove = 10\n",
			want: func(c *Check) {
				c.Type, c.Limit = CheckChildren, Limit{Value: 10, Unit: UnitCount, Text: "10"}
			},
		},
		{
			name: "threads", owned: true, check: "type = \"threads\"\nbelow = \"2\"\n",
			want: func(c *Check) {
				c.Type, c.Limit = CheckThreads, Limit{Below: true, Value: 2, Unit: UnitCount, Text: "2"}
			},
		},
		{
			name: "fds", owned: true, check: "type = \"fds\"\nabove = \"80%\"\n",
			want: func(c *Check) {
				c.Type, c.Limit = CheckFDs, Limit{Value: 80, Unit: UnitPercent, Text: "80%"}
			},
		},
		{
			name: "uptime", owned: true, check: "type = \"uptime\"\nbelow = \"5m\"\n",
			want: func(c *Check) {
				c.Type, c.Limit = CheckUptime, Limit{Below: true, Value: 300, Unit: UnitDuration, Text: "5m"}
			},
		},
		{
			name: "load", check: "type = \"load\"\nabove = 1.5\nminutes = 5\nper_core = true\nfor_cycles = 5\n",
			want: func(c *Check) {
				c.Type, c.Minutes, c.PerCore, c.ForCycles = CheckLoad, 5, true, 5
				c.Limit = Limit{Value: 1.5, Unit: UnitCount, Text: "1.5"}
			},
		},
		{
			name: "load defaults", check: "type = \"load\"\nabove = 4\n",
			want: func(c *Check) {
				c.Type, c.Minutes = CheckLoad, 1
				c.Limit = Limit{Value: 4, Unit: UnitCount, Text: "4"}
			},
		},
		{
			name: "host_cpu", check: "type = \"host_cpu\"\nabove = \"20%\"\nusage = \"iowait\"\n",
			want: func(c *Check) {
				c.Type, c.Usage = CheckHostCPU, CPUUsageIOWait
				c.Limit = Limit{Value: 20, Unit: UnitPercent, Text: "20%"}
			},
		},
		{
			name: "host_cpu default usage", check: "type = \"host_cpu\"\nabove = \"95%\"\n",
			want: func(c *Check) {
				c.Type, c.Usage = CheckHostCPU, CPUUsageTotal
				c.Limit = Limit{Value: 95, Unit: UnitPercent, Text: "95%"}
			},
		},
		{
			name: "host_memory", check: "type = \"host_memory\"\nabove = \"85%\"\n",
			want: func(c *Check) {
				c.Type, c.Limit = CheckHostMemory, Limit{Value: 85, Unit: UnitPercent, Text: "85%"}
			},
		},
		{
			name: "swap", check: "type = \"swap\"\nabove = \"1GB\"\n",
			want: func(c *Check) {
				c.Type, c.Limit = CheckSwap, Limit{Value: 1 << 30, Unit: UnitBytes, Text: "1GB"}
			},
		},
		{
			name: "filesystem", check: "type = \"filesystem\"\npath = \"/var/lib\"\nabove = \"90%\"\n",
			want: func(c *Check) {
				c.Type, c.Path = CheckFilesystem, "/var/lib"
				c.Limit = Limit{Value: 90, Unit: UnitPercent, Text: "90%"}
			},
		},
		{
			name: "inodes", check: "type = \"inodes\"\npath = \"/\"\nabove = 1000000\n",
			want: func(c *Check) {
				c.Type, c.Path = CheckInodes, "/"
				c.Limit = Limit{Value: 1e6, Unit: UnitCount, Text: "1000000"}
			},
		},
		{
			name: "host check on a service with a process", owned: true,
			check: "type = \"swap\"\nabove = \"25%\"\naction = \"restart\"\n",
			want: func(c *Check) {
				c.Type, c.Action = CheckSwap, ActionRestart
				c.Limit = Limit{Value: 25, Unit: UnitPercent, Text: "25%"}
			},
		},
		{
			name: "tcp",
			check: "type = \"tcp\"\naddress = \"127.0.0.1:6379\"\ntls = true\ntls_verify = false\n" +
				"server_name = \"redis.internal\"\ncert_expiry = \"14d\"\ntimeout = \"2s\"\nretries = 2\n",
			want: func(c *Check) {
				c.Type, c.Address, c.TLS, c.TLSVerify = CheckTCP, "127.0.0.1:6379", true, false
				c.ServerName, c.CertExpiry = "redis.internal", Duration(14*24*time.Hour)
				c.Timeout, c.Retries = Duration(2*time.Second), 2
			},
		},
		{
			name: "unix", check: "type = \"unix\"\nsocket = \"/run/redis/redis.sock\"\n",
			want: func(c *Check) {
				c.Type, c.Socket, c.Timeout = CheckUnix, "/run/redis/redis.sock", Duration(DefaultProbeTimeout)
			},
		},
		{
			name:  "udp",
			check: "type = \"udp\"\naddress = \"[::1]:53\"\nsend = \"ping\\n\"\nexpect = \"^pong\"\n",
			want: func(c *Check) {
				c.Type, c.Address, c.Send = CheckUDP, "[::1]:53", "ping\n"
				c.Timeout = Duration(DefaultProbeTimeout)
			},
			regexp: map[string]string{"Expect": "^pong"},
		},
		{
			name: "http",
			check: "type = \"http\"\nurl = \"https://127.0.0.1:8443/health\"\nmethod = \"HEAD\"\n" +
				"host = \"app.example.com\"\nstatus = 204\nbody = \"ok\"\ntls_verify = false\n" +
				"headers = { Accept = \"application/json\", \"X-Probe\" = \"tend\" }\n",
			want: func(c *Check) {
				c.Type, c.URL, c.Method = CheckHTTP, "https://127.0.0.1:8443/health", "HEAD"
				c.Host, c.Status, c.TLSVerify = "app.example.com", 204, false
				c.Headers = map[string]string{"Accept": "application/json", "X-Probe": "tend"}
				c.Timeout = Duration(DefaultProbeTimeout)
			},
			regexp: map[string]string{"Body": "ok"},
		},
		{
			name: "http defaults", check: "type = \"http\"\nurl = \"http://localhost/\"\n",
			want: func(c *Check) {
				c.Type, c.URL, c.Method, c.TLSVerify = CheckHTTP, "http://localhost/", "GET", true
				c.Timeout = Duration(DefaultProbeTimeout)
			},
		},
		{
			name: "redis",
			check: "type = \"redis\"\nsocket = \"/run/redis/redis.sock\"\nusername = \"tend\"\n" +
				"password_file = \"redis.secret\"\n",
			files: map[string]string{"redis.secret": "s3cret\n"},
			want: func(c *Check) {
				c.Type, c.Socket, c.Username = CheckRedis, "/run/redis/redis.sock", "tend"
				c.Password = NewSecret("s3cret")
				c.Timeout = Duration(DefaultProbeTimeout)
			},
			secret: "s3cret",
		},
		{
			name: "postgres", check: "type = \"postgres\"\naddress = \"localhost:5432\"\nuser = \"app\"\n",
			want: func(c *Check) {
				c.Type, c.Address, c.User, c.Database = CheckPostgres, "localhost:5432", "app", "app"
				c.Timeout = Duration(DefaultProbeTimeout)
			},
		},
		{
			name:  "postgres socket",
			check: "type = \"postgres\"\nsocket = \"/run/postgresql/.s.PGSQL.5432\"\ndatabase = \"app\"\n",
			want: func(c *Check) {
				c.Type, c.Socket = CheckPostgres, "/run/postgresql/.s.PGSQL.5432"
				c.User, c.Database = "postgres", "app"
				c.Timeout = Duration(DefaultProbeTimeout)
			},
		},
		{
			name: "smtp", check: "type = \"smtp\"\naddress = \"127.0.0.1:25\"\n",
			want: func(c *Check) {
				c.Type, c.Address, c.Hello = CheckSMTP, "127.0.0.1:25", "localhost"
				c.Timeout = Duration(DefaultProbeTimeout)
			},
		},
		{
			name: "send_expect",
			check: "type = \"send_expect\"\naddress = \"127.0.0.1:11211\"\ntls = true\nsteps = [\n" +
				"  { send = \"version\\r\\n\", expect = \"^VERSION \" },\n  { send = \"quit\\r\\n\" },\n]\n",
			want: func(c *Check) {
				c.Type, c.Address, c.TLS, c.TLSVerify = CheckSendExpect, "127.0.0.1:11211", true, true
				c.Steps = []Step{{Send: "version\r\n"}, {Send: "quit\r\n"}}
				c.Timeout = Duration(DefaultProbeTimeout)
			},
			regexp: map[string]string{"Steps[0].Expect": "^VERSION "},
		},
		{
			name:  "program",
			check: "type = \"program\"\ncommand = [\"/usr/local/bin/check-queue\", \"--max\", \"100\"]\nstatus = 2\noutput = \"^OK\"\ntimeout = \"30s\"\n",
			want: func(c *Check) {
				c.Type, c.Command = CheckProgram, []string{"/usr/local/bin/check-queue", "--max", "100"}
				c.Status, c.Timeout = 2, Duration(30*time.Second)
			},
			regexp: map[string]string{"Output": "^OK"},
		},
		{
			name: "file",
			check: "type = \"file\"\npath = \"/var/backups/db.dump\"\nmax_age = \"1d\"\nbelow = \"1MB\"\n" +
				"owner = \"" + current.Username + "\"\ngroup = \"1234\"\nmode = \"0640\"\nchecksum = true\npattern = \"done$\"\n",
			want: func(c *Check) {
				c.Type, c.Path, c.MaxAge = CheckFile, "/var/backups/db.dump", Duration(24*time.Hour)
				c.Limit = Limit{Below: true, Value: 1 << 20, Unit: UnitBytes, Text: "1MB"}
				c.Owner, c.Group, c.Mode, c.HasMode, c.Checksum = uid, 1234, 0o640, true, true
				c.Timeout = Duration(DefaultProbeTimeout)
			},
			regexp: map[string]string{"Pattern": "done$"},
		},
		{
			name: "file existence", check: "type = \"file\"\npath = \"/etc/app.conf\"\nowner = 0\n",
			want: func(c *Check) {
				c.Type, c.Path, c.Owner = CheckFile, "/etc/app.conf", 0
				c.Timeout = Duration(DefaultProbeTimeout)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, path := loadCheck(t, tt.owned, tt.check, tt.files)
			want := newCheck(Position{File: path, Line: 5})
			tt.want(&want)

			if tt.secret != "" && got.Password.Value() != tt.secret {
				t.Errorf("Load: Password.Value() = %q, want %q", got.Password.Value(), tt.secret)
			}
			gotRegexps := regexpStrings(&got)
			if len(gotRegexps) > 0 || len(tt.regexp) > 0 {
				if !reflect.DeepEqual(gotRegexps, tt.regexp) {
					t.Errorf("Load: regular expressions %v, want %v", gotRegexps, tt.regexp)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load: check =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// A host service gets no implicit process check, and a service with a process gets
// one whose action depends on whether tend can start it.
func TestLoadImplicitProcessCheck(t *testing.T) {
	tests := []struct {
		name    string
		service string
		want    []CheckType
		action  Action
	}{
		{name: "owned", service: `command = ["app"]`, want: []CheckType{CheckProcess, CheckLoad}, action: ActionRestart},
		{name: "pidfile with start", service: "pidfile = \"/run/a.pid\"\nstart = [\"a\"]",
			want: []CheckType{CheckProcess, CheckLoad}, action: ActionRestart},
		{name: "pidfile without start", service: `pidfile = "/run/a.pid"`,
			want: []CheckType{CheckProcess, CheckLoad}, action: ActionAlert},
		{name: "match without start", service: `match = "^/usr/bin/a"`,
			want: []CheckType{CheckProcess, CheckLoad}, action: ActionAlert},
		{name: "host", service: "# host", want: []CheckType{CheckLoad}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"tend.toml": "[[service]]\nname = \"a\"\n" + tt.service +
				"\n\n[[service.check]]\ntype = \"load\"\nabove = 2\n"})
			cfg, err := Load(filepath.Join(dir, "tend.toml"))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checks := cfg.Services[0].Checks
			var types []CheckType
			for _, c := range checks {
				types = append(types, c.Type)
			}
			if !reflect.DeepEqual(types, tt.want) {
				t.Fatalf("Load: check types %v, want %v", types, tt.want)
			}
			if tt.action != 0 && checks[0].Action != tt.action {
				t.Errorf("Load: implicit process check action %v, want %v", checks[0].Action, tt.action)
			}
		})
	}
}
