//go:build unix

package retention

import (
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock(2) of f without waiting; the kernel
// drops it when f is closed or its process dies.
func tryLock(f *os.File) bool {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil
}
