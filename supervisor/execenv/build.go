package execenv

import (
	"maps"
	"os"
	"slices"
	"strings"
)

// DefaultPath is the PATH of a service when no layer of Options sets one.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Options are the layers of a service's environment. Build applies them in the order
// of the fields, and a later layer replaces a variable of an earlier one.
type Options struct {
	// Account provides HOME, USER, LOGNAME and SHELL. Nil means the user tend runs as.
	Account *Account
	// Inherit starts from tend's own environment instead of an empty one. HOME, USER,
	// LOGNAME and SHELL of the account still replace the inherited ones, but an
	// inherited PATH stays.
	Inherit bool
	// Files are the parsed environment files, in the order the configuration lists
	// them.
	Files []map[string]string
	// Environment is the service's own environment from its configuration.
	Environment map[string]string
	// Extra contains the variables tend sets to mark its own children; they replace
	// any other layer.
	Extra map[string]string
}

// Build returns the environment of a service as KEY=VALUE strings sorted by key, for
// exec.Cmd.Env. It applies, in order: tend's environment when Inherit is set; HOME,
// USER, LOGNAME and SHELL of the account (SHELL only when the account has one, and
// none of them when tend's own user cannot be looked up); PATH=DefaultPath unless
// already set; then Files, Environment and Extra. Keys are used as given: the caller
// validates them, because a key containing "=" or a NUL byte corrupts the result.
func Build(opts Options) []string {
	env := make(map[string]string)
	if opts.Inherit {
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
				env[k] = v
			}
		}
	}

	acct := opts.Account
	if acct == nil {
		if own, err := LookupAccount("", ""); err == nil {
			acct = &own
		}
	}
	if acct != nil {
		env["HOME"] = acct.Home
		env["USER"] = acct.Name
		env["LOGNAME"] = acct.Name
		if acct.Shell != "" {
			env["SHELL"] = acct.Shell
		}
	}
	if _, ok := env["PATH"]; !ok {
		env["PATH"] = DefaultPath
	}

	for _, layer := range opts.Files {
		maps.Copy(env, layer)
	}
	maps.Copy(env, opts.Environment)
	maps.Copy(env, opts.Extra)

	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}
