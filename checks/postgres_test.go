package checks

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/internal/testenv"
)

// The probe passes against a server that requires scram-sha-256 without knowing the
// password, over TCP and over the unix socket, and leaves no error in the server log.
func TestPostgresProbe(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	tests := []struct {
		name  string
		probe PostgresProbe
	}{
		{"tcp", PostgresProbe{Address: pg.Addr()}},
		{"unix", PostgresProbe{Network: "unix", Address: pg.Socket()}},
		{"unknown user", PostgresProbe{Address: pg.Addr(), User: "nobody", Database: "nowhere"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			netTestExpect(t, tt.probe, true, "")
		})
	}

	log, err := os.ReadFile(filepath.Join(pg.Data, "log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "ERROR") || strings.Contains(line, "FATAL") {
			t.Errorf("server logged %q after the probes, want no error", line)
		}
	}
}

// pgTestFake starts a loopback server that reads a StartupMessage and replies with
// reply, then waits for the client to hang up. Each message the client sends after
// the reply is sent on got.
func pgTestFake(t *testing.T, reply []byte) (string, <-chan byte) {
	t.Helper()
	got := make(chan byte, 16)
	addr := netTestServe(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		if pgTestSkipStartup(r) != nil {
			return
		}
		if _, err := c.Write(reply); err != nil {
			return
		}
		for {
			msg, err := pgReadMessage(r)
			if err != nil {
				return
			}
			got <- msg.kind
		}
	})
	return addr, got
}

// pgTestSkipStartup reads a StartupMessage from r and drops it.
func pgTestSkipStartup(r *bufio.Reader) error {
	header := make([]byte, 4)
	if _, err := io.ReadFull(r, header); err != nil {
		return err
	}
	_, err := io.CopyN(io.Discard, r, int64(binary.BigEndian.Uint32(header))-4)
	return err
}

// pgTestMessage encodes a message of kind with body.
func pgTestMessage(kind byte, body []byte) []byte {
	msg := append([]byte{kind}, binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))...)
	return append(msg, body...)
}

// pgTestError encodes an ErrorResponse with severity, SQLSTATE code and message.
func pgTestError(severity, code, message string) []byte {
	var body []byte
	for _, f := range []struct {
		kind  byte
		value string
	}{{'S', severity}, {'V', severity}, {'C', code}, {'M', message}} {
		body = append(append(append(body, f.kind), f.value...), 0)
	}
	return pgTestMessage('E', append(body, 0))
}

func TestPostgresProbeFaults(t *testing.T) {
	tests := []struct {
		name       string
		reply      []byte
		wantOK     bool
		wantReason string
	}{
		{"password request", pgTestMessage('R', []byte{0, 0, 0, 3}), true, ""},
		{"wrong password", pgTestError("FATAL", "28P01", "password authentication failed"), true, ""},
		{"no database", pgTestError("FATAL", "3D000", `database "x" does not exist`), true, ""},
		{"starting up", pgTestError("FATAL", "57P03", "the database system is starting up"), false,
			"answered FATAL 57P03 the database system is starting up"},
		{"too many", pgTestError("FATAL", "53300", "sorry, too many clients already"), false,
			"answered FATAL 53300 sorry, too many clients already"},
		{"other message", pgTestMessage('S', []byte("a\x00b\x00")), false,
			`answered with a message of type 'S', want an authentication request`},
		{"not postgres", []byte("+PONG\r\n"), false, `answered "+PONG\r\n", not a PostgreSQL message`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := pgTestFake(t, tt.reply)
			netTestExpect(t, PostgresProbe{Address: addr}, tt.wantOK, tt.wantReason)
		})
	}
}

// After AuthenticationOk the probe ends the session with Terminate, as a client does.
func TestPostgresProbeTerminatesAfterAuthOK(t *testing.T) {
	addr, got := pgTestFake(t, pgTestMessage('R', []byte{0, 0, 0, 0}))
	netTestExpect(t, PostgresProbe{Address: addr}, true, "")
	if kind := <-got; kind != 'X' {
		t.Errorf("after AuthenticationOk the probe sent message %q, want 'X' (Terminate)", kind)
	}
}

func TestPostgresProbeFailures(t *testing.T) {
	closed := netTestClosedAddr(t)
	netTestExpect(t, PostgresProbe{Address: closed}, false, "connection refused on "+closed)

	silent := netTestSilent(t)
	netTestExpectTimeout(t, PostgresProbe{Address: silent}, "no reply from "+silent+" within 300ms")

	// Redis waits for the end of an inline command line that never comes.
	redis := testenv.StartRedis(t, testenv.RedisOptions{})
	netTestExpectTimeout(t, PostgresProbe{Address: redis.Addr}, "no reply from "+redis.Addr+" within 300ms")

	netTestExpect(t, PostgresProbe{Address: silent, User: "a\x00b"}, false, "invalid PostgreSQL user")

	// The server reads the StartupMessage before it hangs up, so that the kernel sends
	// FIN, not RST for unread data.
	short := netTestServe(t, func(c net.Conn) {
		if pgTestSkipStartup(bufio.NewReader(c)) == nil {
			_, _ = c.Write([]byte("R\x00"))
		}
	})
	netTestExpect(t, PostgresProbe{Address: short}, false, `answered "R\x00", not a PostgreSQL message`)
}

func TestPgErrorFields(t *testing.T) {
	got := pgErrorFields([]byte("SFATAL\x00C28P01\x00Mbad\x00\x00"))
	if got['S'] != "FATAL" || got['C'] != "28P01" || got['M'] != "bad" {
		t.Errorf("pgErrorFields = %q, want S FATAL, C 28P01, M bad", got)
	}
	if got := pgErrorFields([]byte("Cunterminated")); len(got) != 0 {
		t.Errorf("pgErrorFields of an unterminated field = %q, want none", got)
	}
}

func BenchmarkPostgresProbe(b *testing.B) {
	pg := testenv.StartPostgres(b, testenv.PostgresOptions{})
	p := PostgresProbe{Address: pg.Addr()}
	for b.Loop() {
		if r := p.Probe(b.Context()); !r.OK {
			b.Fatal(r.Reason)
		}
	}
}
