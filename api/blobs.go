package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
)

// Blobs is where the API reads the recorded files of calls (a call's
// Audio and PCAP): the data directory (Dir) or, for a central archive,
// the object store the sensors ship to (package s3). Every read of
// recording bytes the API makes (audio with ranges, waveform,
// spectrogram, pcap download, ZIP, SIP ladder) goes through it.
type Blobs interface {
	// Open opens the file the index names by key, a slash-separated
	// path relative to the data directory. A key with no file gives an
	// error that wraps fs.ErrNotExist.
	Open(ctx context.Context, key string) (Blob, error)
	// String says where the files are, in words fit for a user ("the
	// data directory", "the store"): messages about a missing file use
	// it.
	String() string
}

// Blob is one opened recording file. http.ServeContent serves byte ranges
// of it by seeking.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// Opener makes Blobs of a store's Open method that returns the store's
// own blob type (s3.Store.Open returns *s3.Blob), where naming the store
// in messages ("the store").
func Opener[B Blob](where string, open func(ctx context.Context, key string) (B, error)) Blobs {
	return opener[B]{where: where, open: open}
}

type opener[B Blob] struct {
	where string
	open  func(context.Context, string) (B, error)
}

func (o opener[B]) Open(ctx context.Context, key string) (Blob, error) {
	b, err := o.open(ctx, key)
	if err != nil {
		return nil, err // not a typed nil in a non-nil Blob
	}
	return b, nil
}

func (o opener[B]) String() string { return o.where }

// blobExpecter is implemented by a Blob that fetches what it is told
// will be read in one go (s3.Blob: one ranged GET of exactly those bytes).
type blobExpecter interface {
	Expect(off, n int64)
}

// expect tells b, if it listens, that the n bytes at off are read next,
// in order.
func expect(b Blob, off, n int64) {
	if e, ok := b.(blobExpecter); ok {
		e.Expect(off, n)
	}
}

// blobSum is implemented by a Blob whose store recorded the file's
// SHA-256 (hex) when it was written (s3.Blob).
type blobSum interface {
	SHA256() string
}

// Dir is a data directory as Blobs: keys are paths below it. A key that
// would leave the directory (absolute, or with ..) is refused.
type Dir string

// Open opens the file key names below d.
func (d Dir) Open(_ context.Context, key string) (Blob, error) {
	p := filepath.FromSlash(key)
	if key == "" || !filepath.IsLocal(p) {
		return nil, fmt.Errorf("api: the index names a file outside the data directory: %q", key)
	}
	f, err := os.Open(filepath.Join(string(d), p))
	if err != nil {
		return nil, err // wraps fs.ErrNotExist for a missing file
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("api: %s is not a regular file", key)
	}
	return &fileBlob{File: f, size: st.Size(), mod: st.ModTime()}, nil
}

func (d Dir) String() string { return "the data directory" }

// fileBlob is an open file of a data directory.
type fileBlob struct {
	*os.File
	size int64
	mod  time.Time
}

func (f *fileBlob) Size() int64        { return f.size }
func (f *fileBlob) ModTime() time.Time { return f.mod }

// errMismatch marks a recording whose bytes are not those the index
// recorded (its SHA-256 differs).
var errMismatch = errors.New("the file's SHA-256 is not the one the index holds")

// openBlob opens the file rel of call c (what names it, "recording" or
// "capture file", for messages): ENOTFOUND when it is missing from the
// store, and an error when the store recorded another SHA-256 for it
// than the index's sum (the object is not the file the index names: a
// range of it must not be served either).
func (s *Server) openBlob(ctx context.Context, c *spanrec.Call, rel, sum, what string) (Blob, error) {
	b, err := s.blobs.Open(ctx, rel)
	if errors.Is(err, fs.ErrNotExist) {
		s.metrics.readFailed("missing")
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "the %s of call %s is missing from %s", what, c.ID, s.blobs)
	} else if err != nil {
		s.metrics.readFailed("error")
		return nil, fmt.Errorf("api: open %s of call %s: %w", what, c.ID, err)
	}
	if bs, ok := b.(blobSum); ok && sum != "" {
		if have := bs.SHA256(); have != "" && !strings.EqualFold(have, sum) {
			b.Close()
			s.metrics.readFailed("sha256")
			s.log.Error("api: recording does not match the index", "call", c.ID, "file", rel, "sha256_index", sum, "sha256_store", have)
			return nil, fmt.Errorf("api: %s of call %s: %s has SHA-256 %s, the index %s: %w", what, c.ID, s.blobs, have, sum, errMismatch)
		}
	}
	return b, nil
}

// verifier checks the SHA-256 of a file read through it whole, from its
// first byte to its last in order (a download without a range, a ZIP
// entry, the ladder's pass): the read that would return the file's last
// bytes returns errMismatch instead when the sum differs, so that a
// client never receives all of a file that is not the one the index
// names (its download ends short of its length). Reads after a seek
// elsewhere (a range) are passed through unchecked.
type verifier struct {
	r      io.ReadSeeker
	size   int64
	sum    string
	h      hash.Hash
	pos    int64 // offset of the next read
	hashed int64 // bytes hashed, from offset 0
	bad    bool  // the whole file was read and its sum differs
}

func newVerifier(r io.ReadSeeker, size int64, sum string) *verifier {
	return &verifier{r: r, size: size, sum: strings.ToLower(sum), h: sha256.New()}
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.bad {
		return 0, errMismatch
	}
	n, err := v.r.Read(p)
	if n > 0 && v.pos == v.hashed && v.hashed < v.size {
		k := min(int64(n), v.size-v.hashed)
		v.h.Write(p[:k])
		v.hashed += k
		if v.hashed == v.size {
			if hex.EncodeToString(v.h.Sum(nil)) != v.sum {
				v.bad = true
				return 0, errMismatch
			}
		}
	}
	v.pos += int64(n)
	return n, err
}

func (v *verifier) Seek(off int64, whence int) (int64, error) {
	pos, err := v.r.Seek(off, whence)
	if err == nil {
		v.pos = pos
	}
	return pos, err
}
