package packaging

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tend/internal/testenv"
)

// TestDebInstallRemove builds the package with `make deb`, installs it into this
// machine with dpkg, removes it and purges it. It changes the machine, so it runs only
// as root with CI=true or TEND_TEST_DPKG=1, and never where systemd runs, because the
// postinst would start tend there.
func TestDebInstallRemove(t *testing.T) {
	if os.Getenv("CI") != "true" && os.Getenv("TEND_TEST_DPKG") != "1" {
		t.Skip("installs a package into this machine; set TEND_TEST_DPKG=1 and run as root to run it")
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "dpkg -i needs root; run the test as root")
	}
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("systemd runs on this machine, and the package's postinst would start tend in it")
	}
	dpkg := testenv.LookPath(t, "dpkg", "a Debian system")
	testenv.LookPath(t, "make", "apt-get install make")
	if status := packageStatus(t); status != "" && status != "not-installed" {
		testenv.Missing(t, "package tend is installed here ("+status+"); the test would replace it: dpkg --purge tend")
	}
	groupExisted := groupExists(t, "tend")
	t.Cleanup(func() {
		if packageStatus(t) != "not-installed" {
			_, _ = exec.Command(dpkg, "--purge", "tend").CombinedOutput()
		}
		if !groupExisted && groupExists(t, "tend") {
			_, _ = exec.Command("groupdel", "tend").CombinedOutput()
		}
	})

	deb := buildDeb(t)
	run(t, repoRoot, nil, dpkg, "--install", deb)
	checkInstalled(t)

	// Installing again, as an upgrade does, keeps the operator's tend.toml.
	edited := readFile(t, "tend.toml") + "# edited by the operator\n"
	writeFile(t, "/etc/tend/tend.toml", edited)
	run(t, repoRoot, nil, dpkg, "--install", "--force-confold", deb)
	if got := readFile(t, "/etc/tend/tend.toml"); got != edited {
		t.Errorf("reinstall replaced the edited /etc/tend/tend.toml:\n%s", got)
	}

	run(t, repoRoot, nil, dpkg, "--remove", "tend")
	for _, path := range []string{"/usr/bin/tend", "/lib/systemd/system/tend.service", wantsLink} {
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after dpkg --remove: %s is still there (stat: %v)", path, err)
		}
	}
	if got := readFile(t, "/etc/tend/tend.toml"); got != edited {
		t.Errorf("after dpkg --remove: /etc/tend/tend.toml changed; a conffile stays until purge")
	}
	if status := packageStatus(t); status != "config-files" {
		t.Errorf("after dpkg --remove: status %q, want config-files", status)
	}

	run(t, repoRoot, nil, dpkg, "--purge", "tend")
	if _, err := os.Stat("/etc/tend"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after dpkg --purge: /etc/tend is still there (stat: %v)", err)
	}
}

// wantsLink is the symbolic link that enables tend.service.
const wantsLink = "/etc/systemd/system/multi-user.target.wants/tend.service"

// checkInstalled checks the files, modes, conffile, group and enabled unit of the
// installed package.
func checkInstalled(t *testing.T) {
	t.Helper()
	checkMode(t, "/usr/bin/tend", 0o755)
	checkMode(t, "/lib/systemd/system/tend.service", 0o644)
	checkMode(t, "/etc/tend", os.ModeDir|0o755)
	checkMode(t, "/etc/tend/conf.d", os.ModeDir|0o755)
	checkMode(t, "/etc/tend/tend.toml", 0o644)
	checkMode(t, "/usr/share/tend/prometheus/tend.rules.yml", 0o644)
	checkMode(t, "/usr/share/tend/grafana/tend.dashboard.json", 0o644)
	checkSame(t, "/etc/tend/tend.toml", "tend.toml")
	checkSame(t, "/lib/systemd/system/tend.service", "tend.service")
	if entries, err := os.ReadDir("/etc/tend/conf.d"); err != nil || len(entries) != 0 {
		t.Errorf("/etc/tend/conf.d: %d entries, err %v; want an empty directory", len(entries), err)
	}

	conffiles := run(t, repoRoot, nil, "dpkg-query", "--showformat=${Conffiles}", "--show", "tend")
	if !strings.Contains(conffiles, "/etc/tend/tend.toml ") {
		t.Errorf("conffiles of tend: %q, want /etc/tend/tend.toml", conffiles)
	}
	if !groupExists(t, "tend") {
		t.Error("group tend is missing after install")
	}
	if target, err := os.Readlink(wantsLink); err != nil || target != "/lib/systemd/system/tend.service" {
		t.Errorf("tend.service is not enabled: readlink %s = %q, %v", wantsLink, target, err)
	}

	// The installed binary validates the installed configuration, as root, so the
	// ownership and modes pass tend's own check.
	out := run(t, repoRoot, nil, "/usr/bin/tend", "validate", "--config", "/etc/tend/tend.toml")
	if !strings.Contains(out, "valid") {
		t.Errorf("tend validate on the installed configuration: %s", out)
	}
}

// buildDeb runs make deb and returns the path of the newest bin/tend_*.deb.
func buildDeb(t *testing.T) string {
	t.Helper()
	start := time.Now()
	run(t, repoRoot, nil, "make", "deb")
	debs, err := filepath.Glob(filepath.Join(repoRoot, "bin", "tend_*.deb"))
	if err != nil {
		t.Fatal(err)
	}
	debs = slices.DeleteFunc(debs, func(p string) bool {
		fi, err := os.Stat(p)
		return err != nil || fi.ModTime().Before(start.Add(-time.Second))
	})
	if len(debs) != 1 {
		t.Fatalf("make deb: want one new bin/tend_*.deb, found %q", debs)
	}
	abs, err := filepath.Abs(debs[0])
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// packageStatus returns the dpkg status of package tend, such as installed or
// config-files, or "not-installed" when dpkg does not know it.
func packageStatus(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("dpkg-query", "--showformat=${db:Status-Status}", "--show", "tend").Output()
	if err != nil {
		return "not-installed"
	}
	return strings.TrimSpace(string(out))
}

func groupExists(t *testing.T, name string) bool {
	t.Helper()
	err := exec.Command("getent", "group", name).Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return false
	}
	if err != nil {
		t.Fatalf("getent group %s: %v", name, err)
	}
	return true
}
