package config

// badCase is one directory of testdata/bad: a main file tend.toml, with drop-ins in
// conf.d when the case needs them, and every error that Load must return for it.
type badCase struct {
	name string
	want []string
}

// badCases returns the cases of testdata/bad. Paths in the errors are relative to the
// case's directory.
func badCases() []badCase {
	return []badCase{
		{
			name: "argument-vectors",
			want: []string{
				`tend.toml:4: service "app" start: empty: want the program and its arguments, such as ["/usr/sbin/service", "redis", "start"]`,
				`tend.toml:5: service "app" stop: item 1: empty: want the program to run`,
				`tend.toml:8: service "app" environment."A=B": invalid variable name: want a name without "=" or NUL bytes`,
			},
		},
		{
			name: "bad-address",
			want: []string{
				`tend.toml:7: service "redis" check 1 address: invalid address "localhost": want host:port, such as "127.0.0.1:6379" or "[::1]:6379"`,
				`tend.toml:11: service "redis" check 2 address: invalid port "99999" in "127.0.0.1:99999": want a number from 1 to 65535`,
				`tend.toml:15: service "redis" check 3 address: invalid address ":6379": want host:port, such as "127.0.0.1:6379" or "[::1]:6379"`,
				`tend.toml:19: service "redis" check 4 address: invalid port "redis" in "localhost:redis": want a number from 1 to 65535`,
			},
		},
		{
			name: "bad-duration",
			want: []string{
				`tend.toml:1: interval: invalid duration "30 seconds": want a number and a unit, such as "30s", "1m30s", "500ms" or "14d"`,
				`tend.toml:6: service "app" start_timeout: invalid duration "-5s": must not be negative`,
				`tend.toml:7: service "app" stop_timeout: invalid duration "5": want a number and a unit, such as "30s", "1m30s", "500ms" or "14d"`,
			},
		},
		{
			name: "bad-include",
			want: []string{
				`tend.toml:2: include: item 1: invalid glob pattern "conf.d/[": syntax error in pattern`,
				`tend.toml:3: include: item 2: empty: want a glob pattern such as "conf.d/*.toml"`,
			},
		},
		{
			name: "bad-percentage",
			want: []string{
				`tend.toml:7: service "app" check 1 above: invalid percentage "95.5.5%": want a number followed by %, such as "95%"`,
				`tend.toml:11: service "app" check 2 above: "95" is a number, but a cpu check needs a percentage such as "95%"`,
				`tend.toml:15: service "app" check 3 above: "150%" is out of range: want a percentage greater than 0% and at most 100%`,
				`tend.toml:19: service "app" check 4 above: "0%" is out of range: want a percentage greater than 0% and at most 100%`,
			},
		},
		{
			name: "bad-size",
			want: []string{
				`tend.toml:7: service "redis" check 1 above: invalid size "600XB": want a number followed by B, KB, MB, GB, TB, KiB, MiB, GiB or TiB`,
				`tend.toml:11: service "redis" check 2 above: invalid size "1e3MB": want a number followed by B, KB, MB, GB, TB, KiB, MiB, GiB or TiB`,
			},
		},
		{
			name: "command-and-pidfile",
			want: []string{
				`tend.toml:4: service "redis" command: cannot be combined with pidfile: set command when tend runs the service itself, or pidfile when something else starts it`,
			},
		},
		{
			name: "control-keys",
			want: []string{
				`tend.toml:2: control.socket: path "/run/tend/this/directory/name/is/long/enough/to/push/the/path/of/the/socket/beyond/the/limit/of/linux/tend.sock" is 111 bytes long: a unix socket path has at most 107 bytes`,
				`tend.toml:3: control.group: invalid group name "tend admins": want a name without colons, spaces or control characters`,
				`tend.toml:4: control.mode: unknown key: allowed keys are socket and group`,
			},
		},
		{
			name: "control-types",
			want: []string{
				`tend.toml:2: control.socket: got an integer, want a string`,
				`tend.toml:3: control.group: empty: want a group name such as "tend"`,
			},
		},
		{
			name: "cpu-with-size",
			want: []string{
				`tend.toml:7: service "redis" check 1 above: "600MB" is a size, but a cpu check needs a percentage such as "95%"`,
			},
		},
		{
			name: "directory-in-include",
			want: []string{
				`conf.d/sub: cannot read: is a directory`,
			},
		},
		{
			name: "drop-in-top-level-key",
			want: []string{
				`conf.d/redis.toml:1: interval: not allowed in a drop-in, which may contain only [[service]] entries`,
				`conf.d/redis.toml:7: mail: not allowed in a drop-in, which may contain only [[service]] entries`,
			},
		},
		{
			name: "duplicate-names",
			want: []string{
				`conf.d/b.toml:7: service "redis" name: duplicate service name: first declared at conf.d/a.toml:3`,
			},
		},
		{
			name: "keys-by-check-type",
			want: []string{
				`tend.toml:7: service "app" check 1 address: not allowed in a process check: only tcp, udp, redis, postgres, smtp and send_expect checks take address`,
				`tend.toml:12: service "app" check 2 above: not allowed in a tcp check: only cpu, total_cpu, memory, total_memory, children, threads, fds, uptime, load, host_cpu, host_memory, swap, filesystem, inodes and file checks take above`,
				`tend.toml:17: service "app" check 3 timeout: not allowed in a cpu check: only tcp, unix, udp, http, redis, postgres, smtp, send_expect, program and file checks take timeout`,
				`tend.toml:19: service "app" check 4 above: missing: want above or below with a size such as "600MB" or a percentage such as "95%"`,
			},
		},
		{
			name: "limits",
			want: []string{
				`tend.toml:1: interval: 50ms is too short: want at least 100ms`,
				`tend.toml:6: service "app" start_timeout: 0s is too short: want a duration greater than 0`,
				`tend.toml:7: service "app" restart_limit.restarts: 0 is too small: want 1 or more`,
				`tend.toml:7: service "app" restart_limit.cycles: -1 is too small: want 1 or more`,
				`tend.toml:11: service "app" check 1 for_cycles: 0 is too small: want 1 or more`,
			},
		},
		{
			name: "mail-bad-addresses",
			want: []string{
				`tend.toml:3: mail.from: invalid address "tend": mail: missing '@' or angle-addr`,
				`tend.toml:6: mail.to: item 2: invalid address "oncall at example.com": mail: no angle-addr`,
			},
		},
		{
			name: "mail-clear-text",
			want: []string{
				`tend.toml:3: mail.tls: none would send the password in clear text to smtp.example.com: use starttls or tls, auth = "cram-md5", or a server on localhost`,
				`tend.toml:8: mail.timeout: 0s is too short: want a duration greater than 0`,
			},
		},
		{
			name: "mail-empty-recipients",
			want: []string{
				`tend.toml:3: mail.port: 70000 is out of range: want a port from 1 to 65535`,
				`tend.toml:5: mail.to: empty: want at least one recipient address, such as ["ops@example.com"]`,
			},
		},
		{
			name: "mail-missing-keys",
			want: []string{
				`tend.toml:2: mail.host: missing: want the SMTP server's host name or IP address, or [[mail.server]] entries`,
				`tend.toml:2: mail.from: missing: want the sender address, such as "tend@example.com"`,
				`tend.toml:2: mail.to: missing: want an array of recipient addresses, such as ["ops@example.com"], or routes with to`,
			},
		},
		{
			name: "mail-password-file-missing",
			want: []string{
				`tend.toml:4: mail.password_file: cannot read "missing-secret.txt": no such file or directory`,
			},
		},
		{
			name: "mail-password-without-username",
			want: []string{
				`tend.toml:3: mail.password: set without username: add username, or remove password`,
			},
		},
		{
			name: "mail-server-keys",
			want: []string{
				`tend.toml:5: mail.server 1 host: missing: want the SMTP server's host name or IP address`,
				`tend.toml:7: mail.server 1 tls: unknown TLS mode "ssl": want none, starttls, starttls_optional or tls`,
				`tend.toml:11: mail.server 2 auth: unknown auth mechanism "digest-md5": want auto, plain, login or cram-md5`,
				`tend.toml:14: mail.server 2 sender: unknown key: allowed keys are host, port, tls, auth, username, password, password_env, password_file and timeout`,
				`tend.toml:18: mail.server 3 tls: none would send the password in clear text to smtp3.example.com: use starttls or tls, auth = "cram-md5", or a server on localhost`,
				`tend.toml:30: mail.server 4 timeout: 0s is too short: want a duration greater than 0`,
				`tend.toml:34: mail.server 5 auth: set without username: add username, or remove auth`,
			},
		},
		{
			name: "mail-servers-empty",
			want: []string{
				`tend.toml:2: mail.server: empty: want at least one [[mail.server]] entry`,
			},
		},
		{
			name: "mail-servers-mixed",
			want: []string{
				`tend.toml:2: mail.host: cannot be combined with [[mail.server]]: set host in each [[mail.server]] entry, or remove the entries`,
				`tend.toml:3: mail.username: cannot be combined with [[mail.server]]: set username in each [[mail.server]] entry, or remove the entries`,
				`tend.toml:4: mail.password: cannot be combined with [[mail.server]]: set password in each [[mail.server]] entry, or remove the entries`,
			},
		},
		{
			name: "mail-two-passwords",
			want: []string{
				`tend.toml:5: mail.password_file: cannot be combined with password: set only one of password, password_env and password_file`,
			},
		},
		{
			name: "mail-username-without-password",
			want: []string{
				`tend.toml:3: mail.username: set without a password: add password, password_env or password_file, or remove username`,
			},
		},
		{
			name: "missing-name",
			want: []string{
				`tend.toml:1: service 1 name: missing: want a name such as "redis"`,
				`tend.toml:5: service 2 name: empty: want a name such as "redis"`,
				`tend.toml:9: service "my app" name: invalid name "my app": want a letter or digit, then letters, digits, "_", "." or "-"`,
				`tend.toml:13: service "-app" name: invalid name "-app": want a letter or digit, then letters, digits, "_", "." or "-"`,
			},
		},
		{
			name: "neither-command-nor-pidfile",
			want: []string{
				`tend.toml:1: service "redis" command: missing: want command when tend runs the service itself, pidfile or match when something else starts it, or [[service.check]] entries for a host service`,
			},
		},
		{
			name: "password-env-unset",
			want: []string{
				`tend.toml:4: mail.password_env: environment variable "TEND_TEST_UNSET_PASSWORD" is not set`,
			},
		},
		{
			name: "password-syntax-error",
			want: []string{
				`tend.toml:4: invalid TOML: invalid value of password (the parser's message is withheld because it may quote the password)`,
			},
		},
		{
			name: "restart-without-start",
			want: []string{
				`tend.toml:9: service "postgres" check 1 action: restart needs a start program, and this service has a pidfile but no start: set start, or use action "alert"`,
			},
		},
		{
			name: "second-process-check",
			want: []string{
				`tend.toml:9: service "app" check 2 type: a second process check: a service has at most one, and check 1 is one`,
			},
		},
		{
			name: "service-not-an-array",
			want: []string{
				`conf.d/redis.toml:2: service: got a table, want an array of tables, each introduced by [[service]]`,
			},
		},
		{
			name: "start-with-command",
			want: []string{
				`tend.toml:4: service "app" start: only allowed with pidfile or match, because tend starts command itself`,
				`tend.toml:5: service "app" stop: only allowed with pidfile or match, because tend stops command with stop_signal`,
			},
		},
		{
			name: "syntax-error-in-drop-in",
			want: []string{
				`conf.d/a.toml:3: invalid TOML: expected a comma (',') or array terminator (']'), but got end of file`,
				`conf.d/b.toml:4: service "other" restart: unknown key: allowed keys are name, pidfile, match, match_pick, start, stop, command, directory, environment, environment_file, inherit_environment, user, group, log_file, log_max_size, log_max_files, depends_on, groups, notify, watchdog, watchdog_action, stop_signal, start_timeout, stop_timeout, restart_limit, restart_delay, restart_delay_max, stable_after, alert and check`,
			},
		},
		{
			name: "tcp-without-address",
			want: []string{
				`tend.toml:5: service "redis" check 1 address: missing: want host:port, such as "127.0.0.1:6379"`,
			},
		},
		{
			name: "three-errors",
			want: []string{
				`tend.toml:1: interval: invalid duration "30 seconds": want a number and a unit, such as "30s", "1m30s", "500ms" or "14d"`,
				`tend.toml:6: service "redis" stop_signal: unknown signal "SIGSTOP": want HUP, INT, QUIT, KILL, USR1, USR2 or TERM, with or without the SIG prefix`,
				`tend.toml:11: service "redis" check 1 action: unknown action "page": want alert, restart, start, stop, exec or unmonitor`,
			},
		},
		{
			name: "unknown-action",
			want: []string{
				`tend.toml:7: service "app" check 1 action: unknown action "reboot": want alert, restart, start, stop, exec or unmonitor`,
			},
		},
		{
			name: "unknown-check-key",
			want: []string{
				`tend.toml:8: service "web" check 1 port: unknown key: a tcp check takes type, for_cycles, within_cycles, action, exec, address, tls, tls_verify, server_name, cert_expiry, timeout and retries`,
			},
		},
		{
			name: "unknown-check-type",
			want: []string{
				`tend.toml:6: service "app" check 1 type: unknown check type "disk": want process, pid, ppid, cpu, total_cpu, memory, total_memory, children, threads, fds, uptime, load, host_cpu, host_memory, swap, filesystem, inodes, tcp, unix, udp, http, redis, postgres, smtp, send_expect, program or file`,
				`tend.toml:9: service "app" check 2 type: missing: want process, pid, ppid, cpu, total_cpu, memory, total_memory, children, threads, fds, uptime, load, host_cpu, host_memory, swap, filesystem, inodes, tcp, unix, udp, http, redis, postgres, smtp, send_expect, program or file`,
			},
		},
		{
			name: "unknown-service-key",
			want: []string{
				`tend.toml:4: service "redis" colour: unknown key: allowed keys are name, pidfile, match, match_pick, start, stop, command, directory, environment, environment_file, inherit_environment, user, group, log_file, log_max_size, log_max_files, depends_on, groups, notify, watchdog, watchdog_action, stop_signal, start_timeout, stop_timeout, restart_limit, restart_delay, restart_delay_max, stable_after, alert and check`,
			},
		},
		{
			name: "unknown-signal",
			want: []string{
				`tend.toml:4: service "app" stop_signal: unknown signal "SIGFOO": want HUP, INT, QUIT, KILL, USR1, USR2 or TERM, with or without the SIG prefix`,
			},
		},
		{
			name: "unknown-top-level-key",
			want: []string{
				`tend.toml:2: intervall: unknown key: allowed keys are interval, state_dir, include, hostname, mail, alerts, control, http and service`,
				`tend.toml:4: dashboard: unknown key: allowed keys are interval, state_dir, include, hostname, mail, alerts, control, http and service`,
			},
		},
		{
			name: "wrong-type",
			want: []string{
				`tend.toml:1: interval: got an integer, want a string such as "30s"`,
				`tend.toml:5: service "app" command: got a string, want an array of strings such as ["/usr/bin/redis-server", "/etc/redis/redis.conf"]`,
				`tend.toml:6: service "app" stop_timeout: got an integer, want a string such as "30s"`,
				`tend.toml:7: service "app" restart_limit: got an integer, want a table such as { restarts = 5, cycles = 5 }`,
				`tend.toml:8: service "app" environment.PORT: got an integer, want a string`,
				`tend.toml:13: service "app" check 1 for_cycles: got a string, want an integer`,
			},
		},
		{
			name: "no-main-file",
			want: []string{
				`tend.toml: cannot read: no such file or directory`,
			},
		},
		{
			name: "service-keys",
			want: []string{
				`tend.toml:3: service "caddy" match: invalid regular expression: missing closing ) in "caddy ("`,
				`tend.toml:4: service "caddy" match_pick: invalid value "first": want "oldest" or "newest"`,
				`tend.toml:9: service "redis" match: cannot be combined with pidfile: a service is found through one of them`,
				`tend.toml:10: service "redis" log_file: only allowed with command: tend sees the output only of a service it runs itself`,
				`tend.toml:11: service "redis" notify: only allowed with command: tend gives NOTIFY_SOCKET only to a service it runs itself`,
				`tend.toml:16: service "app" user: empty: want a name or a numeric ID, or leave the key out to run as tend's own user`,
				`tend.toml:17: service "app" environment_file: item 2: empty: want a path`,
				`tend.toml:18: service "app" log_max_size: "10%" is a percentage: want a size such as "10MB"`,
				`tend.toml:18: service "app" log_max_size: only allowed with log_file`,
				`tend.toml:19: service "app" log_max_files: 0 is out of range: want 1 to 100 older files to keep`,
				`tend.toml:19: service "app" log_max_files: only allowed with log_file`,
				`tend.toml:20: service "app" watchdog: needs notify = true: the service sends its watchdog pings to NOTIFY_SOCKET`,
				`tend.toml:23: service "app" restart_delay_max: restart_delay_max (5s) is shorter than restart_delay (10s)`,
				`tend.toml:24: service "app" depends_on: item 1: a service cannot depend on itself`,
				`tend.toml:24: service "app" depends_on: item 3: "redis" is listed twice`,
				`tend.toml:24: service "app" depends_on: unknown service "memcached"`,
			},
		},
		{
			name: "dependency-cycle",
			want: []string{
				`conf.d/worker.toml:9: service "queue" depends_on: dependency cycle: web → worker → queue → web`,
			},
		},
		{
			name: "http-keys",
			want: []string{
				`tend.toml:2: http.listen: invalid address "192.0.2.10": want host:port, such as "127.0.0.1:2812" or "[::1]:2812"`,
				`tend.toml:3: http.tls_cert: set without tls_key: add tls_key with the path of the private key, or remove tls_cert`,
				`tend.toml:4: http.port: unknown key: allowed keys are listen, tls_cert, tls_key and user`,
			},
		},
		{
			name: "http-non-loopback",
			want: []string{
				`tend.toml:4: http.listen: refuses to listen on 0.0.0.0:2812 without [[http.user]] entries: anyone who reaches the port could read the status; add [[http.user]] entries, or listen on 127.0.0.1 or [::1]`,
			},
		},
		{
			name: "http-users",
			want: []string{
				"tend.toml:6: http.user 1 password: plain passwords are not accepted: run `tend hash-password` and set password_hash to the bcrypt hash it prints",
				"tend.toml:11: http.user 2 password_hash: not a bcrypt hash (want one that starts with $2a$, $2b$ or $2y$); run `tend hash-password` to make one",
				`tend.toml:12: http.user 2 role: unknown role "viewer": want read-only or admin`,
				`tend.toml:15: http.user 3 name: duplicate user name "ops": first declared at line 5`,
				`tend.toml:19: http.user 4 role: missing: want "read-only" or "admin"`,
				`tend.toml:20: http.user 4 name: invalid user name "ci:bot": HTTP Basic authentication allows no colon or control character in it`,
				`tend.toml:22: http.user 4 password_hash_file: cannot be combined with password_hash: set only one of them`,
				`tend.toml:23: http.user 4 group: unknown key: allowed keys are name, password_hash, password_hash_file and role`,
				`tend.toml:27: http.user 5 password_hash_file: cannot read "missing.hash": no such file or directory`,
				`tend.toml:30: http.user 6 name: missing: want the user name, such as "ops"`,
				"tend.toml:30: http.user 6 password_hash: missing: want a bcrypt hash, or password_hash_file; run `tend hash-password` to make one",
			},
		},
	}
}
