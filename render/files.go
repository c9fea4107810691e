package render

import (
	"errors"
	"fmt"
	"os"
)

// Files bounds the file descriptors that the files of calls in progress
// hold (their tracks' spools and pcapngs): past Max, the file written
// least recently is closed, and reopened (O_WRONLY, same offset) at its
// next write. A recorder with 100,000 calls open (a flood of unanswered
// INVITEs) would otherwise need 100,000 descriptors, and every call past
// the process's limit (ulimit -n) would lose its files. Under the limit,
// which is the usual case, a file stays open for its call's life, as
// before: no reopen costs anything.
//
// A Files is not safe for concurrent use: each call.Assembler (shard) has
// its own. A nil *Files holds every file open.
type Files struct {
	// Max is the most files held open at once (at least 1).
	Max int

	open       int
	head, tail *File // most and least recently written of the open files
	reopens    int
	closes     int
}

// NewFiles returns a Files holding at most n files open.
func NewFiles(n int) *Files { return &Files{Max: max(n, 1)} }

// FilesStats counts what a Files did.
type FilesStats struct {
	Open    int // files open now
	Closes  int // files closed to stay within Max
	Reopens int // files reopened to be written again
}

// Stats returns the counters.
func (fs *Files) Stats() FilesStats {
	if fs == nil {
		return FilesStats{}
	}
	return FilesStats{Open: fs.open, Closes: fs.closes, Reopens: fs.reopens}
}

// A File is one file of a call, written through a Files. Its methods
// report errors like those of *os.File.
type File struct {
	fs         *Files
	path       string
	f          *os.File // nil while closed by the Files
	off        int64    // where Write writes next
	prev, next *File
	closed     bool // Close was called
}

// Adopt takes f, just created or opened at offset 0, into fs.
func (fs *Files) Adopt(f *os.File) *File {
	h := &File{fs: fs, path: f.Name(), f: f}
	if fs != nil {
		fs.push(h)
	}
	return h
}

// Name returns the file's path.
func (h *File) Name() string { return h.path }

func (fs *Files) push(h *File) {
	h.prev, h.next = nil, fs.head
	if fs.head != nil {
		fs.head.prev = h
	}
	fs.head = h
	if fs.tail == nil {
		fs.tail = h
	}
	fs.open++
	for fs.open > fs.Max && fs.tail != nil && fs.tail != h {
		old := fs.tail
		fs.unlink(old)
		_ = old.f.Close() // its writes went through: nothing is buffered
		old.f = nil
		fs.closes++
	}
}

func (fs *Files) unlink(h *File) {
	if h.prev != nil {
		h.prev.next = h.next
	} else {
		fs.head = h.next
	}
	if h.next != nil {
		h.next.prev = h.prev
	} else {
		fs.tail = h.prev
	}
	h.prev, h.next = nil, nil
	fs.open--
}

// use makes h's file open and the most recently written.
func (h *File) use() error {
	if h.closed {
		return os.ErrClosed
	}
	fs := h.fs
	if h.f != nil {
		if fs != nil && fs.head != h {
			fs.unlink(h)
			fs.push(h)
		}
		return nil
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("render: reopen %s: %w", h.path, err)
	}
	h.f = f
	fs.reopens++
	fs.push(h)
	return nil
}

// Write appends b (the file is written in order from offset 0).
func (h *File) Write(b []byte) (int, error) {
	n, err := h.WriteAt(b, h.off)
	h.off += int64(n)
	return n, err
}

// WriteAt writes b at offset off.
func (h *File) WriteAt(b []byte, off int64) (int, error) {
	if err := h.use(); err != nil {
		return 0, err
	}
	return h.f.WriteAt(b, off)
}

// Truncate changes the file's size.
func (h *File) Truncate(size int64) error {
	if h.closed {
		return os.ErrClosed
	}
	return os.Truncate(h.path, size)
}

// Sync commits the file to stable storage.
func (h *File) Sync() error {
	if err := h.use(); err != nil {
		return err
	}
	return h.f.Sync()
}

// Close closes the file (if the Files has not already) and takes it out
// of the Files.
func (h *File) Close() error {
	if h.closed {
		return os.ErrClosed
	}
	h.closed = true
	if h.f == nil {
		return nil
	}
	if h.fs != nil {
		h.fs.unlink(h)
	}
	err := h.f.Close()
	h.f = nil
	if err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}
