package alert

import "time"

// Status describes the alert pipeline for the status output.
type Status struct {
	// Pending counts the queued events not yet delivered, over every route.
	Pending int
	// LastError is the error of the latest failed delivery attempt of any route whose
	// last attempt failed, empty when none did; LastErrorAt is when it happened.
	LastError   string
	LastErrorAt time.Time
	// Failures counts the failed delivery attempts since the daemon started.
	Failures uint64
	// Routes describes each route's queue.
	Routes []ChannelStatus
}

// ChannelStatus describes the queue and delivery of one route.
type ChannelStatus struct {
	Route string
	// Destination names where the route delivers, without secrets: "mail to ...", a
	// webhook's scheme and host, or "log" when no destination is configured.
	Destination string
	Pending     int
	LastError   string
	LastErrorAt time.Time
	Failures    uint64
	// Dead and Discarded count the messages moved to the dead letters and the events
	// discarded at the queue limit since the route's last delivered message.
	Dead, Discarded int
}

// Status returns the state of the queues and of the last deliveries.
func (n *Notifier) Status() Status {
	var st Status
	for _, c := range n.routeChannels() {
		cs := c.status()
		st.Routes = append(st.Routes, cs)
		st.Pending += cs.Pending
		st.Failures += cs.Failures
		if cs.LastError != "" && cs.LastErrorAt.After(st.LastErrorAt) {
			st.LastError, st.LastErrorAt = cs.LastError, cs.LastErrorAt
		}
	}
	return st
}
