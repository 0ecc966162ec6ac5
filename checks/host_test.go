package checks

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"tend/internal/testenv"
)

// readMeminfo returns the fields of /proc/meminfo in bytes.
func readMeminfo(t *testing.T) map[string]uint64 {
	t.Helper()
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for line := range strings.Lines(string(data)) {
		name, rest, ok := strings.Cut(line, ":")
		fields := strings.Fields(rest)
		if !ok || len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			continue
		}
		if len(fields) > 1 && fields[1] == "kB" {
			v *= 1024
		}
		out[name] = v
	}
	return out
}

func TestReadHostMatchesProc(t *testing.T) {
	h, err := ReadHost(context.Background())
	if err != nil {
		t.Fatalf("ReadHost: %v", err)
	}
	info := readMeminfo(t)

	if h.MemTotal != info["MemTotal"] {
		t.Errorf("MemTotal = %d, want %d from /proc/meminfo", h.MemTotal, info["MemTotal"])
	}
	// Available memory moves while other programs run: allow 5% of the total.
	if diff := math.Abs(float64(h.MemAvailable) - float64(info["MemAvailable"])); diff > 0.05*float64(h.MemTotal) {
		t.Errorf("MemAvailable = %d, want about %d from /proc/meminfo", h.MemAvailable, info["MemAvailable"])
	}
	if h.SwapTotal != info["SwapTotal"] {
		t.Errorf("SwapTotal = %d, want %d from /proc/meminfo", h.SwapTotal, info["SwapTotal"])
	}
	if want := info["SwapTotal"] - info["SwapFree"]; math.Abs(float64(h.SwapUsed)-float64(want)) > 0.05*float64(h.SwapTotal)+1 {
		t.Errorf("SwapUsed = %d, want about %d from /proc/meminfo", h.SwapUsed, want)
	}
	if got := h.MemUsedPercent(); got <= 0 || got >= 100 {
		t.Errorf("MemUsedPercent = %.1f, want between 0 and 100", got)
	}

	if want := countStatCPUs(t); h.Cores != want {
		t.Errorf("Cores = %d, want %d cpuN lines in /proc/stat", h.Cores, want)
	}
	if h.CPU.User <= 0 || h.CPU.Idle <= 0 {
		t.Errorf("CPU = %+v, want user and idle time since boot", h.CPU)
	}
	load := readLoadavg(t)
	if math.Abs(h.Load1-load) > 1 {
		t.Errorf("Load1 = %.2f, want about %.2f from /proc/loadavg", h.Load1, load)
	}
}

func countStatCPUs(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(data)) {
		if len(line) > 3 && strings.HasPrefix(line, "cpu") && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return n
}

func readLoadavg(t *testing.T) float64 {
	t.Helper()
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestHostCPUBusyMachine(t *testing.T) {
	cores := runtime.NumCPU()
	startRole(t, "burn", cores)
	ctx := context.Background()

	// Wait for a one-second interval in which the burning goroutines showed up.
	deadline := time.Now().Add(30 * time.Second)
	prev, err := ReadHost(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var usage CPUUsage
	for {
		time.Sleep(time.Second) // the interval CPU is measured over
		cur, err := ReadHost(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		usage, ok = HostCPU(prev, cur)
		if !ok {
			t.Fatalf("HostCPU over one second: ok = false, want true")
		}
		if usage.Total > 60 || time.Now().After(deadline) {
			break
		}
		prev = cur
	}

	if usage.Total <= 60 {
		t.Errorf("HostCPU Total = %.1f with every core busy, want > 60", usage.Total)
	}
	if usage.User <= 40 {
		t.Errorf("HostCPU User = %.1f with spinning goroutines, want > 40", usage.User)
	}
	if sum := usage.User + usage.System; sum > usage.Total+1e-9 {
		t.Errorf("User + System = %.1f, more than Total = %.1f", sum, usage.Total)
	}
	if usage.Total > 100 {
		t.Errorf("HostCPU Total = %.1f, want at most 100", usage.Total)
	}
}

func TestHostCPUFigures(t *testing.T) {
	prev := Host{CPU: CPUTimes{User: 100, Nice: 10, System: 20, Idle: 400, IOWait: 5}}
	// 100 s pass in all: 40 user, 10 nice, 10 system, 5 irq, 5 softirq, 20 idle,
	// 5 iowait and 5 steal.
	cur := Host{CPU: CPUTimes{
		User: 140, Nice: 20, System: 30, Idle: 420, IOWait: 10, IRQ: 5, SoftIRQ: 5, Steal: 5,
	}}
	got, ok := HostCPU(prev, cur)
	if !ok {
		t.Fatal("HostCPU: ok = false, want true")
	}
	want := CPUUsage{User: 50, System: 20, IOWait: 5, Total: 75}
	if math.Abs(got.User-want.User) > 1e-9 || math.Abs(got.System-want.System) > 1e-9 ||
		math.Abs(got.IOWait-want.IOWait) > 1e-9 || math.Abs(got.Total-want.Total) > 1e-9 {
		t.Errorf("HostCPU = %+v, want %+v", got, want)
	}

	if _, ok := HostCPU(Host{}, cur); ok {
		t.Error("HostCPU from the zero Host: ok = true, want false on the first reading")
	}
	if _, ok := HostCPU(cur, cur); ok {
		t.Error("HostCPU of one reading with itself: ok = true, want false")
	}
}

func TestHostPercentages(t *testing.T) {
	h := Host{Cores: 4, MemTotal: 1000, MemAvailable: 250, SwapTotal: 200, SwapUsed: 50}
	tests := []struct {
		name      string
		got, want float64
	}{
		{"PerCore", h.PerCore(6), 1.5},
		{"MemUsedPercent", h.MemUsedPercent(), 75},
		{"SwapUsedPercent", h.SwapUsedPercent(), 25},
		{"SwapUsedPercent without swap", Host{}.SwapUsedPercent(), 0},
		{"MemUsedPercent without figures", Host{}.MemUsedPercent(), 0},
		{"PerCore without cores", Host{}.PerCore(3), 3},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// dfFigures runs df on path and returns its columns by name.
func dfFigures(t *testing.T, path string, columns string) []string {
	t.Helper()
	df := testenv.LookPath(t, "df", "apt-get install coreutils")
	out, err := exec.Command(df, "-B1", "--output="+columns, path).Output()
	if err != nil {
		t.Fatalf("df %s: %v", path, err)
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	return strings.Fields(string(lines[len(lines)-1]))
}

func TestReadFilesystemMatchesDf(t *testing.T) {
	for _, path := range []string{"/", t.TempDir(), "/proc"} {
		t.Run(path, func(t *testing.T) {
			fs, err := ReadFilesystem(path)
			if err != nil {
				t.Fatalf("ReadFilesystem(%s): %v", path, err)
			}
			df := dfFigures(t, path, "size,used,avail,itotal,iused,target")
			num := func(i int) uint64 {
				v, err := strconv.ParseUint(df[i], 10, 64)
				if err != nil {
					t.Fatalf("df column %d = %q: %v", i, df[i], err)
				}
				return v
			}
			size, used, avail, itotal, iused := num(0), num(1), num(2), num(3), num(4)

			if fs.Total != size {
				t.Errorf("Total = %d, want df size %d", fs.Total, size)
			}
			if fs.Inodes != itotal {
				t.Errorf("Inodes = %d, want df itotal %d", fs.Inodes, itotal)
			}
			if fs.Mount != df[5] {
				t.Errorf("Mount = %q, want df target %q", fs.Mount, df[5])
			}
			// Other programs write while the test runs: allow 1% of the size and
			// 1000 inodes of drift between the two readings.
			slack := float64(size) / 100
			if math.Abs(float64(fs.Used)-float64(used)) > slack {
				t.Errorf("Used = %d, want about df used %d", fs.Used, used)
			}
			if math.Abs(float64(fs.Avail)-float64(avail)) > slack {
				t.Errorf("Avail = %d, want about df avail %d", fs.Avail, avail)
			}
			if math.Abs(float64(fs.InodesUsed)-float64(iused)) > 1000 {
				t.Errorf("InodesUsed = %d, want about df iused %d", fs.InodesUsed, iused)
			}
			if used+avail > 0 {
				want := float64(used) * 100 / float64(used+avail)
				if math.Abs(fs.UsedPercent()-want) > 1 {
					t.Errorf("UsedPercent = %.2f, want about %.2f = used / (used + avail) from df", fs.UsedPercent(), want)
				}
			}
			if fs.Free < fs.Avail {
				t.Errorf("Free = %d, less than Avail = %d", fs.Free, fs.Avail)
			}
		})
	}

	if _, err := ReadFilesystem("/does/not/exist"); err == nil {
		t.Error("ReadFilesystem of a missing path: error = nil, want one")
	}
}

func TestFilesystemPercentages(t *testing.T) {
	// 5% of the blocks are reserved for root: df counts them as neither used nor
	// available.
	fs := Filesystem{Total: 100, Used: 57, Free: 43, Avail: 38, Inodes: 200, InodesUsed: 50}
	if got, want := fs.UsedPercent(), 60.0; got != want {
		t.Errorf("UsedPercent = %v, want %v", got, want)
	}
	if got, want := fs.InodesUsedPercent(), 25.0; got != want {
		t.Errorf("InodesUsedPercent = %v, want %v", got, want)
	}
	if got := (Filesystem{}).InodesUsedPercent(); got != 0 {
		t.Errorf("InodesUsedPercent without inodes = %v, want 0", got)
	}
}

func TestLongestMount(t *testing.T) {
	const mountinfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 27 8:1 / /var rw - ext4 /dev/sdb1 rw
41 40 8:2 / /var/lib rw - ext4 /dev/sdb2 rw
42 27 8:3 / /srv/my\040data rw - ext4 /dev/sdb3 rw
43 27 8:4 / /srv/back\134slash rw - ext4 /dev/sdb4 rw
44 41 8:5 / /var/lib rw - xfs /dev/sdb5 rw
`
	tests := []struct{ path, want string }{
		{"/", "/"},
		{"/etc/passwd", "/"},
		{"/var", "/var"},
		{"/var/log/syslog", "/var"},
		{"/var/lib/postgresql", "/var/lib"},
		{"/var/library", "/var"},
		{"/srv/my data/x", "/srv/my data"},
		{"/srv/my", "/"},
		{`/srv/back\slash`, `/srv/back\slash`},
		{"/proc/1/stat", "/proc"},
	}
	for _, tt := range tests {
		got, err := longestMount(strings.NewReader(mountinfo), tt.path)
		if err != nil || got != tt.want {
			t.Errorf("longestMount(%q) = %q, %v, want %q", tt.path, got, err, tt.want)
		}
	}
}
