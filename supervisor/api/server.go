package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// socketMode lets the owner and the group connect to the control socket.
	socketMode = 0o660
	// staleDialTimeout bounds the check whether a daemon accepts connections on an existing socket.
	staleDialTimeout = time.Second
	// shutdownTimeout bounds how long Run waits for requests in flight once its context
	// ends, before it closes their connections.
	shutdownTimeout = 5 * time.Second
)

// ServerOptions are the settings of a Server. Socket, Handler and Logger are required.
type ServerOptions struct {
	// Socket is the path of the unix socket.
	Socket string
	// Group names the group, by name or numeric GID, that owns the socket and whose
	// members may send commands. When no such group exists, only root and the daemon's
	// own user may connect.
	Group string
	// Handler serves the requests that pass the peer check, normally NewHandler's.
	Handler http.Handler
	Logger  *slog.Logger
}

// Server serves an http.Handler on the control socket, for the callers that its peer
// check admits. Listen creates it and Run serves; Run's caller owns the goroutines
// that Run starts, and Run waits for them before it returns.
type Server struct {
	opts     ServerOptions
	listener *net.UnixListener
	http     *http.Server
	// gid is the GID of ServerOptions.Group, or -1 when no such group exists.
	gid int
	uid int
}

// Listen creates the control socket and returns a Server that accepts connections once
// Run is called. It creates the socket's directory with mode 0755 when it is missing.
// An existing socket file is removed when no daemon accepts connections on it. When one
// does, Listen returns an error and leaves that daemon's socket in place. The socket gets
// mode 0660 and, when ServerOptions.Group exists, that group.
func Listen(opts ServerOptions) (*Server, error) {
	switch {
	case opts.Socket == "":
		return nil, errors.New("api: ServerOptions.Socket is empty")
	case opts.Handler == nil:
		return nil, errors.New("api: ServerOptions.Handler is nil")
	case opts.Logger == nil:
		return nil, errors.New("api: ServerOptions.Logger is nil")
	}
	if err := os.MkdirAll(filepath.Dir(opts.Socket), 0o755); err != nil {
		return nil, fmt.Errorf("create control socket directory: %w", err)
	}
	if err := removeStaleSocket(opts.Socket); err != nil {
		return nil, err
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: opts.Socket, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on control socket: %w", err)
	}

	s := &Server{opts: opts, listener: l, gid: -1, uid: os.Getuid()}
	if err := s.setOwnership(); err != nil {
		_ = l.Close()
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.checkPeer(opts.Handler),
		ConnContext:       s.connContext,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// removeStaleSocket removes the socket file at path unless a daemon accepts connections on it.
func removeStaleSocket(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect control socket: %w", err)
	}
	if info.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("control socket %s exists and is not a socket (mode %s): remove it, or set [control] socket to another path",
			path, info.Mode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), staleDialTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "unix", path)
	if err == nil {
		_ = conn.Close()
		return fmt.Errorf("another tend is listening on control socket %s: stop it first, or set [control] socket to another path", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("check control socket %s for another tend: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale control socket: %w", err)
	}
	return nil
}

// setOwnership gives the socket its mode and group. A group that does not exist, or
// that the daemon may not give the socket, is logged: root and the daemon's own user
// can still connect.
func (s *Server) setOwnership() error {
	path := s.opts.Socket
	if err := os.Chmod(path, socketMode); err != nil {
		return fmt.Errorf("set mode of control socket: %w", err)
	}
	gid, err := lookupGroup(s.opts.Group)
	if err != nil {
		s.opts.Logger.Warn("control group not found; only root and tend's own user may use the control socket",
			"group", s.opts.Group, "err", err)
		return nil
	}
	s.gid = gid
	if err := os.Chown(path, -1, gid); err != nil {
		s.opts.Logger.Warn("give the control socket to its group; its members cannot connect",
			"group", s.opts.Group, "socket", path, "err", err)
	}
	return nil
}

// lookupGroup returns the GID of the group called name, or of the numeric GID name.
func lookupGroup(name string) (int, error) {
	if name == "" {
		return -1, errors.New("no group set")
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		if _, numeric := strconv.Atoi(name); numeric != nil {
			return -1, err
		}
		if g, err = user.LookupGroupId(name); err != nil {
			return -1, err
		}
	}
	return strconv.Atoi(g.Gid)
}

// Socket returns the path of the control socket.
func (s *Server) Socket() string { return s.opts.Socket }

// Run serves until ctx ends, then waits up to shutdownTimeout for requests in flight
// and removes the socket. It returns nil after ctx ended, or the error that stopped
// serving before that.
func (s *Server) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(s.listener) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve control socket: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		_ = s.http.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve control socket: %w", err)
	}
	return nil
}

// Close removes the socket of a Server whose Run was never called.
func (s *Server) Close() error { return s.listener.Close() }

// connContext identifies the process at the other end of conn by its credentials,
// which the kernel recorded when it connected, and adds the resulting Caller to ctx.
func (s *Server) connContext(ctx context.Context, conn net.Conn) context.Context {
	cred, err := peerCredentials(conn)
	if err != nil {
		s.opts.Logger.Warn("read control peer credentials", "err", err)
		return WithCaller(ctx, Caller{Name: "unknown peer", Role: RoleNone})
	}
	return WithCaller(ctx, s.identify(cred))
}

func peerCredentials(conn net.Conn) (*unix.Ucred, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil, fmt.Errorf("connection of type %T is not a unix socket", conn)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil {
		return nil, err
	}
	return cred, credErr
}

// identify returns the Caller for a peer: RoleAdmin for root, for the daemon's own
// user, and for a user whose primary or supplementary groups include the control
// group; RoleNone for anyone else.
func (s *Server) identify(cred *unix.Ucred) Caller {
	uid := int(cred.Uid)
	name := fmt.Sprintf("uid %d", uid)
	u, err := user.LookupId(strconv.Itoa(uid))
	if err == nil {
		name = fmt.Sprintf("uid %d (%s)", uid, u.Username)
	}
	c := Caller{Name: name, Role: RoleNone, PID: int(cred.Pid)}

	switch {
	case uid == 0 || uid == s.uid:
		c.Role = RoleAdmin
	case s.gid >= 0 && int(cred.Gid) == s.gid:
		c.Role = RoleAdmin
	case s.gid >= 0 && u != nil && inGroup(u, s.gid):
		c.Role = RoleAdmin
	}
	return c
}

func inGroup(u *user.User, gid int) bool {
	ids, err := u.GroupIds()
	return err == nil && slices.Contains(ids, strconv.Itoa(gid))
}

// checkPeer rejects callers without a role with 403 before next receives the request.
func (s *Server) checkPeer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := CallerFrom(r.Context())
		if c.Role != RoleNone {
			next.ServeHTTP(w, r)
			return
		}
		s.opts.Logger.Warn("control request rejected", "by", c.Name, "method", r.Method, "path", r.URL.Path)
		writeError(w, http.StatusForbidden, fmt.Sprintf(
			"permission denied: %s is not root, tend's own user, or a member of group %s", c.Name, s.opts.Group))
	})
}
