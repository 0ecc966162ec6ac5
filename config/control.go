package config

import (
	"fmt"
	"strings"
)

// DefaultControlSocket is the path of the control socket when [control] does not set one.
const DefaultControlSocket = "/run/tend/tend.sock"

// DefaultControlGroup is the group whose members may use the control socket when
// [control] does not name one.
const DefaultControlGroup = "tend"

// maxSocketPath is the longest path a unix socket can have on Linux: sun_path holds
// 108 bytes, the last of them the terminating NUL.
const maxSocketPath = 107

// Control contains the [control] settings of the main file.
type Control struct {
	// Socket is the path of the unix socket that the CLI connects to.
	Socket string
	// Group names the group, by name or numeric GID, whose members may connect to the
	// socket. Empty means DefaultControlGroup; GroupName applies that default.
	Group string
}

// GroupName returns Group, or DefaultControlGroup when Group is empty.
func (c Control) GroupName() string {
	if c.Group == "" {
		return DefaultControlGroup
	}
	return c.Group
}

// decodeControl decodes the [control] table of the main file, or returns the defaults
// when it is absent.
func (l *loader) decodeControl(root *table) Control {
	c := Control{Socket: DefaultControlSocket}
	t, ok := root.sub("control", "[control]")
	if !ok {
		return c
	}
	t.rejectUnknown("socket", "group")

	if t.resolvePath("socket", &c.Socket) && len(c.Socket) > maxSocketPath {
		t.errorf("socket", "path %q is %d bytes long: a unix socket path has at most %d bytes",
			c.Socket, len(c.Socket), maxSocketPath)
		c.Socket = DefaultControlSocket
	}
	var group string
	if t.str("group", &group) {
		if err := checkGroupName(group); err != nil {
			t.errorf("group", "%v", err)
		} else {
			c.Group = group
		}
	}
	return c
}

// checkGroupName rejects what no entry of /etc/group can be named: an empty string,
// or one with a colon, white space or a control character.
func checkGroupName(name string) error {
	if name == "" {
		return fmt.Errorf("empty: want a group name such as %q", DefaultControlGroup)
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return r == ':' || r <= ' ' || r == 0x7f }); i >= 0 {
		return fmt.Errorf("invalid group name %q: want a name without colons, spaces or control characters", name)
	}
	return nil
}

// LoadControl reads only the [control] table of the main file at path. A client needs
// the socket's path but may lack what the rest of the configuration needs, such as
// drop-ins that only root can read or the environment variable of the SMTP password.
// It returns the defaults when the file has no [control] table, and otherwise the
// errors Load returns for reading the file or for that table.
func LoadControl(path string) (Control, error) {
	l := &loader{read: readRegularFile, names: map[string]Position{}}
	c := Control{Socket: DefaultControlSocket}
	if root := l.open(path); root != nil {
		c = l.decodeControl(root)
	}
	var errs Errors
	for _, f := range l.files {
		sortByLine(f.errs)
		errs = append(errs, f.errs...)
	}
	if len(errs) > 0 {
		return Control{}, errs
	}
	return c, nil
}
