package execenv

import (
	"slices"
	"strings"
	"testing"
)

// envMap turns the result of Build back into a map and fails on a duplicate key.
func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("Build entry %q has no =", kv)
		}
		if _, dup := m[k]; dup {
			t.Fatalf("Build returned %s twice", k)
		}
		m[k] = v
	}
	return m
}

func TestBuildPrecedence(t *testing.T) {
	acct := &Account{Name: "sidekiq", Home: "/srv/app", Shell: "/bin/sh"}
	env := Build(Options{
		Account: acct,
		Files: []map[string]string{
			{"A": "file1", "B": "file1", "C": "file1", "HOME": "/from/file"},
			{"B": "file2", "C": "file2"},
		},
		Environment: map[string]string{"C": "environment", "D": "environment", "TEND_SERVICE": "forged"},
		Extra:       map[string]string{"TEND_SERVICE": "sidekiq"},
	})
	got := envMap(t, env)

	want := map[string]string{
		"A":            "file1",
		"B":            "file2",
		"C":            "environment",
		"D":            "environment",
		"HOME":         "/from/file",
		"USER":         "sidekiq",
		"LOGNAME":      "sidekiq",
		"SHELL":        "/bin/sh",
		"PATH":         DefaultPath,
		"TEND_SERVICE": "sidekiq",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Build: %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Build = %q, want exactly the keys of %q", env, want)
	}
}

func TestBuildSortedByKey(t *testing.T) {
	env := Build(Options{
		Account:     &Account{Name: "u", Home: "/"},
		Environment: map[string]string{"A1": "x", "A": "y", "B": "z", "a": "w"},
	})
	keys := make([]string, len(env))
	for i, kv := range env {
		keys[i], _, _ = strings.Cut(kv, "=")
	}
	if !slices.IsSorted(keys) {
		t.Errorf("Build keys = %q, want sorted", keys)
	}
}

func TestBuildPath(t *testing.T) {
	t.Setenv("PATH", "/inherited/bin")
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"default", Options{}, DefaultPath},
		{"from file", Options{Files: []map[string]string{{"PATH": "/file/bin"}}}, "/file/bin"},
		{"from environment", Options{Environment: map[string]string{"PATH": "/env/bin"}}, "/env/bin"},
		{"inherited", Options{Inherit: true}, "/inherited/bin"},
		{"environment over inherited", Options{Inherit: true, Environment: map[string]string{"PATH": "/env/bin"}}, "/env/bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Account = &Account{Name: "u", Home: "/"}
			if got := envMap(t, Build(tt.opts))["PATH"]; got != tt.want {
				t.Errorf("PATH = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBuildInherit(t *testing.T) {
	t.Setenv("TEND_BUILD_TEST", "inherited")
	t.Setenv("HOME", "/inherited/home")
	acct := &Account{Name: "sidekiq", Home: "/srv/app"}

	without := envMap(t, Build(Options{Account: acct}))
	if _, ok := without["TEND_BUILD_TEST"]; ok {
		t.Error("Build without Inherit passed on tend's environment")
	}
	with := envMap(t, Build(Options{Account: acct, Inherit: true}))
	if with["TEND_BUILD_TEST"] != "inherited" {
		t.Errorf("Build with Inherit: TEND_BUILD_TEST = %q, want inherited", with["TEND_BUILD_TEST"])
	}
	if with["HOME"] != "/srv/app" {
		t.Errorf("Build with Inherit: HOME = %q, want the account's /srv/app", with["HOME"])
	}
}

func TestBuildOwnUser(t *testing.T) {
	own, err := LookupAccount("", "")
	if err != nil {
		t.Fatalf("LookupAccount(\"\", \"\"): %v", err)
	}
	got := envMap(t, Build(Options{}))
	if got["HOME"] != own.Home || got["USER"] != own.Name || got["LOGNAME"] != own.Name {
		t.Errorf("Build(nil account): HOME, USER, LOGNAME = %q, %q, %q, want %q, %q, %q",
			got["HOME"], got["USER"], got["LOGNAME"], own.Home, own.Name, own.Name)
	}
}

func TestBuildNoShell(t *testing.T) {
	got := envMap(t, Build(Options{Account: &Account{Name: "ldap", Home: "/home/ldap"}}))
	if v, ok := got["SHELL"]; ok {
		t.Errorf("Build with an account without shell: SHELL = %q, want unset", v)
	}
}
