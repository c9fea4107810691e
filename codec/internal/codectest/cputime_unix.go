//go:build unix

package codectest

import (
	"syscall"
	"time"
)

// CPUTime returns the user plus system CPU time the process has used (0
// where unknown).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
