package render

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
}

// Mix writes the stereo recording of the interval [from, to) to path: the
// caller's tracks on the left channel, the callee's on the right. The rate
// is 8 kHz, or 16 kHz when a track is wideband. Where several tracks of one
// side overlap in time (the same audio captured before and after a media
// relay), the one with the most audio is kept and the others only fill its
// gaps, so that no voice is heard twice. Tracks must be closed.
func Mix(path string, tracks []*Track, from, to time.Time) (Result, error) {
	var res Result
	if !to.After(from) {
		return res, errors.New("render: empty interval")
	}
	res.Rate = 8000
	for _, tr := range tracks {
		if tr.Rate() > 8000 {
			res.Rate = 16000
		}
	}
	n := int64(to.Sub(from)) * int64(res.Rate) / int64(time.Second)
	res.Samples = n
	res.Length = time.Duration(n * int64(time.Second) / int64(res.Rate))

	dir := filepath.Dir(path)
	var chans [2]*os.File
	for i := range chans {
		f, err := os.CreateTemp(dir, ".mix-*")
		if err != nil {
			return res, fmt.Errorf("render: %w", err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if err := f.Truncate(2 * n); err != nil {
			return res, fmt.Errorf("render: %w", err)
		}
		chans[i] = f
	}
	for i, side := range []spanrec.Side{spanrec.CallerSide, spanrec.CalleeSide} {
		used, err := place(chans[i], n, res.Rate, from, tracksOf(tracks, side))
		if err != nil {
			return res, err
		}
		res.Used = append(res.Used, used...)
	}

	out, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return res, fmt.Errorf("render: %w", err)
	}
	defer out.Close()
	w, err := wav.NewWriter(out, res.Rate, 2)
	if err != nil {
		return res, err
	}
	l, r := make([]byte, 2*chunk), make([]byte, 2*chunk)
	st := make([]int16, 2*chunk)
	for off := int64(0); off < n; off += chunk {
		m := min(chunk, n-off)
		if _, err := chans[0].ReadAt(l[:2*m], 2*off); err != nil {
			return res, fmt.Errorf("render: %w", err)
		}
		if _, err := chans[1].ReadAt(r[:2*m], 2*off); err != nil {
			return res, fmt.Errorf("render: %w", err)
		}
		for i := range m {
			st[2*i] = int16(binary.LittleEndian.Uint16(l[2*i:]))
			st[2*i+1] = int16(binary.LittleEndian.Uint16(r[2*i:]))
		}
		if err := w.Write(st[:2*m]); err != nil {
			return res, err
		}
	}
	if err := w.Close(); err != nil {
		return res, err
	}
	if err := out.Sync(); err != nil {
		return res, fmt.Errorf("render: %w", err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return res, fmt.Errorf("render: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, out); err != nil {
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
	// Most audio first: it wins where tracks overlap.
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Frames > out[j].Frames
	})
	return out
}

// span is an interval of output positions [a, b).
type span struct{ a, b int64 }

// place resamples each track onto channel file ch (n samples at rate),
// skipping the tracks that mostly overlap audio already placed.
func place(ch *os.File, n int64, rate int, from time.Time, tracks []*Track) ([]*Track, error) {
	var taken []span
	var used []*Track
	for _, tr := range tracks {
		off := int64(tr.Start.Sub(from)) * int64(rate) / int64(time.Second)
		length := tr.Samples() * int64(rate) / int64(tr.Rate())
		s := span{max(off, 0), min(off+length, n)}
		if s.b <= s.a {
			continue
		}
		if overlap(taken, s)*2 > s.b-s.a {
			continue
		}
		if err := copyTrack(ch, n, rate, off, tr, taken); err != nil {
			return used, err
		}
		taken = append(taken, s)
		used = append(used, tr)
	}
	return used, nil
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

// copyTrack streams tr's spool through a resampler to ch at offset off,
// not overwriting positions inside taken.
func copyTrack(ch *os.File, n int64, rate int, off int64, tr *Track, taken []span) error {
	rs, err := audio.NewResampler(tr.Rate(), rate)
	if err != nil {
		return err
	}
	f, err := os.Open(tr.Path)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer f.Close()
	raw := make([]byte, 2*chunk)
	in := make([]int16, chunk)
	var out []int16
	var wb []byte // reused for every write
	pos := off
	emit := func(s []int16) error {
		for len(s) > 0 {
			if pos >= n {
				return nil
			}
			// Find the run of s that lands on free positions in [0, n).
			k := int64(len(s))
			start := pos
			if start < 0 {
				skip := min(-start, k)
				s, pos = s[skip:], pos+skip
				continue
			}
			k = min(k, n-start)
			free, runLen := freeRun(taken, start, k)
			if free {
				if int64(cap(wb)) < 2*runLen {
					wb = make([]byte, 2*runLen)
				}
				b := wb[:2*runLen]
				for i := range runLen {
					binary.LittleEndian.PutUint16(b[2*i:], uint16(s[i]))
				}
				if _, err := ch.WriteAt(b, 2*start); err != nil {
					return fmt.Errorf("render: %w", err)
				}
			}
			s, pos = s[runLen:], pos+runLen
		}
		return nil
	}
	for {
		m, rerr := io.ReadFull(f, raw)
		m /= 2
		for i := range m {
			in[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		out = rs.Process(out[:0], in[:m])
		if err := emit(out); err != nil {
			return err
		}
		if rerr != nil {
			break
		}
	}
	return emit(rs.Flush(out[:0]))
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
