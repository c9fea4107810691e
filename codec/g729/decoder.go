// Package g729 decodes ITU-T G.729 and G.729 Annex A (CS-ACELP, 8 kbit/s)
// speech with Annex B comfort noise to 8 kHz 16-bit PCM.
//
// G.729 and G.729A bitstreams are interoperable; the decoders differ in
// their postfilter (and in how they conceal erased frames). A Decoder is
// either (Mode): the main-body decoder (ModeG729, postfilter of §4.2 with a
// fractional pitch delay) or the Annex A one (ModeG729A, simplified
// postfilter of §A.4.2), both in the Recommendation's 16/32-bit
// fixed-point arithmetic. An RTP payload (RFC 3551 §4.5.6)
// holds zero or more 10-byte frames of 10 ms (80 samples) and at most one
// trailing 2-byte Annex B SID frame; Decode decodes one, Conceal stands in
// for lost packets (frame erasure concealment of §4.4, or more comfort
// noise after a SID frame).
package g729

import (
	"errors"
	"fmt"
	"math/bits"
)

const (
	// FrameSize is the length of a speech frame in bytes.
	FrameSize = 10
	// SIDSize is the length of an Annex B SID frame in bytes.
	SIDSize = 2
	// FrameSamples is the number of samples a frame decodes to.
	FrameSamples = lFrame
	// maxErasedFrames bounds the frame erasure concealment of one gap
	// after speech: 1 s, by when its gains have decayed by 35 dB.
	maxErasedFrames = 100
	// maxCNGFrames bounds the comfort noise of one gap after a SID
	// frame: 60 s of discontinuous transmission.
	maxCNGFrames = 6000
)

// Frame types of Annex B.
const (
	ftypNone   = 0 // not transmitted (DTX) or lost after a SID frame
	ftypSpeech = 1
	ftypSID    = 2
)

// ErrLength is returned for a payload whose length is neither a multiple
// of 10 bytes nor that plus a 2-byte SID frame.
var ErrLength = errors.New("g729: payload length is not 10n or 10n+2 bytes")

// A Decoder decodes one G.729 stream; it keeps the decoder state
// between frames. Use NewDecoder; not safe for concurrent use.
type Decoder struct {
	excBuf  [pitMax + lInterpol + lFrame]int16 // past and current excitation
	exc     []int16                            // excBuf as a slice
	memSyn  [order]int16
	sharp   int16
	oldT0   int16
	gainPit int16
	gainCod int16
	lspOld  [order]int16
	lsp     lspDecoder
	gain    gainDecoder
	seedFer int16

	// Annex B.
	seed             int16
	pastFtyp         int
	sidSav, shSidSav int16
	cngState         cngState

	concealed int // frames made up by Conceal since the last decoded frame

	// The pitch parity checks of the last 32 speech frames (bit set:
	// failed) and how many of them there were, for Garbage.
	parity     uint32
	paritySeen int

	mode    Mode
	post    postFilter     // ModeG729A
	mpost   mainPostFilter // ModeG729
	voicing bool           // ModeG729: the last frame was periodic (§4.4.4)
	hp      highPass
	syn     [order + lFrame]int16 // synthesis with the last order samples of the previous frame
}

// Mode selects which of the Recommendation's decoders a Decoder is. The
// bitstreams are the same; the decoders differ in their postfilter and
// in how they conceal erased frames.
type Mode int

const (
	// ModeG729A is the Annex A decoder: its simplified postfilter
	// (§A.4.2: integer pitch delay, tilt from the impulse response,
	// energy-based gain control).
	ModeG729A Mode = iota
	// ModeG729 is the main-body decoder: the postfilter of §4.2
	// (fractional pitch delay at 1/8 resolution searched around the first
	// subframe's lag, short-term filter normalized by its gain, tilt
	// from the first reflection coefficient, gain control on sums of
	// magnitudes) and the periodic or random excitation of erased frames
	// after periodic or other frames (§4.4.4).
	ModeG729
)

// String returns the mode's name.
func (m Mode) String() string {
	if m == ModeG729 {
		return "G.729"
	}
	return "G.729A"
}

// NewDecoder returns an Annex A decoder (ModeG729A) in its initial state.
func NewDecoder() *Decoder { return NewDecoderMode(ModeG729A) }

// NewDecoderMode returns a decoder of the given mode in its initial state.
func NewDecoderMode(m Mode) *Decoder {
	d := &Decoder{mode: m}
	d.Reset()
	return d
}

// Reset puts the decoder in its initial state; it keeps its mode.
func (d *Decoder) Reset() {
	*d = Decoder{mode: d.mode}
	d.exc = d.excBuf[:]
	d.sharp = sharpMin
	d.oldT0 = 60
	d.lspOld = [order]int16{30000, 26000, 21000, 15000, 8000, 0, -8000, -15000, -21000, -26000}
	d.lsp.reset()
	d.gain.reset()
	d.seedFer = 21845
	d.seed = initSeed
	d.pastFtyp = ftypSpeech
	d.shSidSav = 1
	d.cngState.reset()
	d.post.reset()
	d.mpost.reset()
}

// Decode appends the samples of an RTP payload (RFC 3551 §4.5.6: 10-byte
// frames, optionally followed by one 2-byte SID frame) to pcm: 80 per
// frame. A payload of any other length is an error and leaves pcm and the
// decoder unchanged. An empty payload decodes to nothing.
func (d *Decoder) Decode(pcm []int16, payload []byte) ([]int16, error) {
	n, rest := len(payload)/FrameSize, len(payload)%FrameSize
	if rest != 0 && rest != SIDSize {
		return pcm, fmt.Errorf("%w: %d bytes", ErrLength, len(payload))
	}
	for i := range n {
		pcm = d.DecodeFrame(pcm, payload[i*FrameSize:(i+1)*FrameSize])
	}
	if rest == SIDSize {
		pcm = d.DecodeSID(pcm, payload[n*FrameSize:])
	}
	return pcm, nil
}

// DecodeFrame appends the 80 samples of a 10-byte speech frame to pcm.
// It panics if frame is shorter than 10 bytes.
func (d *Decoder) DecodeFrame(pcm []int16, frame []byte) []int16 {
	var prm [nParams]int16
	unpack(frame[:FrameSize], paramBits[:], prm[:])
	d.concealed = 0
	d.parity <<= 1
	if parityError(prm[pP1], prm[pP0]) {
		d.parity |= 1
	}
	d.paritySeen = min(d.paritySeen+1, 32)
	return d.frame(pcm, ftypSpeech, &prm, nil, false)
}

// DecodeSID appends the 80 samples of comfort noise of a 2-byte Annex B
// SID frame to pcm. It panics if sid is shorter than 2 bytes.
func (d *Decoder) DecodeSID(pcm []int16, sid []byte) []int16 {
	var s [nSIDParams]int16
	unpack(sid[:SIDSize], sidBits[:], s[:])
	d.concealed = 0
	return d.frame(pcm, ftypSID, nil, &s, false)
}

// Garbage reports whether the frames do not look like G.729 at all: a
// quarter or more of the last 16 to 32 speech frames failed the pitch
// parity check (§3.7.2). A real stream over IP, free of bit errors,
// practically never fails it; random bytes (encrypted media, another
// codec's payloads) fail it half the time, yet decode to shaped, speech-
// like noise that no spectral test can tell from speech.
func (d *Decoder) Garbage() bool {
	return d.paritySeen >= 16 && 4*bits.OnesCount32(d.parity) >= d.paritySeen
}

// Conceal appends about samples samples (whole 10 ms frames) standing in
// for lost or untransmitted frames: frame erasure concealment after
// speech, comfort noise after a SID frame (Annex B's discontinuous
// transmission). A gap may be concealed in several calls; Conceal stops
// making frames up (appends nothing) after 1 s of erasures or 60 s of
// comfort noise in a row, until a frame is decoded again.
func (d *Decoder) Conceal(pcm []int16, samples int) []int16 {
	limit := maxErasedFrames
	if d.pastFtyp != ftypSpeech {
		limit = maxCNGFrames
	}
	n := min((samples+lFrame/2)/lFrame, limit-d.concealed)
	for range n {
		pcm = d.frame(pcm, ftypNone, nil, nil, true)
		d.concealed++
	}
	return pcm
}

// frame decodes one frame of type ftyp (prm for speech, sid for SID
// frames), or an erased one (bfi), and appends its 80 samples.
func (d *Decoder) frame(pcm []int16, ftyp int, prm *[nParams]int16, sid *[nSIDParams]int16, bfi bool) []int16 {
	var az [2 * mp1]int16
	var t [2]int16
	if bfi {
		if d.pastFtyp == ftypSpeech {
			ftyp = ftypSpeech
			prm = &[nParams]int16{}
		} else {
			ftyp = ftypNone
		}
	}
	exc := d.exc[pitMax+lInterpol:]
	syn := d.syn[order:]
	if ftyp != ftypSpeech {
		d.cng(sid, &az)
		for sf := range 2 {
			d.synthesize(az[sf*mp1:(sf+1)*mp1], exc[sf*lSubfr:(sf+1)*lSubfr], syn[sf*lSubfr:(sf+1)*lSubfr])
			t[sf] = d.oldT0
		}
		d.sharp = sharpMin
	} else {
		d.speech(prm, bfi, &az, &t)
	}
	if !bfi {
		var l int32
		for _, e := range exc[:lFrame] {
			l = lMac(l, e, e)
		}
		sh := normL(l)
		d.sidSav = round16(lShl(l, sh))
		d.shSidSav = sub(16, sh)
	}
	copy(d.exc[:pitMax+lInterpol], d.exc[lFrame:])
	d.pastFtyp = ftyp

	if d.mode == ModeG729 {
		d.voicing = d.mpost.filter(d.syn[:], &az, t[0], ftyp == ftypSpeech)
	} else {
		d.post.filter(d.syn[:], &az, &t, ftyp == ftypSpeech)
	}
	d.hp.filter(syn)
	return append(pcm, syn...)
}

// speech decodes an active speech frame (or conceals an erased one).
func (d *Decoder) speech(prm *[nParams]int16, bfi bool, az *[2 * mp1]int16, t *[2]int16) {
	d.seed = initSeed
	var lspNew [order]int16
	d.lsp.decode(prm[pL0L1], prm[pL2L3], bfi, &lspNew)
	interpolate(&d.lspOld, &lspNew, az)
	d.lspOld = lspNew

	exc := d.exc[pitMax+lInterpol:]
	syn := d.syn[order:]
	var code [lSubfr]int16
	var t0, frac int16
	for sf := range 2 {
		at := pitMax + lInterpol + sf*lSubfr
		index := prm[pP1]
		bad := bfi
		if sf == 0 {
			bad = bfi || parityError(prm[pP1], prm[pP0])
		} else {
			index = prm[pP2]
		}
		if !bad {
			t0, frac = decLag3(index, sf == 0, t0)
			d.oldT0 = t0
		} else {
			t0, frac = d.oldT0, 0
			d.oldT0 = min(add(d.oldT0, 1), pitMax)
		}
		t[sf] = t0
		predLt3(d.exc, at, t0, frac, lSubfr)

		c, s := prm[pC1], prm[pS1]
		if sf == 1 {
			c, s = prm[pC2], prm[pS2]
		}
		if bfi {
			c = random(&d.seedFer) & 0x1fff
			s = random(&d.seedFer) & 0xf
		}
		decodeACELP(s, c, &code)
		j := shl(d.sharp, 1)
		if t0 < lSubfr {
			for i := t0; i < lSubfr; i++ {
				code[i] = add(code[i], mult(code[i-t0], j))
			}
		}

		if bfi {
			d.gainPit = mult(d.gainPit, 29491)
			if d.gainPit > 29491 {
				d.gainPit = 29491
			}
			d.gainCod = mult(d.gainCod, 32111)
			d.gain.erased()
		} else {
			g := prm[pG1]
			if sf == 1 {
				g = prm[pG2]
			}
			d.gainPit, d.gainCod = d.gain.decode(g, &code)
		}
		d.sharp = min(max(d.gainPit, sharpMin), sharpMax)

		gp, gc := d.gainPit, d.gainCod
		if bfi && d.mode == ModeG729 {
			// §4.4.4: an erased frame after a periodic one repeats the
			// adaptive codebook alone, after any other the random fixed
			// codebook alone.
			if d.voicing {
				gc = 0
			} else {
				gp = 0
			}
		}
		e := exc[sf*lSubfr : (sf+1)*lSubfr]
		for i := range lSubfr {
			l := lMult(e[i], gp)
			l = lMac(l, code[i], gc)
			e[i] = round16(lShl(l, 1))
		}
		d.synthesize(az[sf*mp1:(sf+1)*mp1], e, syn[sf*lSubfr:(sf+1)*lSubfr])
	}
}

// synthesize filters a subframe's excitation e through 1/A(z); if that
// saturates, it scales the whole excitation history down by 4 and
// filters again (§4.1.6).
func (d *Decoder) synthesize(a, e, y []int16) {
	if !synth(a, e, y, &d.memSyn, false) {
		copy(d.memSyn[:], y[lSubfr-order:])
		return
	}
	for i := range d.excBuf {
		d.excBuf[i] = shr(d.excBuf[i], 2)
	}
	synth(a, e, y, &d.memSyn, true)
}
