package render

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Voice activity of a track, to choose between overlapping copies of one
// side's audio.
const (
	// voiceBlock is the length of the blocks Voice judges: 20 ms, one
	// usual packet.
	voiceBlock = 20 * time.Millisecond
	// voiceRMS is the RMS level from which a block counts as voice:
	// −45 dBFS. Speech and DTMF tones lie far above (−10 to −30 dBFS);
	// digital silence, the faint noise a relay or gateway sends while
	// nobody speaks, and comfort noise rendered as silence lie below.
	voiceRMS = 184
)

// Voice returns how much of the track's audio carries voice (or tones):
// the number of 20 ms blocks of its spool whose RMS level reaches
// −45 dBFS, as a duration. It reads the spool file, so the Track must be
// closed; the answer is remembered.
func (tr *Track) Voice() (time.Duration, error) {
	if tr.voiceKnown {
		return time.Duration(tr.voiced) * voiceBlock, nil
	}
	f, err := os.Open(tr.Path)
	if err != nil {
		return 0, fmt.Errorf("render: voice: %w", err)
	}
	defer f.Close()
	block := int(tr.rate * int64(voiceBlock) / int64(time.Second))
	if block <= 0 {
		return 0, errors.New("render: voice: no sample rate")
	}
	raw := make([]byte, tr.fmt.bps*int64(block))
	in := make([]int16, block)
	var voiced int64
	for {
		n, err := io.ReadFull(f, raw)
		m := n / int(tr.fmt.bps)
		if m > 0 {
			tr.fmt.samples(in, raw, m)
			var sum float64
			for _, v := range in[:m] {
				sum += float64(v) * float64(v)
			}
			// A block reaches the level when its mean square does; a short
			// last block is judged on its own length.
			if sum >= float64(voiceRMS)*voiceRMS*float64(m) {
				voiced++
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("render: voice: %w", err)
		}
	}
	tr.voiced, tr.voiceKnown = voiced, true
	return time.Duration(voiced) * voiceBlock, nil
}
