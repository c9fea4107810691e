package speex_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/codec/internal/codectest"
	"github.com/spanrec/spanrec/codec/speex"
)

var _ codec.GarbageDetector = (*speex.Decoder)(nil)

// FuzzDecode feeds arbitrary payloads to both decoders: they must not
// panic, must return pcm unchanged on error, must bound what one payload
// yields (32 frames), and conceal whole frames after any payload.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x27, 0x67, 0x9d, 0x02, 0xff}, false)
	f.Add(bytes.Repeat([]byte{0x29, 0xcb, 0x01, 0x9a}, 11), true)
	f.Add([]byte{0x00}, false)
	f.Add(bytes.Repeat([]byte{0x00}, 200), true)
	f.Add([]byte{0x7f, 0xff}, false)
	f.Fuzz(func(t *testing.T, payload []byte, wb bool) {
		d := speex.NewDecoder(wb)
		prefix := []int16{1, 2, 3}
		for range 3 {
			pcm, err := d.Decode(prefix, payload)
			if err != nil {
				if len(pcm) != len(prefix) {
					t.Fatalf("error %v but %d samples appended", err, len(pcm)-len(prefix))
				}
				continue
			}
			frame := 160
			if wb {
				frame = 320
			}
			n := len(pcm) - len(prefix)
			if n == 0 || n%frame != 0 || n > 32*frame {
				t.Fatalf("%d samples from %d bytes", n, len(payload))
			}
			if c := d.Conceal(nil, 3*frame); len(c) != 3*frame {
				t.Fatalf("Conceal of 3 frames after a decoded payload: %d samples", len(c))
			}
		}
	})
}

// TestGarbage: random payloads never panic; most are rejected or decode
// to bounded output, and a terminator alone is no frame.
func TestGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, wb := range []bool{false, true} {
		d := speex.NewDecoder(wb)
		for range 2000 {
			p := make([]byte, r.IntN(120))
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			pcm, err := d.Decode(nil, p)
			if err == nil && len(pcm) > 32*320 {
				t.Fatalf("%d samples", len(pcm))
			}
		}
	}
	d := speex.NewDecoder(false)
	// Mode 15 is the terminator: no frame.
	if _, err := d.Decode(nil, []byte{0x7f}); err == nil {
		t.Error("terminator alone decoded")
	}
	// Modes 9..12 are invalid.
	if _, err := d.Decode(nil, []byte{0x48, 0, 0, 0}); err == nil {
		t.Error("mode 9 decoded")
	}
	// A mode-5 frame cut short.
	if _, err := d.Decode(nil, []byte{0x28, 0x11, 0x22}); err == nil {
		t.Error("truncated frame decoded")
	} else if errors.Is(err, speex.ErrTooManyFrames) {
		t.Error(err)
	}
}

// TestGarbageDetector: random payloads make the stream Garbage within 32
// packets; the capture's real streams never are.
func TestGarbageDetector(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, wb := range []bool{false, true} {
		d := speex.NewDecoder(wb)
		for range 32 {
			p := make([]byte, 42)
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			_, _ = d.Decode(nil, p)
		}
		if !d.Garbage() {
			t.Errorf("wideband %v: 32 random payloads not Garbage", wb)
		}
	}
	streams := codectest.RTPStreams(t, codectest.Capture(t, "wireshark-samples/sip-rtp-speex.pcap"))
	for i, wb := range []bool{false, true} {
		d := speex.NewDecoder(wb)
		for k, p := range streams[i].Payloads {
			if _, err := d.Decode(nil, p); err != nil || d.Garbage() {
				t.Fatalf("stream %d payload %d: err %v, Garbage %v", i, k, err, d.Garbage())
			}
		}
	}
}

// TestConceal drops every 10th packet of the capture's calls and conceals
// it: the stream keeps its length, the concealed frames carry about the
// energy of the lost ones, the whole is no further from the full decode
// than with the lost frames left silent, and a long gap is filled for
// 200 ms at most.
func TestConceal(t *testing.T) {
	streams := codectest.RTPStreams(t, codectest.Capture(t, "wireshark-samples/sip-rtp-speex.pcap"))
	var _ codec.Concealer = (*speex.Decoder)(nil)
	for i, wb := range []bool{false, true} {
		frame := 160
		if wb {
			frame = 320
		}
		full := decodeAll(t, streams[i].Payloads, wb)
		d, silent := speex.NewDecoder(wb), speex.NewDecoder(wb)
		var pcm, gaps, lostFull, lostConcealed []int16
		for k, p := range streams[i].Payloads {
			if k%10 == 5 {
				gaps = append(gaps, make([]int16, frame)...)
				lostFull = append(lostFull, full[k*frame:(k+1)*frame]...)
				lostConcealed = append(lostConcealed, d.Conceal(nil, frame)...)
				if n := len(lostConcealed) - len(lostFull); n != 0 {
					t.Fatalf("Conceal of one frame appended %d samples too many", n)
				}
				pcm = append(pcm, lostConcealed[len(lostConcealed)-frame:]...)
				continue
			}
			var err error
			if pcm, err = d.Decode(pcm, p); err != nil {
				t.Fatal(err)
			}
			gaps, _ = silent.Decode(gaps, p)
		}
		snr, snrSilent := codectest.SNR(full, pcm), codectest.SNR(full, gaps)
		ratio := codectest.RMS(lostConcealed) / codectest.RMS(lostFull)
		t.Logf("wideband %v: 10 %% lost: SNR %.1f dB concealed, %.1f dB silent, against the full decode; concealed frames' RMS %.2f of the lost ones", wb, snr, snrSilent, ratio)
		if ratio < 0.3 || ratio > 2 {
			t.Errorf("wideband %v: concealed frames' RMS %.2f of the lost ones", wb, ratio)
		}
		if len(pcm) != len(full) || snr < snrSilent {
			t.Errorf("wideband %v: %d samples (full %d), SNR %.1f dB, silent gaps %.1f dB", wb, len(pcm), len(full), snr, snrSilent)
		}
		// A 1 s gap: ten frames, fading, then nothing.
		n := len(pcm)
		pcm = d.Conceal(pcm, 50*frame)
		if got := len(pcm) - n; got != 10*frame {
			t.Errorf("wideband %v: 1 s gap filled with %d samples, want %d (200 ms)", wb, got, 10*frame)
		}
		if rest := d.Conceal(nil, frame); len(rest) != 0 {
			t.Errorf("wideband %v: %d more samples after 200 ms", wb, len(rest))
		}
		if _, err := d.Decode(nil, streams[i].Payloads[0]); err != nil {
			t.Fatal(err)
		}
		if got := d.Conceal(nil, frame); len(got) != frame {
			t.Errorf("wideband %v: after a decoded payload Conceal gave %d samples", wb, len(got))
		}
	}
}
