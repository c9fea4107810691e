// Package render turns the RTP payloads of a call into its recording. While
// the call goes on, a Track per stream (and codec) puts the payloads in
// sequence order and spools their samples to a file, each sample at the
// place its RTP timestamp and capture time give it: G.711 as its 8-bit
// codes (decoded when mixed, which halves the bytes written and read),
// other codecs decoded to 16-bit PCM. When the call ends, Mix aligns the
// tracks of both parties on capture time, resamples them to one rate and
// writes the stereo WAV (caller left, callee right).
//
// Memory per track is bounded (a small reorder window and one write
// buffer), so thousands of calls can be recorded at once; the audio itself
// lives on disk.
package render

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec"
)

const (
	// reorderWindow is how many packets a Track holds back to put them in
	// sequence order before decoding (stateful decoders such as G.722 need
	// the payloads in order).
	reorderWindow = 8
	// bufBytes is the size of a Track's write buffer: 4 KiB, 2,048
	// samples of PCM or 4,096 of G.711.
	bufBytes = 4096
	// maxPayload bounds the payload a Track keeps in its reorder window.
	maxPayload = 1500
	// resyncAfter is how far the RTP timestamp may disagree with the
	// capture clock before the Track re-anchors on capture time (timestamp
	// jump, sender restart).
	resyncAfter = time.Second
)

// A Track is one stream's decoded audio, spooled to a file. It is not safe
// for concurrent use.
//
// The fields one in-order packet reads and writes come first, in four
// cache lines (a Track is 1,096 bytes, allocated in the size class of
// 1,152, a multiple of 64): with thousands
// of calls at once, the cache misses of a packet cost more than its
// arithmetic (docs/PERFORMANCE.md, "Tenth session").
type Track struct {
	// Timeline anchor: the sample at position anchorPos has RTP timestamp
	// anchorTS (extended) and was captured at anchorTime.
	anchored bool
	// Noise is set when the payloads decode to loud white noise (see
	// noiseGuard): encrypted media, or another codec's, taken for this
	// one. The spool is cut where the noise began, and the payloads
	// after it are dropped (counted in NoiseFrames).
	Noise bool
	// Sequence unwrapping and the reorder window (slots, at the end).
	lastSeq uint16
	ssrc    uint32
	lastTS  uint32
	extSeq  int64
	next    int64  // next extended sequence number to decode
	done    uint64 // bit k: sequence number next-1-k was decoded
	held    int
	extTS   int64

	anchorPos  int64
	anchorTS   int64
	clock      int64 // RTP clock rate, Hz
	rate       int64 // decoded sample rate
	anchorTime time.Time
	fmt        spoolFormat
	Frames     int // payloads decoded

	// untilPos is the position of Until, computed when Until is first
	// seen set (until holds the Until it was computed for).
	untilPos int64
	until    time.Time
	// Until, if not zero, is the capture time past which no audio is
	// spooled: a payload whose place is at or after it (a corrupt
	// capture time or RTP timestamp, a call past its maximum duration)
	// is dropped and counted in Beyond, so that the spool stays bounded.
	Until time.Time

	buf      []byte // spooled samples at positions [bufStart, bufStart+len(buf)/bps)
	bufStart int64
	end      int64  // one past the last position written
	enc      []byte // a payload's samples as spooled
	// sq, for a G.711 spool, holds the square of each code's sample
	// value: the noise guard's level, from the codes.
	sq *[256]int32

	Side  spanrec.Side
	Codec codec.Codec
	Start time.Time // capture time of the sample at position 0
	Path  string    // spool file
	Err   error     // first decode or write error, if any

	NoiseFrames int
	// Concealed counts the samples a codec.Concealer made up for gaps in
	// the stream (lost packets, or silences of discontinuous
	// transmission); DecodeErrors the payloads that could not be decoded.
	Concealed    int64
	DecodeErrors int
	Beyond       int

	dec  codec.Decoder
	f    *File
	pool *Pool
	pcm  []int16

	guard noiseGuard
	// Voice's answer, in 20 ms blocks, once known.
	voiced     int64
	voiceKnown bool

	slots [reorderWindow]slot
}

type slot struct {
	used    bool
	seq     int64
	ts      int64
	t       time.Time
	payload []byte
}

// NewTrack creates a Track that spools to path. start is the capture time
// of the first packet; c says how to decode its payloads. The spool's
// format follows from path's extension and c (see SpoolExt): name it
// with SpoolExt(c) so that G.711 is spooled as 8-bit codes. The file
// comes from pool (which may be nil), and Remove gives it back.
func NewTrack(pool *Pool, path string, side spanrec.Side, c codec.Codec, start time.Time) (*Track, error) {
	return NewTrackIn(pool, nil, path, side, c, start)
}

// NewTrackIn is NewTrack with the spool's descriptor held through files
// (see Files), which may be nil.
func NewTrackIn(pool *Pool, files *Files, path string, side spanrec.Side, c codec.Codec, start time.Time) (*Track, error) {
	f, err := pool.Create(path)
	if err != nil {
		return nil, fmt.Errorf("render: create spool: %w", err)
	}
	tr := &Track{
		Side: side, Codec: c, Start: start, Path: path,
		dec: c.New(), rate: int64(c.SampleRate), f: files.Adopt(f), fmt: formatOf(path, c), pool: pool,
		buf: make([]byte, 0, bufBytes),
	}
	tr.clock = int64(c.ClockRate)
	if tr.clock <= 0 {
		tr.clock = tr.rate
	}
	tr.guard.flatness = noiseFlatness
	if tr.fmt.bps == 1 {
		tr.guard.flatness = noiseFlatnessG711
		if _, garbage := tr.dec.(codec.GarbageDetector); !garbage {
			tr.sq = squares(tr.fmt.key)
		}
	}
	return tr, nil
}

// Rate returns the sample rate of the spooled PCM.
func (tr *Track) Rate() int { return int(tr.rate) }

// Samples returns the length of the spooled audio in samples.
func (tr *Track) Samples() int64 { return tr.end }

// Add accounts one RTP packet captured at t. The payload is copied if the
// packet has to wait in the reorder window.
func (tr *Track) Add(ssrc uint32, seq uint16, ts uint32, t time.Time, payload []byte) {
	if tr.anchored && ssrc != tr.ssrc {
		// A new source in the same flow: drain the old one and anchor the
		// new one on capture time.
		tr.drain()
		tr.anchored = false
	}
	if !tr.anchored {
		tr.anchored = true
		tr.ssrc = ssrc
		tr.lastSeq, tr.extSeq, tr.next, tr.done = seq, int64(seq), int64(seq), 0
		tr.lastTS, tr.extTS = ts, int64(ts)
		tr.anchorTS = int64(ts)
		tr.anchorTime = t
		tr.anchorPos = tr.at(t)
	}
	es := unwrap16(&tr.lastSeq, &tr.extSeq, seq)
	ets := unwrap32(&tr.lastTS, &tr.extTS, ts)
	switch {
	case es < tr.next:
		// Too late for the window, or a duplicate of a decoded packet. A
		// late packet still has its place on the timeline.
		if k := tr.next - 1 - es; k < 64 {
			if tr.done&(1<<k) != 0 {
				return
			}
			tr.done |= 1 << k
		}
		tr.decode(ets, t, payload)
		return
	case es >= tr.next+reorderWindow:
		// The window overflows: give up on the packets still missing.
		for tr.held > 0 && es >= tr.next+reorderWindow {
			tr.advance()
		}
		if skip := es - reorderWindow + 1 - tr.next; skip > 0 {
			tr.done = shift(tr.done, skip)
			tr.next += skip
		}
	}
	if len(payload) > maxPayload {
		payload = payload[:maxPayload]
	}
	if es == tr.next && tr.held == 0 {
		// In order with nothing held back, the usual case: decode now,
		// as advance would, without a copy through the window.
		tr.done = tr.done<<1 | 1
		tr.decode(ets, t, payload)
		tr.next++
		return
	}
	s := &tr.slots[es%reorderWindow]
	if s.used {
		return // duplicate
	}
	s.used, s.seq, s.ts, s.t = true, es, ets, t
	s.payload = append(s.payload[:0], payload...)
	tr.held++
	for tr.held > 0 && tr.slots[tr.next%reorderWindow].used {
		tr.advance()
	}
}

// advance decodes the slot of tr.next (if any) and moves on.
func (tr *Track) advance() {
	s := &tr.slots[tr.next%reorderWindow]
	tr.done <<= 1
	if s.used && s.seq == tr.next {
		tr.decode(s.ts, s.t, s.payload)
		s.used = false
		tr.held--
		tr.done |= 1
	}
	tr.next++
}

func shift(bits uint64, n int64) uint64 {
	if n >= 64 {
		return 0
	}
	return bits << n
}

func (tr *Track) drain() {
	for tr.held > 0 {
		tr.advance()
	}
}

// at returns the position of capture time t.
func (tr *Track) at(t time.Time) int64 {
	return samplesIn(t.Sub(tr.Start), tr.rate)
}

// samplesIn returns the samples at rate in d, without overflowing for
// any duration (d in nanoseconds times the rate would, past 13 days).
func samplesIn(d time.Duration, rate int64) int64 {
	return int64(d/time.Second)*rate + int64(d%time.Second)*rate/int64(time.Second)
}

func (tr *Track) decode(ets int64, t time.Time, payload []byte) {
	// RFC 3550 §5.1: the timestamp gives the sampling instant; place the
	// payload by it unless it disagrees with the capture clock by more
	// than resyncAfter (a jump or a restarted sender).
	d := time.Duration((ets - tr.anchorTS) * int64(time.Second) / tr.clock)
	if skew := t.Sub(tr.anchorTime) - d; skew > resyncAfter || skew < -resyncAfter {
		tr.anchorTS, tr.anchorTime, tr.anchorPos = ets, t, tr.at(t)
		d = 0
	}
	pos := tr.anchorPos + samplesIn(d, tr.rate)
	if !tr.Until.IsZero() {
		if tr.Until != tr.until {
			tr.until, tr.untilPos = tr.Until, tr.at(tr.Until)
		}
		if pos >= tr.untilPos {
			tr.Beyond++
			return
		}
	}
	if tr.Noise {
		tr.NoiseFrames++
		return
	}
	if tr.fmt.bps == 1 {
		// G.711: one code per sample, spooled as it is (see spoolFormat).
		tr.enc = xorCodes(tr.enc, payload, tr.fmt.key)
	} else {
		tr.conceal(pos)
		var err error
		tr.pcm, err = tr.dec.Decode(tr.pcm[:0], payload)
		if err != nil {
			tr.DecodeErrors++
			if tr.Err == nil {
				tr.Err = fmt.Errorf("render: decode %s: %w", tr.Codec.Name, err)
			}
			return
		}
		tr.enc = putSamples(tr.enc[:0], tr.pcm)
	}
	// The guard looks at one payload in noiseEvery, then (from the
	// noiseEarly-th on) one in noiseLate: both powers of two.
	every := noiseEvery
	if tr.Frames >= noiseEarly {
		every = noiseLate
	}
	if tr.Frames&(every-1) == 0 && tr.checkNoise(pos, payload) {
		return
	}
	tr.Frames++
	if pos < 0 {
		return
	}
	tr.write(pos, tr.enc)
}

// xorCodes returns payload's G.711 codes XOR key in enc's memory (see
// spoolFormat), eight at a time.
func xorCodes(enc, payload []byte, key byte) []byte {
	n := len(payload)
	if cap(enc) < n {
		enc = make([]byte, n, max(n, 2*cap(enc)))
	}
	enc = enc[:n]
	k8 := uint64(key) * 0x0101010101010101
	i := 0
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(enc[i:], binary.LittleEndian.Uint64(payload[i:])^k8)
	}
	for ; i < n; i++ {
		enc[i] = payload[i] ^ key
	}
	return enc
}

// checkNoise runs the noise guard on the payload decoded at pos, and
// when it trips cuts the spool where the noise began. It reports whether
// the track is now noise.
func (tr *Track) checkNoise(pos int64, payload []byte) bool {
	var noise bool
	if tr.sq != nil {
		// G.711 is spooled as codes: the level comes from the codes, and
		// only a loud payload is decoded for its flatness (a table lookup
		// per sample).
		if loud(tr.sq, payload) {
			tr.pcm, _ = tr.dec.Decode(tr.pcm[:0], payload)
			noise = tr.guard.addLoud(tr.pcm, pos)
		} else {
			noise = tr.guard.judge(pos, len(payload), false)
		}
	} else {
		pcm := tr.pcm
		if tr.fmt.bps == 1 {
			pcm, _ = tr.dec.Decode(tr.pcm[:0], payload)
			tr.pcm = pcm
		}
		gd, ok := tr.dec.(codec.GarbageDetector)
		noise = tr.guard.add(pcm, pos, ok && gd.Garbage())
	}
	if !noise {
		return false
	}
	tr.Noise = true
	tr.NoiseFrames++
	tr.cut(tr.guard.from)
	return true
}

// cut drops the spooled samples from position pos on.
func (tr *Track) cut(pos int64) {
	pos = max(pos, 0)
	tr.flush()
	if pos < tr.end {
		if err := tr.f.Truncate(pos * tr.fmt.bps); err != nil && tr.Err == nil {
			tr.Err = fmt.Errorf("render: cut spool: %w", err)
		}
		tr.end = pos
	}
}

// maxConceal bounds the gap a Concealer fills, in seconds (60: the longest
// silence of discontinuous transmission worth comfort noise); the decoder
// bounds it further (G.729: 1 s of erasure after speech). What is not
// filled stays silent. concealChunk is the most it is asked for at once,
// in seconds/5, which bounds the Track's buffers.
const (
	maxConceal   = 60
	concealChunk = 5
)

// conceal fills the gap between the end of the audio decoded so far and
// pos (where the next payload goes) with the decoder's substitute audio,
// if it has any (codec.Concealer). Only gaps after the first payload and
// of at most maxConceal are filled; a packet that comes late (pos before
// the end) is not a gap.
func (tr *Track) conceal(pos int64) {
	c, ok := tr.dec.(codec.Concealer)
	if !ok || tr.Frames == 0 {
		return
	}
	gap := pos - tr.end
	if gap <= 0 || gap > maxConceal*tr.rate {
		return
	}
	for at := tr.end; at < pos; {
		tr.pcm = c.Conceal(tr.pcm[:0], int(min(pos-at, tr.rate/concealChunk)))
		if len(tr.pcm) == 0 {
			return
		}
		tr.enc = putSamples(tr.enc[:0], tr.pcm)
		tr.write(at, tr.enc)
		tr.Concealed += int64(len(tr.pcm))
		at += int64(len(tr.pcm))
	}
}

// write puts the spooled samples b at position pos, through the write
// buffer.
func (tr *Track) write(pos int64, b []byte) {
	bps := tr.fmt.bps
	bufSamples := int64(bufBytes) / bps
	n := int64(len(b)) / bps
	bufEnd := tr.bufStart + int64(len(tr.buf))/bps
	switch {
	case len(tr.buf) == 0:
		tr.bufStart = pos
	case pos >= tr.bufStart && pos <= bufEnd && pos+n <= tr.bufStart+bufSamples:
		// Fits in the buffer (in order, or overwriting a little).
	case pos > bufEnd && pos+n <= tr.bufStart+bufSamples:
		// A small gap: silence (zero bytes) in the buffer.
		tr.buf = append(tr.buf, make([]byte, bps*(pos-bufEnd))...)
	default:
		tr.flush()
		tr.bufStart = pos
	}
	off := bps * (pos - tr.bufStart)
	if need := off + int64(len(b)); need > int64(len(tr.buf)) {
		if need > int64(cap(tr.buf)) {
			// Larger than the buffer: write straight through.
			tr.flush()
			tr.writeAt(pos, b)
			return
		}
		tr.buf = tr.buf[:need]
	}
	copy(tr.buf[off:], b)
	if e := pos + n; e > tr.end {
		tr.end = e
	}
}

// putSamples appends s to b as 16-bit little-endian samples.
func putSamples(b []byte, s []int16) []byte {
	for _, v := range s {
		b = append(b, byte(v), byte(uint16(v)>>8))
	}
	return b
}

func (tr *Track) flush() {
	if len(tr.buf) > 0 {
		tr.writeAt(tr.bufStart, tr.buf)
		tr.buf = tr.buf[:0]
	}
}

// writeAt writes the spooled samples b at position pos of the spool.
func (tr *Track) writeAt(pos int64, b []byte) {
	if _, err := tr.f.WriteAt(b, pos*tr.fmt.bps); err != nil && tr.Err == nil {
		tr.Err = fmt.Errorf("render: write spool: %w", err)
	}
	if e := pos + int64(len(b))/tr.fmt.bps; e > tr.end {
		tr.end = e
	}
}

// Flush writes the buffered samples to the spool file, so that they
// survive a crash; the reorder window is kept as it is.
func (tr *Track) Flush() { tr.flush() }

// Close decodes the packets left in the reorder window, flushes the spool
// and closes its file. The spool stays on disk for Mix; Remove deletes it.
func (tr *Track) Close() error {
	tr.drain()
	tr.flush()
	err := tr.f.Close()
	return errors.Join(tr.Err, err)
}

// Remove deletes the spool file (into the Track's pool, if it has one).
func (tr *Track) Remove() error { return tr.pool.Remove(tr.Path) }

// unwrap16 extends a 16-bit sequence number (RFC 3550 A.1) given the last
// one seen and its extension.
func unwrap16(last *uint16, ext *int64, v uint16) int64 {
	d := int64(int16(v - *last))
	e := *ext + d
	if d > 0 {
		*last, *ext = v, e
	}
	return e
}

// unwrap32 extends a 32-bit RTP timestamp.
func unwrap32(last *uint32, ext *int64, v uint32) int64 {
	d := int64(int32(v - *last))
	e := *ext + d
	if d > 0 {
		*last, *ext = v, e
	}
	return e
}
