package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// MailpitInstall is the command that installs mailpit.
const MailpitInstall = "go install github.com/axllent/mailpit@v1.33.1"

// Mailpit is a running mailpit server on loopback.
type Mailpit struct {
	// SMTPPort is the port of its SMTP server on 127.0.0.1.
	SMTPPort int
	// API is the base URL of its HTTP API, such as "http://127.0.0.1:40123".
	API string
}

// MailpitMessage is one message as mailpit's message list returns it.
type MailpitMessage struct {
	ID      string
	Subject string
	From    struct{ Address string }
	To      []struct{ Address string }
	Created time.Time
}

// StartMailpit starts mailpit on free loopback ports with an in-memory database and stops
// it when the test ends. It looks for the binary on PATH and in $(go env GOPATH)/bin.
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	bin := LookPath(t, "mailpit", MailpitInstall, goBinDirs()...)
	m := &Mailpit{SMTPPort: FreePort(t)}
	httpPort := FreePort(t)
	m.API = "http://" + Addr(httpPort)

	cmd := exec.Command(bin,
		"--smtp", Addr(m.SMTPPort), "--listen", Addr(httpPort),
		"--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--smtp-disable-rdns", "--disable-version-check", "--quiet")
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	ctx := Context(t, 30*time.Second)
	if !WaitTCP(ctx, Addr(m.SMTPPort)) || !WaitTCP(ctx, Addr(httpPort)) {
		t.Fatalf("mailpit did not listen on %s and %s", Addr(m.SMTPPort), Addr(httpPort))
	}
	return m
}

// Messages returns the messages mailpit holds, newest first.
func (m *Mailpit) Messages(t testing.TB) []MailpitMessage {
	t.Helper()
	var list struct{ Messages []MailpitMessage }
	m.getJSON(t, "/api/v1/messages?limit=500", &list)
	return list.Messages
}

// Body returns the plain-text body of the message with id.
func (m *Mailpit) Body(t testing.TB, id string) string {
	t.Helper()
	var msg struct{ Text string }
	m.getJSON(t, "/api/v1/message/"+id, &msg)
	return msg.Text
}

// Headers returns the headers of the message with id.
func (m *Mailpit) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	h := map[string][]string{}
	m.getJSON(t, "/api/v1/message/"+id+"/headers", &h)
	return h
}

func (m *Mailpit) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.API + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
}

func goBinDirs() []string {
	var dirs []string
	if gp := os.Getenv("GOPATH"); gp != "" {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	return dirs
}

// String describes m for test logs.
func (m *Mailpit) String() string {
	return fmt.Sprintf("mailpit smtp %s api %s", Addr(m.SMTPPort), m.API)
}
