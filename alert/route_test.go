package alert

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tend/internal/testenv"
)

// hookServer is a webhook endpoint on loopback that records each request body and
// replies with the next status of its script, then 200.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	auth   []string
	script []int
}

func startHookServer(t *testing.T, script ...int) *hookServer {
	t.Helper()
	h := &hookServer{script: script}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		status := http.StatusOK
		if len(h.script) > 0 {
			status, h.script = h.script[0], h.script[1:]
		}
		if status == http.StatusOK {
			h.bodies = append(h.bodies, body)
			h.auth = append(h.auth, r.Header.Get("Authorization"))
		}
		h.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte("scripted reply"))
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) received() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.bodies)
}

// newRoutedNotifier returns a Notifier with opts' routes, the mail servers of mail and
// a short backoff, on a new state directory unless opts names one.
func newRoutedNotifier(t *testing.T, opts Options) (*Notifier, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.RetryMin, opts.RetryMax = 10*time.Millisecond, 80*time.Millisecond
	n, err := New(opts)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("notifier log:\n%s", logs.String())
		}
	})
	return n, logs
}

func recipients(m testenv.MailpitMessage) []string {
	var to []string
	for _, a := range m.To {
		to = append(to, a.Address)
	}
	return to
}

// Each route receives the events its filter passes, and only those.
func TestRoutesFilterEvents(t *testing.T) {
	mp := testenv.StartMailpit(t)
	hook := startHookServer(t)
	mail := plainMail(mp.SMTPPort)
	mail.To = nil
	n, _ := newRoutedNotifier(t, Options{Mail: mail, Routes: []Route{
		{Name: "ops", To: []string{"ops@example.com"}, Filter: Filter{ExceptEvents: []Kind{KindPIDChanged}}},
		{Name: "dba", To: []string{"dba@example.com"},
			Filter: Filter{Services: []string{"postgres"}, Events: []Kind{KindFailed, KindRecovered}}},
		{Name: "hook", Webhook: &WebhookOptions{URL: hook.URL + "/secret-path"}},
	}})
	runNotifier(t, n)

	events := []Event{
		{Kind: KindFailed, Host: "db1", Service: "postgres", Check: "tcp 127.0.0.1:5432", Message: "postgres down"},
		{Kind: KindFailed, Host: "db1", Service: "redis", Check: "process", Message: "redis down"},
		{Kind: KindPIDChanged, Host: "db1", Service: "postgres", Message: "postgres PID changed"},
		{Kind: KindRecovered, Host: "db1", Service: "postgres", Check: "tcp 127.0.0.1:5432", Message: "postgres up"},
	}
	for _, ev := range events {
		if err := n.Send(ev); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testContext(t)
	waitFor(t, ctx, "five messages and four webhook calls", func() bool {
		return len(mp.Messages(t)) >= 5 && len(hook.received()) >= 4
	})
	time.Sleep(200 * time.Millisecond) // A sixth message would show by now.
	got := map[string][]string{}
	for _, m := range mp.Messages(t) {
		for _, to := range recipients(m) {
			got[to] = append(got[to], m.Subject)
		}
	}
	if len(got["ops@example.com"]) != 3 {
		t.Errorf("ops received %q, want the two failures and the recovery", got["ops@example.com"])
	}
	for _, s := range got["ops@example.com"] {
		if strings.Contains(s, "PID") {
			t.Errorf("ops received %q, which its filter excludes", s)
		}
	}
	if dba := got["dba@example.com"]; len(dba) != 2 || !strings.Contains(dba[0]+dba[1], "postgres") ||
		strings.Contains(dba[0]+dba[1], "redis") {
		t.Errorf("dba received %q, want the failure and the recovery of postgres", dba)
	}
	var kinds []Kind
	for _, b := range hook.received() {
		var body struct{ Events []Event }
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("webhook body %s: %v", b, err)
		}
		for _, ev := range body.Events {
			kinds = append(kinds, ev.Kind)
		}
	}
	if want := []Kind{KindFailed, KindFailed, KindPIDChanged, KindRecovered}; !slices.Equal(kinds, want) {
		t.Errorf("webhook received kinds %v, want %v in order", kinds, want)
	}
	st := n.Status()
	if len(st.Routes) != 3 || st.Pending != 0 {
		t.Errorf("Status() = %+v, want three routes and nothing pending", st)
	}
	for _, r := range st.Routes {
		if strings.Contains(r.Destination, "secret-path") {
			t.Errorf("route destination %q shows the webhook path", r.Destination)
		}
	}
}

// A route whose destination is down holds back no other route.
func TestRouteDownHoldsNoOther(t *testing.T) {
	hook := startHookServer(t)
	mail := plainMail(testenv.FreePort(t)) // Nothing listens there.
	mail.To = nil
	n, _ := newRoutedNotifier(t, Options{Mail: mail, Routes: []Route{
		{Name: "mail", To: []string{"ops@example.com"}},
		{Name: "hook", Webhook: &WebhookOptions{URL: hook.URL}},
	}})
	runNotifier(t, n)
	for i := range 3 {
		if err := n.Send(serviceEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, testContext(t), "three webhook calls delivered", func() bool {
		return len(hook.received()) == 3 && n.Status().Routes[1].Pending == 0
	})
	st := n.Status()
	if st.Routes[0].Pending != 3 || st.Routes[0].LastError == "" || st.Routes[0].Failures == 0 {
		t.Errorf("mail route status = %+v, want three pending and the connection failure", st.Routes[0])
	}
	if st.Routes[1].Pending != 0 || st.Routes[1].LastError != "" {
		t.Errorf("webhook route status = %+v, want nothing pending and no error", st.Routes[1])
	}
	if st.LastError == "" || !strings.Contains(st.LastError, "connection refused") {
		t.Errorf("Status().LastError = %q, want the mail route's failure", st.LastError)
	}
}

// A webhook's 5xx and 429 replies are retried. A 4xx reply moves the message to the
// dead letters once, and the next message delivered reports it.
func TestWebhookRetryAndDeadLetter(t *testing.T) {
	hook := startHookServer(t, http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusOK,
		http.StatusBadRequest)
	dir := t.TempDir()
	n, logs := newRoutedNotifier(t, Options{StateDir: dir, Routes: []Route{
		{Name: "hook", Webhook: &WebhookOptions{URL: hook.URL, Headers: map[string]string{"Authorization": "Bearer s3cret"}}},
	}})
	runNotifier(t, n)

	if err := n.Send(serviceEvent(1)); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	waitFor(t, ctx, "the first event delivered after two retries", func() bool { return len(hook.received()) == 1 })
	if err := n.Send(serviceEvent(2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the second event dead-lettered", func() bool { return n.Pending() == 0 })
	dead, _ := os.ReadDir(filepath.Join(dir, "outbox-hook", "dead"))
	if len(dead) != 1 {
		t.Errorf("dead letters = %v, want the second event", dead)
	}
	if err := n.Send(serviceEvent(3)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the third event", func() bool { return len(hook.received()) == 2 })
	var body struct{ Notes []string }
	if err := json.Unmarshal(hook.received()[1], &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Notes) != 1 || !strings.Contains(body.Notes[0], "1 earlier alert(s) could not be delivered: the webhook rejected them") {
		t.Errorf("notes = %q, want the dead letter reported", body.Notes)
	}
	if a := hook.auth[0]; a != "Bearer s3cret" {
		t.Errorf("Authorization = %q, want the configured header", a)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the log shows the Authorization header:\n%s", logs)
	}
	if c := countLines(logs.String(), "alert rejected, moved to dead letters", "code=400"); c != 1 {
		t.Errorf("%d dead-letter lines with code 400 in the log, want 1", c)
	}
}

// Slack gets one text, Alertmanager a list of alerts whose recovery resolves the
// failure's alert.
func TestWebhookFormats(t *testing.T) {
	failed := Event{ID: "a", Time: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Kind: KindFailed, Host: "web1",
		Service: "redis", Check: "tcp 127.0.0.1:6379", Observed: "connection refused", Action: "restart",
		Message: "connection refused on 127.0.0.1:6379"}
	recovered := failed
	recovered.ID, recovered.Kind, recovered.Time = "b", KindRecovered, failed.Time.Add(time.Minute)
	restarted := failed
	restarted.ID, restarted.Kind = "c", KindRestartLimit

	data, err := webhookBody(WebhookSlack, []Event{failed, recovered}, []string{"2 alerts discarded"})
	if err != nil {
		t.Fatal(err)
	}
	var slack map[string]string
	if err := json.Unmarshal(data, &slack); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[tend] web1: 2 alerts", "redis failed", "2 alerts discarded"} {
		if !strings.Contains(slack["text"], want) {
			t.Errorf("slack text %q lacks %q", slack["text"], want)
		}
	}

	data, err = webhookBody(WebhookAlertmanager, []Event{failed, recovered, restarted}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []struct {
		Labels      map[string]string
		Annotations map[string]string
		StartsAt    time.Time
		EndsAt      time.Time
	}
	if err := json.Unmarshal(data, &alerts); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 3 {
		t.Fatalf("%d alerts, want 3: %s", len(alerts), data)
	}
	if !maps(alerts[0].Labels, alerts[1].Labels) || alerts[0].Labels["alertname"] != "TendCheckFailed" ||
		alerts[0].Labels["service"] != "redis" || alerts[0].Labels["instance"] != "web1" {
		t.Errorf("labels %v and %v: want the same TendCheckFailed labels for failure and recovery",
			alerts[0].Labels, alerts[1].Labels)
	}
	if !alerts[0].EndsAt.IsZero() || !alerts[1].EndsAt.Equal(recovered.Time) {
		t.Errorf("endsAt %v and %v, want none for the failure and the recovery time for the recovery",
			alerts[0].EndsAt, alerts[1].EndsAt)
	}
	if alerts[2].Labels["alertname"] != "TendRestartLimit" || !alerts[2].EndsAt.IsZero() {
		t.Errorf("restart limit alert = %+v, want TendRestartLimit firing", alerts[2])
	}
	if alerts[0].Annotations["description"] != failed.Message {
		t.Errorf("description %q, want the event's message", alerts[0].Annotations["description"])
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A route's reminder interval passes at most one reminder per interval, a negative one
// none, and zero every reminder.
func TestRouteReminderPace(t *testing.T) {
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ev := func(kind Kind, after time.Duration) Event {
		return Event{Kind: kind, Service: "redis", Check: "process", Time: start.Add(after)}
	}
	tests := []struct {
		reminder time.Duration
		want     []bool
	}{
		{time.Hour, []bool{true, false, true, false, true, true, true}},
		{-1, []bool{true, false, false, false, true, true, false}},
		{0, []bool{true, true, true, true, true, true, true}},
	}
	for _, tt := range tests {
		c := &channel{route: Route{Reminder: tt.reminder}, reminded: map[string]time.Time{}}
		seq := []Event{
			ev(KindFailed, 0), ev(KindReminder, 30*time.Minute), ev(KindReminder, 59*time.Minute),
			ev(KindReminder, 90*time.Minute), ev(KindRecovered, 100*time.Minute), ev(KindFailed, 110*time.Minute),
			ev(KindReminder, 170*time.Minute),
		}
		var got []bool
		for _, e := range seq {
			got = append(got, c.accepts(e))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("reminder %s: accepted %v, want %v", tt.reminder, got, tt.want)
		}
	}
}

// The counts that the next message reports survive a restart of tend.
func TestCountsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	down := plainMail(testenv.FreePort(t))
	n, _ := newRoutedNotifier(t, Options{StateDir: dir, Mail: down, QueueLimit: 10})
	for i := range 12 {
		if err := n.Send(serviceEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Status().Routes[0].Discarded; got != 2 {
		t.Fatalf("Discarded = %d, want 2", got)
	}

	mp := testenv.StartMailpit(t)
	n2, _ := newRoutedNotifier(t, Options{StateDir: dir, Mail: plainMail(mp.SMTPPort), QueueLimit: 10,
		DigestWindow: 50 * time.Millisecond})
	if got := n2.Status().Routes[0]; got.Discarded != 2 || got.Pending != 10 {
		t.Errorf("after the restart: route status %+v, want 2 discarded and 10 pending", got)
	}
	runNotifier(t, n2)
	waitFor(t, testContext(t), "the digest", func() bool { return len(mp.Messages(t)) >= 1 })
	body := mp.Body(t, mp.Messages(t)[0].ID)
	if !strings.Contains(body, "2 alert(s) were discarded unsent because the queue reached its limit of 10.") {
		t.Errorf("body does not report the discards of the earlier run:\n%s", body)
	}
	waitFor(t, testContext(t), "the counts reset", func() bool { return n2.Status().Routes[0].Discarded == 0 })
}

// Update replaces the routes while Run runs: a new route receives the next events, a
// route that keeps its name keeps what its queue holds, and a removed route stops.
func TestUpdateRoutes(t *testing.T) {
	first := startHookServer(t)
	second := startHookServer(t)
	down := plainMail(testenv.FreePort(t)) // Nothing listens there: the mail stays queued.
	down.To = nil
	n, logs := newRoutedNotifier(t, Options{Mail: down, Routes: []Route{
		{Name: "hook", Webhook: &WebhookOptions{URL: first.URL}},
		{Name: "mail", To: []string{"ops@example.com"}},
	}})
	runNotifier(t, n)
	if err := n.Send(serviceEvent(1)); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	waitFor(t, ctx, "the first webhook call delivered", func() bool {
		return len(first.received()) == 1 && n.Status().Routes[0].Pending == 0
	})

	mp := testenv.StartMailpit(t)
	up := plainMail(mp.SMTPPort)
	up.To = nil
	err := n.Update(Options{Mail: up, Routes: []Route{
		{Name: "hook", Webhook: &WebhookOptions{URL: second.URL}},
		{Name: "mail", To: []string{"ops@example.com"}},
	}})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	waitFor(t, ctx, "the mail queued before the update", func() bool { return len(mp.Messages(t)) == 1 })
	if err := n.Send(serviceEvent(2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the second webhook's call", func() bool { return len(second.received()) == 1 })
	if len(first.received()) != 1 {
		t.Errorf("the replaced webhook received %d calls, want only the first", len(first.received()))
	}

	if err := n.Update(Options{Routes: []Route{{Name: "other", Webhook: &WebhookOptions{URL: "ftp://x"}}}}); err == nil {
		t.Error("Update with an invalid webhook URL succeeded")
	}
	if err := n.Send(serviceEvent(3)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "delivery after the rejected update", func() bool { return len(second.received()) == 2 })
	if !strings.Contains(logs.String(), "alert delivery started") {
		t.Errorf("no delivery start in the log:\n%s", logs)
	}
}

// A webhook URL's user, password, path and query never reach an error, however
// net/http quotes them.
func TestWebhookErrorHidesURL(t *testing.T) {
	port := testenv.FreePort(t) // Nothing listens there.
	raw := fmt.Sprintf("http://hookuser:PASS@127.0.0.1:%d/hook/TOK EN?token=QTOKEN", port)
	w := newWebhook(&WebhookOptions{URL: raw, Format: WebhookJSON, Timeout: time.Second})
	_, err := w.deliverBatch(testContext(t), []Event{serviceEvent(1)}, nil, time.Now())
	if err == nil {
		t.Fatal("delivery to a closed port succeeded")
	}
	for _, secret := range []string{"hookuser", "PASS", "TOK", "QTOKEN", "hook/", "***"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows %q of the URL", err, secret)
		}
	}
	if want := fmt.Sprintf("post to http://127.0.0.1:%d: ", port); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to name %q", err, want)
	}
}
