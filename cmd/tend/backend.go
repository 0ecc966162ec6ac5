package main

import (
	"context"

	"tend/alert"
	"tend/supervisor"
	"tend/supervisor/api"
)

// backend is the api.Backend of the running daemon: the supervisor for status and
// commands, the reloader for reloads, and the notifier for the alert queue. Its
// fields are set before the control socket opens and never change, so it may serve
// any number of requests at once.
type backend struct {
	sup      *supervisor.Supervisor
	notifier *alert.Notifier
	reloader *reloader
	// daemon holds the facts that do not change while the daemon runs; Daemon adds
	// the reloader's ConfigError to them.
	daemon api.Daemon
}

func (b *backend) Status(ctx context.Context, names ...string) ([]supervisor.ServiceStatus, error) {
	return b.sup.Status(ctx, names...)
}

func (b *backend) Control(ctx context.Context, name string, cmd supervisor.Command, by string) error {
	return b.sup.Control(ctx, name, cmd, by)
}

func (b *backend) Reload(ctx context.Context, dryRun bool, by string) (supervisor.ReloadPlan, error) {
	return b.reloader.Reload(ctx, dryRun, by)
}

func (b *backend) Alerts() alert.Status { return b.notifier.Status() }

func (b *backend) Daemon() api.Daemon {
	d := b.daemon
	d.ConfigError = b.reloader.ConfigError()
	d.NeedsRestart = b.reloader.NeedsRestart()
	return d
}
