package supervisor

import (
	"log/slog"
	"slices"
	"testing"

	"tend/config"
)

// Checks that test different things of one target get names that tell them apart, and
// checks that differ only in their limit get the limit in their names.
func TestCheckNamesUnique(t *testing.T) {
	pct := func(v float64) config.Limit { return config.Limit{Value: v, Unit: config.UnitPercent} }
	svc := newService(config.Service{Name: "host", Checks: []config.Check{
		{Type: config.CheckHostCPU, Usage: config.CPUUsageTotal, Limit: pct(95)},
		{Type: config.CheckHostCPU, Usage: config.CPUUsageIOWait, Limit: pct(30)},
		{Type: config.CheckHostMemory, Limit: pct(85)},
		{Type: config.CheckHostMemory, Limit: pct(95)},
		{Type: config.CheckFile, Path: "/srv/dump", Owner: -1, Group: -1},
		{Type: config.CheckFile, Path: "/srv/dump", Owner: -1, Group: -1, HasMode: true, Checksum: true},
		{Type: config.CheckProgram, Command: []string{"check-queue", "--max", "10"}},
		{Type: config.CheckProgram, Command: []string{"check-queue", "--max", "10"}},
	}}, slog.New(slog.DiscardHandler))
	var got []string
	for _, cs := range svc.checks {
		got = append(got, cs.name)
	}
	want := []string{
		"host_cpu", "host_cpu iowait", "host_memory > 85%", "host_memory > 95%",
		"file /srv/dump", "file /srv/dump (mode, checksum)",
		"program check-queue --max 10", "program check-queue --max 10 #2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("names\n\t%q\nwant\n\t%q", got, want)
	}
}
