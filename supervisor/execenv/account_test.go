package execenv

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

func TestLookupAccountRoot(t *testing.T) {
	for _, name := range []string{"root", "0"} {
		t.Run(name, func(t *testing.T) {
			acct, err := LookupAccount(name, "")
			if err != nil {
				t.Fatalf("LookupAccount(%q, \"\"): %v", name, err)
			}
			if acct.UID != 0 || acct.GID != 0 {
				t.Errorf("UID, GID = %d, %d, want 0, 0", acct.UID, acct.GID)
			}
			if acct.Name != "root" {
				t.Errorf("Name = %q, want root", acct.Name)
			}
			if acct.Home != "/root" {
				t.Errorf("Home = %q, want /root", acct.Home)
			}
			if !slices.Contains(acct.Groups, 0) {
				t.Errorf("Groups = %v, want 0 among them", acct.Groups)
			}
			if want := loginShell("/etc/passwd", "root"); acct.Shell != want {
				t.Errorf("Shell = %q, want %q from /etc/passwd", acct.Shell, want)
			}
		})
	}
}

// nobodyAccount returns the user and group of nobody, or skips the test on a system
// without them.
func nobodyAccount(t *testing.T) (*user.User, *user.Group) {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody on this system: %v", err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Skipf("no primary group %s of nobody on this system: %v", u.Gid, err)
	}
	return u, g
}

func TestLookupAccountNobody(t *testing.T) {
	u, g := nobodyAccount(t)
	acct, err := LookupAccount("nobody", "")
	if err != nil {
		t.Fatalf("LookupAccount(nobody): %v", err)
	}
	if got := strconv.FormatUint(uint64(acct.UID), 10); got != u.Uid {
		t.Errorf("UID = %s, want %s", got, u.Uid)
	}
	if got := strconv.FormatUint(uint64(acct.GID), 10); got != g.Gid {
		t.Errorf("GID = %s, want %s", got, g.Gid)
	}
	if !slices.Contains(acct.Groups, acct.GID) {
		t.Errorf("Groups = %v, want GID %d among them", acct.Groups, acct.GID)
	}
	if acct.Home != u.HomeDir {
		t.Errorf("Home = %q, want %q", acct.Home, u.HomeDir)
	}
}

func TestLookupAccountGroupOverride(t *testing.T) {
	_, g := nobodyAccount(t)
	for _, group := range []string{g.Name, g.Gid} {
		t.Run(group, func(t *testing.T) {
			acct, err := LookupAccount("root", group)
			if err != nil {
				t.Fatalf("LookupAccount(root, %q): %v", group, err)
			}
			if got := strconv.FormatUint(uint64(acct.GID), 10); got != g.Gid {
				t.Errorf("GID = %s, want %s", got, g.Gid)
			}
			if !slices.Contains(acct.Groups, acct.GID) {
				t.Errorf("Groups = %v, want GID %d among them", acct.Groups, acct.GID)
			}
			if !listedMember("root", 0) && slices.Contains(acct.Groups, 0) {
				t.Errorf("Groups = %v, want root's own primary group 0 dropped", acct.Groups)
			}
			if !slices.IsSorted(acct.Groups) {
				t.Errorf("Groups = %v, want sorted", acct.Groups)
			}
		})
	}
}

func TestLookupAccountCurrent(t *testing.T) {
	acct, err := LookupAccount("", "")
	if err != nil {
		t.Fatalf("LookupAccount(\"\", \"\"): %v", err)
	}
	if int(acct.UID) != os.Getuid() {
		t.Errorf("UID = %d, want %d", acct.UID, os.Getuid())
	}
}

func TestLookupAccountNotFound(t *testing.T) {
	tests := []struct {
		user, group string
		kind, name  string
		msg         string
	}{
		{"tend-no-such-user", "", "user", "tend-no-such-user", `user "tend-no-such-user" not found`},
		{"4000000000", "", "user", "4000000000", `user "4000000000" not found`},
		{"root", "tend-no-such-group", "group", "tend-no-such-group", `group "tend-no-such-group" not found`},
		{"root", "4000000000", "group", "4000000000", `group "4000000000" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.group, func(t *testing.T) {
			_, err := LookupAccount(tt.user, tt.group)
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("LookupAccount(%q, %q) error = %v, want a *NotFoundError", tt.user, tt.group, err)
			}
			if nf.Kind != tt.kind || nf.Name != tt.name {
				t.Errorf("NotFoundError = %+v, want Kind %q Name %q", nf, tt.kind, tt.name)
			}
			if err.Error() != tt.msg {
				t.Errorf("error = %q, want %q", err, tt.msg)
			}
		})
	}
}

func TestAccountCredential(t *testing.T) {
	acct := Account{UID: 1001, GID: 1002, Groups: []uint32{1002, 27}}
	cred := acct.Credential()
	if cred.Uid != 1001 || cred.Gid != 1002 || !slices.Equal(cred.Groups, acct.Groups) {
		t.Errorf("Credential() = %+v, want Uid 1001, Gid 1002, Groups %v", cred, acct.Groups)
	}
	cred.Groups[0] = 0
	if acct.Groups[0] != 1002 {
		t.Error("Credential().Groups shares its array with Account.Groups")
	}
}

func TestPasswdAndGroupFiles(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	group := filepath.Join(dir, "group")
	writeFile(t, passwd, "root:x:0:0:root:/root:/bin/bash\n"+
		"broken:x:5\n"+
		"sidekiq:x:1001:1001:Sidekiq:/srv/app:/usr/sbin/nologin\n")
	writeFile(t, group, "staff:x:50:\nweb:x:33:sidekiq,deploy\n")

	if got := loginShell(passwd, "sidekiq"); got != "/usr/sbin/nologin" {
		t.Errorf("loginShell(sidekiq) = %q, want /usr/sbin/nologin", got)
	}
	if got := loginShell(passwd, "broken"); got != "" {
		t.Errorf("loginShell(broken) = %q, want empty for a short line", got)
	}
	if got := loginShell(passwd, "absent"); got != "" {
		t.Errorf("loginShell(absent) = %q, want empty", got)
	}
	if got, ok := groupMembers(group, "web"); !ok || !slices.Equal(got, []string{"sidekiq", "deploy"}) {
		t.Errorf("groupMembers(web) = %q, %v, want [sidekiq deploy], true", got, ok)
	}
	if got, ok := groupMembers(group, "staff"); !ok || len(got) != 0 {
		t.Errorf("groupMembers(staff) = %q, %v, want [], true", got, ok)
	}
	if _, ok := groupMembers(group, "absent"); ok {
		t.Error("groupMembers(absent) found a group")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
