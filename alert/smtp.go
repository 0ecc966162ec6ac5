package alert

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// DeliveryError is a failed delivery attempt of one alert message, classified where it
// happened so that the caller knows whether a retry can help.
//
// One attempt tries the servers in order. A temporary failure on one server moves on to
// the next, and a permanent one ends the attempt.
type DeliveryError struct {
	// ID is the event whose message was not delivered.
	ID string
	// Permanent is true when no retry can help: a server rejected the message itself
	// with a 5xx reply to MAIL FROM, RCPT TO or DATA, or the message could not be built.
	// Everything else is temporary: 4xx replies, refused, dropped and timed-out
	// connections, TLS failures, and 5xx replies to the greeting, EHLO, STARTTLS or
	// AUTH. Those mean that the server or the mail settings are wrong, not this message,
	// and would fail every later message the same way.
	Permanent bool
	// Server is the host:port of the server that rejected the message for good. It is
	// empty when the message could not be built, and for a temporary failure, which is
	// the failure of every server.
	Server string
	// Code is the SMTP reply code of the failure, or 0 when the server sent none. For a
	// temporary failure it is the code of the last server tried.
	Code int
	// Err is the cause. For a temporary failure of several servers it lists each
	// server's failure in order, and errors.As finds a cause in any of them.
	Err error
}

// Error returns the failed step and the cause. It never contains an SMTP password.
func (e *DeliveryError) Error() string {
	return fmt.Sprintf("deliver alert %s: %v", e.ID, e.Err)
}

// Unwrap returns the cause, such as a *mail.SendError or a *net.OpError.
func (e *DeliveryError) Unwrap() error { return e.Err }

// serverErrors are the temporary failures of each server of one attempt, in order.
type serverErrors []error

// Error returns the failures joined by "; ".
func (e serverErrors) Error() string {
	texts := make([]string, len(e))
	for i, err := range e {
		texts[i] = err.Error()
	}
	return strings.Join(texts, "; ")
}

// Unwrap returns the failures, for errors.Is and errors.As.
func (e serverErrors) Unwrap() []error { return e }

// mailer sends one alert message per call, through a new SMTP connection to each
// server it tries. It is not changed after newMailer, so any goroutine may call it.
type mailer struct {
	opts    *MailOptions
	servers []*server
	// localHost is the right part of the Message-ID when an event names no host.
	localHost string
}

// server is one SMTP server of a mailer.
type server struct {
	opts      ServerOptions
	addr      string
	tlsConfig *tls.Config
}

func newMailer(opts *MailOptions) *mailer {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	m := &mailer{opts: opts, localHost: host}
	for _, so := range opts.servers() {
		m.servers = append(m.servers, newServer(so))
	}
	return m
}

func newServer(opts ServerOptions) *server {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLSConfig != nil {
		tc = opts.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = opts.Host
	}
	return &server{
		opts:      opts,
		addr:      net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)),
		tlsConfig: tc,
	}
}

// sent describes a delivered message.
type sent struct {
	// server is the host:port of the server that accepted the message.
	server string
	// skipped contains the failures of the servers tried before it, and is nil when
	// the first server accepted the message.
	skipped error
}

// send is deliver for a caller that needs only the error.
func (m *mailer) send(ctx context.Context, ev Event, now time.Time) error {
	_, err := m.deliver(ctx, ev, now)
	return err
}

// deliver sends the message for ev, dated now, to the servers in order until one
// accepts it. Each server gets one SMTP dialogue that ends within its timeout or when
// ctx ends. deliver returns which server accepted the message and nil, or a
// *DeliveryError: permanent as soon as a server rejects the message itself, temporary
// when every server failed or ctx ended.
func (m *mailer) deliver(ctx context.Context, ev Event, now time.Time) (sent, error) {
	msg, err := newMessage(ev, m.opts, m.localHost, now)
	if err != nil {
		return sent{}, &DeliveryError{ID: ev.ID, Permanent: true, Err: fmt.Errorf("build message: %w", err)}
	}
	return m.deliverMessage(ctx, ev.ID, msg)
}

// deliverMessage sends msg, built for the event id, as deliver does.
func (m *mailer) deliverMessage(ctx context.Context, id string, msg *mail.Msg) (sent, error) {
	ev := Event{ID: id}

	var failures serverErrors
	var last *DeliveryError
	for _, s := range m.servers {
		// go-mail sets nothing on a Msg that a failed dialogue could spoil, so the
		// next server gets the same message.
		last = s.send(ctx, ev.ID, msg)
		if last == nil {
			return sent{server: s.addr, skipped: failures.orNil()}, nil
		}
		if last.Permanent {
			return sent{}, last
		}
		failures = append(failures, last.Err)
		if ctx.Err() != nil {
			break
		}
	}
	return sent{}, &DeliveryError{ID: ev.ID, Code: last.Code, Err: failures.orNil()}
}

// orNil returns e, or nil when it is empty.
func (e serverErrors) orNil() error {
	switch len(e) {
	case 0:
		return nil
	case 1:
		return e[0]
	}
	return e
}

// send makes one SMTP dialogue with s that delivers msg. It returns nil when s
// accepted the message, and a classified *DeliveryError otherwise.
func (s *server) send(ctx context.Context, id string, msg *mail.Msg) *DeliveryError {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	client, err := s.newClient(ctx)
	if err != nil {
		return &DeliveryError{ID: id, Err: fmt.Errorf("configure SMTP client for %s: %w", s.addr, err)}
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if msg.IsDelivered() {
		// The server accepted the data. A failed RSET or QUIT after that changes
		// nothing, and sending again would duplicate the message.
		return nil
	}
	if err == nil {
		return nil
	}
	// The attempt's context and go-mail's deadline on each SMTP step both end after
	// the timeout, and either may fire first.
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", s.opts.Timeout, err)
	}
	de := classify(id, fmt.Errorf("send to %s: %w", s.addr, renameSetupError(err)))
	if de.Permanent {
		de.Server = s.addr
	}
	return de
}

// renameSetupError names go-mail's failures before MAIL FROM for the step that failed.
// go-mail v0.8.1 prefixes every one of them with "dial failed", a refused AUTH or a
// failed STARTTLS included, though the connection was made then.
func renameSetupError(err error) error {
	const prefix = "dial failed: "
	inner := errors.Unwrap(err)
	if inner == nil || !strings.HasPrefix(err.Error(), prefix) {
		return err
	}
	var oe *net.OpError
	if errors.As(inner, &oe) && oe.Op == "dial" {
		return err
	}
	return fmt.Errorf("session set-up failed: %w", inner)
}

// classify turns what go-mail returned into a DeliveryError.
//
// go-mail v0.8.1 reports failures of MAIL FROM, RCPT TO, DATA and the data's end as a
// *mail.SendError whose ErrorCode is the server's reply code. Its IsTemp is true only
// for 4xx replies: a connection dropped mid-dialogue has code 0 and IsTemp false, yet
// a retry can help, so the code alone decides here. Failures of the dial, TLS, EHLO or
// AUTH are plain errors, a *textproto.Error when the server replied.
func classify(id string, err error) *DeliveryError {
	de := &DeliveryError{ID: id, Err: err}
	var se *mail.SendError
	if errors.As(err, &se) {
		de.Code = se.ErrorCode()
		de.Permanent = de.Code >= 500 && de.Code <= 599 || unbuildable(se.Reason)
		return de
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		de.Code = te.Code
	}
	return de
}

// unbuildable reports whether go-mail rejected the message before sending it, which
// no retry changes.
func unbuildable(r mail.SendErrReason) bool {
	return r == mail.ErrGetSender || r == mail.ErrGetRcpts || r == mail.ErrNoUnencoded
}

// newClient returns a go-mail client for one attempt at s that ends with attemptCtx.
func (s *server) newClient(attemptCtx context.Context) (*mail.Client, error) {
	opts := []mail.Option{
		mail.WithPort(s.opts.Port),
		mail.WithTimeout(s.opts.Timeout),
		mail.WithTLSConfig(s.tlsConfig),
		mail.WithDialContextFunc(s.dialer(attemptCtx)),
	}
	switch s.opts.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSStartTLSOptional:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	}
	if s.opts.Username != "" {
		opts = append(opts, mail.WithSMTPAuthCustom(&serverAuth{
			mechanism: s.opts.Auth, host: s.opts.Host,
			username: s.opts.Username, password: s.opts.Password,
		}))
	}
	return mail.NewClient(s.opts.Host, opts...)
}

// dialer returns the dial function for one attempt. go-mail v0.8.1 uses its context
// for the dial only and then bounds each SMTP step by a connection deadline. So the
// dialer also closes the connection when attemptCtx ends, which cuts off a dialogue
// that is still running when the attempt times out or Run's context is cancelled.
//
// It dials s.addr and ignores the address go-mail passes, which go-mail builds as
// "host:port" and which is wrong for an IPv6 literal. For implicit TLS it dials TLS
// itself, because go-mail does that only with its own dialer. The connection it returns
// is a *tls.Conn then, which go-mail's SMTP client checks to tell serverAuth that the
// connection is encrypted.
func (s *server) dialer(attemptCtx context.Context) mail.DialContextFunc {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if s.opts.TLS == TLSImplicit {
			d := tls.Dialer{Config: s.tlsConfig}
			conn, err = d.DialContext(ctx, network, s.addr)
		} else {
			var d net.Dialer
			conn, err = d.DialContext(ctx, network, s.addr)
		}
		if err != nil {
			return nil, err
		}
		context.AfterFunc(attemptCtx, func() { _ = conn.Close() })
		return conn, nil
	}
}

// logKey returns the text of err without the local address of any connection, which
// changes on every attempt, so that a repeat of the same failure is recognised.
func logKey(err error) string {
	s := err.Error()
	for _, op := range opErrors(err) {
		if op.Source != nil {
			s = strings.ReplaceAll(s, op.Source.String()+"->", "")
		}
	}
	return s
}

// opErrors returns every *net.OpError in the tree of err.
func opErrors(err error) []*net.OpError {
	if op, ok := err.(*net.OpError); ok { //nolint:errorlint // the walk below covers wrapping
		return []*net.OpError{op}
	}
	switch u := err.(type) { //nolint:errorlint // the walk below covers wrapping
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			return opErrors(inner)
		}
	case interface{ Unwrap() []error }:
		var all []*net.OpError
		for _, inner := range u.Unwrap() {
			all = append(all, opErrors(inner)...)
		}
		return all
	}
	return nil
}

// String names the recipients, for logs.
func (m *mailer) String() string { return "mail to " + strings.Join(m.opts.To, ", ") }
