package recorder_test

import (
	"bytes"
	"fmt"
	"math"
	"os/exec"
	"testing"
	"time"

	"github.com/spanrec/spanrec/pcaptest"
)

// ffmpegEncode encodes 4 s of a freq Hz sine at pcaptest's amplitude
// (8000) with ffmpeg's encoder enc into the raw format.
func ffmpegEncode(t *testing.T, freq int, enc, format string, args ...string) []byte {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not in PATH; it encodes the GSM and G.726 test calls (apt-get install ffmpeg)")
	}
	a := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", fmt.Sprintf("aevalsrc=8000/32768*sin(2*PI*%d*t):s=8000:d=4", freq),
		"-ac", "1", "-ar", "8000", "-c:a", enc}
	a = append(a, args...)
	a = append(a, "-f", format, "-")
	cmd := exec.Command(p, a...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %q: %v\n%s", a, err, stderr.Bytes())
	}
	return out
}

// TestSyntheticCodecs records generated calls whose parties send
// different tones encoded by ffmpeg's GSM (libgsm) and G.726 encoders, at
// 16-32 kbit/s and in both packings: each stream is decoded, each channel
// of the recording carries its party's tone from its first packet on, at
// the SNR the codec allows.
func TestSyntheticCodecs(t *testing.T) {
	type enc struct {
		codec       string
		pt          uint8
		packetBytes int
		encoder     string
		format      string
		args        []string
		minSNR      float64 // dB, tone against the codec's distortion
	}
	// minSNR: measured 2026-12-06 (ffmpeg 5.1) less about 4 dB: GSM
	// 37–46 dB, G.726 16 kbit/s 21–24, 24 kbit/s 27–32, 32 kbit/s 37–40.
	g726 := func(name string, pt uint8, kbit int, format string) enc {
		minSNR := map[int]float64{16: 17, 24: 23, 32: 32}[kbit]
		return enc{name, pt, 20 * kbit / 8, format, format, []string{"-b:a", fmt.Sprint(kbit * 1000)}, minSNR}
	}
	encs := []enc{
		{"GSM", 3, 33, "libgsm", "gsm", nil, 32},
		g726("G726-16", 96, 16, "g726le"),
		g726("G726-24", 97, 24, "g726le"),
		g726("G726-32", 98, 32, "g726le"),
		// No G726-40: ffmpeg's 40 kbit/s encoder leaks its zero predictor
		// by 2^-8, not G.726's 2^-9, so a conforming decoder drifts from
		// it (codec/g726 shows it; sip-rtp-g726.pcap's 40 kbit/s calls,
		// from a conforming encoder, are checked in TestCorpusMatchesTshark).
		g726("AAL2-G726-24", 99, 24, "g726"),
		g726("AAL2-G726-32", 100, 32, "g726"),
	}
	var calls []pcaptest.Call
	for i, e := range encs {
		caller, callee := 500+200*i, 2700-200*i
		calls = append(calls, pcaptest.Call{
			Start:  time.Duration(i) * 5 * time.Second,
			Codec:  e.codec,
			Caller: pcaptest.Endpoint{Tone: caller},
			Callee: pcaptest.Endpoint{Tone: callee},
			Encoded: &pcaptest.Encoded{
				PT:          e.pt,
				PacketBytes: e.packetBytes,
				Caller:      whole(ffmpegEncode(t, caller, e.encoder, e.format, e.args...), e.packetBytes),
				Callee:      whole(ffmpegEncode(t, callee, e.encoder, e.format, e.args...), e.packetBytes),
			},
		})
	}
	s := record(t, calls...)
	s.checkAll(t)
	for i, e := range encs {
		c := s.call(t, i)
		for _, st := range c.Streams {
			if st.Codec != e.codec || !st.Decoded {
				t.Errorf("%s: stream %s codec %q decoded %v", e.codec, st.Side, st.Codec, st.Decoded)
			}
		}
		for _, n := range c.Notes {
			t.Logf("%s: note %q", e.codec, n)
		}
		r := s.checkRecording(t, i, 8000)
		s.checkTalk(t, i, r)
		// SNR of each channel against the best-fitting sine of its
		// tone, over the middle of the talk: the codec's distortion.
		x := s.exp[i]
		mid := x.Call.Answer.Add(x.Call.End.Sub(x.Call.Answer) / 2)
		for ch, tone := range []int{x.CallerTone, x.CalleeTone} {
			snr := toneSNR(r.window(ch, mid.Add(-time.Second/2), mid.Add(time.Second/2)), float64(tone), 8000)
			t.Logf("%s channel %d (%d Hz): SNR %.1f dB", e.codec, ch, tone, snr)
			if snr < e.minSNR {
				t.Errorf("%s channel %d: tone SNR %.1f dB, want ≥ %.0f", e.codec, ch, snr, e.minSNR)
			}
		}
	}
}

// toneSNR fits a·sin + b·cos at f to x (least squares) and returns the
// ratio of the fitted sine's energy to the residual's, in dB.
func toneSNR(x []int16, f, fs float64) float64 {
	var ss, cc, sc, xs, xc float64
	for k, v := range x {
		s, c := math.Sincos(2 * math.Pi * f * float64(k) / fs)
		ss, cc, sc = ss+s*s, cc+c*c, sc+s*c
		xs, xc = xs+float64(v)*s, xc+float64(v)*c
	}
	det := ss*cc - sc*sc
	a, b := (xs*cc-xc*sc)/det, (xc*ss-xs*sc)/det
	var sig, res float64
	for k, v := range x {
		s, c := math.Sincos(2 * math.Pi * f * float64(k) / fs)
		fit := a*s + b*c
		sig += fit * fit
		res += (float64(v) - fit) * (float64(v) - fit)
	}
	return 10 * math.Log10(sig/res)
}

// whole cuts b to whole packets.
func whole(b []byte, n int) []byte { return b[:len(b)/n*n] }
