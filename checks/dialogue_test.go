package checks

import (
	"bufio"
	"crypto/tls"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"tend/internal/testenv"
)

func TestDialogueProbeRedis(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.RedisOptions{})
	ping := []Step{{Send: "PING\r\n", Expect: regexp.MustCompile(`^\+PONG\r\n`)}}
	netTestExpect(t, DialogueProbe{Address: srv.Addr, Steps: ping}, true, "")
	netTestExpect(t, DialogueProbe{Network: "unix", Address: srv.Socket, Steps: ping}, true, "")

	wrong := []Step{{Send: "PING\r\n", Expect: regexp.MustCompile(`^\+PONG\r\n`)},
		{Send: "ECHO hi\r\n", Expect: regexp.MustCompile(`^\$2\r\nho\r\n`)}}
	netTestExpectTimeout(t, DialogueProbe{Address: srv.Addr, Steps: wrong},
		`step 2: `+srv.Addr+` sent "$2\r\nhi\r\n", which does not match `)
}

// dialogueTestLines starts a loopback server that sends greeting, then replies to each
// line it reads with "echo LINE" and returns the address.
func dialogueTestLines(t *testing.T, greeting string) string {
	t.Helper()
	return netTestServe(t, func(c net.Conn) {
		if _, err := c.Write([]byte(greeting)); err != nil {
			return
		}
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := c.Write([]byte("echo " + line)); err != nil {
				return
			}
		}
	})
}

func TestDialogueProbe(t *testing.T) {
	addr := dialogueTestLines(t, "hello\r\nworld\r\n")
	tests := []struct {
		name       string
		steps      []Step
		wantOK     bool
		wantReason string
	}{
		{"no steps", nil, true, ""},
		{"read only", []Step{{Expect: regexp.MustCompile(`world`)}}, true, ""},
		{"leftover kept", []Step{{Expect: regexp.MustCompile(`hello\r\n`)},
			{Expect: regexp.MustCompile(`^world`)}}, true, ""},
		{"send only then read", []Step{{Send: "a\n"}, {Send: "b\n"},
			{Expect: regexp.MustCompile(`echo a\necho b\n`)}}, true, ""},
		{"no match", []Step{{Send: "quit\n", Expect: regexp.MustCompile(`never`)}}, false,
			`step 1: ` + addr + ` sent "hello\r\nworld\r\necho quit\n", which does not match "never", then no reply`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DialogueProbe{Address: addr, Steps: tt.steps}
			if tt.wantOK {
				netTestExpect(t, p, true, "")
				return
			}
			netTestExpectTimeout(t, p, tt.wantReason)
		})
	}
}

func TestDialogueProbeReadLimit(t *testing.T) {
	flood := netTestServe(t, func(c net.Conn) {
		chunk := []byte(strings.Repeat("a", 4096))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	p := DialogueProbe{Address: flood, Steps: []Step{{Expect: regexp.MustCompile(`b`)}}}
	netTestExpect(t, p, false, `step 1: 65536 bytes from `+flood+` do not match "b"`)
}

func TestDialogueProbeTLS(t *testing.T) {
	cert := netTestCert(t, 24*time.Hour)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				_, _ = c.Write([]byte("* OK ready\r\n"))
				_, _ = bufio.NewReader(c).ReadString('\n')
			}()
		}
	}()

	steps := []Step{{Expect: regexp.MustCompile(`^\* OK`)}}
	addr := l.Addr().String()
	netTestExpect(t, DialogueProbe{Address: addr, TLS: true, Steps: steps}, true, "")
	netTestExpect(t, DialogueProbe{Address: addr, TLS: true, TLSVerify: true, Steps: steps}, false,
		"TLS handshake with "+addr)
}

func TestDialogueProbeFailures(t *testing.T) {
	closed := netTestClosedAddr(t)
	netTestExpect(t, DialogueProbe{Address: closed}, false, "connection refused on "+closed)

	silent := netTestSilent(t)
	netTestExpectTimeout(t, DialogueProbe{Address: silent, Steps: []Step{{Expect: regexp.MustCompile(`x`)}}},
		`step 1: no reply from `+silent+` within 300ms, want a match for "x"`)
}
