package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// RedisInstall is the command that installs redis-server.
const RedisInstall = "apt-get install redis-server"

// RedisOptions configures StartRedis.
type RedisOptions struct {
	// Password, when set, is required from clients (requirepass).
	Password string
}

// Redis is a running redis-server on loopback.
type Redis struct {
	// Addr is its TCP address on 127.0.0.1.
	Addr string
	// Socket is the path of its unix socket.
	Socket string
	// Dir is its working directory, which holds its log file redis.log.
	Dir string
}

// StartRedis starts redis-server on a free port of 127.0.0.1 and on a unix socket in a
// temporary directory, with persistence off, and stops it when the test ends. The test
// skips when redis-server is missing, or fails when CI is "true".
func StartRedis(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	bin := LookPath(t, "redis-server", RedisInstall)
	dir := SocketDir(t)
	port := FreePort(t)
	r := &Redis{Addr: Addr(port), Socket: filepath.Join(dir, "redis.sock"), Dir: dir}

	args := []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--unixsocket", r.Socket, "--unixsocketperm", "700",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"),
		"--save", "", "--appendonly", "no", "--daemonize", "no",
	}
	if opts.Password != "" {
		args = append(args, "--requirepass", opts.Password)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	ctx := Context(t, 30*time.Second)
	ready := WaitFor(ctx, func() bool {
		_, err := os.Stat(r.Socket)
		return err == nil
	})
	if !ready || !WaitTCP(ctx, r.Addr) {
		log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
		t.Fatalf("redis-server did not listen on %s and %s:\n%s", r.Addr, r.Socket, log)
	}
	return r
}

// String describes r for test logs.
func (r *Redis) String() string {
	return fmt.Sprintf("redis-server %s %s", r.Addr, r.Socket)
}

// SocketDir returns a new temporary directory whose paths stay short enough for a unix
// socket: sun_path holds 108 bytes on Linux, and a path from t.TempDir grows with the
// test's name. The directory is removed when the test ends.
func SocketDir(t testing.TB) string {
	t.Helper()
	// 40 bytes are left for the socket's own name, such as ".s.PGSQL.54321".
	if dir := t.TempDir(); len(dir) < 108-40 {
		return dir
	}
	dir, err := os.MkdirTemp("", "tend")
	if err != nil {
		t.Fatalf("create socket directory: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
