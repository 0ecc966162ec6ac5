package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Hashes of "ops-secret" and "viewer-secret" at bcrypt cost 4.
const (
	opsHash    = "$2a$04$mU4w.yilcnn0p2UF6ziPE.cGo7JIQQYVjmh84TWQk6uOOWLSCWO5a"
	viewerHash = "$2a$04$4IncpjNQ4YZ1JjGznc/LnOjzcy5ziw4fHrYH/sxxjL/ipkZJUkKjC"
)

func TestLoadHTTP(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"viewer.hash": viewerHash + "\n",
		"tend.toml": `[http]
listen = "0.0.0.0:8443"
tls_cert = "tls/tend.crt"
tls_key = "/etc/tend/tend.key"

[[http.user]]
name = "ops"
password_hash = "` + opsHash + `"
role = "admin"

[[http.user]]
name = "viewer"
password_hash_file = "viewer.hash"
role = "read-only"
`,
	})
	path := filepath.Join(dir, "tend.toml")
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	want := &HTTP{
		Listen:  "0.0.0.0:8443",
		TLSCert: filepath.Join(dir, "tls", "tend.crt"),
		TLSKey:  "/etc/tend/tend.key",
		Users: []HTTPUser{
			{Name: "ops", PasswordHash: NewSecret(opsHash), Role: HTTPAdmin, Pos: Position{path, 6}},
			{Name: "viewer", PasswordHash: NewSecret(viewerHash), Role: HTTPReadOnly, Pos: Position{path, 11}},
		},
		Pos: Position{File: path, Line: 1},
	}
	if !reflect.DeepEqual(cfg.HTTP, want) {
		t.Errorf("Load: HTTP =\n\t%+v\nwant\n\t%+v", cfg.HTTP, want)
	}
	if got := cfg.HTTP.Users[0].PasswordHash.Value(); got != opsHash {
		t.Errorf("Users[0].PasswordHash.Value() = %q, want %q", got, opsHash)
	}
	if printed := fmt.Sprintf("%v %+v", cfg.HTTP, cfg.HTTP.Users); strings.Contains(printed, "$2a$") {
		t.Errorf("printing the HTTP settings shows a hash: %s", printed)
	}
}

func TestLoadHTTPDefaults(t *testing.T) {
	tests := []struct {
		name, file string
		want       *HTTP
	}{
		{name: "no table", file: "", want: nil},
		{name: "empty table", file: "[http]\n", want: &HTTP{Listen: DefaultHTTPListen}},
		{name: "empty users", file: "[http]\nuser = []\n", want: &HTTP{Listen: DefaultHTTPListen}},
		{name: "port 0", file: "[http]\nlisten = \"[::1]:0\"\n", want: &HTTP{Listen: "[::1]:0"}},
		{name: "localhost", file: "[http]\nlisten = \"localhost:2812\"\n", want: &HTTP{Listen: "localhost:2812"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"tend.toml": tt.file})
			path := filepath.Join(dir, "tend.toml")
			cfg, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tt.want != nil {
				tt.want.Pos = Position{File: path, Line: 1}
			}
			if !reflect.DeepEqual(cfg.HTTP, tt.want) {
				t.Errorf("Load: HTTP = %+v, want %+v", cfg.HTTP, tt.want)
			}
		})
	}
}

// A listener that other hosts can reach needs users, but a loopback one does not.
func TestLoadHTTPListenWithoutUsers(t *testing.T) {
	tests := []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:2812", true},
		{"127.0.0.53:2812", true},
		{"[::1]:2812", true},
		{"localhost:2812", true},
		{"0.0.0.0:2812", false},
		{":2812", false},
		{"[::]:2812", false},
		{"192.0.2.10:2812", false},
		{"tend.example.com:2812", false},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"tend.toml": "[http]\nlisten = \"" + tt.listen + "\"\n"})
			_, err := Load(filepath.Join(dir, "tend.toml"))
			if tt.ok {
				if err != nil {
					t.Errorf("Load: %v, want no error", err)
				}
				return
			}
			var list Errors
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("Load: error %v, want one error", err)
			}
			want := "refuses to listen on " + tt.listen + " without [[http.user]] entries"
			if list[0].Key != "http.listen" || list[0].Line != 2 || !strings.HasPrefix(list[0].Msg, want) {
				t.Errorf("Load: error %q, want line 2, key http.listen, message starting %q", list[0], want)
			}
		})
	}
}

func TestHTTPRoleWords(t *testing.T) {
	for _, r := range []HTTPRole{HTTPReadOnly, HTTPAdmin} {
		var got HTTPRole
		if err := got.UnmarshalText([]byte(r.String())); err != nil || got != r {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", r.String(), got, err, r)
		}
	}
	var r HTTPRole
	err := r.UnmarshalText([]byte("root"))
	if want := `unknown role "root": want read-only or admin`; err == nil || err.Error() != want {
		t.Errorf("UnmarshalText(root) = %v, want %s", err, want)
	}
}
