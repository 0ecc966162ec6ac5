package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"tend/alert"
	"tend/config"
)

// cmdAlert runs the alert verbs; "test" is the only one.
func cmdAlert(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintln(stderr, "usage: tend alert test [--config FILE]")
		return 2
	}
	fs := flag.NewFlagSet("alert test", flag.ContinueOnError)
	path := fs.String("config", defaultConfig, "main configuration `file`")
	if code := parseFlags(fs, args[1:], stderr); code >= 0 {
		return code
	}
	cfg, err := config.Load(*path)
	if err != nil {
		printConfigErrors(stderr, err)
		return 1
	}
	mail := mailOptions(cfg)
	timeout := time.Minute
	if mail != nil {
		timeout = 0
		for _, s := range mail.Servers {
			timeout += s.Timeout
		}
		timeout = max(timeout, 10*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	ev := alert.Event{
		Kind: "test", Host: cfg.Hostname,
		Message: fmt.Sprintf("This is a test alert from tend on %s, sent by 'tend alert test'. "+
			"Alerts from this host reach you.", cfg.Hostname),
	}
	result, err := alert.SendTest(ctx, mail, ev)
	if err != nil {
		fmt.Fprintf(stderr, "tend alert test: not delivered: %v\n", err)
		return 1
	}
	if result.Skipped != nil {
		fmt.Fprintf(stdout, "earlier servers failed: %v\n", result.Skipped)
	}
	fmt.Fprintf(stdout, "test alert accepted by %s for %v\n", result.Server, cfg.Mail.To)
	return 0
}
