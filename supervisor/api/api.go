// Package api serves tend's JSON API, the same one on the control socket and over
// HTTP, and holds the client that the CLI uses.
package api

import (
	"context"
	"time"

	"tend/alert"
	"tend/supervisor"
)

// Backend is the running daemon, which the API reads and drives.
type Backend interface {
	// Status returns the state of the services called names, or of every service
	// when no name is given, in configuration order. An unknown name is left out.
	Status(ctx context.Context, names ...string) ([]supervisor.ServiceStatus, error)
	// Control runs an operator's command on one service; by names who asked.
	Control(ctx context.Context, name string, cmd supervisor.Command, by string) error
	// Reload loads the configuration from disk and applies it, or with dryRun only
	// returns the plan.
	Reload(ctx context.Context, dryRun bool, by string) (supervisor.ReloadPlan, error)
	// Alerts returns the state of the alert queue.
	Alerts() alert.Status
	// Daemon describes the daemon itself.
	Daemon() Daemon
}

// Daemon describes the running daemon.
type Daemon struct {
	Version  string
	PID      int
	Started  time.Time
	Hostname string
	// Config is the path of the main configuration file.
	Config string
	// ConfigError is the error of the last rejected reload, empty while the running
	// configuration is the one on disk.
	ConfigError string
	// NeedsRestart lists the settings of the main file on disk that differ from the
	// running ones and take effect only when tend restarts, such as http.
	NeedsRestart []string
}

// Role is the set of requests a caller may make.
type Role int

// Roles, from least to most allowed.
const (
	RoleNone Role = iota
	RoleReadOnly
	RoleAdmin
)

// Caller identifies who sent a request, for the permission check and the log.
type Caller struct {
	// Name is a user name over HTTP, or "uid 1000 (name)" on the socket.
	Name string
	Role Role
	// PID is the calling process on the socket, 0 over HTTP. procmatch leaves it out,
	// so that the command line of `tend procmatch PATTERN` never matches PATTERN.
	PID int
}

type callerKey struct{}

// WithCaller returns ctx carrying c. The transport sets it after authentication.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller of ctx, or a caller with RoleNone when there is none.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}
