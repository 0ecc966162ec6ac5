package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// PostgresInstall is the command that installs PostgreSQL.
const PostgresInstall = "apt-get install postgresql"

// PostgresOptions configures InitPostgres and StartPostgres.
type PostgresOptions struct {
	// Password is the password of the superuser "postgres". It defaults to
	// "tend-test-password".
	Password string
}

// Postgres is a PostgreSQL cluster in a temporary directory. Every connection, over TCP
// on 127.0.0.1 or over the unix socket, must authenticate with scram-sha-256.
type Postgres struct {
	// Bin is the directory of initdb, pg_ctl and postgres.
	Bin string
	// Data is the data directory, which also holds postmaster.pid and the server log
	// file "log".
	Data string
	// SocketDir is the directory of the unix socket.
	SocketDir string
	// Port is the TCP port on 127.0.0.1, and the number in the socket's name.
	Port int
	// Password is the password of the superuser "postgres".
	Password string
	// asUser runs a program as the postgres user when the test runs as root, since
	// PostgreSQL refuses to run as root.
	asUser []string
}

// StartPostgres creates a cluster with InitPostgres and starts it. It returns once the
// server accepts connections.
func StartPostgres(t testing.TB, opts PostgresOptions) *Postgres {
	t.Helper()
	pg := InitPostgres(t, opts)
	argv := pg.Ctl("start", "-w", "-t", "60")
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.Data, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return pg
}

// InitPostgres runs initdb in a temporary directory and configures the cluster to
// listen on a free port of 127.0.0.1 and on a unix socket in that directory, with
// scram-sha-256 authentication for both. It does not start the server, and it stops
// the server when the test ends in case something started it. The test skips when
// PostgreSQL is missing, or fails when CI is "true". As root, the programs run as the
// user postgres.
func InitPostgres(t testing.TB, opts PostgresOptions) *Postgres {
	t.Helper()
	initdb := LookPath(t, "initdb", PostgresInstall, "/usr/lib/postgresql/*/bin")
	dir := SocketDir(t)
	pg := &Postgres{
		Bin: filepath.Dir(initdb), Data: filepath.Join(dir, "data"), SocketDir: dir,
		Port: FreePort(t), Password: opts.Password,
	}
	if pg.Password == "" {
		pg.Password = "tend-test-password"
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(pg.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		pg.asUser = postgresUser(t, dir, pwfile)
	}
	t.Cleanup(func() {
		argv := pg.Ctl("stop", "-m", "immediate")
		_ = exec.Command(argv[0], argv[1:]...).Run()
	})

	argv := append(append([]string(nil), pg.asUser...), initdb, "-D", pg.Data, "-U", "postgres",
		"--auth=scram-sha-256", "--pwfile="+pwfile, "--no-sync", "--no-instructions")
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.configure(t)
	return pg
}

// configure writes pg_hba.conf and appends the listening settings to postgresql.conf.
// Both files keep the owner initdb gave them.
func (pg *Postgres) configure(t testing.TB) {
	t.Helper()
	hba := "local all all scram-sha-256\n" +
		"host all all 127.0.0.1/32 scram-sha-256\n" +
		"host all all ::1/128 scram-sha-256\n"
	if err := os.WriteFile(filepath.Join(pg.Data, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		t.Fatal(err)
	}

	conf, err := os.OpenFile(filepath.Join(pg.Data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer conf.Close()
	_, err = fmt.Fprintf(conf, "\nport = %d\nlisten_addresses = '127.0.0.1'\n"+
		"unix_socket_directories = '%s'\npassword_encryption = 'scram-sha-256'\n"+
		"fsync = off\n", pg.Port, pg.SocketDir)
	if err != nil {
		t.Fatal(err)
	}
}

// postgresUser gives the user postgres the directory dir and the password file, lets it
// reach dir through its parent, and returns the command prefix that runs a program as
// that user.
func postgresUser(t testing.TB, dir, pwfile string) []string {
	t.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		Missing(t, "no user postgres to run PostgreSQL as; install it with: "+PostgresInstall)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range []string{dir, pwfile} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	// t.TempDir creates the parent with mode 0700; search permission lets postgres
	// reach dir without listing the parent. A directory made by SocketDir's fallback
	// sits in the system's temporary directory itself, which stays as it is.
	if parent := filepath.Dir(dir); parent != filepath.Clean(os.TempDir()) {
		if err := os.Chmod(parent, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"runuser", "-u", "postgres", "--"}
}

// Ctl returns the argument vector of a pg_ctl command on the cluster, such as
// Ctl("start", "-w"), run as the user postgres when the test runs as root.
func (pg *Postgres) Ctl(args ...string) []string {
	argv := append([]string(nil), pg.asUser...)
	argv = append(argv, filepath.Join(pg.Bin, "pg_ctl"), "-D", pg.Data, "-l", filepath.Join(pg.Data, "log"))
	return append(argv, args...)
}

// Addr returns the TCP address of the cluster, "127.0.0.1:PORT".
func (pg *Postgres) Addr() string {
	return Addr(pg.Port)
}

// Socket returns the path of the cluster's unix socket.
func (pg *Postgres) Socket() string {
	return filepath.Join(pg.SocketDir, ".s.PGSQL."+strconv.Itoa(pg.Port))
}
