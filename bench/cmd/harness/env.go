package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"tend/supervisor/procwatch"
)

// mailpitModule is the mailpit version that the repository's scripts install.
const mailpitModule = "github.com/axllent/mailpit@v1.33.1"

// environment is the set of programs, directory and servers that a run sets up
// before measuring and tears down after.
type environment struct {
	root       string
	bins       binaries
	mail       *mailpit
	stopReaper context.CancelFunc
}

// prepare installs and builds what is missing, makes the harness the subreaper of the
// tools' orphans (as init is under a real system) and starts mailpit.
func prepare(o options, log *slog.Logger) (*environment, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("run as root: the tools run their services as root, as under init, and missing packages are installed with apt-get")
	}
	if err := installPackages(o.noInstall, log); err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "tend-bench-")
	if err != nil {
		return nil, err
	}
	env := &environment{root: root}

	if env.bins, err = findBinaries(o, root, log); err != nil {
		env.close(o.keep, log)
		return nil, err
	}
	if err := procwatch.BecomeSubreaper(); err != nil {
		env.close(o.keep, log)
		return nil, err
	}
	reaper := procwatch.NewReaper(procwatch.ReaperOptions{Interval: time.Second, Grace: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	env.stopReaper = cancel
	go func() { _ = reaper.Run(ctx) }()

	if env.mail, err = startMailpit(env.bins.Mailpit, root, newPortPool()); err != nil {
		env.close(o.keep, log)
		return nil, err
	}
	return env, nil
}

func (e *environment) close(keep bool, log *slog.Logger) {
	if e.mail != nil {
		e.mail.stop()
	}
	if e.stopReaper != nil {
		e.stopReaper()
	}
	if keep {
		log.Info("kept the run's directory", "dir", e.root)
		return
	}
	if err := os.RemoveAll(e.root); err != nil {
		log.Warn("remove the run's directory", "dir", e.root, "err", err)
	}
}

// installPackages installs monit and supervisor from Debian's packages when their
// programs are missing.
func installPackages(noInstall bool, log *slog.Logger) error {
	var missing []string
	if _, err := lookPath("monit"); err != nil {
		missing = append(missing, "monit")
	}
	if _, err := lookPath("supervisord"); err != nil {
		missing = append(missing, "supervisor")
	}
	if len(missing) == 0 {
		return nil
	}
	if noInstall {
		return fmt.Errorf("missing Debian packages %s: apt-get install %s", strings.Join(missing, ", "),
			strings.Join(missing, " "))
	}
	log.Info("installing Debian packages", "packages", strings.Join(missing, " "))
	// policy-rc.d exits 101 on Debian images without init, so the packages' own
	// daemons are not started; where they are, the harness still runs its own.
	for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq"}, missing...)} {
		cmd := exec.CommandContext(context.Background(), "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// findBinaries locates monit, supervisord and mailpit, installing mailpit with go
// install when missing, and builds tend unless o names a binary.
func findBinaries(o options, root string, log *slog.Logger) (binaries, error) {
	var b binaries
	var err error
	if b.Monit, err = lookPath("monit"); err != nil {
		return b, err
	}
	if b.Supervisord, err = lookPath("supervisord"); err != nil {
		return b, err
	}
	if b.Mailpit, err = findMailpit(o.noInstall, log); err != nil {
		return b, err
	}
	if o.tend != "" {
		b.Tend, err = filepath.Abs(o.tend)
		return b, err
	}
	b.Tend = filepath.Join(root, "tend")
	log.Info("building tend", "output", b.Tend)
	version, _ := exec.CommandContext(context.Background(), "git", "describe", "--always", "--dirty").Output()
	cmd := exec.CommandContext(context.Background(), "go", "build", "-ldflags", "-X main.version="+strings.TrimSpace(string(version)),
		"-o", b.Tend, "./cmd/tend")
	cmd.Dir, err = moduleRoot()
	if err != nil {
		return b, err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return b, fmt.Errorf("go build ./cmd/tend: %w: %s", err, out)
	}
	return b, nil
}

func findMailpit(noInstall bool, log *slog.Logger) (string, error) {
	gopath, err := exec.CommandContext(context.Background(), "go", "env", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOPATH: %w", err)
	}
	bin := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "mailpit")
	if p, err := lookPath("mailpit"); err == nil {
		return p, nil
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if noInstall {
		return "", fmt.Errorf("mailpit not found on PATH or in %s: go install %s", filepath.Dir(bin), mailpitModule)
	}
	log.Info("installing mailpit", "module", mailpitModule)
	if out, err := exec.CommandContext(context.Background(), "go", "install", mailpitModule).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w: %s", mailpitModule, err, out)
	}
	return bin, nil
}

// moduleRoot returns the directory of tend's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.CommandContext(context.Background(), "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside tend's module: run the harness from the repository")
	}
	return filepath.Dir(gomod), nil
}
