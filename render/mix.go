package render

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/audio/wav"
)

// chunk is how many samples Mix moves at a time.
const chunk = 4096

// Result describes a written recording.
type Result struct {
	Rate    int           // sample rate of the WAV
	Length  time.Duration // audio length
	Samples int64         // frames per channel
	SHA256  string        // of the whole file, hex
	Used    []*Track      // the tracks that made it into the recording
	// Notes are plain-language remarks for the call: a copy of a side's
	// audio that carried voice too but was left out for another.
	Notes []string
}

// MixOptions tunes MixWith.
type MixOptions struct {
	// Sync makes MixWith fsync the WAV before it returns, so that a
	// recording the index lists survives a power loss. Live recording
	// wants it; a bulk import, which can be run again, can leave the
	// write-back to the kernel.
	Sync bool
	// MaxRate caps the recording's sample rate (see Rate): 8000, 16000 or
	// 48000; 0 means 48000.
	MaxRate int
}

// Recording rates: a recording is narrowband, wideband or fullband.
var recordingRates = [...]int{8000, 16000, 48000}

// Rate returns the sample rate of a recording of tracks: the lowest of 8,
// 16 and 48 kHz that holds the widest track (G.711 and GSM: 8 kHz, G.722:
// 16 kHz, L16 at 44.1 or 48 kHz and Opus: 48 kHz), capped at maxRate (0:
// 48 kHz). A track above the rate is resampled down to it.
func Rate(tracks []*Track, maxRate int) int {
	if maxRate <= 0 {
		maxRate = 48000
	}
	widest := 0
	for _, tr := range tracks {
		widest = max(widest, tr.Rate())
	}
	rate := recordingRates[0]
	for _, r := range recordingRates {
		if r > maxRate {
			break
		}
		rate = r
		if r >= widest {
			break
		}
	}
	return rate
}

// Mix is MixWith with Sync set.
func Mix(path string, tracks []*Track, from, to time.Time) (Result, error) {
	return MixWith(path, tracks, from, to, MixOptions{Sync: true})
}

// MixWith writes the stereo recording of the interval [from, to) to path:
// the caller's tracks on the left channel, the callee's on the right, at
// Rate(tracks, opt.MaxRate). Where several tracks
// of one side overlap in time (the same audio captured before and after a
// media relay), the one with the most voice (see Track.Voice; then the
// most packets) is kept and the others only fill its gaps, so that no
// voice is heard twice and a silent copy never hides a voiced one; a copy
// left out that carried voice too is named in Result.Notes (its packets
// stay in the call's pcap). Tracks must be closed.
//
// The WAV is streamed chunk by chunk, each side's samples pulled from its
// tracks' spools through their resamplers, so memory stays bounded
// whatever the length; its SHA-256 is computed as it is written.
func MixWith(path string, tracks []*Track, from, to time.Time, opt MixOptions) (Result, error) {
	var res Result
	if !to.After(from) {
		return res, errors.New("render: empty interval")
	}
	res.Rate = Rate(tracks, opt.MaxRate)
	n := int64(to.Sub(from)) * int64(res.Rate) / int64(time.Second)
	res.Samples = n
	res.Length = time.Duration(n * int64(time.Second) / int64(res.Rate))

	var sides [2][]*source
	for i, side := range []spanrec.Side{spanrec.CallerSide, spanrec.CalleeSide} {
		var notes []string
		sides[i], notes = place(n, res.Rate, from, side, tracksOf(tracks, side))
		res.Notes = append(res.Notes, notes...)
		for _, s := range sides[i] {
			res.Used = append(res.Used, s.tr)
		}
	}
	defer func() {
		for _, side := range sides {
			for _, s := range side {
				s.close()
			}
		}
	}()

	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return res, fmt.Errorf("render: %w", err)
	}
	defer out.Close()
	h := sha256.New()
	w, err := wav.NewSizedWriter(io.MultiWriter(out, h), res.Rate, 2, n)
	if err != nil {
		return res, err
	}
	l, r := make([]int16, chunk), make([]int16, chunk)
	st := make([]int16, 2*chunk)
	for off := int64(0); off < n; off += chunk {
		m := min(chunk, n-off)
		if err := fill(l[:m], off, sides[0]); err != nil {
			return res, err
		}
		if err := fill(r[:m], off, sides[1]); err != nil {
			return res, err
		}
		for i := range m {
			st[2*i], st[2*i+1] = l[i], r[i]
		}
		if err := w.Write(st[:2*m]); err != nil {
			return res, err
		}
	}
	if err := w.Close(); err != nil {
		return res, err
	}
	if opt.Sync {
		if err := out.Sync(); err != nil {
			return res, fmt.Errorf("render: %w", err)
		}
	}
	if err := out.Close(); err != nil {
		return res, fmt.Errorf("render: %w", err)
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	return res, nil
}

func tracksOf(tracks []*Track, side spanrec.Side) []*Track {
	var out []*Track
	for _, tr := range tracks {
		if tr.Side == side && tr.Frames > 0 {
			out = append(out, tr)
		}
	}
	if len(out) < 2 {
		return out
	}
	// Most voice first, then most audio: it wins where tracks overlap. A
	// track whose spool cannot be read counts as without voice (Mix then
	// reports the read error).
	voice := make(map[*Track]time.Duration, len(out))
	for _, tr := range out {
		voice[tr], _ = tr.Voice()
	}
	sort.SliceStable(out, func(i, j int) bool {
		if vi, vj := voice[out[i]], voice[out[j]]; vi != vj {
			return vi > vj
		}
		return out[i].Frames > out[j].Frames
	})
	return out
}

// minVoiceNote is how much voice a copy left out must carry for Mix to
// say so: less is a stray click or the tail of a tone.
const minVoiceNote = time.Second

// span is an interval of output positions [a, b).
type span struct{ a, b int64 }

// place picks, in order, the tracks of one side that make it into n
// samples at rate, skipping those that mostly overlap audio already
// placed. Each source may write only outside the spans of those before it.
// It returns a note for each track skipped that carried voice.
func place(n int64, rate int, from time.Time, side spanrec.Side, tracks []*Track) ([]*source, []string) {
	var taken []span
	var used []*source
	var notes []string
	for _, tr := range tracks {
		off := int64(tr.Start.Sub(from)) * int64(rate) / int64(time.Second)
		length := tr.Samples() * int64(rate) / int64(tr.Rate())
		s := span{max(off, 0), min(off+length, n)}
		if s.b <= s.a {
			continue
		}
		if overlap(taken, s)*2 > s.b-s.a {
			if v := tr.voiced; tr.voiceKnown && time.Duration(v)*voiceBlock >= minVoiceNote {
				kept, _ := used[0].tr.Voice()
				notes = append(notes, fmt.Sprintf("two copies of the %s's audio overlap (the same voice before and after a media relay?): "+
					"the recording plays the one with more voice (%.1f s, %d packets) and leaves out the other (%.1f s of voice, %d packets); "+
					"both are in the call's pcap", side, kept.Seconds(), used[0].tr.Frames, (time.Duration(v)*voiceBlock).Seconds(), tr.Frames))
			}
			continue
		}
		used = append(used, &source{tr: tr, rate: rate, pos: off, taken: taken[:len(taken):len(taken)]})
		taken = append(taken, s)
	}
	return used, notes
}

func overlap(taken []span, s span) int64 {
	var o int64
	for _, t := range taken {
		if a, b := max(t.a, s.a), min(t.b, s.b); b > a {
			o += b - a
		}
	}
	return o
}

// fill sets ch to the samples of output positions [off, off+len(ch)) of a
// side: silence, overwritten by each source in turn where it has audio and
// no earlier source's span is.
func fill(ch []int16, off int64, srcs []*source) error {
	clear(ch)
	end := off + int64(len(ch))
	for _, s := range srcs {
		if s.pos >= end {
			continue // the track starts later
		}
		if err := s.pull(end); err != nil {
			return err
		}
		// Drop what lies before the chunk (before position 0).
		if skip := min(off-s.pos, int64(len(s.out))); skip > 0 {
			s.consume(skip)
		}
		k := min(int64(len(s.out)), end-s.pos)
		for p := s.pos; p < s.pos+k; {
			free, run := freeRun(s.taken, p, s.pos+k-p)
			if free {
				copy(ch[p-off:p-off+run], s.out[p-s.pos:])
			}
			p += run
		}
		s.consume(k)
	}
	return nil
}

// A source streams one track's spool through its resampler, in output
// positions. It opens the spool when first pulled.
type source struct {
	tr    *Track
	rate  int    // output rate
	taken []span // spans of the sources placed before this one
	f     *os.File
	rs    *audio.Resampler
	raw   []byte
	in    []int16
	out   []int16 // resampled samples not consumed yet; out[0] is at position pos
	pos   int64
	done  bool // the spool is read to its end and the resampler flushed
}

// pull makes out reach position end, or the end of the track.
func (s *source) pull(end int64) error {
	if s.rs == nil && !s.done {
		rs, err := audio.NewResampler(s.tr.Rate(), s.rate)
		if err != nil {
			return err
		}
		f, err := os.Open(s.tr.Path)
		if err != nil {
			return fmt.Errorf("render: %w", err)
		}
		s.rs, s.f = rs, f
		s.raw, s.in = make([]byte, s.tr.fmt.bps*chunk), make([]int16, chunk)
	}
	for !s.done && s.pos+int64(len(s.out)) < end {
		m, err := io.ReadFull(s.f, s.raw)
		m /= int(s.tr.fmt.bps)
		s.tr.fmt.samples(s.in, s.raw, m)
		s.out = s.rs.Process(s.out, s.in[:m])
		switch {
		case err == nil:
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			s.out = s.rs.Flush(s.out)
			s.done = true
			s.close()
		default:
			return fmt.Errorf("render: read spool: %w", err)
		}
	}
	return nil
}

// consume drops the first k samples of out.
func (s *source) consume(k int64) {
	s.out = s.out[:copy(s.out, s.out[k:])]
	s.pos += k
}

func (s *source) close() {
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
}

// freeRun reports whether position p is outside every taken span, and how
// many positions from p (at most k) share that state.
func freeRun(taken []span, p, k int64) (bool, int64) {
	end := p + k
	free := true
	for _, t := range taken {
		if p >= t.a && p < t.b {
			free = false
			end = min(end, t.b)
		} else if t.a > p {
			end = min(end, t.a)
		}
	}
	return free, end - p
}
