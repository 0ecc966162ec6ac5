package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
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
		{name: "check process", word: "process", value: CheckProcess, parse: parseAs[CheckType]},
		{name: "check tcp", word: "tcp", value: CheckTCP, parse: parseAs[CheckType]},
		{name: "check cpu", word: "cpu", value: CheckCPU, parse: parseAs[CheckType]},
		{name: "check memory", word: "memory", value: CheckMemory, parse: parseAs[CheckType]},
		{name: "check total_memory", word: "total_memory", value: CheckTotalMemory, parse: parseAs[CheckType]},
		{name: "action alert", word: "alert", value: ActionAlert, parse: parseAs[Action]},
		{name: "action restart", word: "restart", value: ActionRestart, parse: parseAs[Action]},
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
			want: `unknown check type "disk": want process, tcp, cpu, memory or total_memory`},
		{name: "check type case", parse: parseAs[CheckType], word: "TCP",
			want: `unknown check type "TCP": want process, tcp, cpu, memory or total_memory`},
		{name: "action", parse: parseAs[Action], word: "stop",
			want: `unknown action "stop": want alert or restart`},
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
	m := Mail{Host: "smtp.example.com", Username: "tend", Password: NewSecret(password)}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("mail", "password", m.Password, "mail", m)
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
		"%v of Secret":         fmt.Sprintf("%v", m.Password),
		"%s of Secret":         fmt.Sprintf("%s", m.Password),
		"%q of Secret":         fmt.Sprintf("%q", m.Password),
		"%x of Secret":         fmt.Sprintf("%x", m.Password),
		"%d of Secret":         fmt.Sprintf("%d", m.Password),
		"%#v of Secret":        fmt.Sprintf("%#v", m.Password),
		"String of Secret":     m.Password.String(),
		"GoString of Secret":   m.Password.GoString(),
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
	if got := m.Password.Value(); got != password {
		t.Errorf("Value() = %q, want %q", got, password)
	}
}
