package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"tend/alert"
	"tend/internal/units"
	"tend/supervisor"
	"tend/supervisor/api"
)

//go:embed templates static
var assets embed.FS

// recentEvents is how many of the latest restarts the page shows per service.
const recentEvents = 3

// statusTimeout bounds the wait for the supervisor's status.
const statusTimeout = 10 * time.Second

// statusPage renders the status page and its fragment.
type statusPage struct {
	tmpl *template.Template
}

func newStatusPage() (*statusPage, error) {
	tmpl, err := template.New("").Funcs(template.FuncMap{
		"duration": formatDuration,
		"bytes":    units.Bytes,
		"join":     strings.Join,
		"clock":    func(t time.Time) string { return t.Format("2006-01-02 15:04:05") },
	}).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	return &statusPage{tmpl: tmpl}, nil
}

// staticHandler serves the embedded scripts and style sheets under /static/.
func staticHandler() http.Handler {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // The directory is embedded at build time.
	}
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}

// pageData is the input of the templates.
type pageData struct {
	Caller   api.Caller
	Admin    bool
	Daemon   api.Daemon
	Uptime   time.Duration
	Alerts   alert.Status
	Services []serviceView
	Now      time.Time
	// Error is set when the status could not be read.
	Error string
}

// serviceView is one row of the page.
type serviceView struct {
	supervisor.ServiceStatus
	StateClass string
	Uptime     time.Duration
	CPU        string
	Memory     string
	Failing    []supervisor.CheckStatus
	Events     []supervisor.Restart
}

var commands = []string{"start", "stop", "restart", "monitor", "unmonitor"}

// Commands returns the operator commands that the page offers as buttons.
func (serviceView) Commands() []string { return commands }

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "page")
}

func (s *Server) serveFragment(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "main")
}

// render executes the template name into a buffer, so that a failure leaves no half
// page behind.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string) {
	data := s.pageData(r.Context())
	var buf bytes.Buffer
	if err := s.page.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render status page", "err", err)
		http.Error(w, "render status page failed; the daemon's log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

func (s *Server) pageData(ctx context.Context) pageData {
	c := api.CallerFrom(ctx)
	b := s.opts.Backend
	now := time.Now()
	d := pageData{Caller: c, Admin: c.Role >= api.RoleAdmin, Daemon: b.Daemon(), Alerts: b.Alerts(), Now: now}
	if !d.Daemon.Started.IsZero() {
		d.Uptime = now.Sub(d.Daemon.Started)
	}

	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	statuses, err := b.Status(ctx)
	if err != nil {
		d.Error = fmt.Sprintf("read service status: %v", err)
		return d
	}
	for _, st := range statuses {
		d.Services = append(d.Services, newServiceView(st, now))
	}
	return d
}

func newServiceView(st supervisor.ServiceStatus, now time.Time) serviceView {
	v := serviceView{ServiceStatus: st, StateClass: "state-" + st.State.String(), CPU: "–", Memory: "–"}
	if !st.Started.IsZero() {
		v.Uptime = now.Sub(st.Started)
	}
	if st.UsageKnown {
		v.Memory = units.Bytes(st.Usage.TotalMemory)
		if st.Usage.CPUKnown {
			v.CPU = fmt.Sprintf("%.1f%%", st.Usage.TotalCPU)
		}
	}
	for _, c := range st.Checks {
		if c.Failing || c.Known && !c.OK {
			v.Failing = append(v.Failing, c)
		}
	}
	// The history is oldest first; the page shows the newest first.
	for i := len(st.History) - 1; i >= 0 && len(v.Events) < recentEvents; i-- {
		v.Events = append(v.Events, st.History[i])
	}
	return v
}

// formatDuration returns d for reading at a glance, such as "3d4h", or a dash for none.
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return units.Duration(d)
}
