package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Notifier queues events durably and delivers them through its routes, each route's
// events in the order they were queued.
//
// Any goroutine may call Send, Pending, LastError and Status. The owner starts Run in
// one goroutine and stops it by cancelling its context.
type Notifier struct {
	log *slog.Logger
	now func() time.Time

	// sendMu serialises Send and Update, so that the order of the IDs is the order in
	// which the events reach the disk, and no event goes to a channel being replaced.
	sendMu sync.Mutex
	ids    *idSource

	// mu guards opts, channels and runCtx.
	mu   sync.Mutex
	opts Options
	// channels holds one channel per route. Without a route, one channel logs each
	// event instead of delivering it.
	channels []*channel
	// runCtx is the context of Run while it runs, nil otherwise.
	runCtx context.Context

	running atomic.Bool
	// flushing is set by Flush, which also closes flush, so that no event waits for
	// the digest window any longer.
	flushing  atomic.Bool
	flush     chan struct{}
	flushOnce sync.Once
}

// Flush makes delivery send at once what waits for the digest window, and every event
// queued from then on, as a stopping daemon needs. The hourly cap still applies.
func (n *Notifier) Flush() {
	n.flushOnce.Do(func() {
		n.flushing.Store(true)
		close(n.flush)
	})
}

// New opens a queue per route under opts.StateDir, creating its directories, and
// returns a Notifier that delivers nothing until Run. It returns an error when opts are
// invalid or a queue cannot be opened.
func New(opts Options) (*Notifier, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	ids, err := newIDSource()
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	n := &Notifier{opts: opts, log: opts.Logger, now: time.Now, ids: ids, flush: make(chan struct{})}
	if n.channels, err = n.openChannels(opts); err != nil {
		return nil, err
	}
	return n, nil
}

// openChannels opens a channel for each route of opts.
func (n *Notifier) openChannels(opts Options) ([]*channel, error) {
	routes := opts.Routes
	if len(routes) == 0 {
		// Without routes, the recipients of Mail get every event; without those, each
		// event is logged.
		routes = []Route{{}}
		if opts.Mail != nil {
			routes[0].To = opts.Mail.To
		}
	}
	channels := make([]*channel, 0, len(routes))
	for _, r := range routes {
		c, err := openChannel(n, opts, r, newTransport(r, opts.Mail))
		if err != nil {
			return nil, fmt.Errorf("alert: route %q: %w", r.Name, err)
		}
		channels = append(channels, c)
	}
	return channels, nil
}

// Update replaces the options, as a reload of the configuration does: every route's
// delivery restarts with the new settings, and the events queued for a route keep
// their place when the route keeps its name. A route that is gone stops delivering;
// what its queue holds stays on disk and is logged. StateDir and Logger stay as New
// set them. On an error nothing changes.
func (n *Notifier) Update(opts Options) error {
	n.mu.Lock()
	opts.StateDir, opts.Logger = n.opts.StateDir, n.opts.Logger
	n.mu.Unlock()
	if err := opts.validate(); err != nil {
		return err
	}
	n.sendMu.Lock()
	defer n.sendMu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.channels {
		c.stopLoop()
	}
	channels, err := n.openChannels(opts)
	if err != nil {
		if n.runCtx != nil {
			for _, c := range n.channels {
				c.start(n.runCtx)
			}
		}
		return err
	}
	for _, old := range n.channels {
		kept := slices.ContainsFunc(channels, func(c *channel) bool { return c.route.Name == old.route.Name })
		if !kept && old.Pending() > 0 {
			n.log.Warn("alert route removed; its queued alerts stay undelivered on disk",
				"route", old.route.Name, "pending", old.Pending(), "dir", old.queue.dir)
		}
	}
	n.opts, n.channels = opts, channels
	if n.runCtx != nil {
		for _, c := range n.channels {
			c.start(n.runCtx)
		}
	}
	return nil
}

// routeChannels returns the current channels.
func (n *Notifier) routeChannels() []*channel {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.channels
}

// Send stores ev in the queue of every route whose filter passes it, and wakes their
// delivery. It sets ev.ID when it is empty and ev.Time when it is zero. It returns nil
// once the event is on disk in each of those queues: written, fsynced, renamed into
// place and the directory fsynced. It returns an error when a write fails or when ev.ID
// is set but invalid (see Event.ID) or already queued. Events that carry no ID are
// delivered in the order of their Send calls.
func (n *Notifier) Send(ev Event) error {
	n.sendMu.Lock()
	defer n.sendMu.Unlock()
	now := n.now()
	if ev.Time.IsZero() {
		ev.Time = now
	}
	if ev.ID == "" {
		ev.ID = n.ids.next(now)
	} else if err := validateID(ev.ID); err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	var errs []error
	matched := 0
	for _, c := range n.routeChannels() {
		if !c.accepts(ev) {
			continue
		}
		matched++
		if err := c.enqueue(ev); err != nil {
			errs = append(errs, fmt.Errorf("alert: route %q: %w", c.route.Name, err))
		}
	}
	if matched == 0 {
		n.log.Debug("alert passed by no route", "service", ev.Service, "kind", ev.Kind,
			"check", ev.Check, "message", ev.Message)
	}
	return errors.Join(errs...)
}

// Pending returns how many events are queued and not yet delivered, logged or moved to
// the dead letters, over every route.
func (n *Notifier) Pending() int {
	total := 0
	for _, c := range n.routeChannels() {
		total += c.Pending()
	}
	return total
}

// LastError returns the error of the last delivery attempt, a *DeliveryError, or nil
// when that attempt succeeded or none was made yet. With several routes it is the
// latest error of a route whose last attempt failed.
func (n *Notifier) LastError() error {
	var last error
	var at time.Time
	for _, c := range n.routeChannels() {
		c.mu.Lock()
		if c.lastErr != nil && !c.lastErrAt.Before(at) {
			last, at = c.lastErr, c.lastErrAt
		}
		c.mu.Unlock()
	}
	return last
}

// Run delivers every route's queue, oldest event first, until ctx ends: first what a
// previous daemon run left, then each event Send queues. A message that fails
// temporarily is retried with exponential backoff and holds back the later messages of
// its route, not those of other routes. One the destination rejects for good is moved
// to the dead letters and the next one goes on.
//
// Run returns soon after ctx ends, without waiting for a delivery timeout: a delivery
// in progress is cut off and its event stays queued for the next Run. Only one Run may
// run at a time, and a second one panics.
func (n *Notifier) Run(ctx context.Context) {
	if !n.running.CompareAndSwap(false, true) {
		panic("alert: Run called while another Run of the same Notifier is running")
	}
	defer n.running.Store(false)

	n.mu.Lock()
	n.runCtx = ctx
	for _, c := range n.channels {
		c.start(ctx)
	}
	n.mu.Unlock()
	<-ctx.Done()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.runCtx = nil
	for _, c := range n.channels {
		c.stopLoop()
	}
}
