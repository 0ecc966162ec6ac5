package alert

import "time"

// Status describes the alert pipeline for the status output.
type Status struct {
	// Pending counts the queued events not yet delivered.
	Pending int
	// LastError is the error of the last delivery attempt, empty when it succeeded or
	// none was made; LastErrorAt is when it happened.
	LastError   string
	LastErrorAt time.Time
	// Failures counts the failed delivery attempts since the daemon started.
	Failures uint64
}

// Status returns the state of the queue and of the last delivery.
func (n *Notifier) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	st := Status{Pending: n.pending, Failures: n.failures}
	if n.lastErr != nil {
		st.LastError, st.LastErrorAt = n.lastErr.Error(), n.lastErrAt
	}
	return st
}
