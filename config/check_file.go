package config

// This file decodes the keys of a file check.

import (
	"errors"
	"fmt"
	"math"
	"os/user"
	"strconv"
)

// decodeFile decodes what a file check tests. A file check with only path tests that
// the file exists.
func decodeFile(t *table, c *Check) {
	requirePath(t, "path", &c.Path, `"/var/backups/db.dump"`)
	decodeTimeout(t, "max_age", &c.MaxAge)
	decodeID(t, "owner", &c.Owner, idLookup{kind: "user", lookup: lookupUser})
	decodeID(t, "group", &c.Group, idLookup{kind: "group", lookup: lookupGroup})
	decodeMode(t, c)
	t.boolean("checksum", &c.Checksum)
	decodeRegexp(t, "pattern", &c.Pattern)
}

// maxID is the largest user or group ID. chown(2) takes (uid_t)-1, one more, to mean
// no change.
const maxID = math.MaxUint32 - 1

// idLookup resolves a user or group name to its numeric ID.
type idLookup struct {
	// kind is "user" or "group", for errors.
	kind   string
	lookup func(name string) (string, error)
}

func lookupUser(name string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", err
	}
	return u.Uid, nil
}

func lookupGroup(name string) (string, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return "", err
	}
	return g.Gid, nil
}

// decodeID decodes the user or group at key: a name, which Load resolves to its ID on
// this host, or a numeric ID, as an integer or a string of digits, which need not
// exist.
func decodeID(t *table, key string, dst *int, ids idLookup) {
	v, ok := t.values[key]
	if !ok {
		return
	}
	var id uint64
	switch v := v.(type) {
	case int64:
		if v < 0 || v > maxID {
			t.errorf(key, "%d is out of range: want an ID from 0 to %d", v, int64(maxID))
			return
		}
		id = uint64(v)
	case string:
		resolved, err := ids.resolve(v)
		if err != nil {
			t.errorf(key, "%v", err)
			return
		}
		id = resolved
	default:
		t.wrongType(key, v, `a name such as "www-data" or a numeric ID`)
		return
	}
	*dst = int(id)
}

// resolve returns the ID of name, a name or a string of digits.
func (ids idLookup) resolve(name string) (uint64, error) {
	if name == "" {
		return 0, fmt.Errorf(`empty: want a %s name such as "www-data" or a numeric ID`, ids.kind)
	}
	text := name
	if !allDigits(name) {
		var err error
		text, err = ids.lookup(name)
		var unknownUser user.UnknownUserError
		var unknownGroup user.UnknownGroupError
		switch {
		case errors.As(err, &unknownUser) || errors.As(err, &unknownGroup):
			return 0, fmt.Errorf("unknown %s %q on this host: want an existing %s or a numeric ID",
				ids.kind, name, ids.kind)
		case err != nil:
			return 0, fmt.Errorf("look up %s %q: %w", ids.kind, name, err)
		}
	}
	id, err := strconv.ParseUint(text, 10, 64)
	if err != nil || id > maxID {
		return 0, fmt.Errorf("%s ID %s is out of range: want 0 to %d", ids.kind, text, uint64(maxID))
	}
	return id, nil
}

// decodeMode decodes the permission bits that the file of a file check must have:
// octal digits in a string, such as "0640", at most 07777.
func decodeMode(t *table, c *Check) {
	v, ok := t.values["mode"]
	if !ok {
		return
	}
	const want = `want octal digits in a string, such as "0640"`
	text, isString := v.(string)
	if !isString {
		t.errorf("mode", "got %s, %s", typeName(v), want)
		return
	}
	mode, err := strconv.ParseUint(text, 8, 32)
	switch {
	case err != nil || !allDigits(text):
		t.errorf("mode", "invalid mode %q: %s", text, want)
	case mode > 0o7777:
		t.errorf("mode", "invalid mode %q: want at most 7777", text)
	default:
		c.Mode, c.HasMode = uint32(mode), true
	}
}
