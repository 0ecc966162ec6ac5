package checks

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// httpTestHandler serves the paths that the HTTP probe tests request.
func httpTestHandler(connClose *atomic.Int32) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if r.Close {
			connClose.Add(1)
		}
		_, _ = w.Write([]byte("status: ok\n"))
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/down", http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") != "secret-token" {
			http.Error(w, "no token", http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("/vhost", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host %s", r.Host)
	})
	mux.HandleFunc("/method", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "method %s", r.Method)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat(".", httpMaxBody)))
		_, _ = w.Write([]byte("ok"))
	})
	return mux
}

func TestHTTPProbe(t *testing.T) {
	var connClose atomic.Int32
	srv := httptest.NewServer(httpTestHandler(&connClose))
	defer srv.Close()
	u := srv.URL

	tests := []struct {
		name       string
		probe      HTTPProbe
		wantOK     bool
		wantReason string
	}{
		{"ok", HTTPProbe{URL: u + "/health"}, true, ""},
		{"body matches", HTTPProbe{URL: u + "/health", Body: regexp.MustCompile(`status: ok`)}, true, ""},
		{"body does not match", HTTPProbe{URL: u + "/health", Body: regexp.MustCompile(`^ok$`)}, false,
			`body of GET ` + u + `/health does not match "^ok$"`},
		{"status wanted", HTTPProbe{URL: u + "/down", Status: 503}, true, ""},
		{"status any 2xx 3xx", HTTPProbe{URL: u + "/down"}, false,
			"GET " + u + "/down returned 503 Service Unavailable, want 2xx or 3xx"},
		{"status exact", HTTPProbe{URL: u + "/health", Status: 204}, false,
			"GET " + u + "/health returned 200 OK, want 204"},
		{"redirect not followed", HTTPProbe{URL: u + "/moved"}, true, ""},
		{"redirect status", HTTPProbe{URL: u + "/moved", Status: 200}, false,
			"GET " + u + "/moved returned 302 Found, want 200"},
		{"header", HTTPProbe{URL: u + "/token", Headers: map[string]string{"X-Token": "secret-token"}}, true, ""},
		{"header missing", HTTPProbe{URL: u + "/token"}, false, "returned 401 Unauthorized"},
		{"host", HTTPProbe{URL: u + "/vhost", Host: "app.example", Body: regexp.MustCompile(`^host app\.example$`)}, true, ""},
		{"host header", HTTPProbe{URL: u + "/vhost", Headers: map[string]string{"host": "h.example"},
			Body: regexp.MustCompile(`^host h\.example$`)}, true, ""},
		{"method", HTTPProbe{URL: u + "/method", Method: "POST", Body: regexp.MustCompile(`^method POST$`)}, true, ""},
		{"body past 1 MiB", HTTPProbe{URL: u + "/big", Body: regexp.MustCompile(`ok`)}, false, "does not match"},
		{"bad scheme", HTTPProbe{URL: "ftp://127.0.0.1/"}, false, `invalid URL "ftp://127.0.0.1/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			netTestExpect(t, tt.probe, tt.wantOK, tt.wantReason)
		})
	}
	if connClose.Load() == 0 {
		t.Errorf("no probe request asked to close its connection, want keep-alives off")
	}
}

// Each run opens a connection of its own, so a server restart between runs cannot
// leave a dead pooled connection behind.
func TestHTTPProbeNewConnectionPerRun(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	p := HTTPProbe{URL: srv.URL}
	for range 3 {
		netTestExpect(t, p, true, "")
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("3 probe runs opened %d connections, want 3", got)
	}
}

func TestHTTPProbeIgnoresProxy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	proxy := "http://" + netTestClosedAddr(t)
	t.Setenv("HTTP_PROXY", proxy)
	t.Setenv("http_proxy", proxy)
	t.Setenv("NO_PROXY", "")
	netTestExpect(t, HTTPProbe{URL: srv.URL}, true, "")
}

func TestHTTPProbeTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	srv.Config.ErrorLog = netTestDiscardLog()

	netTestExpect(t, HTTPProbe{URL: srv.URL, Body: regexp.MustCompile(`ok`)}, true, "")
	netTestExpect(t, HTTPProbe{URL: srv.URL, TLSVerify: true}, false,
		"GET "+srv.URL+": x509: certificate signed by unknown authority")
}

func TestHTTPProbeFailures(t *testing.T) {
	closed := netTestClosedAddr(t)
	netTestExpect(t, HTTPProbe{URL: "http://" + closed + "/"}, false, "connection refused on "+closed)

	silent := netTestSilent(t)
	netTestExpectTimeout(t, HTTPProbe{URL: "http://" + silent + "/"}, "no reply from "+silent+" within 300ms")

	// The server reads the request before it replies and hangs up, so that the kernel
	// sends FIN, not RST for unread data.
	redis := netTestServe(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			_, _ = c.Write([]byte("-ERR unknown command 'GET'\r\n"))
		}
	})
	netTestExpect(t, HTTPProbe{URL: "http://" + redis + "/"}, false, "read from "+redis+": ")
	netTestExpect(t, HTTPProbe{URL: "http://" + redis + "/"}, false, "malformed HTTP status code")
}

func TestHTTPProbeStringMasksPassword(t *testing.T) {
	p := HTTPProbe{URL: "http://user:hunter2@127.0.0.1:1/x", Method: "HEAD"}
	if got := p.String(); strings.Contains(got, "hunter2") || got != "http HEAD http://user:xxxxx@127.0.0.1:1/x" {
		t.Errorf("String() = %q, want the password masked", got)
	}
}

func BenchmarkHTTPProbe(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	p := HTTPProbe{URL: srv.URL, Body: regexp.MustCompile(`ok`)}
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r := p.Probe(ctx)
		cancel()
		if !r.OK {
			b.Fatal(r.Reason)
		}
	}
}
