package alert

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// delivery is the state of one Run. Only Run's goroutine touches it.
type delivery struct {
	c *channel
	// names lists the queue files not handled yet in this pass, oldest first. The
	// first one blocks the others until it is delivered or moved to the dead letters.
	names []string
	// attempt counts the attempts at names[0], or at listing the queue while names is
	// empty.
	attempt int
	// lastWarned is the logKey of the last failure logged at Warn. A success clears it,
	// so the first failure of the next outage is logged again.
	lastWarned string
	// lastFailover is the logKey of the server failures last logged for a message
	// that a later server delivered.
	lastFailover string
	// stuck contains files that are done with but could not be removed or moved. They
	// are skipped, so a delivered message is not sent twice in this Run.
	stuck map[string]bool

	// batcher decides when events go out and which go together. capLogged is true
	// once the hourly cap held events back, until the next message.
	batcher   batcher
	capLogged bool
}

// queued is an event read from the queue, with its file name.
type queued struct {
	name string
	ev   Event
}

func (d *delivery) loop(ctx context.Context) {
	for ctx.Err() == nil {
		if len(d.names) == 0 && !d.refill(ctx) {
			continue
		}
		if d.c.transport == nil {
			wait, done := d.logEvent(d.names[0])
			if done {
				d.names = d.names[1:]
				d.attempt = 0
				continue
			}
			sleep(ctx, wait)
			continue
		}
		batch, readErr := d.readBatch()
		if len(batch) == 0 {
			if readErr != nil {
				d.attempt++
				sleep(ctx, d.retry(Event{ID: strings.TrimSuffix(d.names[0], queueFileSuffix)}, readErr))
			}
			continue
		}
		times := make([]time.Time, len(batch))
		for i, q := range batch {
			times[i] = q.ev.Time
		}
		if d.c.n.flushing.Load() {
			d.batcher.window = 0 // tend is stopping: what waits for the digest goes now.
		}
		n, wait := d.batcher.plan(times, d.c.n.now())
		if n == 0 {
			if wait > d.batcher.window && !d.capLogged {
				d.capLogged = true
				d.c.log.Warn("hourly alert cap reached, holding alerts", "max_per_hour", d.batcher.maxPerHour,
					"pending", len(batch), "next_message_in", wait.Round(time.Second))
			}
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			case <-d.c.n.flush:
			}
			d.names = nil // List again: more events may have come meanwhile.
			continue
		}
		wait, done := d.deliverBatch(ctx, batch[:n])
		if done {
			d.names = nil
			d.attempt = 0
			continue
		}
		sleep(ctx, wait)
	}
}

// readBatch reads the events of d.names, oldest first, up to maxDigest. It drops the
// names of files that are gone and moves corrupt ones to the dead letters. It stops at
// the first other read error and returns it with the events read before it.
func (d *delivery) readBatch() ([]queued, error) {
	var batch []queued
	var kept []string
	for i, name := range d.names {
		if len(batch) == maxDigest {
			kept = append(kept, d.names[i:]...)
			break
		}
		ev, err := d.c.queue.read(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			d.c.addPending(-1)
			continue
		case errors.Is(err, errCorrupt):
			ev.ID = strings.TrimSuffix(name, queueFileSuffix)
			d.reject(name, ev, &DeliveryError{ID: ev.ID, Permanent: true, Err: err})
			continue
		case err != nil:
			d.names = append(kept, d.names[i:]...)
			return batch, err
		}
		batch = append(batch, queued{name: name, ev: ev})
		kept = append(kept, name)
	}
	d.names = kept
	return batch, nil
}

// deliverBatch makes one attempt at sending batch as one message. It reports done when
// its files are finished with (delivered or moved to the dead letters), and otherwise
// how long to wait before the next attempt.
func (d *delivery) deliverBatch(ctx context.Context, batch []queued) (wait time.Duration, done bool) {
	d.attempt++
	now := d.c.n.now()
	events := make([]Event, len(batch))
	for i, q := range batch {
		events[i] = q.ev
	}
	reported := d.c.snapshotCounts()
	result, err := d.c.transport.deliverBatch(ctx, events, d.notes(reported), now)
	first := events[0]
	if err == nil {
		d.c.setLastError(nil)
		d.lastWarned = ""
		d.logFailover(first, result)
		d.c.log.Info("alert sent", "service", first.Service, "kind", first.Kind, "id", first.ID,
			"events", len(events), "attempt", d.attempt, "server", result.server,
			"delay", now.Sub(first.Time).Round(time.Millisecond))
		d.batcher.delivered(now)
		d.capLogged = false
		d.c.updateCounts(func(c *channelCounts) {
			c.Dead -= reported.Dead
			c.Discarded -= reported.Discarded
			c.Sent = slices.Clone(d.batcher.sent)
		})
		for _, q := range batch {
			d.finish(q.name)
		}
		return 0, true
	}
	if ctx.Err() != nil {
		// Shutdown cut the attempt off. The events stay queued for the next Run.
		return 0, false
	}

	d.c.setLastError(err)
	var de *DeliveryError
	if errors.As(err, &de) && de.Permanent {
		for _, q := range batch {
			d.reject(q.name, q.ev, de)
		}
		return 0, true
	}
	return d.retry(first, err), false
}

// notes returns the sentences that the next delivered message adds about what the
// queue could not deliver, from the counts of its channel.
func (d *delivery) notes(counts channelCounts) []string {
	var notes []string
	if counts.Dead > 0 {
		notes = append(notes, fmt.Sprintf("%d earlier alert(s) could not be delivered: the %s "+
			"rejected them for good. They are kept in %s.", counts.Dead, d.c.destinationWord(), d.c.queue.deadDir))
	}
	if n := counts.Discarded; n > 0 {
		notes = append(notes, fmt.Sprintf("%d alert(s) were discarded unsent because the queue reached "+
			"its limit of %d.", n, d.c.opts.QueueLimit))
	}
	return notes
}

// refill lists the queue into d.names and reports whether it found anything. When it
// did not, it has already waited: for Send to wake it, for ctx to end, or for the
// backoff after a failed listing.
func (d *delivery) refill(ctx context.Context) bool {
	names, err := d.c.queue.names()
	if err != nil {
		d.attempt++
		wait := d.backoff()
		if d.isNewFailure(err) {
			d.c.log.Warn("read alert queue failed, will retry", "attempt", d.attempt,
				"retry_in", wait, "err", err)
		}
		sleep(ctx, wait)
		return false
	}
	d.attempt = 0
	d.names = slices.DeleteFunc(names, func(name string) bool { return d.stuck[name] })
	if len(d.names) > 0 {
		return true
	}
	select {
	case <-ctx.Done():
	case <-d.c.wake:
	}
	return false
}

// logEvent logs the event in the queue file name when no mail is configured, and
// removes the file. It reports done when the file is finished with (logged, moved to
// the dead letters or gone), and otherwise how long to wait before the next attempt.
func (d *delivery) logEvent(name string) (wait time.Duration, done bool) {
	d.attempt++
	ev, err := d.c.queue.read(name)
	if err != nil {
		ev.ID = strings.TrimSuffix(name, queueFileSuffix)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.c.addPending(-1)
		return 0, true
	case errors.Is(err, errCorrupt):
		d.reject(name, ev, &DeliveryError{ID: ev.ID, Permanent: true, Err: err})
		return 0, true
	case err != nil:
		return d.retry(ev, err), false
	}
	d.c.log.Info("alert logged, mail not configured", "service", ev.Service, "kind", ev.Kind,
		"id", ev.ID, "host", ev.Host, "check", ev.Check, "observed", ev.Observed,
		"threshold", ev.Threshold, "action", ev.Action, "message", ev.Message)
	d.finish(name)
	return 0, true
}

// logFailover logs at Warn that servers failed before result.server accepted the
// message, when their failures differ from those logged last. A delivery through the
// first server clears the memory, so the next failover is logged again.
func (d *delivery) logFailover(ev Event, result sent) {
	if result.skipped == nil {
		d.lastFailover = ""
		return
	}
	key := logKey(result.skipped)
	if key == d.lastFailover {
		return
	}
	d.lastFailover = key
	d.c.log.Warn("mail server failed, a later server delivered the alert", "service", ev.Service,
		"kind", ev.Kind, "id", ev.ID, "server", result.server, "err", result.skipped)
}

// retry logs a temporary failure, at Warn only when it differs from the last one
// logged, and returns the backoff before the next attempt.
func (d *delivery) retry(ev Event, err error) time.Duration {
	wait := d.backoff()
	if d.isNewFailure(err) {
		d.c.log.Warn("alert delivery failed, will retry", "service", ev.Service, "kind", ev.Kind,
			"id", ev.ID, "attempt", d.attempt, "retry_in", wait, "err", err)
	}
	return wait
}

// isNewFailure reports whether err differs from the last failure logged at Warn, and
// remembers it.
func (d *delivery) isNewFailure(err error) bool {
	key := logKey(err)
	if key == d.lastWarned {
		return false
	}
	d.lastWarned = key
	return true
}

// reject moves a message that can never be delivered to the dead letters and logs it.
func (d *delivery) reject(name string, ev Event, de *DeliveryError) {
	path, err := d.c.queue.bury(name)
	// Uncounted only now, so that a reader who sees nothing pending finds the file
	// in the dead letters.
	d.c.updateCounts(func(c *channelCounts) { c.Dead++ })
	d.c.addPending(-1)
	if err != nil {
		d.stuck[name] = true
		d.c.log.Error("alert rejected, moving it to dead letters failed", "service", ev.Service,
			"kind", ev.Kind, "id", ev.ID, "server", de.Server, "code", de.Code, "err", de,
			"move_err", err)
		return
	}
	d.c.log.Error("alert rejected, moved to dead letters", "service", ev.Service,
		"kind", ev.Kind, "id", ev.ID, "attempt", d.attempt, "server", de.Server, "code", de.Code,
		"path", path, "err", de)
}

// finish removes a file whose event was delivered or logged.
func (d *delivery) finish(name string) {
	err := d.c.queue.remove(name)
	d.c.addPending(-1) // After the removal, as reject does.
	if err != nil {
		// NOTE: the file stays in the outbox, so the next daemon run delivers it again.
		// The Message-ID is the same, so the recipient can recognise the duplicate.
		d.stuck[name] = true
		d.c.log.Error("remove finished alert from queue", "file", name, "err", err)
	}
}

// backoff returns the wait after attempt d.attempt failed: RetryMin doubled for each
// earlier failure, at most RetryMax.
func (d *delivery) backoff() time.Duration {
	lo, hi := d.c.opts.RetryMin, d.c.opts.RetryMax
	wait := lo
	for i := 1; i < d.attempt; i++ {
		if wait >= hi/2 {
			return hi
		}
		wait *= 2
	}
	return min(wait, hi)
}

// sleep waits for wait or until ctx ends.
func sleep(ctx context.Context, wait time.Duration) {
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
