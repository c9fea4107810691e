//go:build unix

package retention

import "golang.org/x/sys/unix"

// diskSpace returns the size of the file system holding path and the
// bytes of it an unprivileged process may still write.
func diskSpace(path string) (total, avail uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	bs := uint64(st.Bsize)
	return st.Blocks * bs, st.Bavail * bs, nil
}
