package checks

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tend/internal/testenv"
)

func TestSMTPProbeMailpit(t *testing.T) {
	mp := testenv.StartMailpit(t)
	netTestExpect(t, SMTPProbe{Address: testenv.Addr(mp.SMTPPort)}, true, "")
	netTestExpect(t, SMTPProbe{Address: testenv.Addr(mp.SMTPPort), Hello: "probe.example"}, true, "")
}

// smtpTestFake starts a loopback server that sends banner, replies to EHLO with ehlo and
// QUIT with "221 bye", and returns its address. Each command line it reads is sent on
// the returned channel.
func smtpTestFake(t *testing.T, banner, ehlo string) (string, <-chan string) {
	t.Helper()
	lines := make(chan string, 16)
	addr := netTestServe(t, func(c net.Conn) {
		if _, err := c.Write([]byte(banner)); err != nil {
			return
		}
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines <- line
			reply := "221 bye\r\n"
			if strings.HasPrefix(line, "EHLO") {
				reply = ehlo
			}
			if _, err := c.Write([]byte(reply)); err != nil {
				return
			}
		}
	})
	return addr, lines
}

func TestSMTPProbeFaults(t *testing.T) {
	tests := []struct {
		name       string
		banner     string
		ehlo       string
		wantOK     bool
		wantReason string
	}{
		{"multi-line", "220-mx.example ESMTP\r\n220-second line\r\n220 ready\r\n",
			"250-mx.example\r\n250-SIZE 1000\r\n250 8BITMIME\r\n", true, ""},
		{"bare code", "220\r\n", "250\r\n", true, ""},
		{"no service", "554 mx.example no service here\r\n", "", false,
			`greeted with "554 mx.example no service here", want 220`},
		{"ehlo rejected", "220 ready\r\n", "502 5.5.1 EHLO not implemented\r\n", false,
			`answered EHLO with "502 5.5.1 EHLO not implemented", want 250`},
		{"mixed codes", "220-a\r\n250 b\r\n", "", false, `greeted with "250 b\r\n", not an SMTP reply`},
		{"not smtp", "+OK POP3 ready\r\n", "", false, `greeted with "+OK POP3 ready\r\n", not an SMTP reply`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := smtpTestFake(t, tt.banner, tt.ehlo)
			netTestExpect(t, SMTPProbe{Address: addr}, tt.wantOK, tt.wantReason)
		})
	}
}

func TestSMTPProbeSendsEHLOAndQUIT(t *testing.T) {
	addr, lines := smtpTestFake(t, "220 ready\r\n", "250 ok\r\n")
	netTestExpect(t, SMTPProbe{Address: addr}, true, "")
	for _, want := range []string{"EHLO localhost\r\n", "QUIT\r\n"} {
		if got := <-lines; got != want {
			t.Errorf("server read %q, want %q", got, want)
		}
	}
}

func TestSMTPProbeFailures(t *testing.T) {
	closed := netTestClosedAddr(t)
	netTestExpect(t, SMTPProbe{Address: closed}, false, "connection refused on "+closed)

	silent := netTestSilent(t)
	netTestExpectTimeout(t, SMTPProbe{Address: silent}, "no reply from "+silent+" within 300ms")

	// An HTTP server sends no greeting; it waits for a request.
	web := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer web.Close()
	webAddr := web.Listener.Addr().String()
	netTestExpectTimeout(t, SMTPProbe{Address: webAddr}, "no reply from "+webAddr+" within 300ms")

	netTestExpect(t, SMTPProbe{Address: silent, Hello: "x\r\nRCPT TO:<a@b>"}, false, "invalid EHLO name")
}

func TestSMTPReadReplyLimits(t *testing.T) {
	tests := map[string]string{
		"long line":   "220 " + strings.Repeat("a", smtpMaxLine) + "\r\n",
		"many lines":  strings.Repeat("220-a\r\n", smtpMaxLines+1),
		"bad code":    "2x0 ready\r\n",
		"bad divider": "220_ready\r\n",
		"code range":  "999 what\r\n",
	}
	for name, in := range tests {
		if got, err := smtpReadReply(netTestReader(in)); err == nil {
			t.Errorf("smtpReadReply(%s) = %v, want an error", name, got)
		}
	}
}
