package checks

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"

	"tend/internal/testenv"
)

func TestRedisProbe(t *testing.T) {
	open := testenv.StartRedis(t, testenv.RedisOptions{})
	locked := testenv.StartRedis(t, testenv.RedisOptions{Password: "s3cret-pass"})

	tests := []struct {
		name       string
		probe      RedisProbe
		wantOK     bool
		wantReason string
	}{
		{"tcp", RedisProbe{Address: open.Addr}, true, ""},
		{"unix", RedisProbe{Network: "unix", Address: open.Socket}, true, ""},
		{"password", RedisProbe{Address: locked.Addr, Password: "s3cret-pass"}, true, ""},
		{"user and password", RedisProbe{Network: "unix", Address: locked.Socket,
			Username: "default", Password: "s3cret-pass"}, true, ""},
		{"no password", RedisProbe{Address: locked.Addr}, false,
			"redis at " + locked.Addr + " answered NOAUTH Authentication required"},
		{"wrong password", RedisProbe{Address: locked.Addr, Password: "wrong-pass"}, false,
			"redis at " + locked.Addr + " answered WRONGPASS"},
		{"wrong user", RedisProbe{Address: locked.Addr, Username: "nobody", Password: "s3cret-pass"}, false,
			"answered WRONGPASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := netTestExpect(t, tt.probe, tt.wantOK, tt.wantReason)
			if tt.probe.Password != "" && strings.Contains(r.Reason+tt.probe.String(), tt.probe.Password) {
				t.Errorf("reason %q or String %q contains the password", r.Reason, tt.probe.String())
			}
		})
	}
}

// redisTestFake starts a loopback server that replies to every RESP command it reads with
// reply, and returns its address.
func redisTestFake(t *testing.T, reply string) string {
	t.Helper()
	return netTestServe(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			if _, err := redisTestReadCommand(r); err != nil {
				return
			}
			if _, err := c.Write([]byte(reply)); err != nil {
				return
			}
		}
	})
}

// redisTestReadCommand reads one RESP array of bulk strings.
func redisTestReadCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	var n int
	if _, err := fmt.Sscanf(line, "*%d\r\n", &n); err != nil {
		return nil, err
	}
	args := make([]string, n)
	for i := range args {
		reply, err := respRead(r)
		if err != nil {
			return nil, err
		}
		args[i] = reply.text
	}
	return args, nil
}

func TestRedisProbeFaults(t *testing.T) {
	loading := redisTestFake(t, "-LOADING Redis is loading the dataset in memory\r\n")
	pong := redisTestFake(t, "$4\r\nPONG\r\n")
	garbage := redisTestFake(t, "HTTP/1.1 400 Bad Request\r\n\r\n")
	closed := netTestClosedAddr(t)

	tests := []struct {
		name       string
		probe      RedisProbe
		wantReason string
	}{
		{"loading", RedisProbe{Address: loading},
			"redis at " + loading + " answered LOADING Redis is loading the dataset in memory"},
		{"loading after auth", RedisProbe{Address: loading, Password: "pw-of-loading"},
			"redis at " + loading + " answered LOADING"},
		{"bulk pong", RedisProbe{Address: pong}, `answered PING with $4 "PONG", want +PONG`},
		{"not redis", RedisProbe{Address: garbage}, `answered "HTTP/1.1 400 Bad Request\r\n" to PING, not a RESP reply`},
		{"closed port", RedisProbe{Address: closed}, "connection refused on " + closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			netTestExpect(t, tt.probe, false, tt.wantReason)
		})
	}
}

func TestRedisProbeSilentServer(t *testing.T) {
	silent := netTestSilent(t)
	netTestExpectTimeout(t, RedisProbe{Address: silent}, "no reply from "+silent+" within 300ms")
}

func TestRedisProbeAgainstPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	// PostgreSQL takes the RESP array for a startup packet of absurd length and hangs up.
	netTestExpect(t, RedisProbe{Address: pg.Addr()}, false, pg.Addr()+" closed the connection")
}

func TestRespRead(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"+PONG\r\n", "+PONG", false},
		{"-ERR bad\r\n", "-ERR bad", false},
		{":42\r\n", ":42", false},
		{"$5\r\nhello\r\n", `$5 "hello"`, false},
		{"$0\r\n\r\n", `$0 ""`, false},
		{"$-1\r\n", "$-1 (null)", false},
		{"*1\r\n$4\r\nPING\r\n", "", true},
		{"+PONG\n", "", true},
		{":x\r\n", "", true},
		{"$5\r\nhelloXX", "", true},
		{"$99999999999\r\n", "", true},
		{"$3\r\nab", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := respRead(netTestReader(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("respRead(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("respRead(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func BenchmarkRedisProbe(b *testing.B) {
	srv := testenv.StartRedis(b, testenv.RedisOptions{Password: "bench-pass"})
	p := RedisProbe{Address: srv.Addr, Password: "bench-pass"}
	for b.Loop() {
		if r := p.Probe(b.Context()); !r.OK {
			b.Fatal(r.Reason)
		}
	}
}
