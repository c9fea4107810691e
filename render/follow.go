package render

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
)

// MaxFollowed bounds the tracks a Follower reads; tracks added past it are
// ignored (Add reports false).
const MaxFollowed = 16

// maxFollowRead bounds the input samples a Follower reads from one spool
// at a time (one second at 48 kHz), so that its buffers stay small
// whatever it is asked for.
const maxFollowRead = 48000

// A Follower reads the audio of a call in progress from its tracks' spool
// files while the recorder writes them, as stereo PCM (caller left, callee
// right) at a fixed rate, position 0 being the capture time origin: the
// live counterpart of Mix, for listening a few seconds behind.
//
// It reads only what a Track wrote, so only decoded audio: a spool holds
// the samples of payloads its codec decoded (or decrypted and decoded),
// silence elsewhere, and a Track cuts it where its noise guard found
// undecodable media. Before it uses what it read from a spool, it checks
// that the file is still the one at the track's path: a spool removed when
// its call ended goes back to the recorder's pool and may become another
// call's, whose audio must never be played as this one's.
//
// Where several tracks of one side have audio at once (the same voice
// before and after a media relay, or a relay's silent copy), each chunk
// read plays the loudest, so that a silent copy never hides the voice and
// no voice is heard twice. Memory is bounded: each track holds at most a
// chunk of input and its resampled output.
//
// A Follower is not safe for concurrent use.
type Follower struct {
	rate   int
	origin time.Time
	pos    int64 // next output position
	tails  []*tail
	side   [2][]int16 // a side's samples of the chunk being read
	cand   []int16    // a track's samples of the chunk
}

// A tail reads one growing spool.
type tail struct {
	tr   *Track
	f    *os.File
	rs   *audio.Resampler
	off  int64   // output position of the track's sample 0 (may be negative)
	in   int64   // next input sample to read
	out  []int16 // resampled samples not consumed; out[0] is at output position at
	at   int64
	raw  []byte
	pcm  []int16
	gone bool // the spool is no longer the track's (the call ended)
}

// NewFollower returns a Follower producing rate Hz stereo whose position 0
// is the capture time origin.
func NewFollower(rate int, origin time.Time) *Follower {
	return &Follower{rate: rate, origin: origin}
}

// Rate returns the output sample rate.
func (fo *Follower) Rate() int { return fo.rate }

// Position returns the capture time of the next frame Read returns.
func (fo *Follower) Position() time.Time {
	return fo.origin.Add(time.Duration(fo.pos * int64(time.Second) / int64(fo.rate)))
}

// Follows reports whether a track with spool path is followed already.
func (fo *Follower) Follows(path string) bool {
	for _, t := range fo.tails {
		if t.tr.Path == path {
			return true
		}
	}
	return false
}

// Add follows tr, a Track opened with OpenSpool on a spool still being
// written; it reports false if MaxFollowed tracks are followed already.
func (fo *Follower) Add(tr *Track) (bool, error) {
	if len(fo.tails) >= MaxFollowed {
		return false, nil
	}
	if tr.Side != spanrec.CallerSide && tr.Side != spanrec.CalleeSide {
		return false, fmt.Errorf("render: follow: track of side %q", tr.Side)
	}
	f, err := os.Open(tr.Path)
	if err != nil {
		return false, fmt.Errorf("render: follow: %w", err)
	}
	t := &tail{tr: tr, f: f, off: int64(tr.Start.Sub(fo.origin)) * int64(fo.rate) / int64(time.Second)}
	if err := t.seek(fo, fo.pos); err != nil {
		f.Close()
		return false, err
	}
	fo.tails = append(fo.tails, t)
	return true, nil
}

// Edge returns the capture time up to which the followed spools hold
// audio (the latest end of a track on disk), and false if none holds any.
func (fo *Follower) Edge() (time.Time, bool) {
	var edge time.Time
	ok := false
	for _, t := range fo.tails {
		if t.gone || !t.same() {
			continue
		}
		st, err := t.f.Stat()
		if err != nil || st.Size() == 0 {
			continue
		}
		end := t.tr.Start.Add(time.Duration(st.Size() / t.tr.fmt.bps * int64(time.Second) / t.tr.rate))
		if !ok || end.After(edge) {
			edge, ok = end, true
		}
	}
	return edge, ok
}

// Skip moves the position n frames on without reading them.
func (fo *Follower) Skip(n int64) { fo.pos += max(n, 0) }

// Live reports whether a followed spool is still its track's: false once
// every one was removed (the call ended).
func (fo *Follower) Live() bool {
	for _, t := range fo.tails {
		if !t.gone {
			return true
		}
	}
	return false
}

// Read appends the next n stereo frames (interleaved, 2n samples) to dst.
// A side without audio at a position (no track there, or not written
// yet) is silent there.
func (fo *Follower) Read(dst []int16, n int) ([]int16, error) {
	for i := range fo.side {
		fo.side[i] = grow(fo.side[i], n)
		clear(fo.side[i])
	}
	var best [2]float64
	for _, t := range fo.tails {
		if t.gone {
			continue
		}
		fo.cand = grow(fo.cand, n)
		got, err := t.read(fo, fo.cand)
		if err != nil {
			return dst, err
		}
		if got*2 < n {
			continue // this track has no audio for most of the chunk
		}
		si := 0
		if t.tr.Side == spanrec.CalleeSide {
			si = 1
		}
		if e := audio.RMS(fo.cand); e >= best[si] {
			best[si] = e
			copy(fo.side[si], fo.cand)
		}
	}
	for i := range n {
		dst = append(dst, fo.side[0][i], fo.side[1][i])
	}
	fo.pos += int64(n)
	return dst, nil
}

func grow(b []int16, n int) []int16 {
	if cap(b) < n {
		return make([]int16, n)
	}
	return b[:n]
}

// seek makes t's next output position pos: it restarts the resampler at
// the input sample that position maps to.
func (t *tail) seek(fo *Follower, pos int64) error {
	rs, err := audio.NewResampler(int(t.tr.rate), fo.rate)
	if err != nil {
		return err
	}
	t.rs = rs
	in := (pos - t.off) * t.tr.rate / int64(fo.rate)
	t.in = max(in, 0)
	t.at = t.off + t.in*int64(fo.rate)/t.tr.rate
	t.out = t.out[:0]
	return nil
}

// read fills pcm with the track's samples of output positions [fo.pos,
// fo.pos+len(pcm)) and returns how many of them the spool holds; the
// others are zero.
func (t *tail) read(fo *Follower, pcm []int16) (int, error) {
	clear(pcm)
	if !t.same() {
		t.gone = true // removed: the call ended
		t.close()
		return 0, nil
	}
	end := fo.pos + int64(len(pcm))
	if end <= t.off {
		return 0, nil // the track starts later
	}
	if t.at+int64(len(t.out)) < fo.pos {
		// Behind (skipped, or the spool did not grow for a while):
		// restart where asked.
		if err := t.seek(fo, fo.pos); err != nil {
			return 0, err
		}
	}
	// Pull input until out reaches end or the spool's end.
	for t.at+int64(len(t.out)) < end {
		st, err := t.f.Stat()
		if err != nil {
			return 0, fmt.Errorf("render: follow: %w", err)
		}
		avail := st.Size()/t.tr.fmt.bps - t.in
		if avail <= 0 {
			break
		}
		need := (end-t.at-int64(len(t.out)))*t.tr.rate/int64(fo.rate) + int64(t.rs.Delay()) + 1
		k := min(avail, need, maxFollowRead)
		if int64(cap(t.raw)) < k*t.tr.fmt.bps {
			t.raw = make([]byte, k*t.tr.fmt.bps)
			t.pcm = make([]int16, k)
		}
		raw := t.raw[:k*t.tr.fmt.bps]
		m, err := t.f.ReadAt(raw, t.in*t.tr.fmt.bps)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("render: follow: %w", err)
		}
		if !t.same() {
			// Removed (and perhaps handed to another call) while we
			// read: what was read is not this call's for sure.
			t.gone = true
			t.close()
			clear(pcm)
			return 0, nil
		}
		m /= int(t.tr.fmt.bps)
		if m == 0 {
			break
		}
		t.tr.fmt.samples(t.pcm, raw, m)
		t.out = t.rs.Process(t.out, t.pcm[:m])
		t.in += int64(m)
	}
	// Drop what lies before fo.pos, copy what lies in the chunk.
	if skip := fo.pos - t.at; skip > 0 {
		t.consume(min(skip, int64(len(t.out))))
	}
	got := 0
	if t.at < end && len(t.out) > 0 {
		from := t.at - fo.pos // ≥ 0 here
		k := min(int64(len(t.out)), end-t.at)
		copy(pcm[from:from+k], t.out[:k])
		t.consume(k)
		got = int(k)
	}
	return got, nil
}

func (t *tail) consume(k int64) {
	t.out = t.out[:copy(t.out, t.out[k:])]
	t.at += k
}

// same reports whether t's open file is still the one at the track's
// path.
func (t *tail) same() bool {
	a, err := t.f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(t.tr.Path)
	return err == nil && os.SameFile(a, b)
}

func (t *tail) close() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}

// Close closes the followed spools.
func (fo *Follower) Close() error {
	for _, t := range fo.tails {
		t.close()
	}
	return nil
}
