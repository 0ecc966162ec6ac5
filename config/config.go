// Package config loads and validates tend's configuration: the main file (daemon settings,
// mail) and every drop-in its include globs match, each declaring one or more services.
//
// Decoding is strict. Unknown keys, wrong types, bad durations, sizes and percentages,
// duplicate service names and missing required keys are reported together, each naming
// the file, the line and the key.
package config

import (
	"regexp"
	"syscall"
	"time"
)

// Defaults applied before validation when a key is absent.
const (
	DefaultInterval     = 30 * time.Second
	DefaultStateDir     = "/var/lib/tend"
	DefaultStartTimeout = 30 * time.Second
	DefaultStopTimeout  = 30 * time.Second
	DefaultStopSignal   = Signal(syscall.SIGTERM)
	DefaultProbeTimeout = 5 * time.Second
	DefaultForCycles    = 1
	DefaultMailTimeout  = 15 * time.Second
	DefaultMailTLS      = TLSStartTLS

	DefaultRestartDelay    = time.Second
	DefaultRestartDelayMax = time.Minute
	DefaultStableAfter     = 5 * time.Minute
	DefaultLogMaxSize      = 10 << 20
	DefaultLogMaxFiles     = 5
)

// MinInterval is the shortest cycle that Load accepts.
const MinInterval = 100 * time.Millisecond

// Config is the whole configuration: the main file plus its drop-ins.
type Config struct {
	// Path is the main file the configuration was loaded from.
	Path string

	// Interval is the cycle length: how often every service is observed.
	Interval Duration
	// StateDir contains the daemon's durable state, the alert queue among it. A relative
	// state_dir is joined to the directory of the main file.
	StateDir string
	// Include lists the glob patterns of drop-in files, each relative pattern already
	// joined to the directory of the main file.
	Include []string
	// Hostname names this machine in alerts. It is the kernel's host name when the
	// hostname key is absent.
	Hostname string

	// Mail is nil when no [mail] table is present, and then alerts are only logged.
	Mail *Mail
	// Alerts are the [alerts] settings, or their defaults when the table is absent.
	Alerts Alerts

	// Control is the [control] table: the unix socket of the CLI.
	Control Control
	// HTTP is nil when no [http] table is present, and then tend serves no HTTP.
	HTTP *HTTP

	// Services lists the services of the main file, then those of each drop-in in the
	// order Load read them, each file's in the order they are written.
	Services []Service
}

// Mail contains the SMTP settings for alert delivery.
type Mail struct {
	// Servers lists the SMTP servers in the order delivery tries them: the one that
	// the server keys of the [mail] table describe, or one per [[mail.server]] entry.
	// It has at least one entry.
	Servers []MailServer

	// From and To are addresses as net/mail parses them, display names allowed.
	// To contains at least one address.
	From string
	To   []string

	// Pos is the position of the [mail] header.
	Pos Position
}

// MailServer is one SMTP server of Mail.
type MailServer struct {
	Host string
	// Port is 25 for TLSNone, 587 for TLSStartTLS and 465 for TLSImplicit unless the
	// port key sets it.
	Port int
	TLS  TLSMode
	// TLSOptional is set by tls = "starttls_optional". TLS is TLSStartTLS then, and a
	// server that does not offer STARTTLS receives the mail in clear text.
	TLSOptional bool

	// Username is empty when the server takes mail without authentication. When it is
	// set, Password is set too.
	Username string
	// Password is resolved from password_env or password_file when one of them is set,
	// and from the password key otherwise. It is masked when printed.
	Password Secret
	// Auth is the SMTP AUTH mechanism used when Username is set. It is MailAuthAuto
	// unless the auth key sets it.
	Auth MailAuth

	Timeout Duration

	// Pos is the position of the [[mail.server]] entry, or of the [mail] header when
	// the server keys are in the [mail] table.
	Pos Position
}

// Service is one supervised service.
//
// An owned service has Command: tend runs it as a child in its own process group. An
// external service has Pidfile or Match: something else starts it, through the Start
// program when tend must start it. A host service has none of the three. At most one
// of Command, Pidfile and Match is set.
type Service struct {
	// Name is unique across all files and matches ^[A-Za-z0-9][A-Za-z0-9_.-]*$.
	Name string
	// Pos is the position of the [[service]] header.
	Pos Position

	// Pidfile is the path of the file that contains the PID of an external service.
	// Pidfile, Directory and the other paths of a drop-in are joined to the directory
	// of the file that declares them when they are relative.
	Pidfile string
	// Start and Stop are argument vectors of an external service, run without a shell.
	// Either may be empty. Without Start, tend cannot start the service, and without
	// Stop it sends StopSignal to the PID from the pidfile.
	Start []string
	Stop  []string

	// Command is the argument vector of an owned service. Every argument vector that
	// Load returns has a non-empty first element, the program.
	Command []string
	// Directory is the working directory of the programs, or empty to inherit tend's.
	Directory string
	// Environment is added to tend's environment for the programs. It may be nil.
	Environment map[string]string

	// StopSignal is sent to the process (the process group of an owned service) when
	// there is no Stop program; SIGKILL follows after StopTimeout.
	StopSignal   Signal
	StartTimeout Duration
	StopTimeout  Duration

	// RestartLimit stops a restart loop: when reached, tend unmonitors the service.
	RestartLimit RestartLimit
	// RestartDelay is the pause before the first restart after a failure. Each further
	// restart doubles it, up to RestartDelayMax. Once the service has run for
	// StableAfter, the next failure starts from RestartDelay again.
	RestartDelay    Duration
	RestartDelayMax Duration
	StableAfter     Duration

	// Match is a regular expression over the command line that identifies an external
	// service without a pidfile. When several processes match, the oldest is the
	// service, or the newest when MatchNewest is set.
	Match       *regexp.Regexp
	MatchNewest bool

	// User and Group run the programs of the service under another account. Empty
	// means tend's own.
	User  string
	Group string
	// EnvironmentFiles are read in order at each start, before Environment applies.
	EnvironmentFiles []string
	// InheritEnvironment passes tend's own environment to the programs. Without it
	// they get only PATH, HOME, USER, LOGNAME and SHELL of their account, then
	// EnvironmentFiles and Environment.
	InheritEnvironment bool

	// LogFile receives the output of an owned service instead of tend's stderr, rotated
	// when it reaches LogMaxSize, with LogMaxFiles older files kept.
	LogFile     string
	LogMaxSize  uint64
	LogMaxFiles int

	// DependsOn names the services that must run before this one starts. Load checks
	// that each exists and that the dependencies form no cycle.
	DependsOn []string

	// Alerts are the [[service.alert]] entries: recipients of this service's events
	// in addition to those of the main file.
	Alerts []AlertRoute

	// Groups name the groups the service belongs to, so that a control command can
	// address all of them at once. A service name takes precedence over a group name.
	Groups []string

	// Notify gives an owned service a NOTIFY_SOCKET: its start ends with READY=1, and
	// when Watchdog is set, a WATCHDOG=1 must arrive at least that often or
	// WatchdogAction runs.
	Notify         bool
	Watchdog       Duration
	WatchdogAction Action

	// Checks lists the rules of the service, with at most one process check. When the
	// file declares none, Load adds one first, with ForCycles 1 and the restart action,
	// or the alert action for an external service without a Start program.
	Checks []Check
}

// Owned reports whether tend runs the service as its own child.
func (s *Service) Owned() bool { return len(s.Command) > 0 }

// HasProcess reports whether the service has a process to watch: an owned service, or
// an external one found through Pidfile or Match. A service without one is a host
// service, which holds only host checks and probes.
func (s *Service) HasProcess() bool { return s.Owned() || s.Pidfile != "" || s.Match != nil }

// RestartLimit is "Restarts restarts within Cycles cycles". Both are at least 1.
type RestartLimit struct {
	Restarts int
	Cycles   int
}

// DefaultRestartLimit returns the limit of 5 restarts within 5 cycles. It applies to
// each field of restart_limit that a service leaves out, so that no configuration
// restarts a crashing service forever.
func DefaultRestartLimit() RestartLimit {
	return RestartLimit{Restarts: 5, Cycles: 5}
}

// Position is a place in a configuration file.
type Position struct {
	File string
	Line int
}
