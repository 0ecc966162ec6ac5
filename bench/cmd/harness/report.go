package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the figures were measured.
type machine struct {
	CPU, Kernel, OS, Memory string
	Cores                   int
	Versions                map[string]string
	Date                    string
}

func describeMachine(b binaries) machine {
	m := machine{Cores: runtime.NumCPU(), Date: time.Now().UTC().Format("2006-01-02")}
	m.CPU = fileValue("/proc/cpuinfo", "model name", ":")
	m.Memory = fileValue("/proc/meminfo", "MemTotal", ":")
	if kb, err := strconv.ParseFloat(strings.TrimSuffix(m.Memory, " kB"), 64); err == nil {
		m.Memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
	}
	m.OS = strings.Trim(fileValue("/etc/os-release", "PRETTY_NAME", "="), `"`)
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	m.Versions = map[string]string{
		"tend":        firstLine(b.Tend, "version"),
		"Monit":       firstLine(b.Monit, "-V"),
		"supervisord": firstLine(b.Supervisord, "--version"),
		"mailpit":     firstLine(b.Mailpit, "version"),
		"Go":          runtime.Version(),
	}
	return m
}

// fileValue returns the value of the first line of file that starts with key,
// after sep.
func fileValue(file, key, sep string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.HasPrefix(line, key) {
			if _, value, ok := strings.Cut(line, sep); ok {
				return strings.TrimSpace(value)
			}
		}
	}
	return "unknown"
}

func firstLine(bin string, args ...string) string {
	out, err := exec.CommandContext(context.Background(), bin, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// report turns results into text, Markdown and a chart.
type report struct {
	plan    plan
	res     *results
	machine machine
	args    []string
	took    time.Duration
}

// cell returns the figure of one tool, or "n/a" when the tool cannot do the measured thing.
func (r *report) cell(m metric, tool toolKind, n int) string {
	if _, no := m.Unsupported[tool]; no {
		return "n/a"
	}
	return r.res.get(m, tool, n).format(m.Unit)
}

// ratio returns tend's median divided by its peer's, or "–" when either is missing.
func (r *report) ratio(m metric, tend toolKind, n int) string {
	a, b := r.res.get(m, tend, n), r.res.get(m, tend.peer(), n)
	if a.Count == 0 || b.Count == 0 {
		return "–"
	}
	if b.Median == 0 {
		if a.Median == 0 {
			return "1"
		}
		return "∞"
	}
	return number(a.Median/b.Median) + "×"
}

// ratioTools returns the tend configurations measured together with their peers.
func (r *report) ratioTools() []toolKind {
	var out []toolKind
	for _, k := range []toolKind{tendExternal, tendOwned} {
		if r.measured(k) && r.measured(k.peer()) {
			out = append(out, k)
		}
	}
	return out
}

func (r *report) measured(k toolKind) bool {
	for _, t := range r.plan.Tools {
		if t == k {
			return true
		}
	}
	return false
}

// table returns the rows of one metric: N, each tool, then each ratio.
func (r *report) table(m metric) (header []string, rows [][]string) {
	header = []string{"N"}
	for _, t := range r.plan.Tools {
		header = append(header, t.label())
	}
	for _, t := range r.ratioTools() {
		header = append(header, t.label()+" / "+t.peer().label())
	}
	for _, n := range r.plan.Sizes {
		row := []string{fmt.Sprint(n)}
		for _, t := range r.plan.Tools {
			row = append(row, r.cell(m, t, n))
		}
		for _, t := range r.ratioTools() {
			row = append(row, r.ratio(m, t, n))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// print writes every table as aligned text.
func (r *report) print(w io.Writer) {
	for _, m := range allMetrics {
		header, rows := r.table(m)
		fmt.Fprintf(w, "\n%s\n", m.Title)
		widths := make([]int, len(header))
		for _, row := range append([][]string{header}, rows...) {
			for i, c := range row {
				widths[i] = max(widths[i], len([]rune(c)))
			}
		}
		for _, row := range append([][]string{header}, rows...) {
			for i, c := range row {
				fmt.Fprintf(w, "  %-*s", widths[i], c)
			}
			fmt.Fprintln(w)
		}
	}
	for _, f := range r.res.Failures {
		fmt.Fprintln(w, "failed:", f)
	}
}

// writePage writes the Markdown page; chart is the PNG's path, linked from the page.
func (r *report) writePage(path, chart string) error {
	var b strings.Builder
	r.writeIntro(&b)
	for _, m := range allMetrics {
		header, rows := r.table(m)
		fmt.Fprintf(&b, "\n### %s\n\n", upperFirst(m.Title))
		fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat(" --- |", len(header)))
		for _, row := range rows {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
		}
		for _, t := range r.plan.Tools {
			if why, no := m.Unsupported[t]; no {
				fmt.Fprintf(&b, "\nn/a for %s: %s.\n", t.label(), why)
			}
		}
	}
	if chart != "" {
		rel, err := filepath.Rel(filepath.Dir(path), chart)
		if err != nil {
			rel = chart
		}
		fmt.Fprintf(&b, "\n## Chart\n\n![%s](%s)\n\n%s\n", chartTitle, rel, r.chartLegend())
	}
	if len(r.res.Failures) > 0 {
		b.WriteString("\n## Failed steps\n\n")
		for _, f := range r.res.Failures {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
