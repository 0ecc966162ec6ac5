package checks

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// udpMaxDatagram is the size of the largest UDP payload over IPv4 and IPv6 without
// jumbograms, so no reply is cut short.
const udpMaxDatagram = 65535

// UDPProbe sends one datagram and waits for a reply.
type UDPProbe struct {
	// Address is host:port.
	Address string
	// Send is the payload of the datagram; it may be empty.
	Send []byte
	// Expect must match a reply for the probe to pass. When nil, any reply passes.
	Expect *regexp.Regexp
}

// Probe sends p.Send and reads replies until one matches p.Expect or ctx ends. Replies
// that do not match are skipped, and the last of them is quoted when the probe fails.
// An ICMP port unreachable message fails the probe as a refused connection.
func (p UDPProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	s, reason := netOpen(ctx, start, "udp", p.Address, nil)
	if reason != "" {
		return netResult(start, reason)
	}
	defer s.close()

	if reason := s.send(p.Send); reason != "" {
		return netResult(start, reason)
	}
	buf := make([]byte, udpMaxDatagram)
	var last []byte
	for {
		n, err := s.conn.Read(buf)
		if err != nil {
			if last != nil {
				return netResult(start, fmt.Sprintf("reply from %s does not match %q: %q",
					p.Address, p.Expect, netExcerpt(last)))
			}
			return netResult(start, s.reason(netReceive, err))
		}
		if p.Expect == nil || p.Expect.Match(buf[:n]) {
			return netResult(start, "")
		}
		last = append(last[:0], buf[:n]...)
	}
}

// String returns "udp HOST:PORT".
func (p UDPProbe) String() string {
	return "udp " + p.Address
}
