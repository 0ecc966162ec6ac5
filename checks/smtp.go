package checks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	// smtpMaxLine is the longest reply line the reader accepts, CRLF included. RFC 5321
	// section 4.5.3.1.5 allows 512 bytes; servers send longer EHLO lines in practice.
	smtpMaxLine = 4096
	// smtpMaxLines is the most lines one reply may have.
	smtpMaxLines = 100
)

// SMTPProbe reads the greeting of an SMTP server, sends EHLO and ends with QUIT.
type SMTPProbe struct {
	// Network is "tcp" (the default) or "unix".
	Network string
	// Address is host:port for tcp and the socket path for unix.
	Address string
	// Hello is the name sent with EHLO. It defaults to "localhost".
	Hello string
}

// Probe passes when the greeting is 220 and the reply to EHLO is 250. A reason quotes
// the reply that failed it.
func (p SMTPProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	hello := p.Hello
	if hello == "" {
		hello = "localhost"
	}
	if strings.ContainsAny(hello, "\r\n") {
		return netResult(start, fmt.Sprintf("invalid EHLO name %q: it contains a line break", hello))
	}
	s, reason := netOpen(ctx, start, netNetwork(p.Network), p.Address, nil)
	if reason != "" {
		return netResult(start, reason)
	}
	defer s.close()

	if reason := p.expect(s, "greeted with", 220); reason != "" {
		return netResult(start, reason)
	}
	if reason := s.send([]byte("EHLO " + hello + "\r\n")); reason != "" {
		return netResult(start, reason)
	}
	if reason := p.expect(s, "answered EHLO with", 250); reason != "" {
		return netResult(start, reason)
	}
	// The probe has passed: the reply to QUIT is read so that the server closes the
	// session cleanly, and any failure there is ignored.
	if s.send([]byte("QUIT\r\n")) == "" {
		_, _ = smtpReadReply(s.r)
	}
	return netResult(start, "")
}

// String returns "smtp ADDRESS".
func (p SMTPProbe) String() string {
	return "smtp " + p.Address
}

// expect reads one reply and returns a reason unless its code is want. The reason
// reads "smtp at ADDRESS " + verb + " REPLY, want CODE".
func (p SMTPProbe) expect(s *netSession, verb string, want int) string {
	reply, err := smtpReadReply(s.r)
	if err != nil {
		var protoErr *smtpProtocolError
		if errors.As(err, &protoErr) {
			return fmt.Sprintf("smtp at %s %s %v, not an SMTP reply", p.Address, verb, err)
		}
		return s.reason(netReceive, err)
	}
	if reply.code != want {
		return fmt.Sprintf("smtp at %s %s %q, want %d", p.Address, verb, reply, want)
	}
	return ""
}

// smtpReply is one SMTP reply: its code and the text of each line.
type smtpReply struct {
	code  int
	lines []string
}

// String writes the reply as its first line was sent, with the other lines joined by
// " / ", such as "250-mail.example / 250 SIZE 1000".
func (r smtpReply) String() string {
	parts := make([]string, len(r.lines))
	for i, l := range r.lines {
		sep := "-"
		if i == len(r.lines)-1 {
			sep = " "
		}
		parts[i] = strconv.Itoa(r.code) + sep + l
	}
	return netExcerpt([]byte(strings.Join(parts, " / ")))
}

// smtpProtocolError is input that is not an SMTP reply. Its text quotes the line.
type smtpProtocolError struct {
	text string
}

func (e *smtpProtocolError) Error() string { return e.text }

// smtpReadReply reads one reply of one or more lines ("250-first", "250 last"). Every
// line must start with the same three-digit code. A malformed line, a line longer
// than smtpMaxLine or more than smtpMaxLines lines is returned as a
// *smtpProtocolError, and I/O errors as they are.
func smtpReadReply(r *bufio.Reader) (smtpReply, error) {
	var reply smtpReply
	for range smtpMaxLines {
		raw, err := netReadLine(r, smtpMaxLine)
		if err != nil && len(raw) == 0 {
			return smtpReply{}, err
		}
		line := strings.TrimRight(string(raw), "\r\n")
		if err != nil || len(line) < 3 || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
			return smtpReply{}, &smtpProtocolError{fmt.Sprintf("%q", netExcerpt(raw))}
		}
		code, convErr := strconv.Atoi(line[:3])
		if convErr != nil || code < 100 || code > 599 || (reply.lines != nil && code != reply.code) {
			return smtpReply{}, &smtpProtocolError{fmt.Sprintf("%q", netExcerpt(raw))}
		}

		reply.code = code
		if len(line) == 3 {
			reply.lines = append(reply.lines, "")
			return reply, nil
		}
		reply.lines = append(reply.lines, line[4:])
		if line[3] == ' ' {
			return reply, nil
		}
	}
	return smtpReply{}, &smtpProtocolError{fmt.Sprintf("reply of more than %d lines", smtpMaxLines)}
}
