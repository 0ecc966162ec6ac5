package notify

import (
	"strconv"
	"strings"
	"time"
)

// Env returns the environment variables that tell a service where to send notifications:
// NOTIFY_SOCKET=path and, when watchdog is positive, WATCHDOG_USEC with watchdog in
// microseconds, rounded up to at least 1.
//
// WATCHDOG_PID is not set, because the PID of the service is not known before it is
// started. A service that checks WATCHDOG_PID, as sd_watchdog_enabled(3) does, takes its
// absence to mean that the watchdog is meant for the process that reads it.
//
// Start from FilterEnv(os.Environ()) when building the service's environment, so that the
// variables tend received from its own service manager do not reach the service.
func Env(path string, watchdog time.Duration) []string {
	env := []string{"NOTIFY_SOCKET=" + path}
	if watchdog > 0 {
		usec := (watchdog + time.Microsecond - 1) / time.Microsecond
		env = append(env, "WATCHDOG_USEC="+strconv.FormatInt(int64(usec), 10))
	}
	return env
}

// FilterEnv returns a copy of env, a list of KEY=VALUE entries, without NOTIFY_SOCKET,
// WATCHDOG_USEC and WATCHDOG_PID. systemd sets those for tend itself, and in a service they
// would point it at tend's own service manager or give it tend's watchdog.
func FilterEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		key, _, _ := strings.Cut(kv, "=")
		switch key {
		case "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID":
			continue
		}
		out = append(out, kv)
	}
	return out
}
