package alert

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var idPattern = regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-\d{6}-[0-9a-f]{8}$`)

func TestIDSourceOrder(t *testing.T) {
	ids, err := newIDSource()
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	clock := []time.Time{
		base,
		base, // the same nanosecond
		base,
		base.Add(time.Nanosecond),
		base.Add(-time.Hour), // the wall clock stepped back
		base.Add(time.Second),
	}
	var got []string
	for _, now := range clock {
		got = append(got, ids.next(now))
	}
	for i, id := range got {
		if !idPattern.MatchString(id) {
			t.Errorf("next() = %q, want the form %s", id, idPattern)
		}
		if err := validateID(id); err != nil {
			t.Errorf("validateID(%q) = %v, want nil", id, err)
		}
		if i > 0 && got[i-1] >= id {
			t.Errorf("next() returned %q after %q, want strictly increasing IDs", id, got[i-1])
		}
	}
	if !strings.HasPrefix(got[0], "20260102T150405.000000000Z-000000-") {
		t.Errorf("next() = %q, want the UTC time and sequence 0 first", got[0])
	}
}

func TestIDSourceSequenceOverflow(t *testing.T) {
	ids := &idSource{tag: "00000000"}
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	prev := ids.next(now)
	for range maxIDSequence + 2 {
		id := ids.next(now)
		if id <= prev {
			t.Fatalf("next() returned %q after %q, want strictly increasing IDs", id, prev)
		}
		prev = id
	}
}

func TestIDSourceTagDiffersPerRun(t *testing.T) {
	a, err := newIDSource()
	if err != nil {
		t.Fatal(err)
	}
	b, err := newIDSource()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if a.next(now) == b.next(now) {
		t.Errorf("two ID sources returned the same ID for the same time")
	}
}

func TestValidateID(t *testing.T) {
	tests := []struct {
		id    string
		valid bool
	}{
		{"20260102T150405.000000000Z-000000-1a2b3c4d", true},
		{"deploy-42_b", true},
		{"", false},
		{".hidden", false},
		{"ends.", false},
		{"a..b", false},
		{"../escape", false},
		{"a/b", false},
		{"a@b", false},
		{"a b", false},
		{"<a>", false},
		{strings.Repeat("a", maxIDLength), true},
		{strings.Repeat("a", maxIDLength+1), false},
	}
	for _, tt := range tests {
		err := validateID(tt.id)
		if (err == nil) != tt.valid {
			t.Errorf("validateID(%q) = %v, want valid %t", tt.id, err, tt.valid)
		}
	}
}

func newQuietNotifier(t *testing.T, dir string, mail *MailOptions) *Notifier {
	t.Helper()
	n, err := New(Options{StateDir: dir, Mail: mail, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return n
}

func TestSendWritesQueueFile(t *testing.T) {
	dir := t.TempDir()
	n := newQuietNotifier(t, dir, nil)
	ev := Event{Kind: KindRestarted, Host: "web1", Service: "redis", Action: "restart"}
	if err := n.Send(ev); err != nil {
		t.Fatalf("Send() error = %v", err)
	}

	outbox := filepath.Join(dir, "outbox")
	info, err := os.Stat(outbox)
	if err != nil {
		t.Fatalf("stat outbox: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("outbox mode = %o, want 700", perm)
	}
	names, err := n.channels[0].queue.names()
	if err != nil || len(names) != 1 {
		t.Fatalf("queue names = %v, %v, want one file", names, err)
	}
	data, err := os.ReadFile(filepath.Join(outbox, names[0]))
	if err != nil {
		t.Fatal(err)
	}
	var got Event
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("decode queue file: %v", err)
	}
	if !idPattern.MatchString(got.ID) || names[0] != got.ID+".json" {
		t.Errorf("queued ID = %q in file %q, want a generated ID that names the file", got.ID, names[0])
	}
	if got.Time.IsZero() || time.Since(got.Time) > time.Minute {
		t.Errorf("queued Time = %s, want the time of Send", got.Time)
	}
	if got.Service != "redis" || got.Kind != KindRestarted || got.Host != "web1" {
		t.Errorf("queued event = %+v, want the event sent", got)
	}
	if p := n.Pending(); p != 1 {
		t.Errorf("Pending() = %d, want 1", p)
	}
}

func TestSendRejectsBadID(t *testing.T) {
	n := newQuietNotifier(t, t.TempDir(), nil)
	if err := n.Send(Event{ID: "../x", Kind: KindFailed}); err == nil {
		t.Errorf("Send() with ID ../x = nil, want an error")
	}
	if err := n.Send(Event{ID: "same", Kind: KindFailed}); err != nil {
		t.Fatalf("Send() error = %v", err)
	}
	if err := n.Send(Event{ID: "same", Kind: KindFailed}); err == nil {
		t.Errorf("Send() of an ID already queued = nil, want an error")
	}
	if p := n.Pending(); p != 1 {
		t.Errorf("Pending() = %d after one good Send, want 1", p)
	}
}

func TestSendConcurrent(t *testing.T) {
	n := newQuietNotifier(t, t.TempDir(), nil)
	const senders, each = 8, 25
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				ev := Event{Kind: KindFailed, Service: "svc", Message: strings.Repeat("x", s+i)}
				if err := n.Send(ev); err != nil {
					t.Errorf("Send() error = %v", err)
				}
			}
		})
	}
	wg.Wait()

	names, err := n.channels[0].queue.names()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != senders*each {
		t.Errorf("queue holds %d files, want %d", len(names), senders*each)
	}
	if p := n.Pending(); p != senders*each {
		t.Errorf("Pending() = %d, want %d", p, senders*each)
	}
}

// Within one goroutine, the order of Send calls must be the delivery order, even when
// the clock does not advance between them.
func TestSendOrderWithFrozenClock(t *testing.T) {
	n := newQuietNotifier(t, t.TempDir(), nil)
	frozen := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	n.now = func() time.Time { return frozen }
	var services []string
	for i := range 20 {
		svc := string(rune('a'+i)) + "-svc"
		services = append(services, svc)
		if err := n.Send(Event{Kind: KindFailed, Service: svc}); err != nil {
			t.Fatal(err)
		}
	}
	names, err := n.channels[0].queue.names()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, name := range names {
		ev, err := n.channels[0].queue.read(name)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Service)
	}
	if !slices.Equal(got, services) {
		t.Errorf("queue order = %v, want the Send order %v", got, services)
	}
}

func TestNewRemovesInterruptedWrites(t *testing.T) {
	dir := t.TempDir()
	n := newQuietNotifier(t, dir, nil)
	if err := n.Send(Event{Kind: KindFailed, Service: "kept"}); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "outbox", queueTempPrefix+"123")
	if err := os.WriteFile(tmp, []byte(`{"id":"half`), 0o600); err != nil {
		t.Fatal(err)
	}

	n = newQuietNotifier(t, dir, nil)
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file after New: stat error = %v, want not exist", err)
	}
	if p := n.Pending(); p != 1 {
		t.Errorf("Pending() after New = %d, want 1", p)
	}
}

func TestCorruptQueueFileMovedToDead(t *testing.T) {
	dir := t.TempDir()
	outbox := filepath.Join(dir, "outbox")
	if err := os.Mkdir(outbox, 0o700); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(outbox, "20260101T000000.000000000Z-000000-00000000.json")
	if err := os.WriteFile(bad, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	n, err := New(Options{StateDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Send(Event{Kind: KindFailed, Service: "after"}); err != nil {
		t.Fatal(err)
	}

	stop := runNotifier(t, n)
	ctx := testContext(t)
	waitFor(t, ctx, "the queue to empty", func() bool { return n.Pending() == 0 })
	stop()

	dead := filepath.Join(dir, "outbox", "dead", filepath.Base(bad))
	if _, err := os.Stat(dead); err != nil {
		t.Errorf("corrupt file in dead letters: %v", err)
	}
	if countLines(logs.String(), "level=ERROR", "alert rejected, moved to dead letters", "corrupt queue file") != 1 {
		t.Errorf("log lacks the rejection of the corrupt file:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "service=after") {
		t.Errorf("log lacks the event after the corrupt one:\n%s", logs.String())
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{9, 256 * time.Second},
		{10, 5 * time.Minute},
		{1000, 5 * time.Minute},
	}
	opts := Options{RetryMin: time.Second, RetryMax: 5 * time.Minute}
	for _, tt := range tests {
		d := &delivery{c: &channel{opts: opts}, attempt: tt.attempt}
		if got := d.backoff(); got != tt.want {
			t.Errorf("backoff() after attempt %d = %s, want %s", tt.attempt, got, tt.want)
		}
	}
}

// lockedBuffer is a bytes.Buffer that a logger and the test may use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
