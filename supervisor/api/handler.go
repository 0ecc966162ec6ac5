package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"tend/supervisor"
)

// backendTimeout bounds each call into the Backend, so that a request made while the
// supervisor's loop is busy or shutting down ends with an error instead of hanging.
const backendTimeout = 15 * time.Second

// maxBodyBytes bounds the body of a POST request.
const maxBodyBytes = 64 << 10

// handler serves the JSON API. It keeps no state of its own, so its methods may run
// on any number of goroutines at once.
type handler struct {
	backend Backend
	log     *slog.Logger
	mux     *http.ServeMux
	// procDir is the proc file system that procmatch reads.
	procDir string
}

// NewHandler returns the JSON API over b, under /api/v1/:
//
//	GET  /api/v1/services                 every service, in configuration order
//	GET  /api/v1/services/{name}          one service
//	GET  /api/v1/services/{name}/history  its restart history
//	GET  /api/v1/daemon                   the daemon and its alert queue
//	GET  /api/v1/procmatch?pattern=RE     the processes a match rule would pick
//	POST /api/v1/control                  a command for a service, a group or all
//	POST /api/v1/reload                   reload the configuration, or plan it
//
// A GET needs RoleReadOnly or more in the request's Caller; procmatch, which shows
// the command lines of every process, and a POST need RoleAdmin. Every
// error is a JSON ErrorBody with a fitting status code. log receives one line for every
// POST, naming the caller.
func NewHandler(b Backend, log *slog.Logger) http.Handler {
	h := &handler{backend: b, log: log, mux: http.NewServeMux(), procDir: "/proc"}
	h.route("/api/v1/services", http.MethodGet, RoleReadOnly, h.services)
	h.route("/api/v1/services/{name}", http.MethodGet, RoleReadOnly, h.service)
	h.route("/api/v1/services/{name}/history", http.MethodGet, RoleReadOnly, h.history)
	h.route("/api/v1/daemon", http.MethodGet, RoleReadOnly, h.daemon)
	// The command lines of every process on the host may carry credentials.
	h.route("/api/v1/procmatch", http.MethodGet, RoleAdmin, h.procMatch)
	h.route("/api/v1/control", http.MethodPost, RoleAdmin, h.control)
	h.route("/api/v1/reload", http.MethodPost, RoleAdmin, h.reload)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no API endpoint at %s", r.URL.Path))
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// route registers fn for one method on pattern, for callers with the role need or
// more. It checks the method and the role itself, so that both errors come as JSON like
// every other.
func (h *handler) route(pattern, method string, need Role, fn func(http.ResponseWriter, *http.Request) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && (method != http.MethodGet || r.Method != http.MethodHead) {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed, want %s", r.Method, r.URL.Path, method))
			return
		}
		caller := CallerFrom(r.Context())
		if caller.Role < need {
			status, msg := permissionError(caller, need, method)
			writeError(w, status, msg)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), backendTimeout)
		defer cancel()
		if err := fn(w, r.WithContext(ctx)); err != nil {
			h.writeFailure(w, r, err)
		}
	})
}

func permissionError(c Caller, need Role, method string) (int, string) {
	if c.Role == RoleNone && c.Name == "" {
		return http.StatusUnauthorized, "authentication required"
	}
	what := "read the status"
	switch {
	case need == RoleAdmin && method == http.MethodGet:
		what = "list the processes of the host"
	case need == RoleAdmin:
		what = "send commands"
	}
	return http.StatusForbidden, fmt.Sprintf("permission denied: %s may not %s", c.Name, what)
}

// httpError is an error with the status code of its response.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// writeFailure sends err as an ErrorBody. An error that is not an httpError is a
// failure of the backend: a timeout gives 503, anything else 500, and both are logged.
func (h *handler) writeFailure(w http.ResponseWriter, r *http.Request, err error) {
	if he, ok := errors.AsType[*httpError](err); ok {
		writeError(w, he.status, he.msg)
		return
	}
	status := http.StatusInternalServerError
	if errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusServiceUnavailable
		err = fmt.Errorf("the supervisor did not reply within %s; it may be shutting down: %w", backendTimeout, err)
	}
	h.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, status, err.Error())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, ErrorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // The client closed the connection, so no one can receive an error.
}

// decodeBody decodes the JSON body of r into v. An empty body leaves v as it is.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "invalid request body: %v", err)
	}
	return nil
}

func (h *handler) services(w http.ResponseWriter, r *http.Request) error {
	list, err := h.backend.Status(r.Context())
	if err != nil {
		return err
	}
	now := time.Now()
	views := make([]ServiceView, 0, len(list))
	for _, st := range list {
		views = append(views, serviceView(st, now))
	}
	writeJSON(w, http.StatusOK, views)
	return nil
}

func (h *handler) service(w http.ResponseWriter, r *http.Request) error {
	st, err := h.lookup(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, serviceView(st, time.Now()))
	return nil
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) error {
	st, err := h.lookup(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, historyView(st))
	return nil
}

// lookup returns the status of the service called name, or a 404 error that suggests
// the nearest name.
func (h *handler) lookup(ctx context.Context, name string) (supervisor.ServiceStatus, error) {
	found, err := h.backend.Status(ctx, name)
	if err != nil {
		return supervisor.ServiceStatus{}, err
	}
	if len(found) == 1 {
		return found[0], nil
	}
	// Only a name that no service has needs every name, for the suggestion.
	list, err := h.backend.Status(ctx)
	if err != nil {
		return supervisor.ServiceStatus{}, err
	}
	return supervisor.ServiceStatus{}, errorf(http.StatusNotFound, "%s", noServiceMessage(name, list, false))
}

func (h *handler) daemon(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, daemonView(h.backend.Daemon(), h.backend.Alerts(), time.Now()))
	return nil
}

func (h *handler) reload(w http.ResponseWriter, r *http.Request) error {
	var req ReloadRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	by := CallerFrom(r.Context()).Name
	h.log.Info("reload requested", "dry_run", req.DryRun, "by", by)

	plan, err := h.backend.Reload(r.Context(), req.DryRun, by)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		// The reloader rejected the configuration on disk; the running one stays.
		return errorf(http.StatusUnprocessableEntity, "reload rejected: %v", err)
	}
	writeJSON(w, http.StatusOK, reloadResult(plan, req.DryRun))
	return nil
}
