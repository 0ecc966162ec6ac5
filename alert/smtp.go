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
type DeliveryError struct {
	// ID is the event whose message was not delivered.
	ID string
	// Permanent is true when no retry can help: the server rejected the message itself
	// with a 5xx reply to MAIL FROM, RCPT TO or DATA, or the message could not be built.
	// Everything else is temporary: 4xx replies, refused, dropped and timed-out
	// connections, TLS failures, and 5xx replies to the greeting, EHLO, STARTTLS or
	// AUTH. Those mean that the server or the mail settings are wrong, not this message,
	// and would fail every later message the same way.
	Permanent bool
	// Code is the SMTP reply code of the failure, or 0 when the server sent none.
	Code int
	Err  error
}

// Error returns the failed step and the cause. It never contains the SMTP password.
func (e *DeliveryError) Error() string {
	return fmt.Sprintf("deliver alert %s: %v", e.ID, e.Err)
}

// Unwrap returns the cause, such as a *mail.SendError or a *net.OpError.
func (e *DeliveryError) Unwrap() error { return e.Err }

// mailer sends one alert message per call through a new SMTP connection. It is not
// changed after newMailer, so any goroutine may call it.
type mailer struct {
	opts      *MailOptions
	addr      string
	tlsConfig *tls.Config
	// localHost is the right part of the Message-ID when an event names no host.
	localHost string
}

func newMailer(opts *MailOptions) *mailer {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLSConfig != nil {
		tc = opts.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = opts.Host
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return &mailer{
		opts:      opts,
		addr:      net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)),
		tlsConfig: tc,
		localHost: host,
	}
}

// send delivers the message for ev, dated now, in one SMTP dialogue that ends within
// the mail timeout or when ctx ends. It returns nil when the server accepted the message,
// and a *DeliveryError otherwise.
func (m *mailer) send(ctx context.Context, ev Event, now time.Time) error {
	msg, err := newMessage(ev, m.opts, m.localHost, now)
	if err != nil {
		return &DeliveryError{ID: ev.ID, Permanent: true, Err: fmt.Errorf("build message: %w", err)}
	}

	ctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
	defer cancel()
	client, err := m.newClient(ctx)
	if err != nil {
		return &DeliveryError{ID: ev.ID, Err: fmt.Errorf("configure SMTP client: %w", err)}
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
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", m.opts.Timeout, err)
	}
	return classify(ev.ID, fmt.Errorf("send to %s: %w", m.addr, err))
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

// newClient returns a go-mail client for one attempt that ends with attemptCtx.
func (m *mailer) newClient(attemptCtx context.Context) (*mail.Client, error) {
	opts := []mail.Option{
		mail.WithPort(m.opts.Port),
		mail.WithTimeout(m.opts.Timeout),
		mail.WithTLSConfig(m.tlsConfig),
		mail.WithDialContextFunc(m.dialer(attemptCtx)),
	}
	switch m.opts.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	}
	if m.opts.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain),
			mail.WithUsername(m.opts.Username), mail.WithPassword(m.opts.Password))
	}
	return mail.NewClient(m.opts.Host, opts...)
}

// dialer returns the dial function for one attempt. go-mail v0.8.1 uses its context
// for the dial only and then bounds each SMTP step by a connection deadline. So the
// dialer also closes the connection when attemptCtx ends, which cuts off a dialogue
// that is still running when the attempt times out or Run's context is cancelled.
//
// It dials m.addr and ignores the address go-mail passes, which go-mail builds as
// "host:port" and which is wrong for an IPv6 literal. For implicit TLS it dials TLS
// itself, because go-mail does that only with its own dialer. The connection it returns
// is a *tls.Conn then, which go-mail's PLAIN authentication checks for.
func (m *mailer) dialer(attemptCtx context.Context) mail.DialContextFunc {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if m.opts.TLS == TLSImplicit {
			d := tls.Dialer{Config: m.tlsConfig}
			conn, err = d.DialContext(ctx, network, m.addr)
		} else {
			var d net.Dialer
			conn, err = d.DialContext(ctx, network, m.addr)
		}
		if err != nil {
			return nil, err
		}
		context.AfterFunc(attemptCtx, func() { _ = conn.Close() })
		return conn, nil
	}
}

// logKey returns the text of err without the local address of a connection, which
// changes on every attempt, so that a repeat of the same failure is recognised.
func logKey(err error) string {
	s := err.Error()
	var op *net.OpError
	if errors.As(err, &op) && op.Source != nil {
		s = strings.ReplaceAll(s, op.Source.String()+"->", "")
	}
	return s
}
