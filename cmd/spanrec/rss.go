package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// peakRSS returns the most memory this process has had resident (VmHWM of
// /proc/self/status, Linux), or 0 where the system does not say. The
// process measures itself: a parent's rusage of a child started by
// vfork+exec (os/exec) counts the parent's own resident set too.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0
		}
		return kib << 10
	}
	return 0
}
