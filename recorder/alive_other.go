//go:build !unix

package recorder

import "errors"

// processAlive cannot tell on this system: a journal is always recovered.
func processAlive(pid int) bool { return false }

func diskFree(path string) (uint64, error) {
	return 0, errors.New("recorder: disk free space is not known on this system")
}
