package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"tend/alert"
	"tend/checks"
	"tend/config"
	"tend/supervisor"
)

func TestMetrics(t *testing.T) {
	started := time.Unix(1_700_000_000, 0)
	b := &fakeBackend{
		statuses: []supervisor.ServiceStatus{
			{
				Name: "redis", State: supervisor.StateRunning, PID: 4242, Started: started, Restarts: 2,
				History:    []supervisor.Restart{{Time: started, Trigger: "crash"}},
				UsageKnown: true,
				Usage:      checks.Usage{CPUKnown: true, TotalCPU: 12.5, TotalMemory: 600 << 20},
				Checks: []supervisor.CheckStatus{
					{Name: "tcp 127.0.0.1:6379", Known: true, OK: true, Duration: 3 * time.Millisecond},
					{Name: "cpu", Known: true, OK: false, Failing: true},
					{Name: "memory"},
				},
			},
			{Name: "sidekiq", State: supervisor.StateFailed},
		},
		alerts: alert.Status{Pending: 3, Failures: 7},
	}
	s := startServer(t, &config.HTTP{Listen: "127.0.0.1:0", Users: testUsers(t)}, b)
	s.ObserveCycle(supervisor.CycleStats{Cycle: 1, Duration: 2 * time.Millisecond})
	s.ObserveCycle(supervisor.CycleStats{Cycle: 2, Duration: 3 * time.Millisecond})

	resp := do(t, http.DefaultClient, "GET", s.URL()+"/metrics", func(r *http.Request) {
		r.SetBasicAuth(viewerName, viewerPassword)
	})
	if resp.status != 200 {
		t.Fatalf("GET /metrics: status %d; body %q", resp.status, resp.body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(resp.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, resp.body)
	}

	tests := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"tend_up", map[string]string{"service": "redis"}, 1},
		{"tend_up", map[string]string{"service": "sidekiq"}, 0},
		{"tend_service_state", map[string]string{"service": "redis", "state": "running"}, 1},
		{"tend_service_state", map[string]string{"service": "redis", "state": "failed"}, 0},
		{"tend_service_state", map[string]string{"service": "sidekiq", "state": "failed"}, 1},
		{"tend_service_state", map[string]string{"service": "sidekiq", "state": "unmonitored"}, 0},
		{"tend_service_restarts", map[string]string{"service": "redis"}, 2},
		{"tend_service_last_restart_timestamp_seconds", map[string]string{"service": "redis"}, 1_700_000_000},
		{"tend_service_start_time_seconds", map[string]string{"service": "redis"}, 1_700_000_000},
		{"tend_service_cpu_percent", map[string]string{"service": "redis"}, 12.5},
		{"tend_service_memory_bytes", map[string]string{"service": "redis"}, 600 << 20},
		{"tend_check_ok", map[string]string{"service": "redis", "check": "tcp 127.0.0.1:6379"}, 1},
		{"tend_check_ok", map[string]string{"service": "redis", "check": "cpu"}, 0},
		{"tend_check_failing", map[string]string{"service": "redis", "check": "cpu"}, 1},
		{"tend_check_failing", map[string]string{"service": "redis", "check": "tcp 127.0.0.1:6379"}, 0},
		{"tend_check_duration_seconds", map[string]string{"service": "redis", "check": "tcp 127.0.0.1:6379"}, 0.003},
		{"tend_alert_queue_depth", nil, 3},
		{"tend_alert_delivery_failures_total", nil, 7},
	}
	for _, tt := range tests {
		m := findMetric(families[tt.family], tt.labels)
		if m == nil {
			t.Errorf("%s%v: missing", tt.family, tt.labels)
			continue
		}
		if got := metricValue(m); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.family, tt.labels, got, tt.want)
		}
	}

	if n := len(families["tend_service_state"].GetMetric()); n != 12 {
		t.Errorf("tend_service_state has %d series, want 6 states for each of 2 services", n)
	}
	if m := findMetric(families["tend_check_ok"], map[string]string{"service": "redis", "check": "memory"}); m != nil {
		t.Errorf("tend_check_ok for a check never evaluated: %v, want no series", m)
	}
	if m := findMetric(families["tend_service_memory_bytes"], map[string]string{"service": "sidekiq"}); m != nil {
		t.Errorf("tend_service_memory_bytes for a service without a process: %v, want no series", m)
	}
	cycles := families["tend_cycle_duration_seconds"]
	if cycles.GetType() != dto.MetricType_HISTOGRAM || len(cycles.GetMetric()) != 1 {
		t.Fatalf("tend_cycle_duration_seconds = %v, want one histogram", cycles)
	}
	if h := cycles.GetMetric()[0].GetHistogram(); h.GetSampleCount() != 2 || h.GetSampleSum() != 0.005 {
		t.Errorf("tend_cycle_duration_seconds: count %d, sum %v; want 2 and 0.005", h.GetSampleCount(), h.GetSampleSum())
	}
	if got := families["tend_alert_delivery_failures_total"].GetType(); got != dto.MetricType_COUNTER {
		t.Errorf("tend_alert_delivery_failures_total has type %v, want counter", got)
	}
}

// findMetric returns the series of f whose labels are exactly labels, or nil.
func findMetric(f *dto.MetricFamily, labels map[string]string) *dto.Metric {
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if match {
			return m
		}
	}
	return nil
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	}
	return -1
}
