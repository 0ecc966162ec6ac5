package checks

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// netTestTimeout is the probe timeout of tests that expect a timeout, and
// netTestBound the generous bound within which such a probe must have returned. The
// exact speed is measured by the benchmarks.
const (
	netTestTimeout = 300 * time.Millisecond
	netTestBound   = 5 * netTestTimeout
)

// netTestRun runs p under a context with timeout and returns its result and how long
// the call took.
func netTestRun(t *testing.T, p Probe, timeout time.Duration) (Result, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	r := p.Probe(ctx)
	return r, time.Since(start)
}

// netTestExpect runs p with a 10 s timeout and checks OK and that Reason contains
// wantReason.
func netTestExpect(t *testing.T, p Probe, wantOK bool, wantReason string) Result {
	t.Helper()
	r, _ := netTestRun(t, p, 10*time.Second)
	if r.OK != wantOK {
		t.Errorf("%v: OK = %v, want %v (reason %q)", p, r.OK, wantOK, r.Reason)
	}
	if !strings.Contains(r.Reason, wantReason) {
		t.Errorf("%v: Reason = %q, want it to contain %q", p, r.Reason, wantReason)
	}
	if r.OK && r.Reason != "" {
		t.Errorf("%v: passed with Reason %q, want none", p, r.Reason)
	}
	if r.Duration <= 0 {
		t.Errorf("%v: Duration = %v, want above 0", p, r.Duration)
	}
	return r
}

// netTestExpectTimeout runs p with netTestTimeout and checks that it fails, that the
// reason contains wantReason, and that it returned within netTestBound.
func netTestExpectTimeout(t *testing.T, p Probe, wantReason string) {
	t.Helper()
	r, took := netTestRun(t, p, netTestTimeout)
	if r.OK {
		t.Errorf("%v against a silent server passed, want a failure", p)
	}
	if !strings.Contains(r.Reason, wantReason) {
		t.Errorf("%v: Reason = %q, want it to contain %q", p, r.Reason, wantReason)
	}
	if took > netTestBound {
		t.Errorf("%v returned after %v with a %v timeout, want within %v", p, took, netTestTimeout, netTestBound)
	}
}

// netTestClosedAddr returns a loopback address on which nothing listens: a port that
// was free a moment ago.
func netTestClosedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// netTestServe starts a loopback TCP server that runs handle on each connection in a
// goroutine of its own and closes the connection after it. The server stops when the
// test ends, and the cleanup waits for the handlers, which must return once their
// connection is closed.
func netTestServe(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	conns := make(chan net.Conn, 64)
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
			go func() {
				handle(c)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		close(conns)
		for c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// netTestSilent starts a loopback server that accepts connections and never sends or
// closes anything until the test ends.
func netTestSilent(t *testing.T) string {
	t.Helper()
	return netTestServe(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	})
}

// netTestCert returns a self-signed certificate for example.test and 127.0.0.1 that
// expires after validFor.
func netTestCert(t testing.TB, validFor time.Duration) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "example.test"},
		DNSNames:     []string{"example.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-100 * 24 * time.Hour),
		NotAfter:     time.Now().Add(validFor),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// netTestTLSServer starts an HTTPS server with cert and returns its address.
func netTestTLSServer(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	// Probes close the connection after the handshake, which the server would log.
	srv.Config.ErrorLog = netTestDiscardLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestProbeTCP(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	closed := netTestClosedAddr(t)

	tests := []struct {
		name       string
		address    string
		wantOK     bool
		wantReason string
	}{
		{"listening", open.Addr().String(), true, ""},
		{"closed port", closed, false, "connection refused on " + closed},
		{"no port", "127.0.0.1", false, "connect to 127.0.0.1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r := ProbeTCP(ctx, tt.address)
			if r.OK != tt.wantOK {
				t.Errorf("ProbeTCP(%s).OK = %v, want %v (reason %q)", tt.address, r.OK, tt.wantOK, r.Reason)
			}
			if !strings.Contains(r.Reason, tt.wantReason) {
				t.Errorf("ProbeTCP(%s).Reason = %q, want %q", tt.address, r.Reason, tt.wantReason)
			}
		})
	}
}

func TestTCPProbeCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	addr := netTestSilent(t)
	r := TCPProbe{Address: addr}.Probe(ctx)
	if want := "probe of " + addr + " canceled"; r.OK || r.Reason != want {
		t.Errorf("Probe with a canceled context = %+v, want a failure with %q", r, want)
	}
}

// netTestFullBacklog returns the address of a listener with a backlog of 0 whose
// accept queue is full, so the kernel drops further SYNs and a connect hangs.
func netTestFullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()

	// Fill the queue until a connect does not complete at once.
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	t.Skip("the kernel kept completing connections to a listener with backlog 0")
	return ""
}

func TestTCPProbeConnectTimeout(t *testing.T) {
	addr := netTestFullBacklog(t)
	netTestExpectTimeout(t, TCPProbe{Address: addr}, "connect to "+addr+" timed out after 300ms")
}

func TestTCPProbeTLS(t *testing.T) {
	addr := netTestTLSServer(t, netTestCert(t, 90*24*time.Hour))
	tests := []struct {
		name       string
		probe      TCPProbe
		wantOK     bool
		wantReason string
	}{
		{"no verify", TCPProbe{Address: addr, TLS: true}, true, ""},
		{"verify self-signed", TCPProbe{Address: addr, TLS: true, TLSVerify: true}, false,
			"TLS handshake with " + addr + ": tls: failed to verify certificate"},
		{"expiry far", TCPProbe{Address: addr, TLS: true, CertExpiry: 14 * 24 * time.Hour}, true, ""},
		{"plain TLS port", TCPProbe{Address: addr}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			netTestExpect(t, tt.probe, tt.wantOK, tt.wantReason)
		})
	}
}

func TestTCPProbeCertExpiry(t *testing.T) {
	validFor := 3*24*time.Hour + time.Hour
	addr := netTestTLSServer(t, netTestCert(t, validFor))
	p := TCPProbe{Address: addr, TLS: true, ServerName: "example.test", CertExpiry: 14 * 24 * time.Hour}
	r := netTestExpect(t, p, false, "certificate for example.test expires in 3 days, at ")
	if !strings.HasSuffix(r.Reason, " UTC, within the 14 days allowed") {
		t.Errorf("Reason = %q, want it to end with the allowed time", r.Reason)
	}

	p.CertExpiry = 2 * 24 * time.Hour
	netTestExpect(t, p, true, "")
}

func TestTCPProbeCertExpired(t *testing.T) {
	addr := netTestTLSServer(t, netTestCert(t, -2*24*time.Hour+time.Minute))
	netTestExpect(t, TCPProbe{Address: addr, TLS: true, CertExpiry: time.Hour}, false,
		"certificate for 127.0.0.1 expired 1 day ago")
	netTestExpect(t, TCPProbe{Address: addr, TLS: true, TLSVerify: true}, false, "expired")
}

func TestTCPProbeTLSSilentServer(t *testing.T) {
	addr := netTestSilent(t)
	netTestExpectTimeout(t, TCPProbe{Address: addr, TLS: true}, "TLS handshake with "+addr+" timed out after 300ms")
}

func TestNetFormatSpan(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{14 * 24 * time.Hour, "14 days"},
		{24 * time.Hour, "1 day"},
		{25 * time.Hour, "1 day"},
		{3 * time.Hour, "3 hours"},
		{time.Minute, "1 minute"},
		{30 * time.Second, "30 seconds"},
	}
	for _, tt := range tests {
		if got := netFormatSpan(tt.d); got != tt.want {
			t.Errorf("netFormatSpan(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestNetReadLineLimit(t *testing.T) {
	_, err := netReadLine(netTestReader(strings.Repeat("a", 10000)+"\n"), 5000)
	if err == nil || errors.Is(err, net.ErrClosed) {
		t.Errorf("netReadLine of a 10001-byte line with limit 5000: err = %v, want a length error", err)
	}
}

func BenchmarkTCPProbe(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	p := TCPProbe{Address: l.Addr().String()}
	for b.Loop() {
		if r := p.Probe(context.Background()); !r.OK {
			b.Fatal(r.Reason)
		}
	}
}

func netTestReader(s string) *bufio.Reader {
	return bufio.NewReader(strings.NewReader(s))
}

// netTestDiscardLog returns a logger for test servers whose complaints about probes
// that hang up after the handshake are expected.
func netTestDiscardLog() *log.Logger {
	return log.New(io.Discard, "", 0)
}
