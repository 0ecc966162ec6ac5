package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadControl(t *testing.T) {
	tests := []struct {
		name      string
		table     string
		socket    string // relative to the case's directory when not absolute
		group     string
		groupName string
	}{
		{name: "absent", socket: DefaultControlSocket, groupName: DefaultControlGroup},
		{name: "empty table", table: "[control]\n", socket: DefaultControlSocket, groupName: DefaultControlGroup},
		{
			name:   "absolute socket",
			table:  "[control]\nsocket = \"/run/other/tend.sock\"\ngroup = \"wheel\"\n",
			socket: "/run/other/tend.sock", group: "wheel", groupName: "wheel",
		},
		{
			name:   "relative socket",
			table:  "[control]\nsocket = \"run/tend.sock\"\ngroup = \"1001\"\n",
			socket: "run/tend.sock", group: "1001", groupName: "1001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"tend.toml": tt.table})
			cfg, err := Load(filepath.Join(dir, "tend.toml"))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}

			want := tt.socket
			if !filepath.IsAbs(want) {
				want = filepath.Join(dir, want)
			}
			if cfg.Control.Socket != want {
				t.Errorf("Control.Socket = %q, want %q", cfg.Control.Socket, want)
			}
			if cfg.Control.Group != tt.group {
				t.Errorf("Control.Group = %q, want %q", cfg.Control.Group, tt.group)
			}
			if got := cfg.Control.GroupName(); got != tt.groupName {
				t.Errorf("Control.GroupName() = %q, want %q", got, tt.groupName)
			}
		})
	}
}

func TestLoadControlOnly(t *testing.T) {
	// The [mail] table needs an environment variable that is not set, which makes Load
	// fail; LoadControl reads the [control] table regardless.
	dir := writeFiles(t, map[string]string{"tend.toml": `include = ["conf.d/*.toml"]

[mail]
host = "smtp.example.com"
username = "tend"
password_env = "TEND_TEST_CONTROL_UNSET"
from = "tend@example.com"
to = ["ops@example.com"]

[control]
socket = "tend.sock"
group = "admins"
`})
	path := filepath.Join(dir, "tend.toml")
	if _, err := Load(path); err == nil {
		t.Fatal("Load: no error, want one for the unset password variable")
	}
	c, err := LoadControl(path)
	if err != nil {
		t.Fatalf("LoadControl: %v", err)
	}
	if want := (Control{Socket: filepath.Join(dir, "tend.sock"), Group: "admins"}); c != want {
		t.Errorf("LoadControl = %+v, want %+v", c, want)
	}

	if _, err := LoadControl(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("LoadControl of a missing file: no error, want one")
	}
	bad := writeFiles(t, map[string]string{"tend.toml": "[control]\nsocket = 5\n"})
	_, err = LoadControl(filepath.Join(bad, "tend.toml"))
	if want := "control.socket: got an integer, want a string"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadControl of a bad table: error %v, want one containing %q", err, want)
	}
}
