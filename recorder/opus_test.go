package recorder_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/pcaptest"
)

// opusPackets encodes 4 s of a freq Hz sine at pcaptest's amplitude
// (8000) with ffmpeg's libopus encoder in hard CBR (every packet the same
// size, as pcaptest.Encoded needs), 20 ms a packet, with the given
// encoder options, and returns the packets back to back and their size.
func opusPackets(t *testing.T, freq int, opts ...string) ([]byte, int) {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not in PATH; it encodes the Opus test calls (apt-get install ffmpeg)")
	}
	a := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", fmt.Sprintf("aevalsrc=8000/32768*sin(2*PI*%d*t):s=48000:d=4", freq),
		"-ac", "1", "-c:a", "libopus", "-vbr", "off"}
	a = append(append(a, opts...), "-f", "ogg", "-")
	cmd := exec.Command(p, a...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	ogg, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %q: %v\n%s", a, err, stderr.Bytes())
	}
	pkts := pcaptest.OggPackets(ogg)
	if len(pkts) < 10 {
		t.Fatalf("ffmpeg's Ogg Opus stream has %d packets", len(pkts))
	}
	pkts = pkts[2:] // OpusHead, OpusTags
	// The encoder's first packets (its look-ahead) and last may differ
	// in size; the steady ones are CBR.
	size := len(pkts[len(pkts)/2])
	var out []byte
	for _, pk := range pkts {
		if len(pk) == size {
			out = append(out, pk...)
		}
	}
	if len(out) < 150*size {
		t.Fatalf("only %d packets of %d bytes: not CBR", len(out)/size, size)
	}
	return out, size
}

// TestSyntheticOpus records calls whose parties send different tones
// encoded by libopus in each mode (SILK wideband, hybrid and CELT
// fullband), announced as opus/48000/2 (RFC 7587): each stream decoded,
// the recording at 48 kHz, each channel carrying its party's tone.
func TestSyntheticOpus(t *testing.T) {
	type enc struct {
		name   string
		opts   []string
		minSNR float64 // dB, tone against the codec's distortion
	}
	// minSNR: measured 2026-12-07 (ffmpeg 5.1, libopus 1.3.1) less
	// about 4 dB: SILK 31–34 dB, hybrid 34–35, CELT 44–55.
	encs := []enc{
		{"SILK", []string{"-application", "voip", "-b:a", "16k", "-cutoff", "8000"}, 27},
		{"hybrid", []string{"-application", "voip", "-b:a", "32k"}, 30},
		{"CELT", []string{"-application", "lowdelay", "-b:a", "64k"}, 40},
	}
	var calls []pcaptest.Call
	for i, e := range encs {
		caller, callee := 600+500*i, 1900-300*i
		cp, size := opusPackets(t, caller, e.opts...)
		ce, size2 := opusPackets(t, callee, e.opts...)
		if size != size2 {
			t.Fatalf("%s: packets of %d and %d bytes", e.name, size, size2)
		}
		calls = append(calls, pcaptest.Call{
			Start:  time.Duration(i) * 5 * time.Second,
			Codec:  "opus",
			Caller: pcaptest.Endpoint{Tone: caller},
			Callee: pcaptest.Endpoint{Tone: callee},
			Encoded: &pcaptest.Encoded{PT: 111, PacketBytes: size, ClockRate: 48000, Channels: 2,
				Caller: cp, Callee: ce},
		})
	}
	s := record(t, calls...)
	s.checkAll(t)
	for i, e := range encs {
		c := s.call(t, i)
		for _, st := range c.Streams {
			if st.Codec != "OPUS" || st.ClockRate != 48000 || !st.Decoded {
				t.Errorf("%s: stream %s codec %q/%d decoded %v", e.name, st.Side, st.Codec, st.ClockRate, st.Decoded)
			}
		}
		for _, n := range c.Notes {
			t.Errorf("%s: note %q", e.name, n)
		}
		r := s.checkRecording(t, i, 48000)
		x := s.exp[i]
		var from time.Time
		for _, st := range x.Call.Streams {
			if st.Side == spanrec.CallerSide {
				from = st.First.Add(40 * time.Millisecond)
			}
		}
		to := x.Call.End.Add(-60 * time.Millisecond)
		for k := range 5 {
			a := from.Add(to.Sub(from) * time.Duration(k) / 4)
			b := a.Add(200 * time.Millisecond)
			s.checkTone(t, r, c.SIPCallID+" caller", 0, x.CallerTone, a, b)
			s.checkTone(t, r, c.SIPCallID+" callee", 1, x.CalleeTone, a, b)
		}
		mid := x.Call.Answer.Add(x.Call.End.Sub(x.Call.Answer) / 2)
		for ch, tone := range []int{x.CallerTone, x.CalleeTone} {
			snr := toneSNR(r.window(ch, mid.Add(-time.Second/2), mid.Add(time.Second/2)), float64(tone), 48000)
			t.Logf("opus %s channel %d (%d Hz): SNR %.1f dB", e.name, ch, tone, snr)
			if snr < e.minSNR {
				t.Errorf("opus %s channel %d: tone SNR %.1f dB, want ≥ %.0f", e.name, ch, snr, e.minSNR)
			}
		}
	}
}
