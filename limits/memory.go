package limits

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// DefaultFraction is the share of the memory available to the process
// that DefaultMemory gives the Budget.
const DefaultFraction = 4 // one quarter

// DefaultMemory returns the default budget: a quarter of the memory the
// process may use, which is the smaller of physical memory
// (/proc/meminfo MemTotal) and the cgroup's limit (cgroup v2 memory.max,
// or v1 memory.limit_in_bytes); 1 GiB when neither can be read.
func DefaultMemory() int64 {
	total := memTotal()
	if c := cgroupLimit(); c > 0 && (total <= 0 || c < total) {
		total = c
	}
	if total <= 0 {
		return 1 << 30
	}
	return total / DefaultFraction
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return 0
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupLimit returns the memory limit of the process's cgroup, 0 when
// there is none or it cannot be read.
func cgroupLimit() int64 {
	paths := []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		// cgroup v2: "0::/system.slice/spanrec.service" (a systemd unit's
		// MemoryMax); in a container the namespace root is the cgroup.
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "0::"); ok && rest != "/" && !strings.Contains(rest, "..") {
				paths = append([]string{"/sys/fs/cgroup" + rest + "/memory.max"}, paths...)
			}
		}
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(bytes.TrimSpace(b))
		if s == "max" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 {
			return 0
		}
		return n
	}
	return 0
}
