package alert

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Notifier queues events durably and delivers them by mail in the order they were
// queued.
//
// Any goroutine may call Send, Pending and LastError. The owner starts Run in one
// goroutine and stops it by cancelling its context. The delivery state lives in that
// goroutine alone.
type Notifier struct {
	opts  Options
	log   *slog.Logger
	queue *queue
	// mailer is nil when Options.Mail is nil.
	mailer *mailer
	// wake signals Run that Send queued an event. It has room for one signal, so a
	// signal sent while Run is busy is kept, and further ones add nothing.
	wake chan struct{}
	now  func() time.Time

	// sendMu serialises Send, so that the order of the IDs is the order in which the
	// events reach the disk.
	sendMu sync.Mutex
	ids    *idSource

	// mu guards pending, lastErr, lastErrAt, failures and discards.
	mu        sync.Mutex
	pending   int
	lastErr   error
	lastErrAt time.Time
	failures  uint64
	// discards counts the events discarded at the queue limit since the last delivery.
	// NOTE: the count lives in memory and a restart of tend resets it. Each discard is
	// logged when it happens.
	discards int

	running atomic.Bool
}

// New opens the queue under opts.StateDir, creating its directories, and returns a
// Notifier that delivers nothing until Run. It returns an error when opts are invalid or
// the queue cannot be opened.
func New(opts Options) (*Notifier, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	q, err := openQueue(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	names, err := q.names()
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	ids, err := newIDSource()
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}

	n := &Notifier{
		opts:    opts,
		log:     opts.Logger,
		queue:   q,
		wake:    make(chan struct{}, 1),
		now:     time.Now,
		ids:     ids,
		pending: len(names),
	}
	if opts.Mail != nil {
		n.mailer = newMailer(opts.Mail)
	}
	return n, nil
}

// Send stores ev in the queue and wakes Run. It sets ev.ID when it is empty and ev.Time
// when it is zero. It returns nil once the event is on disk: written, fsynced, renamed
// into place and the directory fsynced. It returns an error, with nothing queued, when
// the write fails or when ev.ID is set but invalid (see Event.ID) or already queued.
// Events that carry no ID are delivered in the order of their Send calls.
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

	// Count the event before it is on disk: Run may deliver it, and uncount it, before
	// this goroutine runs again.
	n.addPending(1)
	if err := n.queue.write(ev); err != nil {
		n.addPending(-1)
		return fmt.Errorf("alert: %w", err)
	}
	if limit := n.opts.QueueLimit; limit > 0 && n.Pending() > limit {
		n.discardOldest(n.Pending() - limit)
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
	return nil
}

// Pending returns how many events are queued and not yet delivered, logged or moved to
// the dead letters.
func (n *Notifier) Pending() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pending
}

// LastError returns the error of the last delivery attempt, a *DeliveryError, or nil
// when that attempt succeeded or none was made yet.
func (n *Notifier) LastError() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastErr
}

func (n *Notifier) addPending(delta int) {
	n.mu.Lock()
	n.pending += delta
	n.mu.Unlock()
}

func (n *Notifier) setLastError(err error) {
	n.mu.Lock()
	n.lastErr = err
	if err != nil {
		n.lastErrAt = n.now()
		n.failures++
	}
	n.mu.Unlock()
}

// Run delivers the queue, oldest event first, until ctx ends: first what a previous
// daemon run left, then each event Send queues. A message that fails temporarily is
// retried with exponential backoff and holds back the messages after it. One the server
// rejects for good is moved to the dead letters and the next one goes on.
//
// Run returns soon after ctx ends, without waiting for the mail timeout: an SMTP
// dialogue in progress is cut off and its event stays queued for the next Run. Only one Run may run at a time, and a
// second one panics.
func (n *Notifier) Run(ctx context.Context) {
	if !n.running.CompareAndSwap(false, true) {
		panic("alert: Run called while another Run of the same Notifier is running")
	}
	defer n.running.Store(false)

	n.log.Info("alert delivery started", "pending", n.Pending(), "mail", n.mailer != nil)
	d := &delivery{n: n, stuck: map[string]bool{},
		batcher: batcher{window: n.opts.DigestWindow, maxPerHour: n.opts.MaxPerHour}}
	d.loop(ctx)
	n.log.Info("alert delivery stopped", "pending", n.Pending())
}

// discardOldest removes the count oldest queued events to keep the queue within its
// limit, and counts and logs each.
func (n *Notifier) discardOldest(count int) {
	names, err := n.queue.names()
	if err != nil {
		n.log.Error("queue limit reached, listing the queue failed", "err", err)
		return
	}
	for _, name := range names[:min(count, len(names))] {
		ev, _ := n.queue.read(name)
		if err := os.Remove(filepath.Join(n.queue.dir, name)); err != nil {
			continue // Delivered or discarded meanwhile.
		}
		_ = syncDir(n.queue.dir)
		n.mu.Lock()
		n.pending--
		n.discards++
		n.mu.Unlock()
		n.log.Error("alert queue limit reached, oldest alert discarded", "limit", n.opts.QueueLimit,
			"id", ev.ID, "service", ev.Service, "kind", ev.Kind, "message", ev.Message)
	}
}

// discarded returns the count of events discarded since the last delivery.
func (n *Notifier) discarded() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.discards
}

// takeDiscarded resets the count after a delivered message reported it.
func (n *Notifier) takeDiscarded() {
	n.mu.Lock()
	n.discards = 0
	n.mu.Unlock()
}
