package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tend/config"
	"tend/supervisor/api"
)

// Limits of the cache of verified credentials.
const (
	// cacheTTL is how long a verified user name and password pass without bcrypt.
	cacheTTL = time.Minute
	// cacheMax bounds the entries; the cache is emptied when it is full.
	cacheMax = 1024
	// maxCompares bounds the bcrypt comparisons that run at once, so that a flood of
	// wrong passwords occupies at most that many cores.
	maxCompares = 2
)

// anonymousCaller is every caller of a loopback listener without configured users.
var anonymousCaller = api.Caller{Name: "anonymous (loopback)", Role: api.RoleReadOnly}

// actionHeader must be present, with the value "1", on every request that changes
// something. A cross-site HTML form cannot set a header, and a cross-site fetch that
// sets one needs a CORS preflight that this server never grants.
const actionHeader = "X-Tend-Request"

type account struct {
	hash []byte
	role api.Role
}

// authenticator checks HTTP Basic credentials against the configured users. Its
// methods may be called from any goroutine.
type authenticator struct {
	users map[string]account
	// decoy is the hash compared for an unknown user name, so that the response takes
	// as long as for a known one.
	decoy []byte
	// key makes the cache keys an HMAC of the credentials, so that the cache holds
	// nothing from which a password could be guessed offline.
	key      []byte
	compares chan struct{}
	now      func() time.Time

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	caller  api.Caller
	expires time.Time
}

func newAuthenticator(users []config.HTTPUser) (*authenticator, error) {
	a := &authenticator{
		users:    make(map[string]account, len(users)),
		key:      make([]byte, 32),
		compares: make(chan struct{}, maxCompares),
		now:      time.Now,
		cache:    map[[sha256.Size]byte]cacheEntry{},
	}
	if _, err := rand.Read(a.key); err != nil {
		return nil, fmt.Errorf("web: make cache key: %w", err)
	}
	for _, u := range users {
		role := api.RoleReadOnly
		if u.Role == config.HTTPAdmin {
			role = api.RoleAdmin
		}
		a.users[u.Name] = account{hash: []byte(u.PasswordHash.Value()), role: role}
		if a.decoy == nil {
			a.decoy = []byte(u.PasswordHash.Value())
		}
	}
	return a, nil
}

// anonymous reports whether no users are configured.
func (a *authenticator) anonymous() bool { return len(a.users) == 0 }

// errBadCredentials is the error of verify for an unknown user or a wrong password.
var errBadCredentials = errors.New("wrong user name or password")

// verify returns the caller that name and password identify, or errBadCredentials.
func (a *authenticator) verify(r *http.Request, name, password string) (api.Caller, error) {
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(name))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	var key [sha256.Size]byte
	mac.Sum(key[:0])
	if c, ok := a.cached(key); ok {
		return c, nil
	}

	acct, known := a.users[name]
	hash := acct.hash
	if !known {
		hash = a.decoy
	}
	select {
	case a.compares <- struct{}{}:
	case <-r.Context().Done():
		return api.Caller{}, r.Context().Err()
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	<-a.compares
	if err != nil || !known {
		return api.Caller{}, errBadCredentials
	}

	c := api.Caller{Name: name, Role: acct.role}
	a.store(key, c)
	return c, nil
}

func (a *authenticator) cached(key [sha256.Size]byte) (api.Caller, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.cache[key]
	if !ok || !a.now().Before(e.expires) {
		return api.Caller{}, false
	}
	return e.caller, true
}

func (a *authenticator) store(key [sha256.Size]byte, c api.Caller) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.cache) >= cacheMax {
		for k, e := range a.cache {
			if !now.Before(e.expires) {
				delete(a.cache, k)
			}
		}
	}
	if len(a.cache) >= cacheMax {
		clear(a.cache)
	}
	a.cache[key] = cacheEntry{caller: c, expires: now.Add(cacheTTL)}
}

// authenticate puts the Caller into the context of every request, or responds 401
// when users are configured and the request carries no valid credentials.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.auth.anonymous() {
			next.ServeHTTP(w, r.WithContext(api.WithCaller(r.Context(), anonymousCaller)))
			return
		}
		name, password, ok := r.BasicAuth()
		if !ok {
			unauthorized(w, "authentication required: send a user name and password with HTTP Basic authentication")
			return
		}
		c, err := s.auth.verify(r, name, password)
		if err != nil {
			if errors.Is(err, errBadCredentials) {
				s.log.Warn("HTTP authentication failed", "user", name, "remote", r.RemoteAddr)
			}
			unauthorized(w, err.Error())
			return
		}
		next.ServeHTTP(w, r.WithContext(api.WithCaller(r.Context(), c)))
	})
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="tend", charset="UTF-8"`)
	http.Error(w, msg, http.StatusUnauthorized)
}

// guardAction lets a request that only reads pass. A request that changes something
// (any method but GET, HEAD and OPTIONS) must come from an admin, carry the
// X-Tend-Request header and, when the browser names its origin, come from this
// server's own origin. Every such request is logged with the caller's name.
func (s *Server) guardAction(next http.Handler) http.Handler {
	origins := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		c := api.CallerFrom(r.Context())
		log := s.log.With("user", c.Name, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		if msg := rejectAction(r, c, origins); msg != "" {
			log.Warn("action rejected", "reason", msg)
			http.Error(w, msg, http.StatusForbidden)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Info("action", "status", rec.status)
	})
}

// rejectAction returns why the action request r from c is rejected, or "" to let it
// pass.
func rejectAction(r *http.Request, c api.Caller, origins *http.CrossOriginProtection) string {
	if r.Header.Get(actionHeader) != "1" {
		return "missing header " + actionHeader + ": 1, which every request that changes " +
			"something must carry to show it does not come from another site's form"
	}
	if err := origins.Check(r); err != nil {
		return "cross-origin request rejected: actions must come from a page of this server " +
			"(Origin or Sec-Fetch-Site names another site)"
	}
	if c.Role < api.RoleAdmin {
		return fmt.Sprintf("user %q is read-only: actions need a user with role \"admin\"", c.Name)
	}
	return ""
}

// statusRecorder keeps the status code a handler wrote, for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap returns the ResponseWriter, for http.ResponseController.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
