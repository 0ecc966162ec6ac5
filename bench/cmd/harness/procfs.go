package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It is 100 on
// every Linux architecture that Go supports.
const clockTicks = 100

// procCPU returns the CPU time that process pid used so far, summed over its threads,
// from the scheduler's nanosecond counts in /proc/PID/task/TID/schedstat. Threads that
// already exited are missing from the sum. It falls back to utime+stime from
// /proc/PID/stat, which counts in clock ticks of 10 ms, when schedstat is missing.
func procCPU(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			return procTicks(pid)
		}
		fields := strings.Fields(string(data))
		if len(fields) == 0 {
			return procTicks(pid)
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return procTicks(pid)
		}
		total += time.Duration(ns)
	}
	return total, nil
}

// procTicks returns utime+stime of process pid: threads included, reaped children
// excluded.
func procTicks(pid int) (time.Duration, error) {
	fields, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	// fields[0] is the state, field 3 of proc(5); utime and stime are fields 14 and 15.
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: utime %q, stime %q", pid, fields[11], fields[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// memory is the resident memory of one process, in bytes, from /proc/PID/status.
type memory struct {
	// RSS is VmRSS: every resident page, those of the executable and of shared
	// libraries included.
	RSS uint64
	// Anon is RssAnon: the resident anonymous pages (heap, stacks), which no file
	// backs and which the process does not share through shared memory.
	Anon uint64
}

// procMemory returns the resident memory of process pid.
func procMemory(pid int) (memory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	m, err := parseStatusMemory(string(data))
	if err != nil {
		return memory{}, fmt.Errorf("parse /proc/%d/status: %w", pid, err)
	}
	return m, nil
}

// parseStatusMemory reads VmRSS and RssAnon from the text of /proc/PID/status,
// where both are in kB. RssAnon exists since Linux 4.5.
func parseStatusMemory(text string) (memory, error) {
	var m memory
	var haveRSS, haveAnon bool
	for line := range strings.SplitSeq(text, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "RssAnon") {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("%s %q: %w", key, strings.TrimSpace(value), err)
		}
		if key == "VmRSS" {
			m.RSS, haveRSS = kb<<10, true
		} else {
			m.Anon, haveAnon = kb<<10, true
		}
	}
	if !haveRSS || !haveAnon {
		return memory{}, errors.New("missing VmRSS or RssAnon")
	}
	return m, nil
}

// statFields returns the fields of /proc/PID/stat after the command name, so that
// fields[0] is the state.
func statFields(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return nil, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 20 {
		return nil, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	return fields, nil
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	fields, err := statFields(pid)
	return err == nil && fields[0] != "Z" && fields[0] != "X"
}

// readPidfile returns the PID in file, or 0 when it is missing or invalid.
func readPidfile(file string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return pid
}

// workloadPIDs returns the PIDs of live processes whose first argument starts with
// prefix: the workload programs, which run through links in the run's own directory.
func workloadPIDs(prefix string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.HasPrefix(cmdline, []byte(prefix)) || !alive(pid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// killWorkload sends SIGKILL to every live workload process under prefix, by PID,
// and continues stopped ones so that they die at once. It returns how many it killed.
func killWorkload(prefix string) int {
	pids := workloadPIDs(prefix)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return len(pids)
}
