// Package web serves tend over HTTP: the status page, the JSON API and the metrics,
// behind authentication.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"tend/config"
	"tend/supervisor"
	"tend/supervisor/api"
)

// Options are the dependencies of a Server.
type Options struct {
	Config  *config.HTTP
	Backend api.Backend
	// API serves the JSON API under /api/.
	API    http.Handler
	Logger *slog.Logger
}

// Server is the HTTP server.
type Server struct {
	opts Options
}

// New checks opts and returns a Server that listens only once Run is called.
func New(opts Options) (*Server, error) {
	return nil, errors.New("web: not built yet")
}

// Run serves until ctx ends.
func (s *Server) Run(ctx context.Context) error { return nil }

// ObserveCycle records the figures of a completed cycle for the metrics. It is called
// on the supervisor's goroutine and returns at once.
func (s *Server) ObserveCycle(st supervisor.CycleStats) {}
