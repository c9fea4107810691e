// Package speex decodes Speex speech (narrowband 8 kHz and wideband
// 16 kHz) as carried in RTP by RFC 5574: "speex/8000" and "speex/16000",
// one or more 20 ms frames per packet, the last padded by a terminator.
//
// Narrowband is CELP: per frame, line spectral pairs (30 or 18 bits,
// multi-stage split VQ) interpolated over four 5 ms sub-frames, an
// adaptive codebook (pitch lag and 3-tap gain, or one gain for the frame
// in the lowest modes), a split-VQ fixed codebook with per-frame and
// per-sub-frame gains, and an LPC synthesis filter; sub-modes 0 to 8 pick
// the quantisers. The decoder runs the perceptual enhancer (a comb filter
// at the pitch period) and the output high-pass filter as the reference
// decoder does by default. Wideband adds a layer coding 4-8 kHz (SB-CELP:
// 8 LSPs and a codebook excitation, or the low band's innovation folded
// up) joined to the low band by a QMF synthesis filter bank. In-band
// signalling is stepped over; an ultra-wideband layer is not decoded.
package speex

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// maxFrames bounds the frames decoded from one payload (RFC 5574 puts no
// limit; 32 frames are 640 ms).
const maxFrames = 32

// ErrTooManyFrames is returned for a payload of more than maxFrames frames.
var ErrTooManyFrames = errors.New("speex: more than 32 frames in one payload")

// Decoder decodes one RTP stream of Speex frames. Not safe for concurrent
// use.
type Decoder struct {
	// bad has a bit set for each of the last 32 payloads that failed to
	// decode; seen counts payloads up to 32.
	bad  uint32
	seen int
	nb   *nbDecoder
	wb   *wbDecoder // nil for narrowband
	low  [nbFrame]float32
	out  [2 * nbFrame]float32
}

// NewDecoder returns a narrowband (8000 Hz output) or wideband (16000 Hz)
// decoder.
func NewDecoder(wideband bool) *Decoder {
	d := &Decoder{nb: newNBDecoder(wideband)}
	if wideband {
		d.wb = newWBDecoder()
	}
	return d
}

// SampleRate is the rate of the decoded PCM.
func (d *Decoder) SampleRate() int {
	if d.wb != nil {
		return 16000
	}
	return 8000
}

// Garbage reports that at least a quarter of the last 16 to 32 payloads
// failed to decode (no frame, an invalid mode, a frame longer than the
// payload): the stream is not Speex (encrypted media, another codec). A
// real stream has none; of random payloads about 9 in 10 fail, and the
// rest would decode to shaped noise.
func (d *Decoder) Garbage() bool {
	return d.seen >= 16 && 4*bits.OnesCount32(d.bad) >= d.seen
}

// Decode appends the samples of every frame in payload to pcm. A payload
// with no frame, a bad mode or a truncated frame returns an error and pcm
// unchanged (and counts towards Garbage).
func (d *Decoder) Decode(pcm []int16, payload []byte) ([]int16, error) {
	out, err := d.decode(pcm, payload)
	d.bad <<= 1
	if err != nil {
		d.bad |= 1
	}
	d.seen = min(d.seen+1, 32)
	return out, err
}

// Conceal appends whole frames standing in for about samples lost samples
// (codec.Concealer): the reference decoder's packet-loss concealment, which
// fades to silence over 200 ms; after that it appends nothing until a
// payload decodes again.
func (d *Decoder) Conceal(pcm []int16, samples int) []int16 {
	frame := nbFrame
	if d.wb != nil {
		frame *= 2
	}
	for n := (samples + frame/2) / frame; n > 0 && d.nb.lost < len(lostAttenuation); n-- {
		d.nb.decodeLost(d.low[:])
		res := d.low[:]
		if d.wb != nil {
			d.wb.decodeLost(d.low[:], d.out[:])
			res = d.out[:]
		}
		for _, v := range res {
			pcm = append(pcm, toInt16(v))
		}
	}
	return pcm
}

func (d *Decoder) decode(pcm []int16, payload []byte) ([]int16, error) {
	start := len(pcm)
	r := bitReader{b: payload}
	frames := 0
	for {
		m, err := readMode(&r)
		if errors.Is(err, errEnd) {
			break
		}
		if err != nil {
			return pcm[:start], fmt.Errorf("speex: frame %d: %w", frames+1, err)
		}
		if frames == maxFrames {
			return pcm[:start], ErrTooManyFrames
		}
		if err := d.nb.decode(&r, m, d.low[:]); err != nil {
			return pcm[:start], fmt.Errorf("speex: frame %d (mode %d): %w", frames+1, m, err)
		}
		res := d.low[:]
		if d.wb != nil {
			if err := d.wb.decode(&r, d.nb, d.low[:], d.out[:]); err != nil {
				return pcm[:start], fmt.Errorf("speex: frame %d wideband layer: %w", frames+1, err)
			}
			res = d.out[:]
		}
		for _, v := range res {
			pcm = append(pcm, toInt16(v))
		}
		frames++
	}
	if frames == 0 {
		return pcm[:start], errors.New("speex: payload holds no frame")
	}
	return pcm, nil
}

func toInt16(v float32) int16 {
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	case v != v: // NaN
		return 0
	}
	return int16(math.Floor(0.5 + float64(v)))
}
