package speex_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/spanrec/spanrec/codec/internal/codectest"
	"github.com/spanrec/spanrec/codec/speex"
	"github.com/spanrec/spanrec/pcaptest"
)

// oggSpeex wraps RTP payloads (each one Ogg packet) in an Ogg/Speex file
// for ffmpeg, the test oracle.
func oggSpeex(payloads [][]byte, wideband bool) []byte {
	rate, mode, frame := 8000, 0, 160
	if wideband {
		rate, mode, frame = 16000, 1, 320
	}
	h := make([]byte, 0, 80)
	h = append(h, "Speex   "...)
	h = append(h, make([]byte, 20)...)
	copy(h[8:], "1.2.1")
	for _, v := range []int32{1, 80, int32(rate), int32(mode), 4, 1, -1, int32(frame), 0, 1, 0, 0, 0} {
		h = binary.LittleEndian.AppendUint32(h, uint32(v))
	}
	vendor := "spanrec test"
	c := binary.LittleEndian.AppendUint32(nil, uint32(len(vendor)))
	c = append(c, vendor...)
	c = binary.LittleEndian.AppendUint32(c, 0)
	out := pcaptest.OggPage(nil, 2, 0, 0x5eec5eec, 0, h)
	out = pcaptest.OggPage(out, 0, 0, 0x5eec5eec, 1, c)
	var gran int64
	for i, p := range payloads {
		gran += int64(frame)
		flags := byte(0)
		if i == len(payloads)-1 {
			flags = 4
		}
		out = pcaptest.OggPage(out, flags, gran, 0x5eec5eec, uint32(i+2), p)
	}
	return out
}

// refDecode decodes payloads with ffmpeg's libspeex decoder.
func refDecode(t testing.TB, payloads [][]byte, wideband bool) []int16 {
	t.Helper()
	return codectest.FFmpegDecode(t, oggSpeex(payloads, wideband), "ogg", "-c:a", "libspeex")
}

// align returns the lag (got is late by lag samples) in [-maxLag, maxLag]
// that maximises the correlation of ref and got.
func align(ref, got []int16, maxLag int) int {
	best, bestLag := math.Inf(-1), 0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var c float64
		for i := range ref {
			j := i + lag
			if j >= 0 && j < len(got) {
				c += float64(ref[i]) * float64(got[j])
			}
		}
		if c > best {
			best, bestLag = c, lag
		}
	}
	return bestLag
}

// alignedSNR is the SNR of got against ref after shifting got by the lag
// that correlates best.
func alignedSNR(ref, got []int16) (float64, int) {
	lag := align(ref, got, 400)
	if lag >= 0 {
		got = got[lag:]
	} else {
		ref = ref[-lag:]
	}
	return codectest.SNR(ref, got), lag
}

func decodeAll(t testing.TB, payloads [][]byte, wideband bool) []int16 {
	t.Helper()
	d := speex.NewDecoder(wideband)
	var pcm []int16
	for i, p := range payloads {
		var err error
		if pcm, err = d.Decode(pcm, p); err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
	}
	return pcm
}

// TestCapture decodes the Wireshark sample's Speex calls and compares them
// with ffmpeg's libspeex decode.
func TestCapture(t *testing.T) {
	name := codectest.Capture(t, "wireshark-samples/sip-rtp-speex.pcap")
	codectest.HaveFFmpeg(t)
	streams := codectest.RTPStreams(t, name)
	// In capture order: speex/8000 (narrowband mode 4), speex/16000
	// (narrowband mode 5 with wideband layer 1), speex/32000 (not decoded).
	// minSNR: measured 2026-12-06 (ffmpeg 5.1, libspeex 1.2.1) less about
	// 1 dB.
	for i, c := range []struct {
		wb     bool
		minSNR float64
	}{{false, 36}, {true, 36}} {
		s, wb := streams[i], c.wb
		got := decodeAll(t, s.Payloads, wb)
		ref := refDecode(t, s.Payloads, wb)
		snr, lag := alignedSNR(ref, got)
		t.Logf("call %d (%s, wideband %v): %d samples, ffmpeg %d, lag %d, SNR %.1f dB", i+1, s.Src, wb, len(got), len(ref), lag, snr)
		if len(got) != len(ref) || lag != 0 || snr < c.minSNR {
			t.Errorf("call %d: %d samples (ffmpeg %d), lag %d, SNR %.1f dB; want equal length, lag 0, SNR ≥ %.0f dB",
				i+1, len(got), len(ref), lag, snr, c.minSNR)
		}
	}
}

// TestNarrowbandOfWideband decodes the capture's wideband call with the
// narrowband decoder, which steps over the wideband layers as libspeex
// does: one 160-sample frame per packet, at the level of the wideband
// decode (ffmpeg decodes such a stream at 16 kHz whatever its header says,
// so it is no oracle here).
func TestNarrowbandOfWideband(t *testing.T) {
	name := codectest.Capture(t, "wireshark-samples/sip-rtp-speex.pcap")
	s := codectest.RTPStreams(t, name)[1]
	got := decodeAll(t, s.Payloads, false)
	wb := decodeAll(t, s.Payloads, true)
	ratio := codectest.RMS(got) / codectest.RMS(wb)
	t.Logf("wideband call, narrowband decode: %d samples, RMS %.0f, wideband decode RMS %.0f", len(got), codectest.RMS(got), codectest.RMS(wb))
	if len(got) != 160*len(s.Payloads) || ratio < 0.8 || ratio > 1.25 {
		t.Errorf("%d samples for %d packets, RMS ratio %.2f to the wideband decode", len(got), len(s.Payloads), ratio)
	}
}
