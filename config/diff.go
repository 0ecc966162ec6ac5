package config

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"unicode"
)

// serviceKeys maps fields of Service to the keys that set them, for ServiceChanges.
// A field missing here is named by its snake_case name.
var serviceKeys = map[string]string{
	"Pidfile": "pidfile", "Start": "start", "Stop": "stop", "Command": "command",
	"Directory": "directory", "Environment": "environment", "StopSignal": "stop_signal",
	"StartTimeout": "start_timeout", "StopTimeout": "stop_timeout",
	"RestartLimit": "restart_limit", "RestartDelay": "restart_delay",
	"RestartDelayMax": "restart_delay_max", "StableAfter": "stable_after",
	"Match": "match", "MatchNewest": "match_pick", "User": "user", "Group": "group",
	"EnvironmentFiles": "environment_file", "InheritEnvironment": "inherit_environment",
	"LogFile": "log_file", "LogMaxSize": "log_max_size", "LogMaxFiles": "log_max_files",
	"DependsOn": "depends_on", "Groups": "groups", "Notify": "notify", "Watchdog": "watchdog",
	"WatchdogAction": "watchdog_action", "Checks": "check", "Alerts": "alert",
}

// settingKeys maps fields of Config and of Alerts to their keys, for SettingChanges.
// A field of Alerts missing here is named alerts. and its snake_case name.
var settingKeys = map[string]string{
	"Interval": "interval", "StateDir": "state_dir", "Include": "include",
	"Hostname": "hostname", "Mail": "mail", "Control": "control", "HTTP": "http",
	"DigestWindow": "alerts.digest_window", "Reminder": "alerts.reminder",
	"MaxPerHour": "alerts.max_per_hour", "QueueLimit": "alerts.queue_limit",
	"Subject": "alerts.subject", "Body": "alerts.body_file", "Routes": "alerts.route",
}

// ServiceChanges returns the keys whose values differ between two declarations of a
// service, in the order of the fields of Service, or nil when none differs. Positions
// in files are ignored, regular expressions are compared by their pattern, and a
// change to any check returns "check".
func ServiceChanges(old, updated Service) []string {
	skip := []string{"Name", "Pos"} // Services are matched by name; a moved line changes nothing.
	return fieldChanges(reflect.ValueOf(old), reflect.ValueOf(updated), serviceKeys, "", skip)
}

// SameCheck reports whether two checks are equal but for their positions in files.
func SameCheck(a, b Check) bool {
	return equalValues(reflect.ValueOf(a), reflect.ValueOf(b))
}

// SettingChanges returns the keys of the main file whose values differ between two
// configurations, such as "interval" or "alerts.reminder", or nil when none differs.
// The services are not compared: ServiceChanges compares each of them.
func SettingChanges(old, updated *Config) []string {
	skip := []string{"Path", "Services", "Alerts"}
	changes := fieldChanges(reflect.ValueOf(*old), reflect.ValueOf(*updated), settingKeys, "", skip)
	alerts := fieldChanges(reflect.ValueOf(old.Alerts), reflect.ValueOf(updated.Alerts), settingKeys,
		"alerts.", nil)
	return append(changes, alerts...)
}

// fieldChanges compares the fields of two structs of one type, except those named in
// skip, and returns the keys of those that differ. A field that keys does not name
// gets prefix and its snake_case name, so that a new field is never left out.
func fieldChanges(a, b reflect.Value, keys map[string]string, prefix string, skip []string) []string {
	var changes []string
	for i := range a.NumField() {
		name := a.Type().Field(i).Name
		if slices.Contains(skip, name) || equalValues(a.Field(i), b.Field(i)) {
			continue
		}
		key, ok := keys[name]
		if !ok {
			key = prefix + snakeCase(name)
		}
		changes = append(changes, key)
	}
	return changes
}

// snakeCase turns a Go field name such as MaxPerHour into max_per_hour.
func snakeCase(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 && !unicode.IsUpper(rune(name[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

var (
	positionType = reflect.TypeFor[Position]()
	regexpType   = reflect.TypeFor[*regexp.Regexp]()
	templateType = reflect.TypeFor[*template.Template]()
)

// equalValues reports whether two values of one type are equal, field by field. It
// skips positions, compares regular expressions by pattern and templates by their
// parsed text. It reads unexported fields too, such as the value of a Secret.
func equalValues(a, b reflect.Value) bool {
	switch a.Type() {
	case positionType:
		return true
	case regexpType, templateType:
		if a.IsNil() || b.IsNil() || !a.CanInterface() {
			// reflect hands out no value of an unexported field: compare the pointers.
			return a.Pointer() == b.Pointer()
		}
		return sourceText(a) == sourceText(b)
	}

	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if !equalValues(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equalValues(a.Elem(), b.Elem())
	case reflect.Slice, reflect.Array:
		return equalSequences(a, b)
	case reflect.Map:
		return equalMaps(a, b)
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	}
	// No configuration type has other kinds, such as functions or channels. Treating
	// them as changed errs on the side of applying the new configuration.
	return false
}

func equalSequences(a, b reflect.Value) bool {
	if a.Len() != b.Len() {
		return false
	}
	for i := range a.Len() {
		if !equalValues(a.Index(i), b.Index(i)) {
			return false
		}
	}
	return true
}

func equalMaps(a, b reflect.Value) bool {
	if a.Len() != b.Len() {
		return false
	}
	for _, k := range a.MapKeys() {
		other := b.MapIndex(k)
		if !other.IsValid() || !equalValues(a.MapIndex(k), other) {
			return false
		}
	}
	return true
}

// sourceText returns the pattern of a regular expression or the parsed text of a
// template.
func sourceText(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case *regexp.Regexp:
		return x.String()
	case *template.Template:
		if x.Tree == nil || x.Root == nil {
			return x.Name()
		}
		return x.Root.String()
	}
	return ""
}
