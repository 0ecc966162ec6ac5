package checks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

const (
	// pgProtocol30 is protocol version 3.0 as a StartupMessage carries it.
	pgProtocol30 = 3 << 16
	// pgMaxMessage is the largest message the probe reads. An authentication request
	// or an error before authentication is well under 1 KiB.
	pgMaxMessage = 64 << 10
)

// pgReachableStates are the SQLSTATE codes of errors that a working server sends
// before authentication: invalid authorization (28000), wrong password (28P01) and a
// missing database (3D000). The probe passes on them, because it has no password and
// only checks that a server which accepts connections replies.
var pgReachableStates = map[string]bool{"28000": true, "28P01": true, "3D000": true}

// PostgresProbe opens a PostgreSQL session up to the authentication request, so it
// works against a server that requires a password without knowing it.
type PostgresProbe struct {
	// Network is "tcp" (the default) or "unix". For unix, Address is the path of the
	// socket itself, such as /var/run/postgresql/.s.PGSQL.5432.
	Network string
	// Address is host:port for tcp and the socket path for unix.
	Address string
	// User defaults to "postgres".
	User string
	// Database defaults to User.
	Database string
}

// Probe sends a protocol 3.0 StartupMessage and reads one message. An authentication
// request of any kind passes, and so does an error about authorization or a missing
// database. Any other error, such as 57P03 (the database system is starting up) or
// 53300 (too many connections), fails with the server's message, and so does anything
// that is not a PostgreSQL message.
func (p PostgresProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	startup, reason := p.startupMessage()
	if reason != "" {
		return netResult(start, reason)
	}
	s, reason := netOpen(ctx, start, netNetwork(p.Network), p.Address, nil)
	if reason != "" {
		return netResult(start, reason)
	}
	defer s.close()

	if reason := s.send(startup); reason != "" {
		return netResult(start, reason)
	}
	msg, err := pgReadMessage(s.r)
	if err != nil {
		return netResult(start, p.readReason(s, err))
	}
	return netResult(start, p.judge(s, msg))
}

// String returns "postgres ADDRESS".
func (p PostgresProbe) String() string {
	return "postgres " + p.Address
}

func (p PostgresProbe) startupMessage() ([]byte, string) {
	user := p.User
	if user == "" {
		user = "postgres"
	}
	database := p.Database
	if database == "" {
		database = user
	}
	if strings.ContainsRune(user, 0) || strings.ContainsRune(database, 0) {
		return nil, "invalid PostgreSQL user or database name: it contains a NUL byte"
	}

	msg := binary.BigEndian.AppendUint32(make([]byte, 4, 64), pgProtocol30)
	for _, s := range []string{"user", user, "database", database, "application_name", "tend"} {
		msg = append(append(msg, s...), 0)
	}
	msg = append(msg, 0)
	binary.BigEndian.PutUint32(msg, uint32(len(msg)))
	return msg, ""
}

// judge decides the probe from the first message of the server.
//
// After AuthenticationOk, which a server with trust authentication sends, the session
// is ended with a Terminate message, as a client does. After a request for a password
// or SASL, the connection is closed without a message, because the server logs a
// FATAL error for any message but the password and nothing for a disconnect.
func (p PostgresProbe) judge(s *netSession, msg pgMessage) string {
	switch msg.kind {
	case 'R':
		if len(msg.body) >= 4 && binary.BigEndian.Uint32(msg.body) == 0 {
			_ = s.send([]byte{'X', 0, 0, 0, 4})
		}
		return ""
	case 'E':
		fields := pgErrorFields(msg.body)
		if pgReachableStates[fields['C']] {
			return ""
		}
		severity := fields['V'] // Not localized, unlike 'S'; sent since PostgreSQL 9.6.
		if severity == "" {
			severity = fields['S']
		}
		return fmt.Sprintf("postgres at %s answered %s %s %s", p.Address,
			severity, fields['C'], netExcerpt([]byte(fields['M'])))
	}
	return fmt.Sprintf("postgres at %s answered with a message of type %q, want an authentication request",
		p.Address, msg.kind)
}

func (p PostgresProbe) readReason(s *netSession, err error) string {
	var protoErr *pgProtocolError
	if errors.As(err, &protoErr) {
		return fmt.Sprintf("postgres at %s answered %s, not a PostgreSQL message", p.Address, protoErr)
	}
	return s.reason(netReceive, err)
}

// pgMessage is one message of the PostgreSQL protocol after the startup phase: a
// type byte and its body.
type pgMessage struct {
	kind byte
	body []byte
}

// pgProtocolError is input that is not a PostgreSQL message. Its text quotes what was
// read.
type pgProtocolError struct {
	text string
}

func (e *pgProtocolError) Error() string { return e.text }

// pgReadMessage reads one message. A length below 4 or above pgMaxMessage is returned
// as a *pgProtocolError, and I/O errors as they are.
func pgReadMessage(r *bufio.Reader) (pgMessage, error) {
	header := make([]byte, 5)
	n, err := io.ReadFull(r, header)
	if err != nil {
		if n > 0 && errors.Is(err, io.ErrUnexpectedEOF) {
			return pgMessage{}, &pgProtocolError{fmt.Sprintf("%q", header[:n])}
		}
		return pgMessage{}, err
	}
	size := binary.BigEndian.Uint32(header[1:])
	if size < 4 || size > pgMaxMessage {
		rest, _ := r.Peek(min(r.Buffered(), 32))
		return pgMessage{}, &pgProtocolError{fmt.Sprintf("%q", netExcerpt(append(header, rest...)))}
	}

	body := make([]byte, size-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return pgMessage{}, err
	}
	return pgMessage{kind: header[0], body: body}, nil
}

// pgErrorFields parses the body of an ErrorResponse into its fields by type, such as
// 'S' (severity), 'C' (SQLSTATE) and 'M' (message). A field without its NUL
// terminator is dropped.
func pgErrorFields(body []byte) map[byte]string {
	fields := map[byte]string{}
	for len(body) > 0 && body[0] != 0 {
		end := bytes.IndexByte(body[1:], 0)
		if end < 0 {
			break
		}
		fields[body[0]] = string(body[1 : 1+end])
		body = body[end+2:]
	}
	return fields
}
