package main

// metric is one figure that the harness measures for each tool and N.
type metric struct {
	ID    string
	Title string
	Unit  string
	// Unsupported gives, per tool, why the tool has no such figure.
	Unsupported map[toolKind]string
}

const (
	noProbe   = "no health checks: supervisord watches only its children's exit"
	noAlert   = "no alert mail without an event listener, which the supervisor package does not ship"
	noAdopt   = "starts its programs itself and stops them when it exits, so nothing is left to adopt"
	noReload  = "measured for tend only"
	noValidte = "no command that validates a configuration without starting"
	noCycle   = "no cycle: it reacts to SIGCHLD and wakes at least once a second"
)

var (
	mStart = metric{ID: "start", Title: "daemon start to all services running (must start them)", Unit: "ms"}
	mAdopt = metric{ID: "adopt", Title: "daemon start to all services running (already running)", Unit: "ms",
		Unsupported: map[toolKind]string{supervisord: noAdopt}}
	mTwice = metric{ID: "twice", Title: "services started twice on that start", Unit: "",
		Unsupported: map[toolKind]string{supervisord: noAdopt}}
	mRSS     = metric{ID: "rss", Title: "daemon resident memory, steady", Unit: "MiB"}
	mPrivate = metric{ID: "private", Title: "daemon private memory, steady", Unit: "MiB"}
	mCPU     = metric{ID: "cpu", Title: "daemon CPU per cycle, steady", Unit: "ms",
		Unsupported: map[toolKind]string{supervisord: noCycle}}
	mCycle = metric{ID: "cycle", Title: "cycle length, steady", Unit: "s",
		Unsupported: map[toolKind]string{supervisord: noCycle}}
	mCPURate = metric{ID: "cpu-rate", Title: "daemon CPU per second of wall time, steady", Unit: "ms/s"}
	mReplace = metric{ID: "replace", Title: "kill -9 to replacement running", Unit: "ms"}
	mPort    = metric{ID: "port", Title: "kill -9 to port answering", Unit: "ms"}
	mMail    = metric{ID: "mail", Title: "kill -9 to alert mail in mailpit", Unit: "ms",
		Unsupported: map[toolKind]string{supervisord: noAlert}}
	mHang = metric{ID: "hang", Title: "SIGSTOP (hung) to replacement running", Unit: "ms",
		Unsupported: map[toolKind]string{supervisord: noProbe}}
	mValidate = metric{ID: "validate", Title: "load and validate the configuration", Unit: "ms",
		Unsupported: map[toolKind]string{supervisord: noValidte}}
	mReload = metric{ID: "reload", Title: "reload after one drop-in changed", Unit: "ms",
		Unsupported: map[toolKind]string{monit: noReload, supervisord: noReload}}
)

// allMetrics lists the metrics in the order of the report.
var allMetrics = []metric{
	mRSS, mPrivate, mCPU, mCycle, mCPURate, mReplace, mPort, mMail, mHang,
	mStart, mAdopt, mTwice, mValidate, mReload,
}

// resultKey names the measurements of one metric for one tool at one N.
type resultKey struct {
	Metric string
	Tool   toolKind
	N      int
}

// results collects measurements and the failures met while taking them.
type results struct {
	Values map[resultKey][]float64
	// Failures lists what went wrong, each naming the tool, N and step.
	Failures []string
}

func newResults() *results { return &results{Values: map[resultKey][]float64{}} }

func (r *results) add(m metric, tool toolKind, n int, v float64) {
	k := resultKey{m.ID, tool, n}
	r.Values[k] = append(r.Values[k], v)
}

func (r *results) get(m metric, tool toolKind, n int) summary {
	return summarize(r.Values[resultKey{m.ID, tool, n}])
}
