package notify

import (
	"slices"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want map[string]string
	}{
		{"single", "READY=1", map[string]string{"READY": "1"}},
		{"trailing newline", "READY=1\n", map[string]string{"READY": "1"}},
		{"several lines", "READY=1\nSTATUS=up\nMAINPID=7", map[string]string{"READY": "1", "STATUS": "up", "MAINPID": "7"}},
		{"value with equals sign", "STATUS=a=b", map[string]string{"STATUS": "a=b"}},
		{"empty value", "STATUS=", map[string]string{"STATUS": ""}},
		{"repeated key keeps last", "STATUS=a\nSTATUS=b", map[string]string{"STATUS": "b"}},
		{"line without equals sign", "garbage\nREADY=1", map[string]string{"READY": "1"}},
		{"empty key", "=x\nREADY=1", map[string]string{"READY": "1"}},
		{"empty lines", "\n\nREADY=1\n\n", map[string]string{"READY": "1"}},
		{"only garbage", "\xff\xfe", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse(9, tt.raw)

			if m.PID != 9 || m.Raw != tt.raw {
				t.Errorf("Parse(9, %q): PID %d, Raw %q", tt.raw, m.PID, m.Raw)
			}
			if len(m.Fields) != len(tt.want) {
				t.Errorf("Parse(%q).Fields = %q, want %q", tt.raw, m.Fields, tt.want)
			}
			for k, v := range tt.want {
				if got, ok := m.Fields[k]; !ok || got != v {
					t.Errorf("Parse(%q).Fields[%q] = %q, %v; want %q", tt.raw, k, got, ok, v)
				}
			}
		})
	}
}

func TestMessageFlags(t *testing.T) {
	tests := []struct {
		raw                                                   string
		ready, reloading, stopping, watchdog, watchdogTrigger bool
	}{
		{raw: "READY=1", ready: true},
		{raw: "READY=0"},
		{raw: "READY=true"},
		{raw: "RELOADING=1", reloading: true},
		{raw: "STOPPING=1", stopping: true},
		{raw: "WATCHDOG=1", watchdog: true},
		{raw: "WATCHDOG=trigger", watchdogTrigger: true},
		{raw: "STATUS=READY=1"},
	}
	for _, tt := range tests {
		m := Parse(1, tt.raw)
		if got := m.Ready(); got != tt.ready {
			t.Errorf("Parse(%q).Ready() = %v, want %v", tt.raw, got, tt.ready)
		}
		if got := m.Reloading(); got != tt.reloading {
			t.Errorf("Parse(%q).Reloading() = %v, want %v", tt.raw, got, tt.reloading)
		}
		if got := m.Stopping(); got != tt.stopping {
			t.Errorf("Parse(%q).Stopping() = %v, want %v", tt.raw, got, tt.stopping)
		}
		if got := m.Watchdog(); got != tt.watchdog {
			t.Errorf("Parse(%q).Watchdog() = %v, want %v", tt.raw, got, tt.watchdog)
		}
		if got := m.WatchdogTrigger(); got != tt.watchdogTrigger {
			t.Errorf("Parse(%q).WatchdogTrigger() = %v, want %v", tt.raw, got, tt.watchdogTrigger)
		}
	}
}

func TestMessageIntegers(t *testing.T) {
	tests := []struct {
		raw    string
		pid    int
		pidOK  bool
		errno  int
		errnOK bool
	}{
		{raw: "MAINPID=123", pid: 123, pidOK: true},
		{raw: "MAINPID=0"},
		{raw: "MAINPID=-5"},
		{raw: "MAINPID=12a"},
		{raw: "MAINPID="},
		{raw: "ERRNO=2", errno: 2, errnOK: true},
		{raw: "ERRNO=0", errno: 0, errnOK: true},
		{raw: "ERRNO=-1"},
		{raw: "ERRNO=ENOENT"},
		{raw: "STATUS=x"},
	}
	for _, tt := range tests {
		m := Parse(1, tt.raw)
		if pid, ok := m.MainPID(); pid != tt.pid || ok != tt.pidOK {
			t.Errorf("Parse(%q).MainPID() = %d, %v; want %d, %v", tt.raw, pid, ok, tt.pid, tt.pidOK)
		}
		if n, ok := m.Errno(); n != tt.errno || ok != tt.errnOK {
			t.Errorf("Parse(%q).Errno() = %d, %v; want %d, %v", tt.raw, n, ok, tt.errno, tt.errnOK)
		}
	}
}

func TestMessageDurations(t *testing.T) {
	tests := []struct {
		raw        string
		extend     time.Duration
		extendOK   bool
		watchdog   time.Duration
		watchdogOK bool
	}{
		{raw: "EXTEND_TIMEOUT_USEC=5000000", extend: 5 * time.Second, extendOK: true},
		{raw: "EXTEND_TIMEOUT_USEC=0", extendOK: true},
		{raw: "EXTEND_TIMEOUT_USEC=-1"},
		{raw: "EXTEND_TIMEOUT_USEC=1s"},
		{raw: "EXTEND_TIMEOUT_USEC=99999999999999999999"},
		{raw: "WATCHDOG_USEC=250", watchdog: 250 * time.Microsecond, watchdogOK: true},
		{raw: "WATCHDOG_USEC=9223372036854776"},
		{raw: "WATCHDOG_USEC=9223372036854775", watchdog: 9223372036854775 * time.Microsecond, watchdogOK: true},
	}
	for _, tt := range tests {
		m := Parse(1, tt.raw)
		if d, ok := m.ExtendTimeout(); d != tt.extend || ok != tt.extendOK {
			t.Errorf("Parse(%q).ExtendTimeout() = %v, %v; want %v, %v", tt.raw, d, ok, tt.extend, tt.extendOK)
		}
		if d, ok := m.WatchdogTimeout(); d != tt.watchdog || ok != tt.watchdogOK {
			t.Errorf("Parse(%q).WatchdogTimeout() = %v, %v; want %v, %v", tt.raw, d, ok, tt.watchdog, tt.watchdogOK)
		}
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name     string
		watchdog time.Duration
		want     []string
	}{
		{"no watchdog", 0, []string{"NOTIFY_SOCKET=/run/x.sock"}},
		{"negative watchdog", -time.Second, []string{"NOTIFY_SOCKET=/run/x.sock"}},
		{"seconds", 30 * time.Second, []string{"NOTIFY_SOCKET=/run/x.sock", "WATCHDOG_USEC=30000000"}},
		{"rounds up", 1500 * time.Nanosecond, []string{"NOTIFY_SOCKET=/run/x.sock", "WATCHDOG_USEC=2"}},
		{"at least one", time.Nanosecond, []string{"NOTIFY_SOCKET=/run/x.sock", "WATCHDOG_USEC=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Env("/run/x.sock", tt.watchdog); !slices.Equal(got, tt.want) {
				t.Errorf("Env(%v) = %q, want %q", tt.watchdog, got, tt.want)
			}
		})
	}
}

func TestFilterEnv(t *testing.T) {
	env := []string{
		"PATH=/usr/bin",
		"NOTIFY_SOCKET=/run/systemd/notify",
		"WATCHDOG_USEC=60000000",
		"WATCHDOG_PID=1",
		"NOTIFY_SOCKETS=kept",
		"HOME=/root",
	}
	want := []string{"PATH=/usr/bin", "NOTIFY_SOCKETS=kept", "HOME=/root"}

	if got := FilterEnv(env); !slices.Equal(got, want) {
		t.Errorf("FilterEnv = %q, want %q", got, want)
	}
}
