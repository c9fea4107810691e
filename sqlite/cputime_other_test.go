//go:build !unix

package sqlite_test

import "time"

// cpuTime is unknown on this platform; the CPU-time metric is then omitted.
func cpuTime() time.Duration { return 0 }
