//go:build unix

package srtp_test

import (
	"syscall"
	"testing"
	"time"
)

var cpu0 time.Duration

// cpuTime returns the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(*testing.B) { cpu0 = cpuTime() }

// reportCPU reports CPU nanoseconds per packet, which the load of a
// shared machine disturbs less than wall time.
func reportCPU(b *testing.B, n int) {
	if d := cpuTime() - cpu0; d > 0 && n > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(n), "cpu-ns/pkt")
	}
}
