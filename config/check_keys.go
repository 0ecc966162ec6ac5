package config

import "slices"

// This file contains the keys of each check type and the rejection of the others.

// checkScope is the kind of thing a check type observes.
type checkScope int

const (
	// scopeProcess types observe the service's process, so a host service rejects them.
	scopeProcess checkScope = iota + 1
	// scopeHost types observe the machine.
	scopeHost
	// scopeProbe types run a test under a timeout, with retries.
	scopeProbe
)

// checkSpec is the set of keys and limit units of one check type.
type checkSpec struct {
	scope checkScope
	// keys lists the keys of the type besides commonCheckKeys and, for a probe,
	// probeKeys.
	keys []string
	// units lists the units that above and below accept, or nil when the type has no
	// limit.
	units []LimitUnit
	// needsLimit is true when the type needs above or below.
	needsLimit bool
}

// commonCheckKeys returns the keys that every check takes.
func commonCheckKeys() []string {
	return []string{"type", "for_cycles", "within_cycles", "action", "exec"}
}

// probeKeys returns the keys that every probe takes.
func probeKeys() []string { return []string{"timeout", "retries"} }

// specOf returns the keys and limit units of typ.
func specOf(typ CheckType) checkSpec {
	limit := []string{"above", "below"}
	process := func(units ...LimitUnit) checkSpec {
		return checkSpec{scope: scopeProcess, keys: limit, units: units, needsLimit: true}
	}
	host := func(keys []string, units ...LimitUnit) checkSpec {
		return checkSpec{scope: scopeHost, keys: append(keys, limit...), units: units, needsLimit: true}
	}
	probe := func(keys ...string) checkSpec { return checkSpec{scope: scopeProbe, keys: keys} }

	switch typ {
	case CheckProcess, CheckPID, CheckPPID:
		return checkSpec{scope: scopeProcess}
	case CheckCPU, CheckTotalCPU:
		s := process(UnitPercent)
		s.keys = []string{"above", "below", "of"}
		return s
	case CheckMemory, CheckTotalMemory:
		return process(UnitBytes, UnitPercent)
	case CheckChildren, CheckThreads:
		return process(UnitCount)
	case CheckFDs:
		return process(UnitCount, UnitPercent)
	case CheckUptime:
		return process(UnitDuration)
	case CheckLoad:
		return host([]string{"minutes", "per_core"}, UnitCount)
	case CheckHostCPU:
		return host([]string{"usage"}, UnitPercent)
	case CheckHostMemory, CheckSwap:
		return host(nil, UnitPercent, UnitBytes)
	case CheckFilesystem:
		return host([]string{"path"}, UnitPercent, UnitBytes)
	case CheckInodes:
		return host([]string{"path"}, UnitPercent, UnitCount)
	case CheckTCP:
		return probe("address", "tls", "tls_verify", "server_name", "cert_expiry")
	case CheckUnix:
		return probe("socket")
	case CheckUDP:
		return probe("address", "send", "expect")
	case CheckHTTP:
		return probe("url", "method", "host", "status", "body", "headers", "tls_verify")
	case CheckRedis:
		return probe("address", "socket", "username", "password", "password_env", "password_file")
	case CheckPostgres:
		return probe("address", "socket", "user", "database")
	case CheckSMTP:
		return probe("address", "hello")
	case CheckSendExpect:
		return probe("address", "socket", "tls", "tls_verify", "server_name", "steps")
	case CheckProgram:
		return probe("command", "status", "output")
	case CheckFile:
		s := probe("path", "max_age", "above", "below", "owner", "group", "mode", "checksum", "pattern")
		s.units = []LimitUnit{UnitBytes}
		return s
	}
	return checkSpec{}
}

// checkKeys returns every key that a check of type typ takes.
func checkKeys(typ CheckType) []string {
	spec := specOf(typ)
	keys := append(commonCheckKeys(), spec.keys...)
	if spec.scope == scopeProbe {
		keys = append(keys, probeKeys()...)
	}
	return keys
}

// typesTaking returns the words of the check types that take key.
func typesTaking(key string) []string {
	var words []string
	for _, typ := range checkTypes() {
		if slices.Contains(checkKeys(typ), key) {
			words = append(words, typ.String())
		}
	}
	return words
}

// filterKeys reports each key of t that a check of type typ does not take, and
// removes it from t so that no later step decodes it. typed is false when the type
// is missing or invalid. Then only keys that no type takes are reported, and every
// key but the common ones is removed.
func filterKeys(t *table, typ CheckType, typed bool) {
	allowed := commonCheckKeys()
	if typed {
		allowed = checkKeys(typ)
	}
	keys := make([]string, 0, len(t.values))
	for key := range t.values {
		keys = append(keys, key)
	}
	slices.Sort(keys)

	allowedValues := make(map[string]any, len(t.values))
	for _, key := range keys {
		owners := typesTaking(key)
		switch {
		case slices.Contains(allowed, key):
			allowedValues[key] = t.values[key]
		case len(owners) == 0 && typed:
			t.errorf(key, "unknown key: %s takes %s", checkNoun(typ), wordList(allowed, "and"))
		case len(owners) == 0:
			t.errorf(key, "unknown key: no check type takes it")
		case typed:
			t.errorf(key, "not allowed in %s: only %s checks take %s", checkNoun(typ), wordList(owners, "and"), key)
		}
	}
	t.values = allowedValues
}

// checkNoun names a check of type typ with its article, such as "a tcp check" or "an
// uptime check".
func checkNoun(typ CheckType) string {
	if typ == CheckUptime || typ == CheckInodes {
		return "an " + typ.String() + " check"
	}
	return "a " + typ.String() + " check"
}

// NeedsProcess reports whether a check of type c observes the service's process, so
// that only a service with command, pidfile or match may have it.
func (c CheckType) NeedsProcess() bool { return specOf(c).scope == scopeProcess }

// IsHost reports whether a check of type c observes the machine rather than a service.
func (c CheckType) IsHost() bool { return specOf(c).scope == scopeHost }
