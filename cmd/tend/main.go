// Command tend is a process supervisor daemon: `tend run` watches the services of its
// configuration, and the other verbs validate that configuration or print the version.
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

const usage = `usage: tend <command> [flags]

commands:
  run        run the daemon in the foreground (as systemd starts it)
  validate   load the configuration and print every error with file, line and key
  alert test send a test alert through the configured mail servers and report the result
  version    print the version

Run 'tend <command> -h' for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code: 0 on success, 1 when
// the command failed, 2 on a usage error.
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
