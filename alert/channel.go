package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// transport delivers the events of one message to a destination.
type transport interface {
	// deliverBatch sends events, oldest first, as one message dated now, with notes
	// about the queue. It returns a *DeliveryError when the attempt failed.
	deliverBatch(ctx context.Context, events []Event, notes []string, now time.Time) (sent, error)
	// String names the destination in logs, without secrets.
	String() string
}

// channel is one route's queue and delivery. Send adds to it from any goroutine; its
// delivery loop runs in a goroutine of Run.
type channel struct {
	n *Notifier
	// opts are the Notifier's options when the channel was opened.
	opts  Options
	route Route
	log   *slog.Logger
	queue *queue
	// transport is nil when no destination is configured: events are logged.
	transport transport
	// wake signals the delivery loop that an event was queued. It has room for one
	// signal, so a signal sent while the loop is busy is kept.
	wake chan struct{}
	// stop ends the delivery loop, which closes stopped when it returns. Both are nil
	// while no loop runs.
	stop    context.CancelFunc
	stopped chan struct{}

	// mu guards the fields below.
	mu        sync.Mutex
	pending   int
	lastErr   error
	lastErrAt time.Time
	failures  uint64
	// counts are the figures that the next delivered message reports, kept in the
	// state file so that a restart of tend does not lose them.
	counts channelCounts
	// reminded holds, per service and check, when this route last passed an alert
	// about the failure, for the route's reminder pace.
	reminded map[string]time.Time
}

// channelCounts counts the alerts a channel could not deliver since its last delivered
// message.
type channelCounts struct {
	// Discarded counts the events discarded at the queue limit, Dead the messages
	// moved to the dead letters.
	Discarded int `json:"discarded"`
	Dead      int `json:"dead"`
	// Sent holds the times of the messages sent within the last hour, for the hourly
	// cap.
	Sent []time.Time `json:"sent,omitempty"`
}

// channelStateFile holds a channel's counts in its queue directory. The leading dot
// keeps it out of the queue listing.
const channelStateFile = ".state.json"

func openChannel(n *Notifier, opts Options, route Route, t transport) (*channel, error) {
	dir := "outbox"
	if route.Name != "" {
		dir += "-" + route.Name
	}
	q, err := openQueue(filepath.Join(opts.StateDir, dir))
	if err != nil {
		return nil, err
	}
	names, err := q.names()
	if err != nil {
		return nil, err
	}
	c := &channel{
		n: n, opts: opts, route: route, queue: q, transport: t, wake: make(chan struct{}, 1),
		pending: len(names), reminded: map[string]time.Time{},
	}
	logName := route.Name
	if logName == "" {
		logName = "mail"
	}
	c.log = n.log.With("route", logName)
	if data, err := os.ReadFile(filepath.Join(q.dir, channelStateFile)); err == nil {
		if err := json.Unmarshal(data, &c.counts); err != nil {
			c.log.Warn("alert route state unreadable, counts start over", "err", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read alert route state: %w", err)
	}
	return c, nil
}

// accepts reports whether the route takes ev, and records a failure alert for the
// reminder pace.
func (c *channel) accepts(ev Event) bool {
	if !c.route.Filter.Match(ev) {
		return false
	}
	key := ev.Service + "\x00" + ev.Check
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev.Kind {
	case KindFailed:
		c.reminded[key] = ev.Time
	case KindRecovered:
		delete(c.reminded, key)
	case KindReminder:
		pace := c.route.Reminder
		if pace < 0 {
			return false
		}
		// Reminders come with the cycle, so one that is a little early still passes.
		if last, ok := c.reminded[key]; ok && pace > 0 && ev.Time.Sub(last) < pace-pace/20 {
			return false
		}
		c.reminded[key] = ev.Time
	}
	return true
}

// enqueue stores ev in the channel's queue and wakes its delivery loop.
func (c *channel) enqueue(ev Event) error {
	// Count the event before it is on disk: the loop may deliver it, and uncount it,
	// before this goroutine runs again.
	c.addPending(1)
	if err := c.queue.write(ev); err != nil {
		c.addPending(-1)
		return err
	}
	if limit := c.opts.QueueLimit; limit > 0 && c.Pending() > limit {
		c.discardOldest(c.Pending() - limit)
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// Pending returns how many events wait in the channel's queue.
func (c *channel) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending
}

func (c *channel) addPending(delta int) {
	c.mu.Lock()
	c.pending += delta
	c.mu.Unlock()
}

func (c *channel) setLastError(err error) {
	c.mu.Lock()
	c.lastErr = err
	if err != nil {
		c.lastErrAt = c.n.now()
		c.failures++
	}
	c.mu.Unlock()
}

// discardOldest removes the count oldest queued events to keep the queue within its
// limit, and counts and logs each.
func (c *channel) discardOldest(count int) {
	names, err := c.queue.names()
	if err != nil {
		c.log.Error("queue limit reached, listing the queue failed", "err", err)
		return
	}
	for _, name := range names[:min(count, len(names))] {
		ev, _ := c.queue.read(name)
		if err := os.Remove(filepath.Join(c.queue.dir, name)); err != nil {
			continue // Delivered or discarded meanwhile.
		}
		_ = syncDir(c.queue.dir)
		c.mu.Lock()
		c.pending--
		c.counts.Discarded++
		c.mu.Unlock()
		c.log.Error("alert queue limit reached, oldest alert discarded", "limit", c.opts.QueueLimit,
			"id", ev.ID, "service", ev.Service, "kind", ev.Kind, "message", ev.Message)
	}
	c.saveCounts()
}

// snapshotCounts returns a copy of the counts.
func (c *channel) snapshotCounts() channelCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts
}

// updateCounts changes the counts under the lock and saves them.
func (c *channel) updateCounts(f func(*channelCounts)) {
	c.mu.Lock()
	f(&c.counts)
	c.mu.Unlock()
	c.saveCounts()
}

// saveCounts writes the counts to the state file: temporary file, fsync, rename.
func (c *channel) saveCounts() {
	c.mu.Lock()
	data, err := json.Marshal(c.counts)
	c.mu.Unlock()
	if err == nil {
		err = writeFileAtomic(filepath.Join(c.queue.dir, channelStateFile), data)
	}
	if err != nil {
		c.log.Error("save alert route state", "err", err)
	}
}

// writeFileAtomic replaces path with data: temporary file, fsync, rename, fsync of the
// directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, queueTempPrefix+"*")
	if err != nil {
		return err
	}
	if err := writeAndSync(tmp, data); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return syncDir(dir)
}

// status returns the channel's part of Status.
func (c *channel) status() ChannelStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := ChannelStatus{Route: c.route.Name, Destination: "log", Pending: c.pending,
		Failures: c.failures, Dead: c.counts.Dead, Discarded: c.counts.Discarded}
	if c.transport != nil {
		st.Destination = c.transport.String()
	}
	if c.lastErr != nil {
		st.LastError, st.LastErrorAt = c.lastErr.Error(), c.lastErrAt
	}
	return st
}

// destinationWord names the kind of destination in the note about dead letters.
func (c *channel) destinationWord() string {
	if c.route.Webhook != nil {
		return "webhook"
	}
	return "mail server"
}

// start runs the delivery loop in a goroutine until ctx ends or stopLoop is called.
func (c *channel) start(ctx context.Context) {
	ctx, c.stop = context.WithCancel(ctx)
	c.stopped = make(chan struct{})
	dest := "log"
	if c.transport != nil {
		dest = c.transport.String()
	}
	c.log.Info("alert delivery started", "pending", c.Pending(), "destination", dest)
	d := &delivery{c: c, stuck: map[string]bool{},
		batcher: batcher{window: c.opts.DigestWindow, maxPerHour: c.opts.MaxPerHour,
			sent: c.snapshotCounts().Sent}}
	go func() {
		defer close(c.stopped)
		d.loop(ctx)
		c.log.Info("alert delivery stopped", "pending", c.Pending())
	}()
}

// stopLoop ends the delivery loop and waits for it. A delivery in progress is cut off
// and its events stay queued.
func (c *channel) stopLoop() {
	if c.stop == nil {
		return
	}
	c.stop()
	<-c.stopped
	c.stop, c.stopped = nil, nil
}
