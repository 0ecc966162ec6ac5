package config

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestLoadMailServers(t *testing.T) {
	t.Setenv("TEND_TEST_BACKUP_PASSWORD", "backup secret")
	dir := writeFiles(t, map[string]string{
		"secret": "primary secret\n",
		"tend.toml": `[mail]
from = "tend@example.com"
to = ["ops@example.com"]

[[mail.server]]
host = "smtp1.example.com"
username = "tend"
password_file = "secret"
auth = "cram-md5"
timeout = "5s"

[[mail.server]]
host = "smtp2.example.com"
tls = "starttls_optional"
username = "backup"
password_env = "TEND_TEST_BACKUP_PASSWORD"
auth = "login"

[[mail.server]]
host = "localhost"
port = 2525
tls = "none"
`,
	})
	path := filepath.Join(dir, "tend.toml")
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	at := func(line int) Position { return Position{File: path, Line: line} }
	want := &Mail{
		Servers: []MailServer{
			{
				Host: "smtp1.example.com", Port: 587, TLS: TLSStartTLS, Auth: MailAuthCRAMMD5,
				Username: "tend", Password: NewSecret("primary secret"),
				Timeout: Duration(5 * time.Second), Pos: at(5),
			},
			{
				Host: "smtp2.example.com", Port: 587, TLS: TLSStartTLS, TLSOptional: true,
				Auth: MailAuthLogin, Username: "backup", Password: NewSecret("backup secret"),
				Timeout: Duration(DefaultMailTimeout), Pos: at(12),
			},
			{
				Host: "localhost", Port: 2525, TLS: TLSNone, Auth: MailAuthAuto,
				Timeout: Duration(DefaultMailTimeout), Pos: at(19),
			},
		},
		From: "tend@example.com", To: []string{"ops@example.com"},
		Pos: at(1),
	}
	if !reflect.DeepEqual(cfg.Mail, want) {
		t.Errorf("Load: Mail =\n%+v\nwant\n%+v", cfg.Mail, want)
	}
	for i, password := range []string{"primary secret", "backup secret", ""} {
		if got := cfg.Mail.Servers[i].Password.Value(); got != password {
			t.Errorf("Load: Mail.Servers[%d].Password.Value() = %q, want %q", i, got, password)
		}
	}
}

func TestMailAuthWords(t *testing.T) {
	for _, a := range []MailAuth{MailAuthAuto, MailAuthPlain, MailAuthLogin, MailAuthCRAMMD5} {
		var parsed MailAuth
		if err := parsed.UnmarshalText([]byte(a.String())); err != nil || parsed != a {
			t.Errorf("UnmarshalText(%q) = %v, %v, want %v, nil", a.String(), parsed, err, a)
		}
	}
	var parsed MailAuth
	if err := parsed.UnmarshalText([]byte("PLAIN")); err == nil {
		t.Errorf("UnmarshalText(PLAIN) error = nil, want an error: words are lower case")
	}
}
