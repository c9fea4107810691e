//go:build !unix

package codectest

import "time"

// CPUTime returns 0: the process's CPU time is not measured here.
func CPUTime() time.Duration { return 0 }
