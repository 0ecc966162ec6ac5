package checks

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// httpMaxBody is how much of a response body HTTPProbe tests against Body.
const httpMaxBody = 1 << 20

// HTTPProbe sends one HTTP request and checks the status and the body of the response.
type HTTPProbe struct {
	// URL is an http or https URL.
	URL string
	// Method defaults to GET.
	Method string
	// Host, when set, replaces the host of URL in the Host header and in TLS SNI, for a
	// virtual host reached through an address.
	Host string
	// Status is the status code the response must have. When 0, any 2xx or 3xx passes.
	// Redirects are not followed, so a 3xx is the status of the response itself.
	Status int
	// Body must match the first 1 MiB of the response body. When nil, the body is not
	// read.
	Body *regexp.Regexp
	// Headers are set on the request. A "Host" key has the effect of Host.
	Headers map[string]string
	// TLSVerify checks the server's certificate chain and name. When false, any
	// certificate is accepted.
	TLSVerify bool
}

// Probe sends the request on a new connection and closes it after the response, so no
// run reuses a connection that an earlier run left behind. Proxy settings in the
// environment are ignored.
func (p HTTPProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	req, reason := p.newRequest(ctx)
	if reason != "" {
		return netResult(start, reason)
	}
	client, transport := p.newClient(req)
	defer transport.CloseIdleConnections()

	resp, err := client.Do(req)
	if err != nil {
		return netResult(start, httpErrorReason(ctx, start, req, err))
	}
	defer resp.Body.Close()

	if reason := p.statusReason(req, resp); reason != "" {
		return netResult(start, reason)
	}
	if p.Body == nil {
		return netResult(start, "")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, httpMaxBody))
	if err != nil {
		return netResult(start, httpErrorReason(ctx, start, req, err))
	}
	if !p.Body.Match(body) {
		return netResult(start, fmt.Sprintf("body of %s %s does not match %q",
			req.Method, req.URL.Redacted(), p.Body))
	}
	return netResult(start, "")
}

// String returns "http URL", or "http METHOD URL" for a method other than GET. A
// password in the URL is masked.
func (p HTTPProbe) String() string {
	u := p.URL
	if parsed, err := url.Parse(p.URL); err == nil {
		u = parsed.Redacted()
	}
	if p.Method != "" && p.Method != http.MethodGet {
		return "http " + p.Method + " " + u
	}
	return "http " + u
}

func (p HTTPProbe) newRequest(ctx context.Context) (*http.Request, string) {
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Sprintf("invalid URL %q: want http:// or https:// and a host", p.URL)
	}
	method := p.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Sprintf("invalid request %s %s: %v", method, u.Redacted(), err)
	}

	for k, v := range p.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if p.Host != "" {
		req.Host = p.Host
	}
	return req, ""
}

// newClient returns a client with a transport of its own that keeps no connection
// alive, uses no proxy and follows no redirect.
func (p HTTPProbe) newClient(req *http.Request) (*http.Client, *http.Transport) {
	serverName := req.URL.Hostname()
	if req.Host != "" {
		serverName = req.Host
		if host, _, err := net.SplitHostPort(req.Host); err == nil {
			serverName = host
		}
	}
	var dialer net.Dialer
	transport := &http.Transport{
		Proxy:             nil,
		DialContext:       dialer.DialContext,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{ServerName: serverName, InsecureSkipVerify: !p.TLSVerify},
		ForceAttemptHTTP2: true,
	}
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return client, transport
}

// statusReason returns why the status of resp fails the probe, or "".
func (p HTTPProbe) statusReason(req *http.Request, resp *http.Response) string {
	if p.Status == 0 && resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return ""
	}
	if p.Status == resp.StatusCode {
		return ""
	}
	want := "2xx or 3xx"
	if p.Status != 0 {
		want = fmt.Sprint(p.Status)
	}
	return fmt.Sprintf("%s %s returned %s, want %s", req.Method, req.URL.Redacted(), resp.Status, want)
}

// httpErrorReason describes an error from sending req or reading its response.
func httpErrorReason(ctx context.Context, start time.Time, req *http.Request, err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	var verifyErr *tls.CertificateVerificationError
	if errors.As(err, &verifyErr) {
		return fmt.Sprintf("%s %s: %v", req.Method, req.URL.Redacted(), verifyErr.Err)
	}
	port := req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	address := net.JoinHostPort(req.URL.Hostname(), port)
	return netReason(ctx, start, address, netReceive, err)
}
