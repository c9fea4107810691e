package render

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/codec/g711"
)

// OpenSpool returns a closed Track over the spool file a Track wrote at
// path, as a recorder that stopped unexpectedly left it: samples at
// c.SampleRate, in the format path's extension and c give (see SpoolExt),
// whose first sample was captured at start. The result can be given to Mix and Remove. Frames is an estimate
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
	sf := formatOf(path, c)
	tr := &Track{Side: side, Codec: c, Start: start, Path: path, rate: int64(c.SampleRate), fmt: sf, end: st.Size() / sf.bps}
	if tr.end > 0 {
		tr.Frames = int(max(1, tr.end*50/tr.rate))
	}
	return tr, nil
}

// Spool file extensions: ".g711" holds G.711 codes (one byte per sample,
// see spoolFormat), ".pcm" 16-bit little-endian PCM.
const (
	extG711 = ".g711"
	extPCM  = ".pcm"
)

// SpoolExt returns the extension to give the spool file of a Track of
// codec c: ".g711" for mono G.711 (PCMU, PCMA), ".pcm" otherwise.
func SpoolExt(c codec.Codec) string {
	if _, ok := g711Key(c); ok {
		return extG711
	}
	return extPCM
}

// spoolFormat says how a spool stores samples. bps is the bytes per
// sample: 2 for 16-bit little-endian PCM, 1 for G.711 codes, each stored
// XOR key, where key is the code of silence (0xFF in µ-law, whose value
// is 0; 0xD5 in A-law, +8 of 32,768): a zero byte, as the gaps between
// packets and the holes of a sparse file read, is silence in both
// formats.
type spoolFormat struct {
	bps int64
	key byte
}

func formatOf(path string, c codec.Codec) spoolFormat {
	if filepath.Ext(path) == extG711 {
		if key, ok := g711Key(c); ok {
			return spoolFormat{bps: 1, key: key}
		}
	}
	return spoolFormat{bps: 2}
}

func g711Key(c codec.Codec) (byte, bool) {
	if c.Channels > 1 || c.SampleRate != 8000 {
		return 0, false
	}
	switch {
	case strings.EqualFold(c.Name, "PCMU"):
		return 0xFF, true
	case strings.EqualFold(c.Name, "PCMA"):
		return 0xD5, true
	}
	return 0, false
}

// samples converts n spooled samples from raw to 16-bit PCM in pcm.
func (f spoolFormat) samples(pcm []int16, raw []byte, n int) {
	switch {
	case f.bps == 2:
		for i := range n {
			pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case f.key == 0xFF:
		for i := range n {
			pcm[i] = g711.DecodeUlaw(raw[i] ^ 0xFF)
		}
	default:
		for i := range n {
			pcm[i] = g711.DecodeAlaw(raw[i] ^ f.key)
		}
	}
}
