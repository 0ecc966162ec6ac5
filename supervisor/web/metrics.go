package web

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tend/supervisor"
	"tend/supervisor/api"
)

// states lists every service state, each a label value of tend_service_state.
var states = []supervisor.State{
	supervisor.StateStarting, supervisor.StateRunning, supervisor.StateFailed,
	supervisor.StateStopping, supervisor.StateStopped, supervisor.StateUnmonitored,
}

func newCycleHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "tend_cycle_duration_seconds",
		Help: "Time each cycle took on the supervisor's loop, probes excluded.",
		// 100µs to about 26s, each bucket four times the one before.
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
	})
}

// metricsHandler serves /metrics from a registry of its own: the collector that reads
// the backend at each scrape, and the cycle histogram.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{backend: s.opts.Backend}, s.cycles)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{s},
		ErrorHandling: promhttp.HTTPErrorOnError,
	})
}

// slogPrinter passes the errors of promhttp to the server's logger.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.log.Warn("serve metrics", "err", v) }

// collector turns the backend's status into metrics at each scrape.
type collector struct {
	backend api.Backend
}

var (
	descUp = prometheus.NewDesc("tend_up",
		"1 when the service is in state running, 0 otherwise.", []string{"service"}, nil)
	descState = prometheus.NewDesc("tend_service_state",
		"1 for the state the service is in, 0 for the others.", []string{"service", "state"}, nil)
	descRestarts = prometheus.NewDesc("tend_service_restarts",
		"Restarts within the current window of the service's restart limit.", []string{"service"}, nil)
	descLastRestart = prometheus.NewDesc("tend_service_last_restart_timestamp_seconds",
		"Unix time of the latest recorded restart of the service.", []string{"service"}, nil)
	descStart = prometheus.NewDesc("tend_service_start_time_seconds",
		"Unix time at which the service's main process started.", []string{"service"}, nil)
	descCPU = prometheus.NewDesc("tend_service_cpu_percent",
		"CPU used by the main process and its descendants during the last cycle, as a share of all cores from 0 to 100.",
		[]string{"service"}, nil)
	descMemory = prometheus.NewDesc("tend_service_memory_bytes",
		"Resident memory of the main process and its descendants at the last cycle.", []string{"service"}, nil)
	descCheckOK = prometheus.NewDesc("tend_check_ok",
		"1 when the latest result of the check passed, 0 when it failed.", []string{"service", "check"}, nil)
	descCheckFailing = prometheus.NewDesc("tend_check_failing",
		"1 from the check's failure alert until its recovery alert, which for a process check comes once the process stayed up for a minute or stable_after, whichever is shorter.",
		[]string{"service", "check"}, nil)
	descCheckDuration = prometheus.NewDesc("tend_check_duration_seconds",
		"How long the latest run of the probe took.", []string{"service", "check"}, nil)
	descQueue = prometheus.NewDesc("tend_alert_queue_depth",
		"Alert events queued and not yet delivered.", nil, nil)
	descDeliveryFailures = prometheus.NewDesc("tend_alert_delivery_failures_total",
		"Failed alert delivery attempts since the daemon started.", nil, nil)
)

// Describe sends the descriptors of every metric the collector sends.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descUp, descState, descRestarts, descLastRestart, descStart, descCPU, descMemory,
		descCheckOK, descCheckFailing, descCheckDuration, descQueue, descDeliveryFailures,
	} {
		ch <- d
	}
}

// Collect reads the status of every service and the alert queue. A status that cannot
// be read within statusTimeout makes the scrape fail.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	alerts := c.backend.Alerts()
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(alerts.Pending))
	ch <- prometheus.MustNewConstMetric(descDeliveryFailures, prometheus.CounterValue, float64(alerts.Failures))

	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	statuses, err := c.backend.Status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descUp, err)
		return
	}
	for _, st := range statuses {
		collectService(ch, st)
	}
}

func collectService(ch chan<- prometheus.Metric, st supervisor.ServiceStatus) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descUp, boolValue(st.State == supervisor.StateRunning), st.Name)
	for _, state := range states {
		gauge(descState, boolValue(st.State == state), st.Name, state.String())
	}
	gauge(descRestarts, float64(st.Restarts), st.Name)
	if n := len(st.History); n > 0 {
		gauge(descLastRestart, float64(st.History[n-1].Time.UnixNano())/1e9, st.Name)
	}
	if !st.Started.IsZero() {
		gauge(descStart, float64(st.Started.UnixNano())/1e9, st.Name)
	}
	if st.UsageKnown {
		gauge(descMemory, float64(st.Usage.TotalMemory), st.Name)
		if st.Usage.CPUKnown {
			gauge(descCPU, st.Usage.TotalCPU, st.Name)
		}
	}

	seen := map[string]bool{}
	for _, check := range st.Checks {
		// Two rules may test the same thing with different limits; the first one
		// names the series, since a series must be unique.
		if !check.Known || seen[check.Name] {
			continue
		}
		seen[check.Name] = true
		gauge(descCheckOK, boolValue(check.OK), st.Name, check.Name)
		gauge(descCheckFailing, boolValue(check.Failing), st.Name, check.Name)
		if check.Duration > 0 {
			gauge(descCheckDuration, check.Duration.Seconds(), st.Name, check.Name)
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
