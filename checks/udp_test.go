package checks

import (
	"net"
	"regexp"
	"testing"
)

// udpTestServer starts a loopback UDP server that replies to each datagram with the
// replies that reply returns for it, and returns its address.
func udpTestServer(t *testing.T, reply func([]byte) [][]byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			for _, r := range reply(buf[:n]) {
				_, _ = pc.WriteTo(r, from)
			}
		}
	}()
	t.Cleanup(func() {
		_ = pc.Close()
		<-done
	})
	return pc.LocalAddr().String()
}

// udpTestClosedAddr returns a loopback UDP address on which nothing listens.
func udpTestClosedAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	_ = pc.Close()
	return addr
}

func TestUDPProbe(t *testing.T) {
	echo := udpTestServer(t, func(b []byte) [][]byte {
		return [][]byte{[]byte("noise"), append([]byte("echo "), b...)}
	})
	closed := udpTestClosedAddr(t)

	tests := []struct {
		name       string
		probe      UDPProbe
		wantOK     bool
		wantReason string
	}{
		{"any reply", UDPProbe{Address: echo, Send: []byte("ping")}, true, ""},
		{"second reply matches", UDPProbe{Address: echo, Send: []byte("ping"),
			Expect: regexp.MustCompile(`^echo ping$`)}, true, ""},
		{"empty datagram", UDPProbe{Address: echo, Expect: regexp.MustCompile(`^echo $`)}, true, ""},
		{"closed port", UDPProbe{Address: closed, Send: []byte("ping")}, false,
			"connection refused on " + closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			netTestExpect(t, tt.probe, tt.wantOK, tt.wantReason)
		})
	}
}

func TestUDPProbeNoMatch(t *testing.T) {
	echo := udpTestServer(t, func(b []byte) [][]byte { return [][]byte{append([]byte("echo "), b...)} })
	p := UDPProbe{Address: echo, Send: []byte("ping"), Expect: regexp.MustCompile(`pong`)}
	netTestExpectTimeout(t, p, `reply from `+echo+` does not match "pong": "echo ping"`)
}

func TestUDPProbeSilentServer(t *testing.T) {
	silent := udpTestServer(t, func([]byte) [][]byte { return nil })
	netTestExpectTimeout(t, UDPProbe{Address: silent, Send: []byte("ping")},
		"no reply from "+silent+" within 300ms")
}
