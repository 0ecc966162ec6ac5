package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDurationUnmarshalText(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    time.Duration
		wantErr string
	}{
		{name: "seconds", text: "30s", want: 30 * time.Second},
		{name: "compound", text: "1m30s", want: 90 * time.Second},
		{name: "milliseconds", text: "500ms", want: 500 * time.Millisecond},
		{name: "zero", text: "0", want: 0},
		{name: "negative", text: "-5s", wantErr: `invalid duration "-5s": must not be negative`},
		{name: "no unit", text: "30", wantErr: `invalid duration "30": want a number and a unit`},
		{name: "words", text: "30 seconds", wantErr: `invalid duration "30 seconds"`},
		{name: "empty", text: "", wantErr: `invalid duration ""`},
		{name: "days", text: "14d", want: 14 * 24 * time.Hour},
		{name: "days and hours", text: "1d12h", want: 36 * time.Hour},
		{name: "zero days", text: "0d", want: 0},
		{name: "fractional days", text: "1.5d", wantErr: `invalid duration "1.5d": want a number and a unit`},
		{name: "days after hours", text: "12h1d", wantErr: `invalid duration "12h1d"`},
		{name: "negative after days", text: "1d-1h", wantErr: `invalid duration "1d-1h"`},
		{name: "negative days", text: "-1d", wantErr: `invalid duration "-1d"`},
		{name: "day without count", text: "d", wantErr: `invalid duration "d"`},
		{name: "too many days", text: "106752d", wantErr: `invalid duration "106752d": too long`},
		{name: "days overflow with hours", text: "106751d24h", wantErr: `invalid duration "106751d24h": too long`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Duration(time.Hour)
			err := d.UnmarshalText([]byte(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("UnmarshalText(%q) = %v, want an error starting %q", tt.text, err, tt.wantErr)
				}
				if d != Duration(time.Hour) {
					t.Errorf("UnmarshalText(%q) changed the value to %s on error", tt.text, d)
				}
				return
			}
			if err != nil {
				t.Fatalf("UnmarshalText(%q): %v", tt.text, err)
			}
			if d.D() != tt.want {
				t.Errorf("UnmarshalText(%q) = %s, want %s", tt.text, d, tt.want)
			}
		})
	}
}

func TestQuantityUnmarshalText(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		percent float64
		bytes   uint64
		isPct   bool
		str     string
	}{
		{name: "percent", text: "95%", percent: 95, isPct: true, str: "95%"},
		{name: "fractional percent", text: "2.5%", percent: 2.5, isPct: true, str: "2.5%"},
		{name: "percent with space", text: "95 %", percent: 95, isPct: true, str: "95%"},
		{name: "megabytes", text: "600MB", bytes: 600 << 20, str: "600MiB"},
		{name: "mebibytes", text: "600MiB", bytes: 600 << 20, str: "600MiB"},
		{name: "with space", text: "600 MB", bytes: 600 << 20, str: "600MiB"},
		{name: "fractional gibibytes", text: "1.5GiB", bytes: 3 << 29, str: "1536MiB"},
		{name: "kilobytes", text: "512KB", bytes: 512 << 10, str: "512KiB"},
		{name: "bytes", text: "1024B", bytes: 1024, str: "1KiB"},
		{name: "odd bytes", text: "1000B", bytes: 1000, str: "1000B"},
		{name: "terabytes", text: "2TB", bytes: 2 << 40, str: "2TiB"},
		{name: "gigabytes", text: "1GB", bytes: 1 << 30, str: "1GiB"},
		{name: "surrounding spaces", text: " 1KiB ", bytes: 1024, str: "1KiB"},
		{name: "rounded", text: "1.0005KiB", bytes: 1025, str: "1025B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Quantity
			if err := q.UnmarshalText([]byte(tt.text)); err != nil {
				t.Fatalf("UnmarshalText(%q): %v", tt.text, err)
			}
			if q.IsPercent() != tt.isPct {
				t.Errorf("UnmarshalText(%q): IsPercent() = %t, want %t", tt.text, q.IsPercent(), tt.isPct)
			}
			if q.Percent() != tt.percent {
				t.Errorf("UnmarshalText(%q): Percent() = %g, want %g", tt.text, q.Percent(), tt.percent)
			}
			if q.Bytes() != tt.bytes {
				t.Errorf("UnmarshalText(%q): Bytes() = %d, want %d", tt.text, q.Bytes(), tt.bytes)
			}
			if q.String() != tt.str {
				t.Errorf("UnmarshalText(%q): String() = %q, want %q", tt.text, q.String(), tt.str)
			}
		})
	}
}

func TestQuantityRejects(t *testing.T) {
	const sizeHelp = "want a number followed by B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
	const percentHelp = `want a number followed by %, such as "95%"`
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "unknown unit", text: "600XB", want: `invalid size "600XB": ` + sizeHelp},
		{name: "lower case unit", text: "600mb", want: `invalid size "600mb": ` + sizeHelp},
		{name: "no unit", text: "600", want: `invalid size "600": ` + sizeHelp},
		{name: "no number", text: "MB", want: `invalid size "MB": ` + sizeHelp},
		{name: "negative", text: "-1MB", want: `invalid size "-1MB": ` + sizeHelp},
		{name: "exponent", text: "1e3MB", want: `invalid size "1e3MB": ` + sizeHelp},
		{name: "bare point", text: ".5MB", want: `invalid size ".5MB": ` + sizeHelp},
		{name: "empty", text: "", want: `invalid size "": ` + sizeHelp},
		{name: "too large", text: "99999999TiB", want: `invalid size "99999999TiB": too large`},
		{name: "two points", text: "95.5.5%", want: `invalid percentage "95.5.5%": ` + percentHelp},
		{name: "percent alone", text: "%", want: `invalid percentage "%": ` + percentHelp},
		{name: "negative percent", text: "-5%", want: `invalid percentage "-5%": ` + percentHelp},
		{name: "infinite percent", text: "inf%", want: `invalid percentage "inf%": ` + percentHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewPercent(50)
			err := q.UnmarshalText([]byte(tt.text))
			if err == nil || err.Error() != tt.want {
				t.Errorf("UnmarshalText(%q) = %v, want %q", tt.text, err, tt.want)
			}
			if q != NewPercent(50) {
				t.Errorf("UnmarshalText(%q) changed the value to %s on error", tt.text, q)
			}
		})
	}
}

func TestEnumWords(t *testing.T) {
	tests := []struct {
		name  string
		word  string
		value fmt.Stringer
		parse func(string) (fmt.Stringer, error)
	}{
		{name: "tls none", word: "none", value: TLSNone, parse: parseAs[TLSMode]},
		{name: "tls starttls", word: "starttls", value: TLSStartTLS, parse: parseAs[TLSMode]},
		{name: "tls implicit", word: "tls", value: TLSImplicit, parse: parseAs[TLSMode]},
		{name: "action alert", word: "alert", value: ActionAlert, parse: parseAs[Action]},
		{name: "action restart", word: "restart", value: ActionRestart, parse: parseAs[Action]},
		{name: "action start", word: "start", value: ActionStart, parse: parseAs[Action]},
		{name: "action stop", word: "stop", value: ActionStop, parse: parseAs[Action]},
		{name: "action exec", word: "exec", value: ActionExec, parse: parseAs[Action]},
		{name: "action unmonitor", word: "unmonitor", value: ActionUnmonitor, parse: parseAs[Action]},
		{name: "scope machine", word: "machine", value: CPUScopeMachine, parse: parseAs[CPUScope]},
		{name: "scope core", word: "core", value: CPUScopeCore, parse: parseAs[CPUScope]},
		{name: "usage total", word: "total", value: CPUUsageTotal, parse: parseAs[CPUUsage]},
		{name: "usage user", word: "user", value: CPUUsageUser, parse: parseAs[CPUUsage]},
		{name: "usage system", word: "system", value: CPUUsageSystem, parse: parseAs[CPUUsage]},
		{name: "usage iowait", word: "iowait", value: CPUUsageIOWait, parse: parseAs[CPUUsage]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.word)
			if err != nil {
				t.Fatalf("UnmarshalText(%q): %v", tt.word, err)
			}
			if got != tt.value {
				t.Errorf("UnmarshalText(%q) = %v, want %v", tt.word, got, tt.value)
			}
			if tt.value.String() != tt.word {
				t.Errorf("String() = %q, want %q", tt.value.String(), tt.word)
			}
		})
	}
}

// parseAs parses word into a T through its UnmarshalText method.
func parseAs[T fmt.Stringer, P interface {
	*T
	UnmarshalText([]byte) error
}](word string) (fmt.Stringer, error) {
	var v T
	err := P(&v).UnmarshalText([]byte(word))
	return v, err
}

func TestEnumRejects(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string) (fmt.Stringer, error)
		word  string
		want  string
	}{
		{name: "tls", parse: parseAs[TLSMode], word: "ssl",
			want: `unknown TLS mode "ssl": want none, starttls or tls`},
		{name: "check type", parse: parseAs[CheckType], word: "disk",
			want: `unknown check type "disk": want process, pid, ppid, cpu, total_cpu, memory, total_memory, children, threads, fds, uptime, load, host_cpu, host_memory, swap, filesystem, inodes, tcp, unix, udp, http, redis, postgres, smtp, send_expect, program or file`},
		{name: "check type case", parse: parseAs[CheckType], word: "TCP",
			want: `unknown check type "TCP": want process, pid, ppid, cpu, total_cpu, memory, total_memory, children, threads, fds, uptime, load, host_cpu, host_memory, swap, filesystem, inodes, tcp, unix, udp, http, redis, postgres, smtp, send_expect, program or file`},
		{name: "action", parse: parseAs[Action], word: "page",
			want: `unknown action "page": want alert, restart, start, stop, exec or unmonitor`},
		{name: "cpu scope", parse: parseAs[CPUScope], word: "cores",
			want: `unknown CPU scope "cores": want machine or core`},
		{name: "cpu usage", parse: parseAs[CPUUsage], word: "idle",
			want: `unknown CPU usage "idle": want total, user, system or iowait`},
		{name: "signal", parse: parseAs[Signal], word: "SIGSTOP",
			want: `unknown signal "SIGSTOP": want HUP, INT, QUIT, KILL, USR1, USR2 or TERM, with or without the SIG prefix`},
		{name: "signal number", parse: parseAs[Signal], word: "15",
			want: `unknown signal "15": want HUP, INT, QUIT, KILL, USR1, USR2 or TERM, with or without the SIG prefix`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.parse(tt.word)
			if err == nil || err.Error() != tt.want {
				t.Errorf("UnmarshalText(%q) = %v, want %q", tt.word, err, tt.want)
			}
		})
	}
}

func TestSignalUnmarshalText(t *testing.T) {
	tests := []struct {
		text string
		want syscall.Signal
		name string
	}{
		{text: "SIGTERM", want: syscall.SIGTERM, name: "SIGTERM"},
		{text: "TERM", want: syscall.SIGTERM, name: "SIGTERM"},
		{text: "term", want: syscall.SIGTERM, name: "SIGTERM"},
		{text: "sigHup", want: syscall.SIGHUP, name: "SIGHUP"},
		{text: "INT", want: syscall.SIGINT, name: "SIGINT"},
		{text: "QUIT", want: syscall.SIGQUIT, name: "SIGQUIT"},
		{text: "KILL", want: syscall.SIGKILL, name: "SIGKILL"},
		{text: "USR1", want: syscall.SIGUSR1, name: "SIGUSR1"},
		{text: "SIGUSR2", want: syscall.SIGUSR2, name: "SIGUSR2"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var s Signal
			if err := s.UnmarshalText([]byte(tt.text)); err != nil {
				t.Fatalf("UnmarshalText(%q): %v", tt.text, err)
			}
			if s.Signal() != tt.want {
				t.Errorf("UnmarshalText(%q).Signal() = %v, want %v", tt.text, s.Signal(), tt.want)
			}
			if s.String() != tt.name {
				t.Errorf("UnmarshalText(%q).String() = %q, want %q", tt.text, s.String(), tt.name)
			}
		})
	}
}

func TestSecretMasked(t *testing.T) {
	const password = "hunter2"
	server := MailServer{Host: "smtp.example.com", Username: "tend", Password: NewSecret(password)}
	m := Mail{Servers: []MailServer{server}}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("mail", "password", server.Password, "mail", m)
	jsonText, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}

	outputs := map[string]string{
		"%v of Mail":           fmt.Sprintf("%v", m),
		"%+v of Mail":          fmt.Sprintf("%+v", m),
		"%#v of Mail":          fmt.Sprintf("%#v", m),
		"%v of *Mail":          fmt.Sprintf("%v", &m),
		"%+v of *Mail":         fmt.Sprintf("%+v", &m),
		"%v of Secret":         fmt.Sprintf("%v", server.Password),
		"%s of Secret":         fmt.Sprintf("%s", server.Password),
		"%q of Secret":         fmt.Sprintf("%q", server.Password),
		"%x of Secret":         fmt.Sprintf("%x", server.Password),
		"%d of Secret":         fmt.Sprintf("%d", server.Password),
		"%#v of Secret":        fmt.Sprintf("%#v", server.Password),
		"String of Secret":     server.Password.String(),
		"GoString of Secret":   server.Password.GoString(),
		"json.Marshal of Mail": string(jsonText),
		"slog line":            logged.String(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, password) || strings.Contains(out, fmt.Sprintf("%x", password)) {
				t.Errorf("output contains the password: %s", out)
			}
			if !strings.Contains(out, "******") {
				t.Errorf("output lacks the mask ******: %s", out)
			}
		})
	}
	if got := server.Password.Value(); got != password {
		t.Errorf("Value() = %q, want %q", got, password)
	}
}

// Every check type prints as its word and parses back from it.
func TestCheckTypeWords(t *testing.T) {
	want := []string{
		"process", "pid", "ppid", "cpu", "total_cpu", "memory", "total_memory", "children",
		"threads", "fds", "uptime", "load", "host_cpu", "host_memory", "swap", "filesystem",
		"inodes", "tcp", "unix", "udp", "http", "redis", "postgres", "smtp", "send_expect",
		"program", "file",
	}
	types := checkTypes()
	if len(types) != len(want) {
		t.Fatalf("checkTypes() has %d types, want %d", len(types), len(want))
	}
	for i, typ := range types {
		if typ.String() != want[i] {
			t.Errorf("CheckType(%d).String() = %q, want %q", int(typ), typ.String(), want[i])
		}
		var parsed CheckType
		if err := parsed.UnmarshalText([]byte(want[i])); err != nil || parsed != typ {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", want[i], parsed, err, typ)
		}
	}
	if got := CheckType(0).String(); got != "CheckType(0)" {
		t.Errorf("CheckType(0).String() = %q, want CheckType(0)", got)
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  Limit
	}{
		{name: "integer", value: int64(50), want: Limit{Value: 50, Unit: UnitCount, Text: "50"}},
		{name: "float", value: 1.5, want: Limit{Value: 1.5, Unit: UnitCount, Text: "1.5"}},
		{name: "number string", value: "2.5", want: Limit{Value: 2.5, Unit: UnitCount, Text: "2.5"}},
		{name: "percent", value: "95%", want: Limit{Value: 95, Unit: UnitPercent, Text: "95%"}},
		{name: "size", value: "600 MB", want: Limit{Value: 600 << 20, Unit: UnitBytes, Text: "600 MB"}},
		{name: "duration", value: "5m", want: Limit{Value: 300, Unit: UnitDuration, Text: "5m"}},
		{name: "days", value: "14d", want: Limit{Value: 14 * 86400, Unit: UnitDuration, Text: "14d"}},
		{name: "milliseconds", value: "1500ms", want: Limit{Value: 1.5, Unit: UnitDuration, Text: "1500ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLimit(tt.value, []LimitUnit{UnitCount})
			if err != nil {
				t.Fatalf("parseLimit(%v): %v", tt.value, err)
			}
			if got != tt.want {
				t.Errorf("parseLimit(%v) = %+v, want %+v", tt.value, got, tt.want)
			}
		})
	}
}

func TestParseLimitRejects(t *testing.T) {
	units := []LimitUnit{UnitBytes, UnitPercent}
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{name: "words", value: "lots",
			want: `invalid limit "lots": want a size such as "600MB" or a percentage such as "95%"`},
		{name: "bad percent", value: "9x%",
			want: `invalid percentage "9x%": want a number followed by %, such as "95%"`},
		{name: "bad size unit", value: "600XB",
			want: `invalid size "600XB": want a number followed by B, KB, MB, GB, TB, KiB, MiB, GiB or TiB`},
		{name: "negative duration", value: "-5m",
			want: `invalid limit "-5m": want a size such as "600MB" or a percentage such as "95%"`},
		{name: "boolean", value: true,
			want: `got a boolean, want a size such as "600MB" or a percentage such as "95%"`},
		{name: "infinity", value: math.Inf(1), want: `invalid limit +Inf: want a finite number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseLimit(tt.value, units)
			if err == nil || err.Error() != tt.want {
				t.Errorf("parseLimit(%v) = %v, want %q", tt.value, err, tt.want)
			}
		})
	}
}

func TestLimitExceeded(t *testing.T) {
	above := Limit{Value: 95, Unit: UnitPercent}
	below := Limit{Below: true, Value: 300, Unit: UnitDuration}
	tests := []struct {
		name  string
		limit Limit
		v     float64
		want  bool
	}{
		{name: "above over", limit: above, v: 95.1, want: true},
		{name: "above equal", limit: above, v: 95, want: false},
		{name: "above under", limit: above, v: 10, want: false},
		{name: "below under", limit: below, v: 299, want: true},
		{name: "below equal", limit: below, v: 300, want: false},
		{name: "below over", limit: below, v: 301, want: false},
		{name: "unset", limit: Limit{}, v: 1e9, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.limit.Exceeded(tt.v); got != tt.want {
				t.Errorf("%+v.Exceeded(%v) = %v, want %v", tt.limit, tt.v, got, tt.want)
			}
		})
	}
}

func TestLimitString(t *testing.T) {
	tests := []struct {
		limit Limit
		want  string
	}{
		{limit: Limit{Value: 95, Unit: UnitPercent}, want: "> 95%"},
		{limit: Limit{Below: true, Value: 300, Unit: UnitDuration}, want: "< 5m0s"},
		{limit: Limit{Value: 600 << 20, Unit: UnitBytes}, want: "> 600MiB"},
		{limit: Limit{Value: 1.5, Unit: UnitCount}, want: "> 1.5"},
		{limit: Limit{Below: true, Value: 2, Unit: UnitCount}, want: "< 2"},
		{limit: Limit{}, want: ""},
	}
	for _, tt := range tests {
		if got := tt.limit.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.limit, got, tt.want)
		}
	}
}
