//go:build !unix

package g729

import "time"

// cpuTime is not measured on this platform.
func cpuTime() time.Duration { return 0 }
