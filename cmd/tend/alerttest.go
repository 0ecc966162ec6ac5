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
	opts := alertOptions(cfg, nil)
	timeout := time.Minute
	if opts.Mail != nil {
		timeout = 0
		for _, s := range opts.Mail.Servers {
			timeout += s.Timeout
		}
		timeout = max(timeout, 10*time.Second)
	}
	for _, r := range opts.Routes {
		if r.Webhook != nil {
			timeout += max(r.Webhook.Timeout, alert.DefaultWebhookTimeout)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	ev := alert.Event{
		Kind: "test", Host: cfg.Hostname,
		Message: fmt.Sprintf("This is a test alert from tend on %s, sent by 'tend alert test'. "+
			"Alerts from this host reach you.", cfg.Hostname),
	}
	results, err := alert.SendTest(ctx, opts, ev)
	if err != nil {
		fmt.Fprintf(stderr, "tend alert test: %v\n", err)
		return 1
	}
	code := 0
	for _, r := range results {
		name := "route " + r.Route
		if r.Route == "" {
			name = "[mail] recipients"
		}
		if r.Err != nil {
			fmt.Fprintf(stderr, "%s (%s): not delivered: %v\n", name, r.Destination, r.Err)
			code = 1
			continue
		}
		if r.Skipped != nil {
			fmt.Fprintf(stdout, "%s: earlier servers failed: %v\n", name, r.Skipped)
		}
		fmt.Fprintf(stdout, "%s: test alert accepted by %s (%s)\n", name, r.Server, r.Destination)
	}
	return code
}
