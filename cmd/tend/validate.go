package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"tend/config"
)

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	path := fs.String("config", defaultConfig, "main configuration `file`; drop-ins come from its include globs")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}

	cfg, err := config.Load(*path)
	if err != nil {
		printConfigErrors(stderr, err)
		return 1
	}
	noun := "services"
	if len(cfg.Services) == 1 {
		noun = "service"
	}
	fmt.Fprintf(stdout, "%s: configuration is valid: %d %s\n", *path, len(cfg.Services), noun)
	return 0
}

// printConfigErrors prints each configuration error on a line of its own.
func printConfigErrors(w io.Writer, err error) {
	var list config.Errors
	if !errors.As(err, &list) {
		fmt.Fprintf(w, "tend: %v\n", err)
		return
	}
	for _, e := range list {
		fmt.Fprintln(w, e)
	}
	if len(list) == 1 {
		fmt.Fprintln(w, "tend: 1 configuration error")
		return
	}
	fmt.Fprintf(w, "tend: %d configuration errors\n", len(list))
}
