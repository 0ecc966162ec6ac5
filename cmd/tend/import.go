package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"tend/config/monit"
)

const importUsage = "usage: tend import monit FILE --output DIR\n"

// cmdImport translates a Monit control file into tend's configuration: tend import
// monit FILE --output DIR. It exits 0 when the files are written, with the statements
// that were not translated listed on stdout, 1 when the monitrc is invalid or the
// files cannot be written, and 2 on a usage error.
func cmdImport(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "monit" {
		fmt.Fprint(stderr, "tend import: the only source is monit\n"+importUsage)
		return 2
	}
	fs := flag.NewFlagSet("import monit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.String("output", "", "`directory` for tend.toml, conf.d, IMPORT-NOTES.txt and secrets.env; created when missing")
	files, code := parseInterleaved(fs, args[1:])
	switch {
	case code >= 0:
		return code
	case len(files) != 1:
		fmt.Fprint(stderr, "tend import monit: want one monitrc file\n"+importUsage)
		return 2
	case *output == "":
		fmt.Fprint(stderr, "tend import monit: missing --output DIR\n"+importUsage)
		return 2
	}

	res, err := monit.Import(files[0], monit.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "tend import monit: %v\n", err)
		return 1
	}
	if err := res.Write(*output); err != nil {
		fmt.Fprintf(stderr, "tend import monit: %v\n", err)
		return 1
	}
	printImportSummary(stdout, stderr, res, *output)
	return 0
}

// parseInterleaved parses flags that may come before or after the positional
// arguments, and returns the positional ones. The code is -1 to go on, or the exit
// code when parsing ended the command.
func parseInterleaved(fs *flag.FlagSet, args []string) (positional []string, code int) {
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return nil, 0
		case err != nil:
			return nil, 2
		}
		if fs.NArg() == 0 {
			return positional, -1
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// printImportSummary prints what was written, the notes, and the secrets warning.
func printImportSummary(stdout, stderr io.Writer, res *monit.Result, dir string) {
	fmt.Fprintf(stdout, "wrote %s and %d drop-ins in %s\n", filepath.Join(dir, "tend.toml"), len(res.DropIns), filepath.Join(dir, "conf.d"))
	if len(res.Notes) > 0 {
		fmt.Fprintf(stdout, "%d statements were not translated, or translated with another meaning (also in %s):\n",
			len(res.Notes), filepath.Join(dir, "IMPORT-NOTES.txt"))
		for _, n := range res.Notes {
			fmt.Fprintf(stdout, "  %s\n", n)
		}
	}
	if len(res.Secrets) > 0 {
		env := filepath.Join(dir, "secrets.env")
		fmt.Fprintf(stderr, "warning: %s contains %d passwords from the monitrc (mode 0600); keep it owned by root, "+
			"and install it as /etc/default/tend, which the shipped unit loads into tend's environment\n", env, len(res.Secrets))
	}
	fmt.Fprintf(stdout, "next: review the files, then run tend validate --config %s\n", filepath.Join(dir, "tend.toml"))
}
