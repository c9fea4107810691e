package api

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"

	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/auth"
)

// Spectrogram resolutions: columns over the recording's length.
const (
	defaultColumns = 800
	maxColumns     = 2000
)

// Spectrogram is how loud each frequency band of a recording is over
// time, for drawing it.
type Spectrogram struct {
	Rate       int   `json:"rate"`
	Channels   int   `json:"channels"`
	DurationMS int64 `json:"duration_ms"`
	Columns    int   `json:"columns"` // time steps, over the whole recording
	Bins       int   `json:"bins"`    // frequency bands, 0 Hz to MaxHz
	MaxHz      int   `json:"max_hz"`  // half the sample rate
	FloorDB    int   `json:"floor_db"`
	// Levels holds per channel (caller first) Columns×Bins bytes, column
	// after column, lowest band first: 0 is FloorDB dBFS or quieter, 255
	// is 0 dBFS (a full-scale sine), linear in dB between.
	Levels [][]byte `json:"levels"`
}

// maxSpectroBytes bounds the levels of one spectrogram (4 MiB; 2000
// columns of a 16 kHz stereo recording are 1 MiB).
const maxSpectroBytes = 4 << 20

// spectroFloorDB is the quietest level a spectrogram shows.
const spectroFloorDB = -96

func (s *Server) spectrogram(w http.ResponseWriter, r *http.Request, p *principal) error {
	// Derived from the recording, like the waveform: audited as such.
	return s.fromAudio(w, r, p, "columns", defaultColumns, maxColumns, auth.ActionSpectrogram,
		func(f io.ReadSeeker, n int) (any, error) { return Spectrum(f, n) })
}

// Spectrum reads the 16-bit PCM WAVE file r and returns its spectrogram
// in at most columns columns (fewer for a short recording): each column
// the power spectrum of a Hann-windowed stretch of about 32 ms (a power of
// two of samples) at the middle of its share of the recording. It reads
// only those stretches: columns × window frames, whatever the length.
func Spectrum(r io.ReadSeeker, columns int) (*Spectrogram, error) {
	info, err := wav.ReadInfo(r)
	if err != nil {
		return nil, err
	}
	if info.BitsPerSample != 16 || info.Channels < 1 || info.Channels > 8 || info.SampleRate < 1000 || info.SampleRate > 192000 {
		return nil, fmt.Errorf("%w: %d-bit, %d channels, %d Hz", wav.ErrUnsupported, info.BitsPerSample, info.Channels, info.SampleRate)
	}
	win := 1
	for win < info.SampleRate*32/1000 {
		win <<= 1
	}
	frames := info.Frames()
	if frames < int64(win) {
		columns = 0
	}
	columns = int(min(int64(columns), frames/int64(win/2)))
	// At most maxSpectroBytes of levels, whatever the file says.
	columns = min(columns, maxSpectroBytes/(win/2*info.Channels))
	sp := &Spectrogram{Rate: info.SampleRate, Channels: info.Channels, Columns: max(columns, 0), Bins: win / 2,
		MaxHz: info.SampleRate / 2, FloorDB: spectroFloorDB, DurationMS: frames * 1000 / int64(info.SampleRate)}
	sp.Levels = make([][]byte, info.Channels)
	for ch := range sp.Levels {
		sp.Levels[ch] = make([]byte, sp.Columns*sp.Bins)
	}
	if sp.Columns == 0 {
		return sp, nil
	}
	hann := make([]float64, win)
	sum := 0.0
	for i := range hann {
		hann[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(win))
		sum += hann[i]
	}
	// A full-scale sine gives a peak of sum/2 (in 32768ths): 0 dBFS.
	ref := sum / 2 * 32768
	fsize := 2 * info.Channels
	buf := make([]byte, win*fsize)
	re, im := make([]float64, win), make([]float64, win)
	for col := range sp.Columns {
		mid := (int64(col)*2 + 1) * frames / int64(2*sp.Columns)
		start := min(max(mid-int64(win/2), 0), frames-int64(win))
		if _, err := r.Seek(info.DataOffset+start*int64(fsize), io.SeekStart); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("wav data: %w", err)
		}
		for ch := range info.Channels {
			for i := range win {
				re[i] = float64(int16(binary.LittleEndian.Uint16(buf[i*fsize+2*ch:]))) * hann[i]
				im[i] = 0
			}
			audio.FFT(re, im)
			row := sp.Levels[ch][col*sp.Bins : (col+1)*sp.Bins]
			for k := range row {
				mag := math.Hypot(re[k], im[k]) / ref
				db := spectroFloorDB * 1.0
				if mag > 0 {
					db = max(20*math.Log10(mag), spectroFloorDB)
				}
				row[k] = byte(math.Round(min(db-spectroFloorDB, -spectroFloorDB) * 255 / -spectroFloorDB))
			}
		}
	}
	return sp, nil
}
