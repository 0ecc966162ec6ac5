package main

import (
	"context"
	"errors"
	"log/slog"

	"tend/config"
	"tend/supervisor"
)

// reloader loads the configuration from disk and applies it to the supervisor.
type reloader struct{}

func newReloader(current *config.Config, sup *supervisor.Supervisor, alerter supervisor.Alerter, log *slog.Logger) *reloader {
	return &reloader{}
}

// Reload loads the configuration from disk and applies it, or with dryRun returns the
// plan only; by names who asked.
func (r *reloader) Reload(ctx context.Context, dryRun bool, by string) (supervisor.ReloadPlan, error) {
	return supervisor.ReloadPlan{}, errors.New("reload: not built yet")
}

// ConfigError returns the error of the last rejected reload, or "" while the running
// configuration is the one on disk.
func (r *reloader) ConfigError() string { return "" }

// Run reloads on SIGHUP and on changes to the configuration files until ctx ends.
func (r *reloader) Run(ctx context.Context) {}
