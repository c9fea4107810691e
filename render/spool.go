package render

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec"
)

// OpenSpool returns a closed Track over the spool file a Track wrote at
// path, as a recorder that stopped unexpectedly left it: 16-bit
// little-endian PCM at c.SampleRate whose first sample was captured at
// start. The result can be given to Mix and Remove. Frames is an estimate
// (one per 20 ms of spooled audio), enough for Mix to rank overlapping
// tracks.
func OpenSpool(path string, side spanrec.Side, c codec.Codec, start time.Time) (*Track, error) {
	if c.SampleRate <= 0 {
		return nil, errors.New("render: open spool: codec has no sample rate")
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("render: open spool: %w", err)
	}
	tr := &Track{Side: side, Codec: c, Start: start, Path: path, rate: int64(c.SampleRate), end: st.Size() / 2}
	if tr.end > 0 {
		tr.Frames = int(max(1, tr.end*50/tr.rate))
	}
	return tr, nil
}
