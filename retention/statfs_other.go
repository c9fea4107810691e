//go:build !unix

package retention

import "errors"

func diskSpace(string) (total, avail uint64, err error) {
	return 0, 0, errors.New("retention: the free space of a file system is not known on this system")
}
