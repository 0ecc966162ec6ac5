package config

import (
	"fmt"
	"slices"
	"strings"
)

// decodeServices decodes the [[service]] entries of a file.
func (l *loader) decodeServices(root *table) []Service {
	entries := root.entries("service", "[[service]]")
	services := make([]Service, 0, len(entries))
	for i, t := range entries {
		services = append(services, l.decodeService(t, i))
	}
	return services
}

// decodeService decodes the index-th [[service]] entry of a file, with its checks.
func (l *loader) decodeService(t *table, index int) Service {
	s := Service{
		Pos:          Position{File: t.f.name, Line: t.line()},
		StopSignal:   DefaultStopSignal,
		StartTimeout: Duration(DefaultStartTimeout),
		StopTimeout:  Duration(DefaultStopTimeout),
		RestartLimit: DefaultRestartLimit(),
	}
	t.prefix = fmt.Sprintf("service %d ", index+1)
	hasName := t.str("name", &s.Name)
	if hasName && s.Name != "" {
		t.prefix = fmt.Sprintf("service %q ", s.Name)
	}

	t.rejectUnknown("name", "pidfile", "start", "stop", "command", "directory", "environment",
		"stop_signal", "start_timeout", "stop_timeout", "restart_limit", "check")
	l.checkName(t, s.Name, hasName)
	decodePrograms(t, &s)
	decodeEnvironment(t, &s)
	decodeStopping(t, &s)
	s.Checks = decodeChecks(t, &s)
	return s
}

// checkName checks the name of a service and that no earlier service has it.
func (l *loader) checkName(t *table, name string, decoded bool) {
	switch {
	case !t.has("name"):
		t.missing("name", `a name such as "redis"`)
	case !decoded:
		// The name has the wrong type, which t.str has reported.
	case name == "":
		t.errorf("name", `empty: want a name such as "redis"`)
	case !validName(name):
		t.errorf("name", `invalid name %q: want a letter or digit, then letters, digits, "_", "." or "-"`, name)
	default:
		if first, ok := l.names[name]; ok {
			t.errorf("name", "duplicate service name: first declared at %s:%d", first.File, first.Line)
			return
		}
		l.names[name] = Position{File: t.f.name, Line: t.keyLine("name")}
	}
}

// validName reports whether name matches ^[A-Za-z0-9][A-Za-z0-9_.-]*$.
func validName(name string) bool {
	for i, c := range []byte(name) {
		alphanumeric := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alphanumeric && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return name != ""
}

// decodePrograms decodes the keys that distinguish an owned service from an external
// one: command, or pidfile with start and stop.
func decodePrograms(t *table, s *Service) {
	t.resolvePath("pidfile", &s.Pidfile)
	decodeArgv(t, "start", &s.Start)
	decodeArgv(t, "stop", &s.Stop)
	decodeArgv(t, "command", &s.Command)
	t.resolvePath("directory", &s.Directory)

	const choice = "command when tend runs the service itself, or pidfile when something else starts it"
	switch {
	case t.has("command") && t.has("pidfile"):
		t.errorf("command", "cannot be combined with pidfile: set "+choice)
	case !t.has("command") && !t.has("pidfile"):
		t.missing("command", choice)
	case t.has("command"):
		if t.has("start") {
			t.errorf("start", "only allowed with pidfile, because tend starts command itself")
		}
		if t.has("stop") {
			t.errorf("stop", "only allowed with pidfile, because tend stops command with stop_signal")
		}
	}
}

// decodeArgv decodes the argument vector at key. The program, its first item, must
// not be empty, but later arguments may be.
func decodeArgv(t *table, key string, dst *[]string) {
	var argv []string
	if !t.strs(key, &argv, `["/usr/bin/redis-server", "/etc/redis/redis.conf"]`) {
		return
	}
	if len(argv) == 0 {
		t.errorf(key, `empty: want the program and its arguments, such as ["/usr/sbin/service", "redis", "start"]`)
		return
	}
	if argv[0] == "" {
		t.f.add(t.itemLine(key, 0), t.keyName(key), "item 1: empty: want the program to run")
	}
	for i, arg := range argv {
		if strings.ContainsRune(arg, 0) {
			t.f.add(t.itemLine(key, i), t.keyName(key), "item %d: contains a NUL byte, which no argument can", i+1)
		}
	}
	*dst = argv
}

// decodeEnvironment decodes the environment table: variable names and their values.
func decodeEnvironment(t *table, s *Service) {
	env, ok := t.sub("environment", `{ RAILS_ENV = "production" }`)
	if !ok {
		return
	}
	names := make([]string, 0, len(env.values))
	for name := range env.values {
		names = append(names, name)
	}
	slices.Sort(names)

	s.Environment = make(map[string]string, len(names))
	for _, name := range names {
		var value string
		switch {
		case !env.str(name, &value):
			// The value has the wrong type, which env.str has reported.
		case name == "" || strings.ContainsAny(name, "=\x00"):
			env.errorf(name, `invalid variable name: want a name without "=" or NUL bytes`)
		case strings.ContainsRune(value, 0):
			env.errorf(name, "contains a NUL byte, which no environment value can")
		default:
			s.Environment[name] = value
		}
	}
}

// decodeStopping decodes how a service is started and stopped in time: its signal,
// timeouts and restart limit.
func decodeStopping(t *table, s *Service) {
	t.text("stop_signal", &s.StopSignal, `"SIGTERM"`)
	decodeTimeout(t, "start_timeout", &s.StartTimeout)
	decodeTimeout(t, "stop_timeout", &s.StopTimeout)

	limit, ok := t.sub("restart_limit", "{ restarts = 5, cycles = 5 }")
	if !ok {
		return
	}
	limit.rejectUnknown("restarts", "cycles")
	decodeCount(limit, "restarts", &s.RestartLimit.Restarts)
	decodeCount(limit, "cycles", &s.RestartLimit.Cycles)
}

// decodeTimeout decodes a duration that must be greater than 0.
func decodeTimeout(t *table, key string, dst *Duration) {
	if t.text(key, dst, `"30s"`) && *dst <= 0 {
		t.errorf(key, "%s is too short: want a duration greater than 0", *dst)
	}
}

// decodeCount decodes an integer that must be at least 1.
func decodeCount(t *table, key string, dst *int) {
	if t.integer(key, dst) && *dst < 1 {
		t.errorf(key, "%d is too small: want 1 or more", *dst)
	}
}
