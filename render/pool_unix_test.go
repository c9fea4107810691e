//go:build unix

package render_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spanrec/spanrec/render"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

// TestPoolRecycles: a removed file or directory comes back, empty, under
// the next name asked for, without a new inode; a nil Pool creates and
// deletes for real.
func TestPoolRecycles(t *testing.T) {
	spool := t.TempDir()
	p, err := render.NewPool(filepath.Join(spool, render.PoolDir))
	if err != nil {
		t.Fatal(err)
	}
	call1 := filepath.Join(spool, "call1")
	if err := p.MkdirAll(call1); err != nil {
		t.Fatal(err)
	}
	f, err := p.Create(filepath.Join(call1, "1.g711"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 10000)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fileIno, dirIno := inode(t, filepath.Join(call1, "1.g711")), inode(t, call1)

	if err := p.Remove(call1); err == nil {
		t.Error("a directory that is not empty was removed")
	}
	if err := p.Remove(filepath.Join(call1, "1.g711")); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(call1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(call1); !os.IsNotExist(err) {
		t.Fatalf("call1 still there: %v", err)
	}

	call2 := filepath.Join(spool, "call2")
	if err := p.MkdirAll(call2); err != nil {
		t.Fatal(err)
	}
	f, err = p.Create(filepath.Join(call2, "1.pcm"))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	if st.Size() != 0 {
		t.Errorf("recycled file has %d bytes", st.Size())
	}
	if inode(t, call2) != dirIno || inode(t, filepath.Join(call2, "1.pcm")) != fileIno {
		t.Error("the directory or the file was not recycled")
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}

	// A second process's pool over the same directory sees the entries
	// the first left, and takes each once.
	p.Remove(filepath.Join(call2, "1.pcm"))
	q, err := render.NewPool(filepath.Join(spool, render.PoolDir))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, pool := range []*render.Pool{p, q} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := pool.Create(filepath.Join(call2, []string{"a", "b"}[i]))
			if err != nil {
				t.Error(err)
				return
			}
			f.Close()
		}()
	}
	wg.Wait()
	if inode(t, filepath.Join(call2, "a")) == inode(t, filepath.Join(call2, "b")) {
		t.Error("two files share an inode")
	}

	var none *render.Pool
	path := filepath.Join(spool, "plain")
	f, err = none.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := none.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("nil pool did not delete")
	}
}

// BenchmarkSpool measures the life of a call's spool entries: a file
// (create, write 4 KiB, close, remove, as a track's) and a directory
// (make, remove); "create" and "mkdir" with the file system alone, "pool"
// through a Pool (after the first round, the entry is renamed out of the
// pool and back, a file truncated). It writes under $TMPDIR: run it on
// the data directory's file system. It reports the CPU time (user +
// system) per entry.
func BenchmarkSpool(b *testing.B) {
	buf := make([]byte, 4096)
	file := func(p *render.Pool, path string) error {
		f, err := p.Create(path)
		if err != nil {
			return err
		}
		if _, err := f.Write(buf); err != nil {
			return err
		}
		f.Close()
		return p.Remove(path)
	}
	dir := func(p *render.Pool, path string) error {
		if err := p.MkdirAll(path); err != nil {
			return err
		}
		return p.Remove(path)
	}
	for _, bc := range []struct {
		name   string
		pooled bool
		life   func(*render.Pool, string) error
	}{
		{"file/create", false, file}, {"file/pool", true, file},
		{"dir/mkdir", false, dir}, {"dir/pool", true, dir},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tmp := b.TempDir()
			var p *render.Pool
			if bc.pooled {
				var err error
				if p, err = render.NewPool(filepath.Join(tmp, render.PoolDir)); err != nil {
					b.Fatal(err)
				}
			}
			cpu0 := cpuTime()
			i := 0
			for b.Loop() {
				i++
				if err := bc.life(p, filepath.Join(tmp, "e"+strconv.Itoa(i))); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/entry")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestPoolFill: Fill keeps spare files and directories made, refills what
// is taken, and a file taken by CreateMode gets the mode asked for.
func TestPoolFill(t *testing.T) {
	spool := t.TempDir()
	dir := filepath.Join(spool, render.PoolDir)
	p, err := render.NewPool(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Fill(ctx, 5, 3)
	count := func() (files, dirs int) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if e.IsDir() {
				dirs++
			} else {
				files++
			}
		}
		return
	}
	waitFor := func(files, dirs int) {
		t.Helper()
		for range 500 {
			if f, d := count(); f == files && d == dirs {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		f, d := count()
		t.Fatalf("pool holds %d files and %d directories, want %d and %d", f, d, files, dirs)
	}
	waitFor(5, 3)
	pre := map[uint64]bool{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		pre[inode(t, filepath.Join(dir, e.Name()))] = true
	}
	path := filepath.Join(spool, "call.pcapng")
	f, err := p.CreateMode(path, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	if st.Mode().Perm() != 0o640 || !pre[inode(t, path)] {
		t.Errorf("file mode %v, from the pool %v; want 0640 from the pool", st.Mode().Perm(), pre[inode(t, path)])
	}
	if err := p.MkdirAll(filepath.Join(spool, "call")); err != nil {
		t.Fatal(err)
	}
	waitFor(5, 3) // refilled
}
