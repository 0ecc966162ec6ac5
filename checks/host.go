package checks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"golang.org/x/sys/unix"
)

// Host is one reading of the machine's figures: load, CPU time, memory and swap.
type Host struct {
	// Load1, Load5 and Load15 are the load averages over 1, 5 and 15 minutes.
	Load1, Load5, Load15 float64
	// Cores is the number of logical CPUs, the divisor of PerCore.
	Cores int
	// CPU is the CPU time the machine spent in each state since boot, summed over all
	// cores.
	CPU CPUTimes
	// MemTotal is the physical memory in bytes. MemAvailable is the kernel's estimate
	// of the memory that programs can still allocate without swapping
	// (MemAvailable in /proc/meminfo).
	MemTotal, MemAvailable uint64
	// SwapTotal is the swap space in bytes, SwapUsed the part in use.
	SwapTotal, SwapUsed uint64
}

// CPUTimes is CPU time in seconds per state, as the first line of /proc/stat counts it.
// User includes the time spent running guests and Nice the time running niced guests.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal float64
}

// total returns the sum of all states.
func (c CPUTimes) total() float64 {
	return c.User + c.Nice + c.System + c.Idle + c.IOWait + c.IRQ + c.SoftIRQ + c.Steal
}

// ReadHost reads the machine's figures through gopsutil, which reads /proc/loadavg,
// /proc/stat, /proc/cpuinfo and /proc/meminfo and calls sysinfo(2) for swap. The error
// names the first figure that could not be read, and the Host is then the zero value.
func ReadHost(ctx context.Context) (Host, error) {
	avg, err := load.AvgWithContext(ctx)
	if err != nil {
		return Host{}, fmt.Errorf("read load average: %w", err)
	}
	cores, err := cpu.CountsWithContext(ctx, true)
	if err != nil {
		return Host{}, fmt.Errorf("count CPUs: %w", err)
	}
	times, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return Host{}, fmt.Errorf("read CPU times: %w", err)
	}
	if len(times) == 0 {
		return Host{}, errors.New("read CPU times: no cpu line in /proc/stat")
	}
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return Host{}, fmt.Errorf("read memory: %w", err)
	}
	swap, err := mem.SwapMemoryWithContext(ctx)
	if err != nil {
		return Host{}, fmt.Errorf("read swap: %w", err)
	}

	t := times[0]
	return Host{
		Load1: avg.Load1, Load5: avg.Load5, Load15: avg.Load15,
		Cores: cores,
		CPU: CPUTimes{
			User: t.User, Nice: t.Nice, System: t.System, Idle: t.Idle,
			IOWait: t.Iowait, IRQ: t.Irq, SoftIRQ: t.Softirq, Steal: t.Steal,
		},
		MemTotal: vm.Total, MemAvailable: vm.Available,
		SwapTotal: swap.Total, SwapUsed: swap.Used,
	}, nil
}

// PerCore divides a load average by the number of cores, so that 1 means as many
// runnable tasks as cores on any machine. It returns load unchanged when Cores is 0.
func (h Host) PerCore(load float64) float64 {
	if h.Cores < 1 {
		return load
	}
	return load / float64(h.Cores)
}

// MemUsedPercent returns the share of physical memory that is not available, 0 to 100:
// (MemTotal - MemAvailable) / MemTotal. It returns 0 when MemTotal is 0.
func (h Host) MemUsedPercent() float64 {
	if h.MemTotal == 0 || h.MemAvailable > h.MemTotal {
		return 0
	}
	return float64(h.MemTotal-h.MemAvailable) * 100 / float64(h.MemTotal)
}

// SwapUsedPercent returns the share of swap in use, 0 to 100, and 0 without swap.
func (h Host) SwapUsedPercent() float64 {
	if h.SwapTotal == 0 {
		return 0
	}
	return float64(h.SwapUsed) * 100 / float64(h.SwapTotal)
}

// CPUUsage is the busy time of the whole machine between two readings, each figure a
// percentage of all cores, 0 to 100.
type CPUUsage struct {
	// User is user plus nice time.
	User float64
	// System is system plus hardware and software interrupt time.
	System float64
	// IOWait is idle time while a disk request of this machine was outstanding.
	IOWait float64
	// Total is all time except idle and IOWait: User, System and the time a
	// hypervisor gave to other guests (steal).
	Total float64
}

// HostCPU returns the CPU usage between the readings prev and cur. It returns false
// when there is no interval to measure: when prev is the zero Host of a first cycle, or
// when cur counts no more CPU time than prev.
func HostCPU(prev, cur Host) (CPUUsage, bool) {
	before, after := prev.CPU, cur.CPU
	span := after.total() - before.total()
	if before.total() == 0 || span <= 0 {
		return CPUUsage{}, false
	}

	share := func(delta float64) float64 {
		return clampPercent(delta * 100 / span)
	}
	idle := (after.Idle - before.Idle) + (after.IOWait - before.IOWait)
	system := (after.System - before.System) + (after.IRQ - before.IRQ) +
		(after.SoftIRQ - before.SoftIRQ)
	return CPUUsage{
		User:   share(after.User - before.User + after.Nice - before.Nice),
		System: share(system),
		IOWait: share(after.IOWait - before.IOWait),
		Total:  share(span - idle),
	}, true
}

// clampPercent limits p to 0 to 100. proc(5) warns that the iowait counter may
// decrease, which could otherwise push a share out of range.
func clampPercent(p float64) float64 {
	return min(max(p, 0), 100)
}

// Filesystem is the space and inode usage of the file system that holds Path.
type Filesystem struct {
	// Path is the path given to ReadFilesystem. Mount is the mount point it is under.
	Path, Mount string
	// Total is the size in bytes. Used is Total minus the free space, and Free
	// includes the blocks reserved for root. Avail is what other users may still
	// write, which is what df shows as available.
	Total, Used, Free, Avail uint64
	// Inodes is the number of inodes, InodesUsed the number in use. File systems
	// that allocate inodes on demand, such as btrfs, report 0 for both.
	Inodes, InodesUsed uint64
}

// UsedPercent returns the share of space in use, 0 to 100, computed as df does:
// Used / (Used + Avail), so the blocks reserved for root count as neither. df rounds
// the figure up to a whole percent, and UsedPercent does not round.
func (f Filesystem) UsedPercent() float64 {
	if f.Used+f.Avail == 0 {
		return 0
	}
	return float64(f.Used) * 100 / float64(f.Used+f.Avail)
}

// InodesUsedPercent returns the share of inodes in use, 0 to 100, and 0 for a file
// system that reports no inodes.
func (f Filesystem) InodesUsedPercent() float64 {
	if f.Inodes == 0 {
		return 0
	}
	return float64(f.InodesUsed) * 100 / float64(f.Inodes)
}

// ReadFilesystem reads the space and inode figures of the file system that holds path
// through statfs(2), and its mount point from /proc/self/mountinfo. The error is
// non-nil when path does not exist or statfs fails. An unreadable mountinfo is not an
// error: Mount is then empty.
func ReadFilesystem(path string) (Filesystem, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return Filesystem{}, fmt.Errorf("read file system of %s: %w", path, err)
	}

	// Frsize is the unit of the block counts; Bsize is only the preferred I/O size.
	unit := uint64(st.Frsize)
	if unit == 0 {
		unit = uint64(st.Bsize)
	}
	fs := Filesystem{
		Path:   path,
		Total:  st.Blocks * unit,
		Used:   (st.Blocks - st.Bfree) * unit,
		Free:   st.Bfree * unit,
		Avail:  st.Bavail * unit,
		Inodes: st.Files,
	}
	if st.Files >= st.Ffree {
		fs.InodesUsed = st.Files - st.Ffree
	}
	fs.Mount, _ = mountPoint("/proc/self/mountinfo", path)
	return fs, nil
}

// mountPoint returns the mount point that path is under, after symbolic links in path
// are resolved, from the mountinfo file at mountinfo.
func mountPoint(mountinfo, path string) (string, error) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	resolved, err = filepath.Abs(resolved)
	if err != nil {
		return "", err
	}
	f, err := os.Open(mountinfo)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return longestMount(f, resolved)
}

// longestMount returns the longest mount point in the mountinfo text r (proc(5)) that
// is path or one of its parent directories.
func longestMount(r io.Reader, path string) (string, error) {
	best := ""
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		// Field 5 is the mount point, relative to the reading process's root.
		fields := strings.Fields(scanner.Text())
		if len(fields) < 5 {
			continue
		}
		mount := unescapeMountinfo(fields[4])
		if len(mount) >= len(best) && underMount(path, mount) {
			best = mount
		}
	}
	return best, scanner.Err()
}

// underMount reports whether path is mount or inside it.
func underMount(path, mount string) bool {
	if mount == "/" || path == mount {
		return true
	}
	return strings.HasPrefix(path, mount) && path[len(mount)] == '/'
}

// unescapeMountinfo decodes the octal escapes (\040 for a space, \011 for a tab,
// \012 for a newline, \134 for a backslash) that the kernel writes in mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
