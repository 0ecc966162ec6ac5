// Package e2e runs the whole Rails stack of conf.d under the built tend binary:
// PostgreSQL, Redis, Sidekiq, Puma and Caddy from Debian's packages, mailpit for
// alerts, everything on 127.0.0.1 with ports the test picks. Run it with
// `go test ./e2e/` (also part of `make test`); scripts/install-deps test installs
// the packages. A missing component skips the test with the package to install,
// and fails it when CI=true.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// tendBinary is the tend binary that TestMain builds for the tests.
var tendBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tend-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tendBinary = filepath.Join(dir, "tend")
	build := exec.Command("go", "build", "-o", tendBinary, "../cmd/tend")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tend:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}
