// Command tend is a process supervisor daemon: `tend run` watches the services of its
// configuration. The client verbs query and command the running daemon over its
// control socket, and the others validate the configuration or print the version.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const defaultConfig = "/etc/tend/tend.toml"

const usage = `usage: tend <command> [flags] [arguments]

daemon and configuration:
  run        run the daemon in the foreground (as systemd starts it)
  validate   load the configuration and print every error with file, line and key
  alert test send a test alert through every alert route and report the result
  hash-password
             read a password on stdin and print its bcrypt hash for [[http.user]]
  import monit FILE --output DIR
             translate a Monit control file into tend.toml and conf.d drop-ins
  version    print the version

client commands, sent to the daemon over its control socket:
  status [NAME...]    services with state, PID, uptime, CPU, memory and checks
  summary             one line per service
  start TARGET        start a service, every service of a group, or all
  stop TARGET         stop and hold until a start, restart or monitor
  restart TARGET      restart
  monitor TARGET      watch again after unmonitor or stop
  unmonitor TARGET    stop watching, leaving the process as it is
  reload [-dry-run]   reload the configuration and print what changed
  history NAME        the restarts of a service
  procmatch PATTERN   the processes a match pattern finds, and the one it picks

Client flags: -socket PATH, -config FILE (to read the socket from [control]), and
-json for status, summary, history and procmatch.

Exit codes of the client commands:
  0  success; for status NAME: every named service is running
  1  the command failed; for status NAME: a named service is not running
  2  usage error
  3  the daemon cannot be reached on the control socket
  4  no such service or group

Run 'tend <command> -h' for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code: 0 on success, 1 when
// the command failed, 2 on a usage error. The client verbs add 3 when the daemon
// cannot be reached and 4 for an unknown service or group.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	verb, args := args[0], args[1:]
	switch verb {
	case "run":
		return cmdRun(args, stderr)
	case "validate":
		return cmdValidate(args, stdout, stderr)
	case "alert":
		return cmdAlert(args, stdout, stderr)
	case "import":
		return cmdImport(args, stdout, stderr)
	case "hash-password":
		return cmdHashPassword(args, os.Stdin, stdout, stderr)
	case "status":
		return cmdStatus(args, stdout, stderr)
	case "summary":
		return cmdSummary(args, stdout, stderr)
	case "start", "stop", "restart", "monitor", "unmonitor":
		return cmdControl(verb, args, stdout, stderr)
	case "reload":
		return cmdReload(args, stdout, stderr)
	case "history":
		return cmdHistory(args, stdout, stderr)
	case "procmatch":
		return cmdProcMatch(args, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "tend %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "tend: unknown command %q\n\n%s", verb, usage)
	return 2
}

// parseFlags parses the flags of a command; it returns the exit code to use when
// parsing ended the command, or -1 to go on.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) int {
	fs.SetOutput(stderr)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "tend %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2
	}
	return -1
}
