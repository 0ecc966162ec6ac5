package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
)

// Client calls the JSON API over the control socket. Its methods may be called from
// several goroutines at once.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a Client for the control socket at path. It connects only when a
// method is called.
func NewClient(path string) *Client {
	dialer := &net.Dialer{}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		},
	}
	return &Client{socket: path, http: &http.Client{Transport: transport}}
}

// UnreachableError is the error of a Client method when no connection to the control
// socket can be made, usually because the daemon is not running.
type UnreachableError struct {
	Socket string
	Err    error
}

func (e *UnreachableError) Error() string {
	if errors.Is(e.Err, syscall.EACCES) || errors.Is(e.Err, syscall.EPERM) {
		return fmt.Sprintf("cannot reach tend at %s: permission denied: run as root or as a member of "+
			"the socket's group, [control] group (%v)", e.Socket, e.Err)
	}
	return fmt.Sprintf("cannot reach tend at %s: is the daemon running? (%v)", e.Socket, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// StatusError is the error of a Client method when the daemon replied with an error
// status. Message is the daemon's error text.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string { return e.Message }

// Services returns every service, in configuration order.
func (c *Client) Services(ctx context.Context) ([]ServiceView, error) {
	var v []ServiceView
	return v, c.get(ctx, "/api/v1/services", &v)
}

// Service returns the service called name. A name that no service has gives a
// *StatusError with status 404.
func (c *Client) Service(ctx context.Context, name string) (ServiceView, error) {
	var v ServiceView
	return v, c.get(ctx, "/api/v1/services/"+url.PathEscape(name), &v)
}

// History returns the restart history of the service called name.
func (c *Client) History(ctx context.Context, name string) (HistoryView, error) {
	var v HistoryView
	return v, c.get(ctx, "/api/v1/services/"+url.PathEscape(name)+"/history", &v)
}

// Daemon returns the daemon's facts and its alert queue.
func (c *Client) Daemon(ctx context.Context) (DaemonView, error) {
	var v DaemonView
	return v, c.get(ctx, "/api/v1/daemon", &v)
}

// ProcMatch returns the processes whose command line pattern matches, and the one a
// match rule with match_pick = pick would take. An empty pick means "oldest".
func (c *Client) ProcMatch(ctx context.Context, pattern, pick string) (ProcMatchView, error) {
	q := url.Values{"pattern": {pattern}}
	if pick != "" {
		q.Set("pick", pick)
	}
	var v ProcMatchView
	return v, c.get(ctx, "/api/v1/procmatch?"+q.Encode(), &v)
}

// Control sends command to target: a service, a group or "all". When some service
// rejected the command, it returns the result with every outcome together with a
// *StatusError.
func (c *Client) Control(ctx context.Context, command, target string) (ControlResult, error) {
	var v ControlResult
	return v, c.post(ctx, "/api/v1/control", ControlRequest{Command: command, Target: target}, &v)
}

// Reload requests a reload of the daemon's configuration, or with dryRun only its plan.
func (c *Client) Reload(ctx context.Context, dryRun bool) (ReloadResult, error) {
	var v ReloadResult
	return v, c.post(ctx, "/api/v1/reload", ReloadRequest{DryRun: dryRun}, &v)
}

func (c *Client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://tend"+path, nil)
	if err != nil {
		return err
	}
	return c.do(req, v)
}

func (c *Client) post(ctx context.Context, path string, body, v any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://tend"+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, v)
}

// do sends req and decodes the reply into v. A reply with an error status is decoded
// into v too when it has v's shape, as a control reply with a rejected service has.
func (c *Client) do(req *http.Request, v any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		if opErr, ok := errors.AsType[*net.OpError](err); ok && opErr.Op == "dial" {
			return &UnreachableError{Socket: c.socket, Err: opErr}
		}
		return fmt.Errorf("request %s: %w", req.URL.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read reply to %s: %w", req.URL.Path, err)
	}

	if resp.StatusCode >= 300 {
		return statusError(resp.StatusCode, data, v)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode reply to %s: %w", req.URL.Path, err)
	}
	return nil
}

func statusError(status int, data []byte, v any) error {
	_ = json.Unmarshal(data, v) // Only a reply of v's shape fills it.
	var body ErrorBody
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		return &StatusError{Status: status, Message: body.Error}
	}
	return &StatusError{Status: status, Message: fmt.Sprintf("HTTP status %d: %s", status, bytes.TrimSpace(data))}
}
