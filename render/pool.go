package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// A Pool recycles the spool's files and directories instead of deleting
// them: a call's spool directory, its tracks and its journal live for the
// call only, and on some file systems creating a file or a directory costs
// far more than renaming one. On this project's test machine (ext4 without
// a journal) BenchmarkSpool measures a spool file's life at 280–360 µs of
// CPU created and deleted, 110–140 µs through a Pool, and a directory's at
// 330–440 µs against 35–45 µs (docs/PERFORMANCE.md). Removed files are
// truncated and moved into the pool's directory, and Create and MkdirAll
// move them back under their new names.
//
// A nil *Pool creates and removes for real. A Pool is safe for concurrent
// use, also by several processes sharing its directory: an entry is taken
// by an atomic rename, and one another process took first is skipped.
type Pool struct {
	dir string

	mu    sync.Mutex
	files []string // free files in dir
	dirs  []string // free directories in dir
	seq   int
	pid   string
	wake  chan struct{} // an entry was taken (for Fill)
}

// PoolDir is the name recorders give the pool's directory inside the
// spool directory.
const PoolDir = ".free"

// Bounds of a Pool: beyond them, removed entries are deleted.
const (
	maxPoolFiles = 8192
	maxPoolDirs  = 4096
)

// NewPool returns a Pool kept in dir, which it creates (mode 0700) if
// needed; what a previous run left there is reused.
func NewPool(dir string) (*Pool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("render: spool pool: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("render: spool pool: %w", err)
	}
	p := &Pool{dir: dir, pid: strconv.Itoa(os.Getpid()), wake: make(chan struct{}, 1)}
	for _, e := range ents {
		switch {
		case e.IsDir() && len(p.dirs) < maxPoolDirs:
			p.dirs = append(p.dirs, e.Name())
		case e.Type().IsRegular() && len(p.files) < maxPoolFiles:
			p.files = append(p.files, e.Name())
		}
	}
	return p, nil
}

// Create creates the file path for reading and writing, empty, with mode
// 0600: a pooled file renamed to path, else a new one.
func (p *Pool) Create(path string) (*os.File, error) {
	return p.CreateMode(path, 0o600)
}

// CreateMode is Create with the file mode perm (not masked by the umask
// when the file comes from the pool).
func (p *Pool) CreateMode(path string, perm os.FileMode) (*os.File, error) {
	if p != nil && p.use(&p.files, path) {
		// Truncated when it was put in the pool; O_TRUNC in case a crash
		// came between.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_TRUNC, perm)
		if err == nil && perm != 0o600 {
			if err = f.Chmod(perm); err != nil {
				f.Close()
				return nil, err
			}
		}
		return f, err
	}
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, perm)
}

// MkdirAll makes the directory path (mode 0700), taking a pooled one when
// path's parent exists; it does nothing if path exists.
func (p *Pool) MkdirAll(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil
	}
	if p != nil && p.use(&p.dirs, path) {
		return nil
	}
	return os.MkdirAll(path, 0o700)
}

// use renames a pooled entry of list to path, and reports whether it did.
// An entry another process took meanwhile is skipped; when the rename
// fails otherwise (path's directory is missing, or on another file
// system), the entry goes back and the caller makes path itself.
func (p *Pool) use(list *[]string, path string) bool {
	for {
		name, ok := p.take(list)
		if !ok {
			return false
		}
		src := filepath.Join(p.dir, name)
		if err := os.Rename(src, path); err == nil {
			return true
		}
		if _, err := os.Lstat(src); err == nil {
			p.put(list, name)
			return false
		}
	}
}

// Remove removes the file or empty directory path: into the pool, else
// for real. A directory that is not empty is not removed (an error).
func (p *Pool) Remove(path string) error {
	if p == nil {
		return os.Remove(path)
	}
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	list, limit := &p.files, maxPoolFiles
	switch {
	case st.IsDir():
		list, limit = &p.dirs, maxPoolDirs
		if ents, err := os.ReadDir(path); err != nil || len(ents) > 0 {
			return os.Remove(path) // fails as a non-empty directory does
		}
	case st.Mode().IsRegular():
		// Free the blocks now: a pooled file keeps only its inode.
		if err := os.Truncate(path, 0); err != nil {
			return os.Remove(path)
		}
	default:
		return os.Remove(path)
	}
	p.mu.Lock()
	full := len(*list) >= limit
	name := p.newName()
	p.mu.Unlock()
	if full {
		return os.Remove(path)
	}
	if err := os.Rename(path, filepath.Join(p.dir, name)); err != nil {
		return os.Remove(path)
	}
	p.put(list, name)
	return nil
}

// newName returns a name for a new entry of the pool's directory, unique
// among the processes sharing it. p.mu must be held.
func (p *Pool) newName() string {
	p.seq++
	return p.pid + "-" + strconv.Itoa(p.seq)
}

// put returns name to list.
func (p *Pool) put(list *[]string, name string) {
	p.mu.Lock()
	*list = append(*list, name)
	p.mu.Unlock()
}

func (p *Pool) take(list *[]string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(*list)
	if n == 0 {
		return "", false
	}
	name := (*list)[n-1]
	*list = (*list)[:n-1]
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return name, true
}

// Fill keeps about files spare files and dirs spare directories in the
// pool until ctx is done, making them on a goroutine of its own, so that
// the goroutines that take them (the call shards) rename instead of
// waiting for the file system to create: a burst of new calls, or the
// calls in progress when a recorder starts, costs them no file creation
// while the pool lasts. It returns at once. When making an entry fails
// (disk full), it stops; Create and MkdirAll then make their own.
func (p *Pool) Fill(ctx context.Context, files, dirs int) {
	files, dirs = min(files, maxPoolFiles), min(dirs, maxPoolDirs)
	go func() {
		for ctx.Err() == nil {
			p.mu.Lock()
			nf, nd := len(p.files), len(p.dirs)
			name := p.newName()
			p.mu.Unlock()
			if nf >= files && nd >= dirs {
				select {
				case <-ctx.Done():
				case <-p.wake:
				}
				continue
			}
			// Make whichever is further below its target.
			dir := nd < dirs && (nf >= files || nd*files < nf*dirs)
			path := filepath.Join(p.dir, name)
			var err error
			if dir {
				err = os.Mkdir(path, 0o700)
			} else {
				var f *os.File
				if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
					err = f.Close()
				}
			}
			if err != nil {
				return
			}
			if dir {
				p.put(&p.dirs, name)
			} else {
				p.put(&p.files, name)
			}
		}
	}()
}
