package checks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

const (
	// respMaxLine is the longest simple string, error or integer line that the RESP
	// reader accepts, CRLF included.
	respMaxLine = 64 << 10
	// respMaxBulk is the longest bulk string that the RESP reader accepts. The probe
	// only reads short replies, so a longer one means that the peer is not Redis.
	respMaxBulk = 64 << 10
)

// RedisProbe authenticates to Redis when a password is set and sends PING, which must
// return +PONG.
type RedisProbe struct {
	// Network is "tcp" (the default) or "unix".
	Network string
	// Address is host:port for tcp and the socket path for unix.
	Address string
	// Username is sent with AUTH when set, for a Redis 6 ACL user; without it AUTH uses
	// the password alone.
	Username string
	// Password, when set, is sent with AUTH before PING. It never appears in a reason.
	Password string
}

// Probe runs AUTH when a password is set, then PING. An error reply such as LOADING,
// NOAUTH or WRONGPASS fails the probe with the server's text.
func (p RedisProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	s, reason := netOpen(ctx, start, netNetwork(p.Network), p.Address, nil)
	if reason != "" {
		return netResult(start, reason)
	}
	defer s.close()

	if p.Password != "" {
		args := []string{"AUTH", p.Password}
		if p.Username != "" {
			args = []string{"AUTH", p.Username, p.Password}
		}
		reply, reason := p.call(s, args)
		if reason == "" && (reply.kind != '+' || reply.text != "OK") {
			reason = fmt.Sprintf("redis at %s answered AUTH with %s, want +OK", p.Address, reply)
		}
		if reason != "" {
			return netResult(start, strings.ReplaceAll(reason, p.Password, "********"))
		}
	}

	reply, reason := p.call(s, []string{"PING"})
	if reason == "" && (reply.kind != '+' || reply.text != "PONG") {
		reason = fmt.Sprintf("redis at %s answered PING with %s, want +PONG", p.Address, reply)
	}
	return netResult(start, reason)
}

// String returns "redis ADDRESS".
func (p RedisProbe) String() string {
	return "redis " + p.Address
}

// call sends the command args and reads one reply. An error reply is a failure, whose
// reason quotes the server.
func (p RedisProbe) call(s *netSession, args []string) (respReply, string) {
	if reason := s.send(respCommand(args)); reason != "" {
		return respReply{}, reason
	}
	reply, err := respRead(s.r)
	var protoErr *respProtocolError
	switch {
	case errors.As(err, &protoErr):
		return reply, fmt.Sprintf("redis at %s answered %s to %s, not a RESP reply", p.Address, protoErr, args[0])
	case err != nil:
		return reply, s.reason(netReceive, err)
	case reply.kind == '-':
		return reply, fmt.Sprintf("redis at %s answered %s", p.Address, netExcerpt([]byte(reply.text)))
	}
	return reply, ""
}

// netNetwork returns network, or "tcp" when it is empty.
func netNetwork(network string) string {
	if network == "" {
		return "tcp"
	}
	return network
}

// respCommand encodes args as a RESP array of bulk strings.
func respCommand(args []string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// respReply is one RESP reply: a simple string ('+'), an error ('-'), an integer (':')
// or a bulk string ('$'). A null bulk string has kind '$' and null set.
type respReply struct {
	kind    byte
	text    string
	integer int64
	null    bool
}

// String writes the reply as the server sent it, such as "+PONG" or "$5 hello", with a
// long text shortened.
func (r respReply) String() string {
	switch r.kind {
	case ':':
		return ":" + strconv.FormatInt(r.integer, 10)
	case '$':
		if r.null {
			return "$-1 (null)"
		}
		return fmt.Sprintf("$%d %q", len(r.text), netExcerpt([]byte(r.text)))
	}
	return string(r.kind) + netExcerpt([]byte(r.text))
}

// respProtocolError is a reply that breaks the RESP format, so the peer is most likely
// not Redis. Its text quotes what was read.
type respProtocolError struct {
	text string
}

func (e *respProtocolError) Error() string { return e.text }

// respRead reads one reply from r. Arrays and the RESP3 types are not supported and
// are returned as a *respProtocolError, as are malformed replies, lines longer than
// respMaxLine and bulk strings longer than respMaxBulk. I/O errors are returned as
// they are.
func respRead(r *bufio.Reader) (respReply, error) {
	line, err := netReadLine(r, respMaxLine)
	if err != nil && len(line) == 0 {
		return respReply{}, err
	}
	if err != nil || !strings.HasSuffix(string(line), "\r\n") || len(line) < 3 {
		return respReply{}, &respProtocolError{fmt.Sprintf("%q", netExcerpt(line))}
	}
	body := string(line[1 : len(line)-2])

	switch kind := line[0]; kind {
	case '+', '-':
		return respReply{kind: kind, text: body}, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return respReply{}, &respProtocolError{fmt.Sprintf("integer %q", netExcerpt([]byte(body)))}
		}
		return respReply{kind: kind, integer: n}, nil
	case '$':
		return respReadBulk(r, body)
	}
	return respReply{}, &respProtocolError{fmt.Sprintf("%q", netExcerpt(line))}
}

// respReadBulk reads the data of a bulk string whose header line had size.
func respReadBulk(r *bufio.Reader, size string) (respReply, error) {
	n, err := strconv.Atoi(size)
	switch {
	case err == nil && n == -1:
		return respReply{kind: '$', null: true}, nil
	case err != nil || n < 0 || n > respMaxBulk:
		return respReply{}, &respProtocolError{fmt.Sprintf("bulk string of size %q", netExcerpt([]byte(size)))}
	}

	data := make([]byte, n+2)
	if _, err := io.ReadFull(r, data); err != nil {
		return respReply{}, err
	}
	if data[n] != '\r' || data[n+1] != '\n' {
		return respReply{}, &respProtocolError{"bulk string without CRLF after its data"}
	}
	return respReply{kind: '$', text: string(data[:n])}, nil
}
