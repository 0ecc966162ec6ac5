package checks

import (
	"context"
	"crypto/tls"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// dialogueMaxRead is how much one step of a DialogueProbe reads while it waits for its
// Expect to match.
const dialogueMaxRead = 64 << 10

// Step is one exchange of a DialogueProbe: send, then wait for a match.
type Step struct {
	// Send is written as it is, with no line ending added. When empty, nothing is sent.
	Send string
	// Expect must match what the server sends. When nil, the step does not read.
	Expect *regexp.Regexp
}

// DialogueProbe is a generic send and expect conversation over TCP, TLS or a unix
// socket, for a protocol that has no probe of its own.
type DialogueProbe struct {
	// Network is "tcp" (the default) or "unix".
	Network string
	// Address is host:port for tcp and the socket path for unix.
	Address string
	// TLS makes the probe complete a TLS handshake before the first step.
	TLS bool
	// TLSVerify checks the server's certificate chain and name. When false, any
	// certificate is accepted.
	TLSVerify bool
	// Steps run in order; the probe passes when every step did.
	Steps []Step
}

// Probe connects and runs the steps. A step with Expect reads until the data received
// since the previous match matches, and fails when ctx ends, when the server closes
// the connection, or when 64 KiB arrived without a match. Data after a match is kept
// for the next step.
func (p DialogueProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	var tlsConfig *tls.Config
	if p.TLS {
		tlsConfig = netTLSConfig(p.Address, "", p.TLSVerify)
	}
	s, reason := netOpen(ctx, start, netNetwork(p.Network), p.Address, tlsConfig)
	if reason != "" {
		return netResult(start, reason)
	}
	defer s.close()

	var pending []byte
	for i, step := range p.Steps {
		if step.Send != "" {
			if reason := s.send([]byte(step.Send)); reason != "" {
				return netResult(start, fmt.Sprintf("step %d: %s", i+1, reason))
			}
		}
		if step.Expect == nil {
			continue
		}
		var reason string
		pending, reason = dialogueExpect(s, pending, step.Expect)
		if reason != "" {
			return netResult(start, fmt.Sprintf("step %d: %s", i+1, reason))
		}
	}
	return netResult(start, "")
}

// String returns "send_expect ADDRESS", after the check type that configures it.
func (p DialogueProbe) String() string {
	return "send_expect " + p.Address
}

// dialogueExpect reads from s into buf until expect matches it and returns the bytes
// after the match, or a reason for failing. buf grows as the reply does, from a size
// that fits the short replies most dialogues expect.
func dialogueExpect(s *netSession, buf []byte, expect *regexp.Regexp) ([]byte, string) {
	for {
		if loc := expect.FindIndex(buf); loc != nil {
			return buf[loc[1]:], ""
		}
		if len(buf) >= dialogueMaxRead {
			return nil, fmt.Sprintf("%d bytes from %s do not match %q: %q",
				len(buf), s.address, expect, netExcerpt(buf))
		}

		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(max(cap(buf), 256), dialogueMaxRead-len(buf)))
		}
		n, err := s.r.Read(buf[len(buf):min(cap(buf), dialogueMaxRead)])
		buf = buf[:len(buf)+n]
		if err != nil && n == 0 {
			reason := s.reason(netReceive, err)
			if len(buf) == 0 {
				return nil, fmt.Sprintf("%s, want a match for %q", reason, expect)
			}
			return nil, fmt.Sprintf("%s sent %q, which does not match %q, then %s",
				s.address, netExcerpt(buf), expect, reason)
		}
	}
}
