// Package e2e runs the whole Rails stack of conf.d under the built tend binary:
// PostgreSQL, Redis, Sidekiq, Puma and Caddy from Debian's packages, mailpit for
// alerts, everything on 127.0.0.1 with ports the test picks. Run it with
// `go test ./e2e/` (also part of `make test`); scripts/install-deps test installs
// the packages. A missing component skips the test with the package to install,
// and fails it when CI=true.
package e2e

import (
	"testing"

	"tend/internal/testenv"
)

// tendBinary is the tend binary that TestMain builds for the tests.
var tendBinary string

func TestMain(m *testing.M) { testenv.RunWithTend(m, "../cmd/tend", &tendBinary) }
