package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// mailpit is a mail catcher on loopback that receives every tool's alerts.
type mailpit struct {
	cmd      *exec.Cmd
	SMTPPort int
	api      string
}

// startMailpit starts bin with its SMTP server and web API on free loopback ports and
// a database in dir.
func startMailpit(bin, dir string, ports *portPool) (*mailpit, error) {
	smtpPort, err := ports.take()
	if err != nil {
		return nil, err
	}
	httpPort, err := ports.take()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(context.Background(), bin, "--smtp", addr(smtpPort), "--listen", addr(httpPort),
		"--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--smtp-disable-rdns", "--disable-version-check", "--quiet")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	m := &mailpit{cmd: cmd, SMTPPort: smtpPort, api: "http://" + addr(httpPort)}
	_, err = waitUntil(time.Now(), 30*time.Second, 20*time.Millisecond, func() bool {
		_, err := httpGet(context.Background(), http.DefaultClient, m.api+"/api/v1/messages?limit=1")
		return err == nil
	})
	if err != nil {
		m.stop()
		return nil, fmt.Errorf("mailpit API at %s not reachable: %w", m.api, err)
	}
	return m, nil
}

func (m *mailpit) stop() {
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
}

// deleteAll removes every message.
func (m *mailpit) deleteAll() error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodDelete, m.api+"/api/v1/messages", nil)
	if err != nil {
		return err
	}
	_, err = doRequest(http.DefaultClient, req)
	return err
}

// count returns how many messages mention word anywhere, headers and body included.
func (m *mailpit) count(word string) (int, error) {
	body, err := httpGet(context.Background(), http.DefaultClient,
		m.api+"/api/v1/search?query="+url.QueryEscape(word))
	if err != nil {
		return 0, err
	}
	var reply struct {
		MessagesCount int `json:"messages_count"`
	}
	if err := json.Unmarshal(body, &reply); err != nil {
		return 0, fmt.Errorf("parse mailpit search: %w", err)
	}
	return reply.MessagesCount, nil
}
