//go:build !unix

package capture

import "time"

// cpuTime is unknown on this platform; the CPU-time metric is then omitted.
func cpuTime() time.Duration { return 0 }
