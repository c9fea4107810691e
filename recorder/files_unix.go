//go:build unix

package recorder

import "syscall"

// openFilesLimit returns the process's limit of open files (the soft
// RLIMIT_NOFILE, which the Go runtime raises to the hard limit at start),
// 0 when unknown.
func openFilesLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}
