package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The services that the bad checks belong to. The check's header is on line 5.
const (
	ownedService    = "[[service]]\nname = \"svc\"\ncommand = [\"app\"]\n\n[[service.check]]\n"
	hostService     = "[[service]]\nname = \"svc\"\n# a host service\n\n[[service.check]]\n"
	pidfileService  = "[[service]]\nname = \"svc\"\npidfile = \"/run/svc.pid\"\n\n[[service.check]]\n"
	matchService    = "[[service]]\nname = \"svc\"\nmatch = \"^/usr/bin/svc\"\n\n[[service.check]]\n"
	tcpKeysInOrder  = "type, for_cycles, within_cycles, action, exec, address, tls, tls_verify, server_name, cert_expiry, timeout and retries"
	limitCheckTypes = "cpu, total_cpu, memory, total_memory, children, threads, fds, uptime, load, host_cpu, host_memory, swap, filesystem, inodes and file"
)

func TestLoadBadChecks(t *testing.T) {
	t.Setenv("TEND_TEST_REDIS_PASSWORD", "hunter2")
	tests := []struct {
		name    string
		service string
		check   string
		want    []string
	}{
		{
			name: "unknown key", service: hostService,
			check: "type = \"tcp\"\naddress = \"127.0.0.1:80\"\nport = 80\n",
			want:  []string{`8: service "svc" check 1 port: unknown key: a tcp check takes ` + tcpKeysInOrder},
		},
		{
			name: "unknown key of an unknown type", service: hostService,
			check: "type = \"disk\"\ncolour = \"red\"\n",
			want: []string{
				`6: service "svc" check 1 type: unknown check type "disk": want process, pid, ppid, cpu, total_cpu, memory, total_memory, children, threads, fds, uptime, load, host_cpu, host_memory, swap, filesystem, inodes, tcp, unix, udp, http, redis, postgres, smtp, send_expect, program or file`,
				`7: service "svc" check 1 colour: unknown key: no check type takes it`,
			},
		},
		{
			name: "key not allowed for the type", service: ownedService,
			check: "type = \"memory\"\nabove = \"1GB\"\nof = \"core\"\n",
			want:  []string{`8: service "svc" check 1 of: not allowed in a memory check: only cpu and total_cpu checks take of`},
		},
		{
			name: "limit on a probe", service: hostService,
			check: "type = \"tcp\"\naddress = \"127.0.0.1:80\"\nabove = \"1s\"\n",
			want:  []string{`8: service "svc" check 1 above: not allowed in a tcp check: only ` + limitCheckTypes + ` checks take above`},
		},
		{
			name: "missing address", service: hostService, check: "type = \"tcp\"\n",
			want: []string{`5: service "svc" check 1 address: missing: want host:port, such as "127.0.0.1:6379"`},
		},
		{
			name: "missing url", service: hostService, check: "type = \"http\"\n",
			want: []string{`5: service "svc" check 1 url: missing: want an http or https URL, such as "http://127.0.0.1:8080/health"`},
		},
		{
			name: "missing command", service: hostService, check: "type = \"program\"\n",
			want: []string{`5: service "svc" check 1 command: missing: want the program and its arguments, such as ["/usr/local/bin/check-queue", "--max", "100"]`},
		},
		{
			name: "missing path", service: hostService, check: "type = \"filesystem\"\nabove = \"90%\"\n",
			want: []string{`5: service "svc" check 1 path: missing: want an absolute path such as "/var/lib/postgresql"`},
		},
		{
			name: "missing limit", service: ownedService, check: "type = \"uptime\"\n",
			want: []string{`5: service "svc" check 1 above: missing: want above or below with a duration such as "5m"`},
		},
		{
			name: "missing address and socket", service: hostService, check: "type = \"redis\"\n",
			want: []string{`5: service "svc" check 1 address: missing: want address, host:port such as "127.0.0.1:6379", or socket, the path of a unix socket`},
		},
		{
			name: "address and socket", service: hostService,
			check: "type = \"postgres\"\naddress = \"127.0.0.1:5432\"\nsocket = \"/run/postgresql/.s.PGSQL.5432\"\n",
			want:  []string{`8: service "svc" check 1 socket: cannot be combined with address: a postgres check connects to one of them`},
		},
		{
			name: "relative socket", service: hostService, check: "type = \"unix\"\nsocket = \"redis.sock\"\n",
			want: []string{`7: service "svc" check 1 socket: "redis.sock" is not an absolute path: want a path such as "/run/redis/redis.sock"`},
		},
		{
			name: "bad regexp", service: hostService,
			check: "type = \"udp\"\naddress = \"127.0.0.1:53\"\nexpect = \"(pong\"\n",
			want:  []string{`8: service "svc" check 1 expect: invalid regular expression: missing closing ) in "(pong"`},
		},
		{
			name: "empty regexp", service: hostService,
			check: "type = \"http\"\nurl = \"http://127.0.0.1/\"\nbody = \"\"\n",
			want:  []string{`8: service "svc" check 1 body: empty: want a regular expression, such as "^OK", or "." for any text`},
		},
		{
			name: "bad address", service: hostService, check: "type = \"smtp\"\naddress = \"localhost\"\n",
			want: []string{`7: service "svc" check 1 address: invalid address "localhost": want host:port, such as "127.0.0.1:6379" or "[::1]:6379"`},
		},
		{
			name: "bad port", service: hostService, check: "type = \"tcp\"\naddress = \"127.0.0.1:0\"\n",
			want: []string{`7: service "svc" check 1 address: invalid port "0" in "127.0.0.1:0": want a number from 1 to 65535`},
		},
		{
			name: "bad url scheme", service: hostService, check: "type = \"http\"\nurl = \"ftp://127.0.0.1/\"\n",
			want: []string{`7: service "svc" check 1 url: invalid URL "ftp://127.0.0.1/": want http:// or https:// and a host, such as "http://127.0.0.1:8080/health"`},
		},
		{
			name: "url without host", service: hostService, check: "type = \"http\"\nurl = \"http:///health\"\n",
			want: []string{`7: service "svc" check 1 url: invalid URL "http:///health": want http:// or https:// and a host, such as "http://127.0.0.1:8080/health"`},
		},
		{
			name: "url port", service: hostService, check: "type = \"http\"\nurl = \"http://127.0.0.1:99999/\"\n",
			want: []string{`7: service "svc" check 1 url: invalid port "99999" in "http://127.0.0.1:99999/": want a number from 1 to 65535`},
		},
		{
			name: "http request keys", service: hostService,
			check: "type = \"http\"\nurl = \"http://127.0.0.1/\"\nmethod = \"get\"\nstatus = 700\n" +
				"headers = { Host = \"a\", \"Bad Name\" = \"b\", X = \"c\\nd\" }\n",
			want: []string{
				`8: service "svc" check 1 method: unknown method "get": want GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS or TRACE`,
				`9: service "svc" check 1 status: 700 is out of range: want a status code from 100 to 599, or 0 for any 2xx or 3xx`,
				"10: service \"svc\" check 1 headers.\"Bad Name\": invalid header name: want letters, digits and !#$%&'*+-.^_`|~",
				`10: service "svc" check 1 headers.Host: set the host key of the check instead`,
				`10: service "svc" check 1 headers.X: invalid header value: contains a line break or a NUL byte`,
			},
		},
		{
			name: "size for a percentage type", service: ownedService, check: "type = \"cpu\"\nabove = \"600MB\"\n",
			want: []string{`7: service "svc" check 1 above: "600MB" is a size, but a cpu check needs a percentage such as "95%"`},
		},
		{
			name: "number for a duration type", service: ownedService, check: "type = \"uptime\"\nbelow = 300\n",
			want: []string{`7: service "svc" check 1 below: 300 is a number, but an uptime check needs a duration such as "5m"`},
		},
		{
			name: "percentage for a count type", service: hostService, check: "type = \"load\"\nabove = \"200%\"\n",
			want: []string{`7: service "svc" check 1 above: "200%" is a percentage, but a load check needs a number such as 50`},
		},
		{
			name: "cpu over 100% of the machine", service: ownedService, check: "type = \"cpu\"\nabove = \"150%\"\n",
			want: []string{`7: service "svc" check 1 above: "150%" is out of range: want a percentage greater than 0% and at most 100%, where 100% is all cores busy: set of = "core" to make 100% one core`},
		},
		{
			name: "below zero", service: ownedService, check: "type = \"children\"\nbelow = 0\n",
			want: []string{`7: service "svc" check 1 below: 0 is out of range: want a number greater than 0, since a figure below 0 cannot occur`},
		},
		{
			name: "above and below", service: ownedService,
			check: "type = \"memory\"\nabove = \"1GB\"\nbelow = \"1MB\"\n",
			want:  []string{`8: service "svc" check 1 below: cannot be combined with above: a check takes one limit`},
		},
		{
			name: "within_cycles less than for_cycles", service: ownedService,
			check: "type = \"process\"\nfor_cycles = 3\nwithin_cycles = 2\n",
			want:  []string{`8: service "svc" check 1 within_cycles: 2 is less than for_cycles (3): want at least for_cycles, or leave within_cycles out to count consecutive cycles`},
		},
		{
			name: "exec without action exec", service: ownedService,
			check: "type = \"process\"\nexec = [\"/usr/local/bin/page\"]\n",
			want:  []string{`7: service "svc" check 1 exec: only allowed with action "exec"`},
		},
		{
			name: "action exec without exec", service: ownedService, check: "type = \"process\"\naction = \"exec\"\n",
			want: []string{`5: service "svc" check 1 exec: missing: want the program to run and its arguments, such as ["/usr/local/bin/notify", "redis"]`},
		},
		{
			name: "process check on a host service", service: hostService, check: "type = \"cpu\"\nabove = \"95%\"\n",
			want: []string{`6: service "svc" check 1 type: a cpu check needs a process, but this service has none of command, pidfile and match: for the host, use load, host_cpu, host_memory, swap, filesystem or inodes`},
		},
		{
			name: "restart on a host service", service: hostService,
			check: "type = \"swap\"\nabove = \"25%\"\naction = \"restart\"\n",
			want:  []string{`8: service "svc" check 1 action: restart needs a process that tend can start, but this service has none of command, pidfile and match: use action "alert", "exec" or "unmonitor"`},
		},
		{
			name: "stop on a pidfile service without start", service: pidfileService,
			check: "type = \"memory\"\nabove = \"1GB\"\naction = \"stop\"\n",
			want:  []string{`8: service "svc" check 1 action: stop needs a start program, and this service has a pidfile but no start: set start, or use action "alert"`},
		},
		{
			name: "start on a match service without start", service: matchService,
			check: "type = \"process\"\naction = \"start\"\n",
			want:  []string{`7: service "svc" check 1 action: start needs a start program, and this service has a match pattern but no start: set start, or use action "alert"`},
		},
		{
			name: "two password sources", service: hostService,
			check: "type = \"redis\"\naddress = \"127.0.0.1:6379\"\npassword = \"hunter2\"\npassword_env = \"TEND_TEST_REDIS_PASSWORD\"\n",
			want:  []string{`9: service "svc" check 1 password_env: cannot be combined with password: set only one of password, password_env and password_file`},
		},
		{
			name: "username without password", service: hostService,
			check: "type = \"redis\"\naddress = \"127.0.0.1:6379\"\nusername = \"tend\"\n",
			want:  []string{`8: service "svc" check 1 username: set without a password: add password, password_env or password_file, or remove username`},
		},
		{
			name: "missing password file", service: hostService,
			check: "type = \"redis\"\naddress = \"127.0.0.1:6379\"\npassword_file = \"nothing\"\n",
			want:  []string{`8: service "svc" check 1 password_file: cannot read "nothing": no such file or directory`},
		},
		{
			name: "tls keys without tls", service: hostService,
			check: "type = \"tcp\"\naddress = \"127.0.0.1:443\"\ntls_verify = false\ncert_expiry = \"14d\"\n",
			want: []string{
				`8: service "svc" check 1 tls_verify: only allowed with tls = true`,
				`9: service "svc" check 1 cert_expiry: only allowed with tls = true`,
			},
		},
		{
			name: "probe timeout and retries", service: hostService,
			check: "type = \"unix\"\nsocket = \"/run/a.sock\"\ntimeout = \"0s\"\nretries = 11\n",
			want: []string{
				`8: service "svc" check 1 timeout: 0s is too short: want a duration greater than 0`,
				`9: service "svc" check 1 retries: 11 is out of range: want 0 to 10`,
			},
		},
		{
			name: "load minutes", service: hostService, check: "type = \"load\"\nabove = 2\nminutes = 10\n",
			want: []string{`8: service "svc" check 1 minutes: 10 is not a load average: want 1, 5 or 15`},
		},
		{
			name: "steps", service: hostService,
			check: "type = \"send_expect\"\nsocket = \"/run/a.sock\"\nsteps = [\n  { send = \"a\" },\n  { },\n  { send = \"b\", wait = \"1s\" },\n]\n",
			want: []string{
				`10: service "svc" check 1 step 2 send: missing: want send, expect or both`,
				`11: service "svc" check 1 step 3 wait: unknown key: allowed keys are send and expect`,
			},
		},
		{
			name: "empty steps", service: hostService,
			check: "type = \"send_expect\"\naddress = \"127.0.0.1:7\"\nsteps = []\n",
			want:  []string{`8: service "svc" check 1 steps: empty: want at least one step`},
		},
		{
			name: "program status", service: hostService,
			check: "type = \"program\"\ncommand = [\"true\"]\nstatus = 256\n",
			want:  []string{`8: service "svc" check 1 status: 256 is out of range: want an exit status from 0 to 255`},
		},
		{
			name: "file keys", service: hostService,
			check: "type = \"file\"\npath = \"/etc/app.conf\"\nowner = \"no-such-user-tend\"\ngroup = -1\nmode = \"0999\"\nabove = \"5%\"\n",
			want: []string{
				`8: service "svc" check 1 owner: unknown user "no-such-user-tend" on this host: want an existing user or a numeric ID`,
				`9: service "svc" check 1 group: -1 is out of range: want an ID from 0 to 4294967294`,
				`10: service "svc" check 1 mode: invalid mode "0999": want octal digits in a string, such as "0640"`,
				`11: service "svc" check 1 above: "5%" is a percentage, but a file check needs a size such as "600MB"`,
			},
		},
		{
			name: "mode as integer", service: hostService, check: "type = \"file\"\npath = \"/etc/app.conf\"\nmode = 640\n",
			want: []string{`8: service "svc" check 1 mode: got an integer, want octal digits in a string, such as "0640"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"tend.toml": tt.service + tt.check})
			path := filepath.Join(dir, "tend.toml")
			_, err := Load(path)
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("Load: error %v (%T) is not Errors", err, err)
			}
			got := make([]string, len(list))
			for i, e := range list {
				got[i] = strings.TrimPrefix(e.Error(), path+":")
				got[i] = strings.ReplaceAll(got[i], dir+string(filepath.Separator), "")
				if strings.Contains(got[i], "hunter2") {
					t.Errorf("Load: error %q contains the password", got[i])
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load: errors\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}
