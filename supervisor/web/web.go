// Package web serves tend over HTTP: the status page, the JSON API and the metrics,
// behind authentication.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tend/config"
	"tend/supervisor"
	"tend/supervisor/api"
)

// shutdownTimeout bounds how long Run waits for requests in flight once ctx ends.
const shutdownTimeout = 5 * time.Second

// Options are the dependencies of a Server. Config, Backend and Logger are required.
type Options struct {
	Config  *config.HTTP
	Backend api.Backend
	// API serves the JSON API under /api/, after authentication, with the Caller in
	// the request's context. When it is nil, /api/ responds 404.
	API    http.Handler
	Logger *slog.Logger
}

func (o *Options) validate() error {
	switch {
	case o.Config == nil:
		return errors.New("web: Options.Config is nil")
	case o.Backend == nil:
		return errors.New("web: Options.Backend is nil")
	case o.Logger == nil:
		return errors.New("web: Options.Logger is nil")
	}
	return nil
}

// Server is the HTTP server. New opens its listener, Run serves on it, and
// ObserveCycle may be called from any goroutine.
type Server struct {
	opts     Options
	log      *slog.Logger
	listener net.Listener
	https    bool
	auth     *authenticator
	page     *statusPage
	cycles   prometheus.Histogram
	handler  http.Handler
}

// New loads the TLS key pair when the configuration names one, and listens on the
// configured address, so that a missing certificate or a port in use fails here. It
// returns a Server that serves once Run is called, or an error naming the file or the
// address. The caller must call Run or Close to release the listener.
func New(opts Options) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cfg := opts.Config
	s := &Server{opts: opts, log: opts.Logger, https: cfg.TLSCert != ""}
	auth, err := newAuthenticator(cfg.Users)
	if err != nil {
		return nil, err
	}
	s.auth = auth
	if s.page, err = newStatusPage(); err != nil {
		return nil, err
	}
	s.cycles = newCycleHistogram()

	var tlsConfig *tls.Config
	if s.https {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("web: load TLS certificate %s and key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("web: listen on %s: %w", cfg.Listen, err)
	}
	if err := s.checkAnonymous(ln.Addr()); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.listener = ln
	s.handler = s.routes()
	s.warnClearText()
	return s, nil
}

// checkAnonymous rejects a listener that other hosts can reach when no users are
// configured. config.Load rejects such a configuration already; this catches one that
// was built some other way, or a host name that resolved to another address.
func (s *Server) checkAnonymous(addr net.Addr) error {
	tcp, ok := addr.(*net.TCPAddr)
	if s.auth.anonymous() && (!ok || !tcp.IP.IsLoopback()) {
		return fmt.Errorf("web: serving %s without [[http.user]] entries is rejected: "+
			"add users, or listen on a loopback address", addr)
	}
	return nil
}

// warnClearText logs a warning when passwords would cross the network in clear text.
func (s *Server) warnClearText() {
	tcp, ok := s.listener.Addr().(*net.TCPAddr)
	if !s.https && !s.auth.anonymous() && ok && !tcp.IP.IsLoopback() {
		s.log.Warn("HTTP Basic authentication without TLS on a non-loopback address: "+
			"passwords cross the network in clear text; set tls_cert and tls_key",
			"addr", s.listener.Addr().String())
	}
}

// Addr returns the address the server listens on, with the port the kernel picked
// when the configured port is 0.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// URL returns the base URL of the server, such as "https://127.0.0.1:2812".
func (s *Server) URL() string {
	scheme := "http"
	if s.https {
		scheme = "https"
	}
	return scheme + "://" + s.listener.Addr().String()
}

// Run serves until ctx ends, then waits up to five seconds for requests in flight and
// closes the listener. It returns nil after ctx ended, or the error that stopped the
// server. Call it once.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.log.Info("serving HTTP", "url", s.URL(), "users", len(s.opts.Config.Users))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.listener) }()

	select {
	case err := <-errc:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web: serve: %w", err)
	}
	return nil
}

// Close closes the listener of a Server whose Run was never called.
func (s *Server) Close() error { return s.listener.Close() }

// ObserveCycle records the figures of a completed cycle for the metrics. It is called
// on the supervisor's goroutine and returns at once.
func (s *Server) ObserveCycle(st supervisor.CycleStats) {
	s.cycles.Observe(st.Duration.Seconds())
}

// routes returns the handler of every path, each behind authentication.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", http.HandlerFunc(s.servePage))
	mux.Handle("GET /fragment", http.HandlerFunc(s.serveFragment))
	mux.Handle("GET /static/", staticHandler())
	mux.Handle("GET /metrics", s.metricsHandler())
	if s.opts.API != nil {
		mux.Handle("/api/", s.guardAction(s.opts.API))
	}
	return securityHeaders(s.authenticate(mux))
}

// securityHeaders sets the headers that keep the pages from being framed, from
// loading resources of other origins and from running inline scripts.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
			"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
