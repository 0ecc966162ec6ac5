package checks

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// The readers parse what a peer sends, which may be anything. They must not panic, and
// must not read more than their limits, whatever the input.

func FuzzRedisReply(f *testing.F) {
	for _, seed := range []string{
		"+PONG\r\n", "-LOADING Redis is loading the dataset in memory\r\n", ":1\r\n",
		"$5\r\nhello\r\n", "$-1\r\n", "*1\r\n$4\r\nPING\r\n", "$3\r\nab", "HTTP/1.1 400\r\n",
		"$65537\r\n", ":-9223372036854775809\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzCountingReader{r: bytes.NewReader(data)}
		reply, err := respRead(bufio.NewReader(in))
		if limit := respMaxLine + respMaxBulk + 2 + 4096; in.n > limit {
			t.Errorf("respRead read %d bytes for one reply, want at most %d", in.n, limit)
		}
		if err == nil {
			_ = reply.String()
		}
	})
}

func FuzzPostgresReply(f *testing.F) {
	f.Add([]byte{'R', 0, 0, 0, 8, 0, 0, 0, 10})
	f.Add(append([]byte{'E', 0, 0, 0, 30}, "SFATAL\x00C57P03\x00Mstarting\x00\x00"...))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n"))
	f.Add([]byte{'R', 0, 0, 0, 3})
	f.Add([]byte{'E', 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzCountingReader{r: bytes.NewReader(data)}
		msg, err := pgReadMessage(bufio.NewReader(in))
		if limit := pgMaxMessage + 5 + 4096; in.n > limit {
			t.Errorf("pgReadMessage read %d bytes for one message, want at most %d", in.n, limit)
		}
		if err != nil {
			return
		}
		if len(msg.body) > pgMaxMessage || len(msg.body)+5 > len(data) {
			t.Errorf("pgReadMessage returned a body of %d bytes from %d bytes of input", len(msg.body), len(data))
		}
		if int(binary.BigEndian.Uint32(data[1:5])) != len(msg.body)+4 {
			t.Errorf("body of %d bytes does not match the length field", len(msg.body))
		}
		_ = pgErrorFields(msg.body)
	})
}

func FuzzSMTPReply(f *testing.F) {
	for _, seed := range []string{
		"220 mx.example ESMTP\r\n", "220-a\r\n220 b\r\n", "220\r\n", "554 no\r\n",
		"250-a\r\n251 b\r\n", "2200 x\r\n", "+OK POP3\r\n", "220-", "220 a\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzCountingReader{r: bytes.NewReader(data)}
		reply, err := smtpReadReply(bufio.NewReader(in))
		if limit := smtpMaxLines*smtpMaxLine + 4096; in.n > limit {
			t.Errorf("smtpReadReply read %d bytes for one reply, want at most %d", in.n, limit)
		}
		if err != nil {
			return
		}
		if reply.code < 100 || reply.code > 599 {
			t.Errorf("smtpReadReply returned code %d", reply.code)
		}
		if len(reply.lines) == 0 || len(reply.lines) > smtpMaxLines {
			t.Errorf("smtpReadReply returned %d lines", len(reply.lines))
		}
		_ = reply.String()
	})
}

// fuzzCountingReader counts the bytes read through it, so a target can check that a
// reader stops at its limit. 4096 bytes of slack in the limits are the buffer of
// bufio.Reader, which reads ahead.
type fuzzCountingReader struct {
	r io.Reader
	n int
}

func (c *fuzzCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
