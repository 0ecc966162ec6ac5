package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"tend/config"
	"tend/internal/units"
	"tend/supervisor/api"
)

// Exit codes of the client verbs, documented in the usage text and in docs/cli.md.
const (
	exitOK = 0
	// exitFailed: the daemon rejected the command, or status NAME found a named
	// service that is not running.
	exitFailed      = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitNotFound    = 4
)

// requestTimeout bounds one client request; the daemon bounds its own work below it.
const requestTimeout = 30 * time.Second

// clientCommand is one run of a client verb: its flags, its arguments and where it
// writes.
type clientCommand struct {
	verb           string
	flags          *flag.FlagSet
	socket, config string
	json           bool
	args           []string
	stdout, stderr io.Writer
}

// newClientCommand returns the flag set of verb; withJSON adds --json.
func newClientCommand(verb string, withJSON bool, stdout, stderr io.Writer) *clientCommand {
	c := &clientCommand{verb: verb, stdout: stdout, stderr: stderr}
	c.flags = flag.NewFlagSet(verb, flag.ContinueOnError)
	c.flags.StringVar(&c.socket, "socket", "", "control socket `path`; default: [control] socket of -config, else "+
		config.DefaultControlSocket)
	c.flags.StringVar(&c.config, "config", defaultConfig, "main configuration `file` that names the control socket")
	if withJSON {
		c.flags.BoolVar(&c.json, "json", false, "print JSON instead of text")
	}
	return c
}

// parse parses args, with flags before, between or after the arguments, and checks
// that between minArgs and maxArgs arguments remain (maxArgs < 0: no limit). It
// returns the exit code when parsing ended the command, or -1 to go on.
func (c *clientCommand) parse(args []string, minArgs, maxArgs int, argNames string) int {
	c.flags.SetOutput(c.stderr)
	c.flags.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: tend %s [flags] %s\n", c.verb, argNames)
		c.flags.PrintDefaults()
	}
	for {
		err := c.flags.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		if err != nil {
			return exitUsage
		}
		if c.flags.NArg() == 0 {
			break
		}
		c.args = append(c.args, c.flags.Arg(0))
		args = c.flags.Args()[1:]
	}
	if len(c.args) < minArgs || (maxArgs >= 0 && len(c.args) > maxArgs) {
		fmt.Fprintf(c.stderr, "tend %s: want %s, got %d arguments\n", c.verb, argNames, len(c.args))
		c.flags.Usage()
		return exitUsage
	}
	return -1
}

// client returns the API client for the socket: -socket, else the [control] socket of
// -config when that file loads, else the default.
func (c *clientCommand) client() *api.Client {
	path := c.socket
	if path == "" {
		path = config.DefaultControlSocket
		ctl, err := config.LoadControl(c.config)
		switch {
		case err == nil:
			path = ctl.Socket
		case c.config != defaultConfig || !missing(c.config):
			fmt.Fprintf(c.stderr, "tend %s: cannot read the [control] socket from %s, trying %s: %v\n",
				c.verb, c.config, path, err)
		}
	}
	return api.NewClient(path)
}

// missing reports whether no file exists at path.
func missing(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// fail prints err and returns its exit code.
func (c *clientCommand) fail(err error) int {
	fmt.Fprintf(c.stderr, "tend %s: %v\n", c.verb, err)
	return exitCodeOf(err)
}

func exitCodeOf(err error) int {
	if _, ok := errors.AsType[*api.UnreachableError](err); ok {
		return exitUnreachable
	}
	if se, ok := errors.AsType[*api.StatusError](err); ok {
		switch se.Status {
		case http.StatusNotFound:
			return exitNotFound
		case http.StatusBadRequest:
			return exitUsage
		}
	}
	return exitFailed
}

// printJSON writes v indented, as the API sends it.
func (c *clientCommand) printJSON(v any) int {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return c.fail(err)
	}
	return exitOK
}

func requestContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), requestTimeout)
}

// statusReport is the JSON output of status: the daemon and the services.
type statusReport struct {
	Daemon   api.DaemonView    `json:"daemon"`
	Services []api.ServiceView `json:"services"`
}

// cmdStatus prints the services, all or those named, with their checks and the
// daemon's alert queue. With names, it exits 0 only when each named service runs.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	c := newClientCommand("status", true, stdout, stderr)
	if code := c.parse(args, 0, -1, "[NAME...]"); code >= 0 {
		return code
	}
	ctx, cancel := requestContext()
	defer cancel()
	cl := c.client()
	d, err := cl.Daemon(ctx)
	if err != nil {
		return c.fail(err)
	}
	services, code := c.fetchServices(ctx, cl)
	if services == nil {
		return code
	}

	if c.json {
		if jc := c.printJSON(statusReport{Daemon: d, Services: services}); jc != exitOK {
			return jc
		}
	} else {
		printStatus(stdout, services, d, time.Now())
	}
	return code
}

// fetchServices returns every service, or those that c.args names, and the exit code
// that the named ones give: 4 when one does not exist, else 1 when one is not running.
// It returns nil services when nothing can be printed.
func (c *clientCommand) fetchServices(ctx context.Context, cl *api.Client) ([]api.ServiceView, int) {
	if len(c.args) == 0 {
		services, err := cl.Services(ctx)
		if err != nil {
			return nil, c.fail(err)
		}
		return services, exitOK
	}
	services := []api.ServiceView{}
	code := exitOK
	for _, name := range c.args {
		s, err := cl.Service(ctx, name)
		if err != nil {
			if exitCodeOf(err) != exitNotFound {
				return nil, c.fail(err)
			}
			c.fail(err)
			code = exitNotFound
			continue
		}
		services = append(services, s)
		if s.State != "running" && code == exitOK {
			code = exitFailed
		}
	}
	if len(services) == 0 {
		return nil, code // Every name was unknown, and each is reported.
	}
	return services, code
}

// cmdSummary prints one line per service.
func cmdSummary(args []string, stdout, stderr io.Writer) int {
	c := newClientCommand("summary", true, stdout, stderr)
	if code := c.parse(args, 0, 0, ""); code >= 0 {
		return code
	}
	ctx, cancel := requestContext()
	defer cancel()
	services, err := c.client().Services(ctx)
	if err != nil {
		return c.fail(err)
	}
	if c.json {
		return c.printJSON(services)
	}
	printSummary(stdout, services)
	return exitOK
}

// cmdControl sends verb, an operator command, to one target.
func cmdControl(verb string, args []string, stdout, stderr io.Writer) int {
	c := newClientCommand(verb, false, stdout, stderr)
	if code := c.parse(args, 1, 1, "TARGET (a service, a group or all)"); code >= 0 {
		return code
	}
	ctx, cancel := requestContext()
	defer cancel()
	res, err := c.client().Control(ctx, verb, c.args[0])
	for _, s := range res.Services {
		if s.Error != "" {
			fmt.Fprintf(stderr, "%s: %s rejected: %s\n", s.Service, verb, s.Error)
		} else {
			fmt.Fprintf(stdout, "%s: %s accepted\n", s.Service, verb)
		}
	}
	if err != nil {
		if len(res.Services) > 0 {
			return exitCodeOf(err) // Each rejection is printed above.
		}
		return c.fail(err)
	}
	return exitOK
}

// cmdReload requests a reload of the configuration and prints the plan.
func cmdReload(args []string, stdout, stderr io.Writer) int {
	c := newClientCommand("reload", false, stdout, stderr)
	dryRun := c.flags.Bool("dry-run", false, "only print what the reload would change")
	if code := c.parse(args, 0, 0, ""); code >= 0 {
		return code
	}
	ctx, cancel := requestContext()
	defer cancel()
	plan, err := c.client().Reload(ctx, *dryRun)
	if err != nil {
		return c.fail(err)
	}
	printPlan(stdout, plan)
	return exitOK
}

// cmdHistory prints the restart history of one service.
func cmdHistory(args []string, stdout, stderr io.Writer) int {
	c := newClientCommand("history", true, stdout, stderr)
	if code := c.parse(args, 1, 1, "NAME"); code >= 0 {
		return code
	}
	ctx, cancel := requestContext()
	defer cancel()
	h, err := c.client().History(ctx, c.args[0])
	if err != nil {
		return c.fail(err)
	}
	if c.json {
		return c.printJSON(h)
	}
	printHistory(stdout, h)
	return exitOK
}

// cmdProcMatch prints the processes that a match pattern picks.
func cmdProcMatch(args []string, stdout, stderr io.Writer) int {
	c := newClientCommand("procmatch", true, stdout, stderr)
	pick := c.flags.String("pick", "oldest", "which of several matches wins, as match_pick: oldest or newest")
	if code := c.parse(args, 1, 1, "PATTERN"); code >= 0 {
		return code
	}
	ctx, cancel := requestContext()
	defer cancel()
	m, err := c.client().ProcMatch(ctx, c.args[0], *pick)
	if err != nil {
		return c.fail(err)
	}
	if c.json {
		return c.printJSON(m)
	}
	printProcMatch(stdout, m)
	return exitOK
}

// printStatus writes the services as an aligned table, each followed by its checks,
// then the alert queue and the configuration warning.
func printStatus(w io.Writer, services []api.ServiceView, d api.DaemonView, now time.Time) {
	rows := [][]string{{"SERVICE", "STATE", "PID", "UPTIME", "CPU", "MEMORY"}}
	for _, s := range services {
		rows = append(rows, serviceRow(s))
	}
	widths := columnWidths(rows)
	writeRow(w, widths, rows[0])
	for i, s := range services {
		writeRow(w, widths, rows[i+1])
		if s.State != "running" && s.Reason != "" {
			fmt.Fprintf(w, "    reason: %s\n", s.Reason)
		}
		for _, ch := range s.Checks {
			fmt.Fprintf(w, "    %-8s %s\n", checkMark(ch), checkText(ch))
		}
	}

	a := d.Alerts
	fmt.Fprintf(w, "\nalerts: %d queued", a.QueueDepth)
	if a.LastError != "" {
		at := ""
		if a.LastErrorAt != nil {
			at = " " + ago(now, *a.LastErrorAt)
		}
		fmt.Fprintf(w, "; last delivery error%s: %s", at, a.LastError)
	}
	fmt.Fprintln(w)
	if len(d.NeedsRestart) > 0 {
		fmt.Fprintf(w, "warning: these settings on disk wait for a restart of tend: %s\n", strings.Join(d.NeedsRestart, ", "))
	}
	if d.ConfigError != "" {
		fmt.Fprintf(w, "warning: the configuration on disk was rejected, so tend runs the previous one: %s\n", d.ConfigError)
	}
}

func serviceRow(s api.ServiceView) []string {
	state := s.State
	if s.Held {
		state += " (held)"
	}
	row := []string{s.Name, state, "-", "-", "-", "-"}
	if s.PID != 0 {
		row[2] = fmt.Sprint(s.PID)
	}
	if s.UptimeSeconds != nil {
		row[3] = units.Duration(seconds(*s.UptimeSeconds))
	}
	if u := s.Usage; u != nil {
		if u.TotalCPUPercent != nil {
			row[4] = fmt.Sprintf("%.1f%%", *u.TotalCPUPercent)
		}
		row[5] = units.Bytes(u.TotalMemoryBytes)
	}
	return row
}

// checkMark returns the word that leads a check's line: failing ones in capitals.
func checkMark(ch api.CheckView) string {
	switch {
	case !ch.Known:
		return "pending"
	case ch.Failing:
		return "FAILING"
	case !ch.OK:
		return "FAILED"
	}
	return "ok"
}

func checkText(ch api.CheckView) string {
	text := ch.Name
	switch {
	case ch.Known && !ch.OK && ch.Reason != "":
		text += ": " + ch.Reason
	case ch.Observed != "":
		text += ": " + ch.Observed
	}
	if ch.Known && !ch.OK {
		text += " (action " + ch.Action + ")"
	}
	return text
}

func printSummary(w io.Writer, services []api.ServiceView) {
	width := 0
	for _, s := range services {
		width = max(width, len(s.Name))
	}
	for _, s := range services {
		var parts []string
		if s.PID != 0 {
			parts = append(parts, fmt.Sprintf("PID %d", s.PID))
		}
		if s.UptimeSeconds != nil {
			parts = append(parts, "up "+units.Duration(seconds(*s.UptimeSeconds)))
		}
		if s.Held {
			parts = append(parts, "held by an operator")
		}
		if s.State != "running" && s.Reason != "" {
			parts = append(parts, s.Reason)
		}
		line := fmt.Sprintf("%-*s  %s", width, s.Name, s.State)
		if len(parts) > 0 {
			line += " (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintln(w, line)
	}
}

func printPlan(w io.Writer, p api.ReloadResult) {
	if p.DryRun {
		fmt.Fprintln(w, "dry run: nothing was changed")
	}
	lists := []struct {
		name  string
		names []string
	}{
		{"added", p.Added}, {"removed", p.Removed}, {"updated", p.Updated},
		{"restarted", p.Restarted}, {"deferred", p.Deferred}, {"unchanged", p.Unchanged},
		{"settings", p.Settings},
	}
	for _, l := range lists {
		names := "-"
		if len(l.names) > 0 {
			names = strings.Join(l.names, ", ")
		}
		fmt.Fprintf(w, "%-10s %s\n", l.name+":", names)
	}
	if len(p.NeedsRestart) > 0 {
		fmt.Fprintf(w, "warning: these settings take effect only when tend restarts: %s\n",
			strings.Join(p.NeedsRestart, ", "))
	}
}

func printHistory(w io.Writer, h api.HistoryView) {
	if len(h.Restarts) == 0 {
		fmt.Fprintf(w, "%s: no restarts\n", h.Service)
		return
	}
	rows := [][]string{{"TIME", "TRIGGER", "PREVIOUS PROCESS"}}
	for _, r := range h.Restarts {
		exit := "-"
		if e := r.Exit; e != nil {
			exit = fmt.Sprintf("PID %d, %s after %s", e.PID, e.Status, units.Duration(seconds(e.UptimeSeconds)))
			if e.OOM {
				exit += ", out of memory"
			}
		}
		rows = append(rows, []string{r.Time.Local().Format(time.DateTime), r.Trigger, exit})
	}
	widths := columnWidths(rows)
	for _, row := range rows {
		writeRow(w, widths, row)
	}
}

func printProcMatch(w io.Writer, m api.ProcMatchView) {
	if m.Count == 0 {
		fmt.Fprintf(w, "%s\n", m.Reason)
		return
	}
	what := fmt.Sprintf("%d processes match", m.Count)
	if m.Count == 1 {
		what = "1 process matches"
	}
	fmt.Fprintf(w, "%s %q; with match_pick = %q the rule picks PID %d\n", what, m.Pattern, m.Pick, m.Winner)
	rows := [][]string{{"", "PID", "PPID", "STARTED", "COMMAND"}}
	for _, p := range m.Processes {
		mark := ""
		if p.Winner {
			mark = "*"
		}
		rows = append(rows, []string{mark, fmt.Sprint(p.PID), fmt.Sprint(p.PPID),
			p.Started.Local().Format(time.DateTime), p.Cmdline})
	}
	widths := columnWidths(rows)
	for _, row := range rows {
		writeRow(w, widths, row)
	}
	if len(m.Processes) < m.Count {
		fmt.Fprintf(w, "(%d more not listed)\n", m.Count-len(m.Processes))
	}
}

func columnWidths(rows [][]string) []int {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	return widths
}

// writeRow writes cells padded to widths, two spaces apart, without trailing spaces.
func writeRow(w io.Writer, widths []int, cells []string) {
	var b strings.Builder
	for i, cell := range cells {
		if i == len(cells)-1 {
			b.WriteString(cell)
			break
		}
		fmt.Fprintf(&b, "%-*s  ", widths[i], cell)
	}
	fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
}

// ago formats the time from t to now, such as "5m0s ago".
func ago(now, t time.Time) string {
	return units.Duration(now.Sub(t)) + " ago"
}

// seconds converts a duration in seconds, as the JSON API gives it, to a Duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
