package alert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTP steps a fault can hit. stepEHLO is the reply to EHLO, stepData the reply to the
// end of the data, after the server has read the whole message.
const (
	stepEHLO = "ehlo"
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
	// mechanism is the SASL mechanism the client authenticated with, or empty.
	mechanism string
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
	// username and password, when set, are the only credentials AUTH accepts, and
	// MAIL requires authentication.
	username, password string
	// mechanisms are the SASL mechanisms offered when username is set, PLAIN when
	// empty. PLAIN, LOGIN and CRAM-MD5 are implemented.
	mechanisms []string
	// insecureAuth offers AUTH also on a connection without TLS.
	insecureAuth bool
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
		if err := fs.hit(stepEHLO); err != nil {
			return nil, err
		}
		return &faultSession{server: fs, conn: c, cfg: &cfg}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = cfg.insecureAuth
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
	server    *faultServer
	conn      *smtp.Conn
	cfg       *faultServerConfig
	username  string
	mechanism string
	from      string
	to        []string
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
	switch {
	case s.cfg.username == "":
		return nil
	case len(s.cfg.mechanisms) == 0:
		return []string{sasl.Plain}
	}
	return s.cfg.mechanisms
}

func (s *faultSession) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if err := s.apply(stepAuth); err != nil {
			return err
		}
		if username != s.cfg.username || password != s.cfg.password {
			return smtp.ErrAuthFailed
		}
		s.username, s.mechanism = username, mech
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, username, password string) error {
			return check(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	case "CRAM-MD5":
		return &cramMD5Server{password: s.cfg.password, check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of SASL LOGIN, which go-sasl does not implement: it
// prompts for the username and then the password, each in base64. A username sent as
// the initial response skips the first prompt.
type loginServer struct {
	check    func(username, password string) error
	username []byte
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch {
	case l.username == nil && response == nil:
		return []byte("Username:"), false, nil
	case l.username == nil:
		l.username = response
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(string(l.username), string(response))
}

// cramMD5Server is the server side of SASL CRAM-MD5 (RFC 2195), which go-sasl does not
// implement: it sends a challenge and expects "username hex(HMAC-MD5(password,
// challenge))".
type cramMD5Server struct {
	password  string
	check     func(username, password string) error
	challenge []byte
}

func (c *cramMD5Server) Next(response []byte) (challenge []byte, done bool, err error) {
	if c.challenge == nil {
		if len(response) > 0 {
			return nil, true, smtpReply(501, "CRAM-MD5 takes no initial response")
		}
		c.challenge = fmt.Appendf(nil, "<%d.%d@localhost>", time.Now().UnixNano(), os.Getpid())
		return c.challenge, false, nil
	}
	username, digest, ok := strings.Cut(string(response), " ")
	if !ok {
		return nil, true, smtp.ErrAuthFailed
	}
	mac := hmac.New(md5.New, []byte(c.password))
	mac.Write(c.challenge)
	if !hmac.Equal([]byte(digest), []byte(hex.EncodeToString(mac.Sum(nil)))) {
		return nil, true, smtp.ErrAuthFailed
	}
	// The digest proved the password, so check compares it with itself.
	return nil, true, c.check(username, c.password)
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
		messageID: msg.Header.Get("Message-Id"), username: s.username, mechanism: s.mechanism,
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
