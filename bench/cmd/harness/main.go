// Command harness measures tend against Monit and supervisord on the same machine in
// the same run. It measures daemon memory and CPU per cycle, the time from a killed or
// hung service to its replacement and to the alert mail, configuration checks,
// reloads, and daemon start with services to start or to adopt. It prints every
// figure with the ratio of tend to the other tool and writes a Markdown page and a
// PNG chart.
//
// It runs as root: it installs monit and supervisor from Debian's packages when they
// are missing, and each tool runs its services as root, as it would under init.
// Everything it creates is under one temporary directory, every port is a free port
// on 127.0.0.1, and it kills only processes that it or the tools started for it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := runServe(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

// options are the command-line settings of a run.
type options struct {
	plan      plan
	tend      string
	page      string
	chart     string
	keep      bool
	noInstall bool
	verbose   bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("harness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	sizes := fs.String("n", "10,100,500,1000", "comma-separated numbers of services")
	fs.IntVar(&o.plan.Reps, "reps", 3, "repetitions of each tool at each number of services")
	fs.DurationVar(&o.plan.Interval, "interval", 2*time.Second, "cycle interval of tend and Monit, whole seconds")
	fs.IntVar(&o.plan.Window, "window", 3,
		"cycles over which daemon CPU and memory are read (intervals for supervisord, which has no cycle)")
	tools := fs.String("tools", "tend-pidfile,monit,tend-owned,supervisord", "comma-separated tools to measure")
	quick := fs.Bool("quick", false, "smoke run: -n 10,100 -reps 1 -window 2")
	fs.StringVar(&o.tend, "tend", "", "tend binary; empty builds ./cmd/tend into the run's directory")
	fs.StringVar(&o.page, "out", "docs/benchmarks-compare.md", "Markdown page to write; empty writes none")
	fs.StringVar(&o.chart, "chart", "docs/benchmarks-compare.png", "PNG chart to write; empty writes none")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory with every configuration and log")
	fs.BoolVar(&o.noInstall, "no-install", false, "fail instead of installing missing Debian packages")
	fs.BoolVar(&o.verbose, "v", false, "log each step")
	if err := fs.Parse(args); err != nil {
		return o, err
	}

	if *quick {
		*sizes, o.plan.Reps, o.plan.Window = "10,100", 1, 2
	}
	var err error
	if o.plan.Sizes, err = parseSizes(*sizes); err != nil {
		return o, err
	}
	if o.plan.Tools, err = parseTools(*tools); err != nil {
		return o, err
	}
	if o.plan.Interval < time.Second || o.plan.Interval%time.Second != 0 {
		return o, fmt.Errorf("-interval %v: must be whole seconds, at least 1s, as Monit takes it", o.plan.Interval)
	}
	if o.plan.Reps < 1 || o.plan.Window < 1 {
		return o, fmt.Errorf("-reps %d, -window %d: both must be at least 1", o.plan.Reps, o.plan.Window)
	}
	return o, nil
}

func parseSizes(text string) ([]int, error) {
	var sizes []int
	for field := range strings.SplitSeq(text, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 4 {
			return nil, fmt.Errorf("-n %q: %q is not a number of services of at least 4", text, field)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func parseTools(text string) ([]toolKind, error) {
	var tools []toolKind
	for field := range strings.SplitSeq(text, ",") {
		kind := toolKind(strings.TrimSpace(field))
		found := false
		for _, k := range allTools {
			found = found || k == kind
		}
		if !found {
			return nil, fmt.Errorf("-tools: unknown tool %q; known: %s, %s, %s, %s", field,
				tendExternal, monit, tendOwned, supervisord)
		}
		tools = append(tools, kind)
	}
	return tools, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	env, err := prepare(o, log)
	if err != nil {
		return err
	}
	defer env.close(o.keep, log)

	r := &runner{plan: o.plan, bins: env.bins, root: env.root, mail: env.mail, ports: newPortPool(),
		res: newResults(), log: log}
	began := time.Now()
	r.measureAll(interrupted(log))

	rep := &report{plan: o.plan, res: r.res, machine: describeMachine(env.bins), args: args,
		took: time.Since(began)}
	rep.print(stdout)
	if o.page != "" {
		if err := rep.writePage(o.page, o.chart); err != nil {
			return err
		}
	}
	if o.chart != "" {
		if err := writeChart(o.chart, rep); err != nil {
			return err
		}
	}
	return nil
}

// interrupted returns a channel that is closed on the first SIGINT or SIGTERM, so
// that the run ends after the current measurement, with its processes stopped.
func interrupted(log *slog.Logger) <-chan struct{} {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		sig := <-signals
		log.Warn("ending after the current measurement", "signal", sig.String())
		signal.Stop(signals)
		close(done)
	}()
	return done
}

// measureAll runs every tool at every size and repetition until stop is closed.
func (r *runner) measureAll(stop <-chan struct{}) {
	for _, n := range r.plan.Sizes {
		for rep := range r.plan.Reps {
			for _, kind := range r.plan.Tools {
				select {
				case <-stop:
					r.res.Failures = append(r.res.Failures, "the run was interrupted")
					return
				default:
				}
				r.log.Info("measuring", "tool", kind, "n", n, "rep", rep+1)
				if err := r.runOne(kind, n, rep); err != nil {
					r.fail(kind, n, "setup", err)
				}
			}
		}
	}
}
