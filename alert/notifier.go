package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	opts Options
	log  *slog.Logger
	// channels holds one channel per route. Without a route, one channel logs each
	// event instead of delivering it.
	channels []*channel
	now      func() time.Time

	// sendMu serialises Send, so that the order of the IDs is the order in which the
	// events reach the disk.
	sendMu sync.Mutex
	ids    *idSource

	running atomic.Bool
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
	n := &Notifier{opts: opts, log: opts.Logger, now: time.Now, ids: ids}
	routes := opts.Routes
	if len(routes) == 0 {
		// Without routes, the recipients of Mail get every event; without those, each
		// event is logged.
		routes = []Route{{}}
		if opts.Mail != nil {
			routes[0].To = opts.Mail.To
		}
	}
	for _, r := range routes {
		c, err := openChannel(n, r, newTransport(r, opts.Mail))
		if err != nil {
			return nil, fmt.Errorf("alert: route %q: %w", r.Name, err)
		}
		n.channels = append(n.channels, c)
	}
	return n, nil
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
	taken := 0
	for _, c := range n.channels {
		if !c.accepts(ev) {
			continue
		}
		taken++
		if err := c.enqueue(ev); err != nil {
			errs = append(errs, fmt.Errorf("alert: route %q: %w", c.route.Name, err))
		}
	}
	if taken == 0 {
		n.log.Debug("alert passed by no route", "service", ev.Service, "kind", ev.Kind,
			"check", ev.Check, "message", ev.Message)
	}
	return errors.Join(errs...)
}

// Pending returns how many events are queued and not yet delivered, logged or moved to
// the dead letters, over every route.
func (n *Notifier) Pending() int {
	total := 0
	for _, c := range n.channels {
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
	for _, c := range n.channels {
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

	var wg sync.WaitGroup
	for _, c := range n.channels {
		dest := "log"
		if c.transport != nil {
			dest = c.transport.String()
		}
		c.log.Info("alert delivery started", "pending", c.Pending(), "destination", dest)
		d := &delivery{c: c, stuck: map[string]bool{},
			batcher: batcher{window: n.opts.DigestWindow, maxPerHour: n.opts.MaxPerHour,
				sent: c.snapshotCounts().Sent}}
		wg.Go(func() {
			d.loop(ctx)
			c.log.Info("alert delivery stopped", "pending", c.Pending())
		})
	}
	wg.Wait()
}
