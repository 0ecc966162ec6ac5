package checks

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// TCPProbe connects to a TCP port and, with TLS, completes a TLS handshake on it.
type TCPProbe struct {
	// Address is host:port.
	Address string
	// TLS makes the probe complete a TLS handshake after connecting.
	TLS bool
	// TLSVerify checks the server's certificate chain and name during the handshake.
	// When false, any certificate is accepted, and CertExpiry still applies to it.
	TLSVerify bool
	// ServerName is the name sent in SNI and verified against the certificate. It
	// defaults to the host of Address.
	ServerName string
	// CertExpiry, when above zero, fails the probe when the server's leaf certificate
	// expires within this time. It needs TLS.
	CertExpiry time.Duration
}

// ProbeTCP connects to address (host:port) and closes the connection again. It is
// TCPProbe{Address: address}.Probe(ctx).
func ProbeTCP(ctx context.Context, address string) Result {
	return TCPProbe{Address: address}.Probe(ctx)
}

// Probe connects, completes the TLS handshake when p.TLS is set, checks the
// certificate's expiry when p.CertExpiry is set, and closes the connection.
func (p TCPProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	var tlsConfig *tls.Config
	if p.TLS {
		tlsConfig = netTLSConfig(p.Address, p.ServerName, p.TLSVerify)
	}
	s, reason := netOpen(ctx, start, "tcp", p.Address, tlsConfig)
	if reason != "" {
		return netResult(start, reason)
	}
	defer s.close()

	if p.TLS && p.CertExpiry > 0 {
		return netResult(start, certExpiryReason(s.conn, tlsConfig.ServerName, p.CertExpiry, time.Now()))
	}
	return netResult(start, "")
}

// String returns "tcp HOST:PORT", or "tls HOST:PORT" with TLS.
func (p TCPProbe) String() string {
	if p.TLS {
		return "tls " + p.Address
	}
	return "tcp " + p.Address
}

// certExpiryReason returns why the leaf certificate of conn expires too soon, or ""
// when it is valid for longer than allowed from now.
func certExpiryReason(conn net.Conn, name string, allowed time.Duration, now time.Time) string {
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return "no TLS connection to read a certificate from"
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "server sent no certificate"
	}

	notAfter := certs[0].NotAfter
	left := notAfter.Sub(now)
	at := notAfter.UTC().Format("2006-01-02 15:04 UTC")
	if left <= 0 {
		return fmt.Sprintf("certificate for %s expired %s ago, at %s", name, netFormatSpan(-left), at)
	}
	if left < allowed {
		return fmt.Sprintf("certificate for %s expires in %s, at %s, within the %s allowed",
			name, netFormatSpan(left), at, netFormatSpan(allowed))
	}
	return ""
}

// netFormatSpan writes d in whole days, hours, minutes or seconds, truncated to the
// largest unit that d reaches, such as "3 days" or "1 hour".
func netFormatSpan(d time.Duration) string {
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}}
	for _, u := range units {
		if d >= u.size {
			return netPlural(int(d/u.size), u.name)
		}
	}
	return netPlural(int(d/time.Second), "second")
}

func netPlural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// netResult returns the result of a probe run that began at start: it passes when
// reason is empty.
func netResult(start time.Time, reason string) Result {
	return Result{OK: reason == "", Reason: reason, Duration: time.Since(start)}
}

// netSession is the connection of one probe run. The deadline of the run's context is
// set on the connection, and the end of the context unblocks any read or write in
// progress. A netSession is used by the goroutine that opened it and closed by it.
type netSession struct {
	ctx     context.Context
	start   time.Time
	address string
	conn    net.Conn
	r       *bufio.Reader
	stop    func() bool
}

// netOpen connects to address and, when tlsConfig is not nil, completes a TLS
// handshake. It returns the session, or a reason for the failure.
func netOpen(ctx context.Context, start time.Time, network, address string, tlsConfig *tls.Config) (*netSession, string) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, netReason(ctx, start, address, netConnect, err)
	}
	if tlsConfig != nil {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, netReason(ctx, start, address, netHandshake, err)
		}
		conn = tc
	}

	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	s := &netSession{ctx: ctx, start: start, address: address, conn: conn, stop: stop}
	// Replies that a probe reads are short, and the readers loop over longer lines.
	s.r = bufio.NewReaderSize(conn, 1024)
	return s, ""
}

func (s *netSession) close() {
	s.stop()
	_ = s.conn.Close()
}

// send writes p and returns a reason when the write fails.
func (s *netSession) send(p []byte) string {
	if _, err := s.conn.Write(p); err != nil {
		return s.reason(netSend, err)
	}
	return ""
}

// reason describes err, which step of the session returned.
func (s *netSession) reason(step netStep, err error) string {
	return netReason(s.ctx, s.start, s.address, step, err)
}

// netStep is the part of a probe's conversation that an error ends.
type netStep int

const (
	netConnect netStep = iota
	netHandshake
	netSend
	netReceive
)

// netReason describes err from step of a probe run on address that began at start, in
// words for an operator. A timeout names the time the probe had. Refused, reset and
// closed connections and missing or forbidden unix sockets are named as such.
func netReason(ctx context.Context, start time.Time, address string, step netStep, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return "probe of " + address + " canceled"
	case ctx.Err() != nil, errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return netTimeoutReason(ctx, start, address, step)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused on " + address
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by " + address
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return address + " closed the connection"
	case step == netConnect && errors.Is(err, syscall.ENOENT):
		return "socket " + address + " does not exist"
	case step == netConnect && errors.Is(err, syscall.EACCES):
		return "permission denied on socket " + address
	}

	var opErr *net.OpError
	if errors.As(err, &opErr) {
		err = opErr.Err
	}
	verbs := [...]string{"connect to", "TLS handshake with", "send to", "read from"}
	return fmt.Sprintf("%s %s: %v", verbs[step], address, err)
}

func netTimeoutReason(ctx context.Context, start time.Time, address string, step netStep) string {
	budget := time.Since(start)
	if deadline, ok := ctx.Deadline(); ok {
		budget = deadline.Sub(start)
	}
	// The probe starts a little after its context, so the time left is a little short
	// of the configured timeout: rounding up to 10ms shows the timeout as configured.
	const unit = 10 * time.Millisecond
	budget = (budget + unit - 1) / unit * unit

	switch step {
	case netConnect:
		return fmt.Sprintf("connect to %s timed out after %s", address, budget)
	case netHandshake:
		return fmt.Sprintf("TLS handshake with %s timed out after %s", address, budget)
	case netSend:
		return fmt.Sprintf("send to %s timed out after %s", address, budget)
	}
	return fmt.Sprintf("no reply from %s within %s", address, budget)
}

// netTLSConfig returns the client configuration for a handshake with address. The
// server name defaults to the host of address.
func netTLSConfig(address, serverName string, verify bool) *tls.Config {
	if serverName == "" {
		serverName = address
		if host, _, err := net.SplitHostPort(address); err == nil {
			serverName = host
		}
	}
	return &tls.Config{ServerName: serverName, InsecureSkipVerify: !verify}
}

// netReadLine reads one line ending in "\n" of at most limit bytes, the "\n" included.
// A longer line is an error, so a peer that never sends "\n" cannot make it buffer
// without bound.
func netReadLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > limit {
			return nil, fmt.Errorf("line longer than %d bytes", limit)
		}
		line = append(line, chunk...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// netExcerptMax is how many bytes of a peer's reply a reason quotes.
const netExcerptMax = 200

// netExcerpt returns the first netExcerptMax bytes of b, for quoting in a reason.
func netExcerpt(b []byte) string {
	if len(b) > netExcerptMax {
		return string(b[:netExcerptMax]) + "..."
	}
	return string(b)
}
