package alert

import (
	"bytes"
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
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTP steps a fault can hit. stepData is the reply to the end of the data, after the
// server has read the whole message.
const (
	stepAuth = "auth"
	stepMail = "mail"
	stepRcpt = "rcpt"
	stepData = "data"
)

// errDrop, as a fault's error, makes the server close the connection instead of
// replying.
var errDrop = errors.New("drop the connection")

// fault makes the next times calls of step fail with err (errDrop: close the
// connection). times < 0 means every call.
type fault struct {
	step  string
	times int
	err   error
}

func smtpReply(code int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: msg}
}

// received is one message the fault server accepted.
type received struct {
	from      string
	to        []string
	messageID string
	header    mail.Header
	body      string
	tls       bool
	username  string
}

// faultServer is an SMTP server on 127.0.0.1 built on go-smtp, whose replies the test
// scripts with faults. It stops when the test ends.
type faultServer struct {
	port int

	mu     sync.Mutex
	faults []fault
	calls  map[string]int
	// attemptIDs lists the Message-ID of every message whose data the server read,
	// accepted or not.
	attemptIDs []string
	accepted   []received
}

type faultServerConfig struct {
	faults []fault
	// tls enables STARTTLS with this configuration.
	tls *tls.Config
	// implicitTLS makes the listener speak TLS from the first byte, with tls.
	implicitTLS bool
	// username and password, when set, are the only credentials AUTH PLAIN accepts,
	// and MAIL requires authentication.
	username, password string
}

func startFaultServer(t *testing.T, cfg faultServerConfig) *faultServer {
	t.Helper()
	fs := &faultServer{faults: cfg.faults, calls: map[string]int{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:0: %v", err)
	}
	fs.port = l.Addr().(*net.TCPAddr).Port

	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &faultSession{server: fs, conn: c, cfg: &cfg}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if cfg.implicitTLS {
		l = tls.NewListener(l, cfg.tls)
	} else {
		srv.TLSConfig = cfg.tls
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return fs
}

// hit counts a call of step and returns the error of the first fault for it that has
// calls left, or nil.
func (fs *faultServer) hit(step string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.calls[step]++
	for i := range fs.faults {
		f := &fs.faults[i]
		if f.step != step || f.times == 0 {
			continue
		}
		if f.times > 0 {
			f.times--
		}
		return f.err
	}
	return nil
}

func (fs *faultServer) callCount(step string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.calls[step]
}

func (fs *faultServer) messages() []received {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]received(nil), fs.accepted...)
}

func (fs *faultServer) attempts() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]string(nil), fs.attemptIDs...)
}

// faultSession is one SMTP connection to the fault server.
type faultSession struct {
	server   *faultServer
	conn     *smtp.Conn
	cfg      *faultServerConfig
	username string
	from     string
	to       []string
}

// apply turns a fault's error into the session's reply: the error itself, or a closed
// connection for errDrop.
func (s *faultSession) apply(step string) error {
	err := s.server.hit(step)
	if errors.Is(err, errDrop) {
		_ = s.conn.Conn().Close()
	}
	return err
}

func (s *faultSession) AuthMechanisms() []string {
	if s.cfg.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *faultSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if err := s.apply(stepAuth); err != nil {
			return err
		}
		if username != s.cfg.username || password != s.cfg.password {
			return smtp.ErrAuthFailed
		}
		s.username = username
		return nil
	}), nil
}

func (s *faultSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.cfg.username != "" && s.username == "" {
		return smtp.ErrAuthRequired
	}
	if err := s.apply(stepMail); err != nil {
		return err
	}
	s.from = from
	return nil
}

func (s *faultSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := s.apply(stepRcpt); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *faultSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return smtpReply(554, "unparsable message: "+err.Error())
	}
	body, _ := io.ReadAll(msg.Body)
	rec := received{
		from: s.from, to: s.to, header: msg.Header, body: string(body),
		messageID: msg.Header.Get("Message-Id"), username: s.username,
	}
	_, rec.tls = s.conn.TLSConnectionState()

	s.server.mu.Lock()
	s.server.attemptIDs = append(s.server.attemptIDs, rec.messageID)
	s.server.mu.Unlock()
	if err := s.apply(stepData); err != nil {
		return err
	}
	s.server.mu.Lock()
	s.server.accepted = append(s.server.accepted, rec)
	s.server.mu.Unlock()
	return nil
}

func (s *faultSession) Reset() {
	s.from, s.to = "", nil
}

func (s *faultSession) Logout() error { return nil }

// stallServer accepts TCP connections on 127.0.0.1 and never sends a byte. It closes
// them when the test ends.
type stallServer struct {
	port     int
	mu       sync.Mutex
	accepted int
}

func startStallServer(t *testing.T) *stallServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:0: %v", err)
	}
	s := &stallServer{port: l.Addr().(*net.TCPAddr).Port}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.accepted++
			conns = append(conns, c)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return s
}

func (s *stallServer) acceptedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// selfSignedTLS returns a server configuration with a new self-signed certificate for
// 127.0.0.1 and localhost, and a client configuration that trusts only that certificate.
func selfSignedTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tend test SMTP server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}
