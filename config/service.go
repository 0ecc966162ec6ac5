package config

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
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
	s := newService(Position{File: t.f.name, Line: t.line()})
	t.prefix = fmt.Sprintf("service %d ", index+1)
	hasName := t.str("name", &s.Name)
	if hasName && s.Name != "" {
		t.prefix = fmt.Sprintf("service %q ", s.Name)
	}

	t.rejectUnknown("name", "pidfile", "match", "match_pick", "start", "stop", "command",
		"directory", "environment", "environment_file", "inherit_environment", "user", "group",
		"log_file", "log_max_size", "log_max_files", "depends_on", "groups", "notify", "watchdog",
		"watchdog_action", "stop_signal", "start_timeout", "stop_timeout", "restart_limit",
		"restart_delay", "restart_delay_max", "stable_after", "alert", "check")
	l.checkName(t, s.Name, hasName)
	decodePrograms(t, &s)
	decodeEnvironment(t, &s)
	decodeAccount(t, &s)
	decodeOutput(t, &s)
	decodeNotify(t, &s)
	decodeStopping(t, &s)
	decodeRestartDelay(t, &s)
	l.decodeDependencies(t, &s)
	decodeGroups(t, &s)
	l.decodeServiceAlerts(t, &s)
	s.Checks = l.decodeServiceChecks(t, &s)
	return s
}

// newService returns a service declared at pos with every default applied.
func newService(pos Position) Service {
	return Service{
		Pos:             pos,
		StopSignal:      DefaultStopSignal,
		StartTimeout:    Duration(DefaultStartTimeout),
		StopTimeout:     Duration(DefaultStopTimeout),
		RestartLimit:    DefaultRestartLimit(),
		RestartDelay:    Duration(DefaultRestartDelay),
		RestartDelayMax: Duration(DefaultRestartDelayMax),
		StableAfter:     Duration(DefaultStableAfter),
		LogMaxSize:      DefaultLogMaxSize,
		LogMaxFiles:     DefaultLogMaxFiles,
		WatchdogAction:  ActionRestart,
	}
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
// one: command, or pidfile or match with start and stop.
func decodePrograms(t *table, s *Service) {
	t.resolvePath("pidfile", &s.Pidfile)
	decodeMatch(t, s)
	decodeArgv(t, "start", &s.Start)
	decodeArgv(t, "stop", &s.Stop)
	decodeArgv(t, "command", &s.Command)
	t.resolvePath("directory", &s.Directory)

	switch {
	case t.has("command") && t.has("pidfile"):
		t.errorf("command", "cannot be combined with pidfile: set command when tend runs the "+
			"service itself, or pidfile when something else starts it")
	case t.has("command") && t.has("match"):
		t.errorf("command", "cannot be combined with match: set command when tend runs the "+
			"service itself, or match when something else starts it")
	case t.has("pidfile") && t.has("match"):
		t.errorf("match", "cannot be combined with pidfile: a service is found through one of them")
	case t.has("command"):
		if t.has("start") {
			t.errorf("start", "only allowed with pidfile or match, because tend starts command itself")
		}
		if t.has("stop") {
			t.errorf("stop", "only allowed with pidfile or match, because tend stops command with stop_signal")
		}
	case !t.has("pidfile") && !t.has("match") && !t.has("check"):
		t.missing("command", "command when tend runs the service itself, pidfile or match when "+
			"something else starts it, or [[service.check]] entries for a host service")
	case !t.has("pidfile") && !t.has("match"):
		for _, key := range []string{"start", "stop"} {
			if t.has(key) {
				t.errorf(key, "only allowed with pidfile or match: a service without command, "+
					"pidfile or match is a host service and has no process to %s", key)
			}
		}
	}
}

// decodeMatch decodes the regular expression that finds an external service by its
// command line, and which process wins when several match.
func decodeMatch(t *table, s *Service) {
	var pattern string
	if t.str("match", &pattern) {
		switch re, err := regexp.Compile(pattern); {
		case pattern == "":
			t.errorf("match", `empty: want a regular expression over the command line, such as "^/usr/bin/caddy run"`)
		case err != nil:
			t.errorf("match", "%s", describeRegexpError(err))
		default:
			s.Match = re
		}
	}
	var pick string
	if !t.str("match_pick", &pick) {
		return
	}
	switch {
	case !t.has("match"):
		t.errorf("match_pick", "only allowed with match")
	case pick == "newest":
		s.MatchNewest = true
	case pick != "oldest":
		t.errorf("match_pick", `invalid value %q: want "oldest" or "newest"`, pick)
	}
}

// describeRegexpError describes an error of regexp.Compile, such as
// `invalid regular expression: missing closing ) in "caddy ("`.
func describeRegexpError(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid regular expression: %s in %q", se.Code, se.Expr)
	}
	return "invalid regular expression: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")
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

// decodeAccount decodes the account and environment files of the service's programs.
func decodeAccount(t *table, s *Service) {
	for _, key := range []string{"user", "group"} {
		dst := &s.User
		if key == "group" {
			dst = &s.Group
		}
		if t.str(key, dst) && *dst == "" {
			t.errorf(key, "empty: want a name or a numeric ID, or leave the key out to run as tend's own %s", key)
		}
	}
	if t.has("environment_file") {
		decodePaths(t, "environment_file", &s.EnvironmentFiles)
	}
	t.boolean("inherit_environment", &s.InheritEnvironment)
}

// decodePaths decodes a path or a list of paths, each joined to the directory of the
// file when relative.
func decodePaths(t *table, key string, dst *[]string) {
	if single, ok := t.values[key].(string); ok {
		t.values[key] = []any{single}
	}
	var paths []string
	if !t.strs(key, &paths, `"/etc/default/app" or ["/etc/default/app", "/etc/app/secrets.env"]`) {
		return
	}
	for i, p := range paths {
		if p == "" {
			t.f.add(t.itemLine(key, i), t.keyName(key), "item %d: empty: want a path", i+1)
			continue
		}
		*dst = append(*dst, t.f.resolve(p))
	}
}

// decodeOutput decodes where the output of an owned service goes.
func decodeOutput(t *table, s *Service) {
	hasFile := t.resolvePath("log_file", &s.LogFile)
	var size Quantity
	if t.text("log_max_size", &size, `"10MB"`) {
		switch {
		case size.IsPercent():
			t.errorf("log_max_size", `%q is a percentage: want a size such as "10MB"`, size)
		case size.Bytes() < 4096:
			t.errorf("log_max_size", "%s is too small: want at least 4KiB", size)
		default:
			s.LogMaxSize = size.Bytes()
		}
	}
	if t.integer("log_max_files", &s.LogMaxFiles) && (s.LogMaxFiles < 1 || s.LogMaxFiles > 100) {
		t.errorf("log_max_files", "%d is out of range: want 1 to 100 older files to keep", s.LogMaxFiles)
	}
	if !t.has("command") {
		for _, key := range []string{"log_file", "log_max_size", "log_max_files"} {
			if t.has(key) {
				t.errorf(key, "only allowed with command: tend sees the output only of a service it runs itself")
			}
		}
		return
	}
	if !hasFile {
		for _, key := range []string{"log_max_size", "log_max_files"} {
			if t.has(key) {
				t.errorf(key, "only allowed with log_file")
			}
		}
	}
}

// decodeNotify decodes the readiness and watchdog protocol of an owned service.
func decodeNotify(t *table, s *Service) {
	t.boolean("notify", &s.Notify)
	if t.has("notify") && !t.has("command") {
		t.errorf("notify", "only allowed with command: tend gives NOTIFY_SOCKET only to a service it runs itself")
	}
	if t.text("watchdog", &s.Watchdog, `"30s"`) {
		switch {
		case s.Watchdog.D() < time.Second:
			t.errorf("watchdog", "%s is too short: want at least 1s", s.Watchdog)
		case !s.Notify:
			t.errorf("watchdog", "needs notify = true: the service sends its watchdog pings to NOTIFY_SOCKET")
		}
	}
	if t.text("watchdog_action", &s.WatchdogAction, `"restart"`) && !t.has("watchdog") {
		t.errorf("watchdog_action", "only allowed with watchdog")
	}
}

// decodeRestartDelay decodes the backoff between restarts.
func decodeRestartDelay(t *table, s *Service) {
	decodeTimeout(t, "restart_delay", &s.RestartDelay)
	decodeTimeout(t, "restart_delay_max", &s.RestartDelayMax)
	decodeTimeout(t, "stable_after", &s.StableAfter)
	if s.RestartDelayMax < s.RestartDelay {
		key := "restart_delay_max"
		if !t.has(key) {
			key = "restart_delay"
		}
		t.errorf(key, "restart_delay_max (%s) is shorter than restart_delay (%s)", s.RestartDelayMax, s.RestartDelay)
	}
}

// decodeGroups decodes the groups of a service.
func decodeGroups(t *table, s *Service) {
	var names []string
	if !t.strs("groups", &names, `["rails"]`) {
		return
	}
	for i, name := range names {
		switch {
		case !validName(name):
			t.f.add(t.itemLine("groups", i), t.keyName("groups"),
				`item %d: invalid group name %q: want a letter or digit, then letters, digits, "_", "." or "-"`, i+1, name)
		case slices.Contains(names[:i], name):
			t.f.add(t.itemLine("groups", i), t.keyName("groups"), "item %d: %q is listed twice", i+1, name)
		default:
			s.Groups = append(s.Groups, name)
		}
	}
}

// decodeDependencies decodes depends_on. checkDependencies checks the names once every
// file is read.
func (l *loader) decodeDependencies(t *table, s *Service) {
	var names []string
	if !t.strs("depends_on", &names, `["postgres", "redis"]`) {
		return
	}
	l.dependsOn = append(l.dependsOn, dependsKey{f: t.f, line: t.keyLine("depends_on"), key: t.keyName("depends_on"), service: s.Name})
	for i, name := range names {
		switch {
		case name == s.Name:
			t.f.add(t.itemLine("depends_on", i), t.keyName("depends_on"), "item %d: a service cannot depend on itself", i+1)
		case slices.Contains(names[:i], name):
			t.f.add(t.itemLine("depends_on", i), t.keyName("depends_on"), "item %d: %q is listed twice", i+1, name)
		default:
			s.DependsOn = append(s.DependsOn, name)
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

// dependsKey is the place of a service's depends_on key, kept for the errors found
// after every file is read.
type dependsKey struct {
	f       *fileDecoder
	line    int
	key     string
	service string
}

// checkDependencies reports dependencies on services that do not exist and cycles
// among dependencies, each at the depends_on key that closes it.
func (l *loader) checkDependencies(services []Service) {
	byName := make(map[string]*Service, len(services))
	for i := range services {
		byName[services[i].Name] = &services[i]
	}
	where := make(map[string]dependsKey, len(l.dependsOn))
	for _, d := range l.dependsOn {
		where[d.service] = d
		svc, ok := byName[d.service]
		if !ok {
			continue
		}
		for _, dep := range svc.DependsOn {
			// A file that could not be parsed may declare it; its error is reported.
			if _, ok := byName[dep]; !ok && !l.unread {
				d.f.add(d.line, d.key, "unknown service %q", dep)
			}
		}
	}

	// A depth-first search: a service met again while on the path closes a cycle.
	const (
		unvisited = iota
		onPath
		done
	)
	mark := make(map[string]int, len(services))
	var path []string
	var visit func(name string)
	visit = func(name string) {
		mark[name] = onPath
		path = append(path, name)
		for _, dep := range byName[name].DependsOn {
			if _, ok := byName[dep]; !ok {
				continue
			}
			switch mark[dep] {
			case onPath:
				cycle := append(slices.Clone(path[slices.Index(path, dep):]), dep)
				d := where[name]
				d.f.add(d.line, d.key, "dependency cycle: %s", strings.Join(cycle, " → "))
			case unvisited:
				visit(dep)
			}
		}
		path = path[:len(path)-1]
		mark[name] = done
	}
	for _, svc := range services {
		if mark[svc.Name] == unvisited && len(svc.DependsOn) > 0 {
			visit(svc.Name)
		}
	}
}
