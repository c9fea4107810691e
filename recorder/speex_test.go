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

// speexPackets encodes 4 s of a freq Hz sine at pcaptest's amplitude
// (8000) with ffmpeg's libspeex encoder (CBR quality 8, one frame per
// packet) at rate and returns the packets of its Ogg stream, after the
// two header packets, and their size (CBR: all equal).
func speexPackets(t *testing.T, freq, rate int) ([]byte, int) {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not in PATH; it encodes the Speex test calls (apt-get install ffmpeg)")
	}
	a := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", fmt.Sprintf("aevalsrc=8000/32768*sin(2*PI*%d*t):s=%d:d=4", freq, rate),
		"-ac", "1", "-ar", fmt.Sprint(rate), "-c:a", "libspeex", "-cbr_quality", "8", "-f", "ogg", "-"}
	cmd := exec.Command(p, a...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	ogg, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %q: %v\n%s", a, err, stderr.Bytes())
	}
	pkts := pcaptest.OggPackets(ogg)
	if len(pkts) < 10 {
		t.Fatalf("ffmpeg's Ogg/Speex stream has %d packets", len(pkts))
	}
	pkts = pkts[2:] // Speex header, comments
	size := len(pkts[0])
	var out []byte
	for i, pk := range pkts {
		if len(pk) != size {
			if i == len(pkts)-1 {
				break // the last packet may be cut
			}
			t.Fatalf("packet %d: %d bytes, packet 0 %d (not CBR)", i, len(pk), size)
		}
		out = append(out, pk...)
	}
	return out, size
}

// TestSyntheticSpeex records calls whose parties send different tones
// encoded by ffmpeg's libspeex at narrowband (speex/8000, sub-mode 5) and
// wideband (speex/16000): each stream decoded, each channel carrying its
// party's tone through the talk. Speex delays the sound by the encoder's
// look-ahead and the decoder's enhancer (10-15 ms here), so the channels'
// onsets are not checked against the first packets as for other codecs.
func TestSyntheticSpeex(t *testing.T) {
	type enc struct {
		rate   int
		pt     uint8
		minSNR float64 // dB, tone against the codec's distortion
	}
	// minSNR: measured 2026-12-06 (ffmpeg 5.1, libspeex 1.2.1) less about 4 dB.
	// narrowband 28–30 dB, wideband 41–48.
	encs := []enc{{8000, 97, 24}, {16000, 98, 36}}
	var calls []pcaptest.Call
	for i, e := range encs {
		caller, callee := 600+500*i, 1900-300*i
		cp, size := speexPackets(t, caller, e.rate)
		ce, size2 := speexPackets(t, callee, e.rate)
		if size != size2 {
			t.Fatalf("%d Hz: packets of %d and %d bytes", e.rate, size, size2)
		}
		calls = append(calls, pcaptest.Call{
			Start:  time.Duration(i) * 5 * time.Second,
			Codec:  "SPEEX",
			Caller: pcaptest.Endpoint{Tone: caller},
			Callee: pcaptest.Endpoint{Tone: callee},
			Encoded: &pcaptest.Encoded{PT: e.pt, PacketBytes: size, ClockRate: e.rate,
				Caller: cp, Callee: ce},
		})
	}
	s := record(t, calls...)
	s.checkAll(t)
	for i, e := range encs {
		c := s.call(t, i)
		for _, st := range c.Streams {
			if st.Codec != "SPEEX" || st.ClockRate != e.rate || !st.Decoded {
				t.Errorf("speex/%d: stream %s codec %q/%d decoded %v", e.rate, st.Side, st.Codec, st.ClockRate, st.Decoded)
			}
		}
		for _, n := range c.Notes {
			t.Logf("speex/%d: note %q", e.rate, n)
		}
		r := s.checkRecording(t, i, e.rate)
		x := s.exp[i]
		var from time.Time
		for _, st := range x.Call.Streams {
			if st.Side == spanrec.CallerSide {
				from = st.First.Add(40 * time.Millisecond)
			}
		}
		to := x.Call.End.Add(-220 * time.Millisecond)
		for k := range 5 {
			a := from.Add(to.Sub(from) * time.Duration(k) / 4)
			b := a.Add(200 * time.Millisecond)
			s.checkTone(t, r, c.SIPCallID+" caller", 0, x.CallerTone, a, b)
			s.checkTone(t, r, c.SIPCallID+" callee", 1, x.CalleeTone, a, b)
		}
		mid := x.Call.Answer.Add(x.Call.End.Sub(x.Call.Answer) / 2)
		for ch, tone := range []int{x.CallerTone, x.CalleeTone} {
			snr := toneSNR(r.window(ch, mid.Add(-time.Second/2), mid.Add(time.Second/2)), float64(tone), float64(e.rate))
			t.Logf("speex/%d channel %d (%d Hz): SNR %.1f dB", e.rate, ch, tone, snr)
			if snr < e.minSNR {
				t.Errorf("speex/%d channel %d: tone SNR %.1f dB, want ≥ %.0f", e.rate, ch, snr, e.minSNR)
			}
		}
	}
}
