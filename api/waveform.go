package api

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/auth"
)

// Waveform resolutions.
const (
	defaultPoints = 1000
	maxPoints     = 10000
)

// Waveform is the peaks of a recording, for drawing it.
type Waveform struct {
	Rate       int   `json:"rate"` // sample rate, Hz
	Channels   int   `json:"channels"`
	DurationMS int64 `json:"duration_ms"`
	Points     int   `json:"points"` // peaks per channel
	// Peaks holds, per channel (caller first), Points pairs [min, max] of
	// the samples in consecutive equal stretches of the recording, scaled
	// to -1..1.
	Peaks [][][2]float64 `json:"peaks"`
}

func (s *Server) waveform(w http.ResponseWriter, r *http.Request, p *principal) error {
	// The peaks are derived from the recording, and for a short call at
	// the highest resolution they are its samples: audited like a play.
	return s.fromAudio(w, r, p, "points", defaultPoints, maxPoints, auth.ActionWaveform,
		func(f io.ReadSeeker, n int) (any, error) { return Peaks(f, n) })
}

// fromAudio answers with what compute derives from the recording of the
// call r names: the query parameter param (default def, at most most) is
// its resolution; the result is audited as action (which also names it
// in errors), like the recording it comes from.
func (s *Server) fromAudio(w http.ResponseWriter, r *http.Request, p *principal, param string, def, most int, action string, compute func(io.ReadSeeker, int) (any, error)) error {
	n := def
	if v := r.URL.Query().Get(param); v != "" {
		var err error
		if n, err = parseInt(param, v, 1, most); err != nil {
			return err
		}
	}
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	f, err := s.openAudio(r.Context(), c)
	if err != nil {
		return err
	}
	defer f.Close()
	v, err := compute(f, n)
	if err != nil {
		return fmt.Errorf("api: %s of %s: %w", action, c.ID, err)
	}
	if err := s.auditContent(r, p, action, c.ID, c.Audio); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// Peaks reads the 16-bit PCM WAVE file r once, streaming, and returns the
// minimum and maximum of each channel over points equal stretches (fewer
// if the recording has fewer frames).
func Peaks(r io.ReadSeeker, points int) (*Waveform, error) {
	info, err := wav.ReadInfo(r)
	if err != nil {
		return nil, err
	}
	if info.BitsPerSample != 16 || info.Channels < 1 {
		return nil, fmt.Errorf("%w: %d-bit, %d channels", wav.ErrUnsupported, info.BitsPerSample, info.Channels)
	}
	frames := info.Frames()
	if int64(points) > frames {
		points = int(frames)
	}
	wf := &Waveform{Rate: info.SampleRate, Channels: info.Channels, Points: points}
	if info.SampleRate > 0 {
		wf.DurationMS = frames * 1000 / int64(info.SampleRate)
	}
	mins := make([][]int16, info.Channels)
	maxs := make([][]int16, info.Channels)
	for ch := range mins {
		mins[ch], maxs[ch] = make([]int16, points), make([]int16, points)
	}
	if _, err := r.Seek(info.DataOffset, io.SeekStart); err != nil {
		return nil, err
	}
	fsize := 2 * info.Channels
	data := io.LimitReader(r, frames*int64(fsize))
	buf := make([]byte, (64<<10)/fsize*fsize)
	bucket, started := -1, false
	for i := int64(0); i < frames; {
		n, err := io.ReadFull(data, buf[:min(int64(len(buf)), (frames-i)*int64(fsize))])
		if err != nil {
			return nil, fmt.Errorf("wav data: %w", err)
		}
		for off := 0; off < n; off, i = off+fsize, i+1 {
			b := int(i * int64(points) / frames)
			if b != bucket {
				bucket, started = b, false
			}
			for ch := range info.Channels {
				v := int16(binary.LittleEndian.Uint16(buf[off+2*ch:]))
				if !started {
					mins[ch][b], maxs[ch][b] = v, v
					continue
				}
				mins[ch][b] = min(mins[ch][b], v)
				maxs[ch][b] = max(maxs[ch][b], v)
			}
			started = true
		}
	}
	wf.Peaks = make([][][2]float64, info.Channels)
	for ch := range wf.Peaks {
		wf.Peaks[ch] = make([][2]float64, points)
		for i := range points {
			wf.Peaks[ch][i] = [2]float64{scale(mins[ch][i]), scale(maxs[ch][i])}
		}
	}
	return wf, nil
}

// scale maps a sample to -1..1 with 4 decimals: enough for any screen,
// and a short JSON number.
func scale(v int16) float64 {
	return math.Round(float64(v)/32768*1e4) / 1e4
}

// openAudio opens call c's recording, the one file the waveform and the
// spectrogram are derived from: ENOTFOUND when it has none or it is
// missing from the data directory or store. They read parts of it, not
// checked against the index's SHA-256 (see serveFile).
func (s *Server) openAudio(ctx context.Context, c *spanrec.Call) (Blob, error) {
	if c.Audio == "" {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "call %s has no recording", c.ID)
	}
	return s.openBlob(ctx, c, c.Audio, c.AudioSHA256, "recording")
}
