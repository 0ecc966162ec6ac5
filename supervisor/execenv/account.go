// Package execenv builds what an owned service runs with: the account (user, groups,
// home directory) from the account database, and the environment from tend's own
// defaults, environment files in the systemd EnvironmentFile format and the service's
// configuration. It does not import package supervisor.
package execenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// passwdFile is the account file that login shells are read from, because os/user
// does not return them.
const passwdFile = "/etc/passwd"

// Account is a user with the group it runs under.
type Account struct {
	UID uint32
	// GID is the primary group: the user's own, or the group that LookupAccount was
	// asked for.
	GID uint32
	// Groups are the supplementary groups, sorted, GID among them.
	Groups []uint32
	// Name is the login name, as USER and LOGNAME receive it.
	Name string
	Home string
	// Shell is the login shell from /etc/passwd, or empty when the account comes from
	// another database (LDAP, sssd), which os/user can reach but this file cannot.
	Shell string
}

// Credential returns the credential for exec.Cmd.SysProcAttr that runs a process as
// the account.
func (a *Account) Credential() *syscall.Credential {
	return &syscall.Credential{Uid: a.UID, Gid: a.GID, Groups: slices.Clone(a.Groups)}
}

// NotFoundError reports a user or group that the account database does not contain.
type NotFoundError struct {
	// Kind is "user" or "group".
	Kind string
	Name string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %q not found", e.Kind, e.Name)
}

// LookupAccount looks up userName, a login name or a numeric user ID, and returns its
// account. An empty userName means the user tend runs as. When groupName (a name or a
// numeric group ID) is not empty, it replaces the user's primary group, and GID becomes
// that group. Groups then loses the user's own primary group, as initgroups(3) builds
// them for the new group, unless /etc/group lists the user there as a member.
//
// A user or group the database lacks yields a *NotFoundError; other failures of the
// database yield an error that names the user or group.
func LookupAccount(userName, groupName string) (Account, error) {
	u, err := lookupUser(userName)
	if err != nil {
		return Account{}, err
	}
	uid, err := parseID(u.Uid)
	if err != nil {
		return Account{}, fmt.Errorf("user %q: user ID: %w", u.Username, err)
	}
	primary, err := parseID(u.Gid)
	if err != nil {
		return Account{}, fmt.Errorf("user %q: group ID: %w", u.Username, err)
	}
	groups, err := userGroups(u)
	if err != nil {
		return Account{}, err
	}

	acct := Account{UID: uid, GID: primary, Name: u.Username, Home: u.HomeDir}
	if groupName != "" {
		if acct.GID, err = lookupGroup(groupName); err != nil {
			return Account{}, err
		}
		if acct.GID != primary && !listedMember(u.Username, primary) {
			groups = slices.DeleteFunc(groups, func(g uint32) bool { return g == primary })
		}
	}
	acct.Groups = sortedUnique(append(groups, acct.GID))
	acct.Shell = loginShell(passwdFile, u.Username)
	return acct, nil
}

func lookupUser(name string) (*user.User, error) {
	var (
		u   *user.User
		err error
	)
	switch {
	case name == "":
		u, err = user.Current()
		name = strconv.Itoa(os.Getuid())
	case isNumeric(name):
		u, err = user.LookupId(name)
	default:
		u, err = user.Lookup(name)
	}
	var unknownName user.UnknownUserError
	var unknownID user.UnknownUserIdError
	if errors.As(err, &unknownName) || errors.As(err, &unknownID) {
		return nil, &NotFoundError{Kind: "user", Name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("look up user %q: %w", name, err)
	}
	return u, nil
}

func lookupGroup(name string) (uint32, error) {
	var (
		g   *user.Group
		err error
	)
	if isNumeric(name) {
		g, err = user.LookupGroupId(name)
	} else {
		g, err = user.LookupGroup(name)
	}
	var unknownName user.UnknownGroupError
	var unknownID user.UnknownGroupIdError
	if errors.As(err, &unknownName) || errors.As(err, &unknownID) {
		return 0, &NotFoundError{Kind: "group", Name: name}
	}
	if err != nil {
		return 0, fmt.Errorf("look up group %q: %w", name, err)
	}
	gid, err := parseID(g.Gid)
	if err != nil {
		return 0, fmt.Errorf("group %q: group ID: %w", name, err)
	}
	return gid, nil
}

// userGroups returns the groups of u, its primary group included.
func userGroups(u *user.User) ([]uint32, error) {
	ids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("user %q: list groups: %w", u.Username, err)
	}
	groups := make([]uint32, 0, len(ids))
	for _, id := range ids {
		gid, err := parseID(id)
		if err != nil {
			return nil, fmt.Errorf("user %q: group ID: %w", u.Username, err)
		}
		groups = append(groups, gid)
	}
	return groups, nil
}

// listedMember reports whether the group gid lists userName as a member, beyond being
// the user's primary group.
func listedMember(userName string, gid uint32) bool {
	g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10))
	if err != nil {
		return false
	}
	// os/user exposes no member list, so /etc/group is read directly.
	members, ok := groupMembers("/etc/group", g.Name)
	return ok && slices.Contains(members, userName)
}

// groupMembers returns the member list of the group name in an /etc/group file.
func groupMembers(path, name string) ([]string, bool) {
	fields, ok := findEntry(path, name, 4)
	if !ok || fields[3] == "" {
		return nil, ok
	}
	return strings.Split(fields[3], ","), true
}

// loginShell returns the shell of userName in an /etc/passwd file, or "" when the file
// has no entry for the user.
func loginShell(path, userName string) string {
	fields, ok := findEntry(path, userName, 7)
	if !ok {
		return ""
	}
	return fields[6]
}

// findEntry returns the colon-separated fields of the line whose first field is name,
// when that line has at least n fields.
func findEntry(path, name string, n int) ([]string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		fields := strings.Split(lines.Text(), ":")
		if len(fields) >= n && fields[0] == name {
			return fields, true
		}
	}
	return nil, false
}

func parseID(s string) (uint32, error) {
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid ID %q: %w", s, err)
	}
	return uint32(id), nil
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func sortedUnique(ids []uint32) []uint32 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
