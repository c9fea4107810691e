package gsm_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/spanrec/spanrec/codec/gsm"
	"github.com/spanrec/spanrec/codec/internal/codectest"
)

// requireExact fails unless got equals ffmpeg's decode want sample for
// sample (ffmpeg's GSM decoder implements the same fixed-point
// recommendation). The SNR sizes any mismatch and is logged either way.
func requireExact(t *testing.T, what string, want, got []int16) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d samples, ffmpeg %d", what, len(got), len(want))
	}
	n, first := codectest.Diff(want, got)
	snr := codectest.SNR(want, got)
	t.Logf("%s: %d samples, %d differ from ffmpeg, SNR %.1f dB, RMS %.0f", what, len(got), n, snr, codectest.RMS(got))
	if n > 0 {
		t.Errorf("%s: %d of %d samples differ from ffmpeg (first at %d: %d, want %d); SNR %.1f dB",
			what, n, len(want), first, got[first], want[first], snr)
	}
}

// TestDecodeCapture decodes the GSM stream of a real call
// (wireshark-samples/sip-rtp-gsm.pcap, payload type 3, 425 packets of one
// frame) and compares it with ffmpeg decoding the same frames.
func TestDecodeCapture(t *testing.T) {
	codectest.HaveFFmpeg(t)
	streams := codectest.RTPStreams(t, codectest.Capture(t, "wireshark-samples/sip-rtp-gsm.pcap"))
	if len(streams) != 1 || streams[0].PT != 3 || len(streams[0].Payloads) != 425 {
		t.Fatalf("want one PT 3 stream of 425 packets (tshark), got %d streams", len(streams))
	}
	d := gsm.NewDecoder()
	var raw []byte
	var got []int16
	for i, p := range streams[0].Payloads {
		var err error
		if got, err = d.Decode(got, p); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		raw = append(raw, p...)
	}
	want := codectest.FFmpegDecode(t, raw, "gsm")
	requireExact(t, "sip-rtp-gsm.pcap", want, got)
	if r := codectest.RMS(got); r < 100 {
		t.Errorf("RMS %.1f: decoded audio is (nearly) silent", r)
	}
}

// TestDecodeTones encodes two tones with ffmpeg's GSM encoder (libgsm),
// decodes them, and checks the result against ffmpeg's decode (bit-exact)
// and by frequency.
func TestDecodeTones(t *testing.T) {
	codectest.HaveFFmpeg(t)
	for _, f := range []float64{440, 1000, 2500} {
		raw := codectest.FFmpeg(t, nil, "-f", "lavfi", "-i", "sine=frequency="+ftoa(f)+":sample_rate=8000:duration=2",
			"-ac", "1", "-ar", "8000", "-c:a", "libgsm", "-f", "gsm", "-")
		if len(raw)%gsm.FrameBytes != 0 || len(raw) == 0 {
			t.Fatalf("ffmpeg made %d octets of GSM", len(raw))
		}
		d := gsm.NewDecoder()
		var got []int16
		// Three frames per packet, as RTP allows.
		for p := raw; len(p) > 0; {
			n := min(len(p), 3*gsm.FrameBytes)
			var err error
			if got, err = d.Decode(got, p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		want := codectest.FFmpegDecode(t, raw, "gsm")
		requireExact(t, ftoa(f)+" Hz", want, got)
		body := got[800:]
		p, p2 := codectest.ToneDB(body, f, 8000), codectest.ToneDB(body, f*1.5, 8000)
		// ffmpeg's sine source has amplitude 1/8: −18 dB −6 dB.
		if math.Abs(p-(-24)) > 3 || p-p2 < 25 {
			t.Errorf("%v Hz: tone at %.1f dB (want −24), %.1f dB at 1.5×", f, p, p2)
		}
	}
}

func ftoa(f float64) string {
	return string(appendInt(nil, int(f)))
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestDecodeErrors(t *testing.T) {
	d := gsm.NewDecoder()
	good := make([]byte, gsm.FrameBytes)
	good[0] = 0xD0
	pcm := []int16{7}
	for _, p := range [][]byte{nil, good[:32], append(good[:33:33], good[:1]...), make([]byte, 33)} {
		out, err := d.Decode(pcm, p)
		if !errors.Is(err, gsm.ErrFrame) || len(out) != 1 {
			t.Errorf("%d octets: %v, %d samples", len(p), err, len(out))
		}
	}
	out, err := d.Decode(pcm, append(good[:33:33], good...))
	if err != nil || len(out) != 1+2*gsm.FrameSamples {
		t.Errorf("two frames: %v, %d samples", err, len(out))
	}
}

func TestDecodeAllocs(t *testing.T) {
	d := gsm.NewDecoder()
	p := make([]byte, gsm.FrameBytes)
	p[0] = 0xD5
	pcm := make([]int16, 0, gsm.FrameSamples)
	if n := testing.AllocsPerRun(100, func() { pcm, _ = d.Decode(pcm[:0], p) }); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{0xD0, 1, 2, 3})
	f.Add(make([]byte, 66))
	f.Fuzz(func(t *testing.T, payload []byte) {
		// Force the signature on every whole frame so the fuzzer reaches
		// the DSP, and also try the payload as is.
		d := gsm.NewDecoder()
		pcm, err := d.Decode(nil, payload)
		if err == nil && len(pcm) != len(payload)/gsm.FrameBytes*gsm.FrameSamples {
			t.Fatalf("%d samples for %d octets", len(pcm), len(payload))
		}
		if err != nil && len(pcm) != 0 {
			t.Fatal("samples with an error")
		}
		fixed := append([]byte(nil), payload...)
		for i := 0; i < len(fixed); i += gsm.FrameBytes {
			fixed[i] = 0xD0 | fixed[i]&0x0f
		}
		pcm, err = d.Decode(nil, fixed)
		if want := len(fixed) / gsm.FrameBytes * gsm.FrameSamples; (err == nil) != (len(fixed)%gsm.FrameBytes == 0 && want > 0) || (err == nil && len(pcm) != want) {
			t.Fatalf("%d octets: %v, %d samples", len(fixed), err, len(pcm))
		}
	})
}

// BenchmarkDecode reports decode speed in multiples of real time on one
// core (one 20 ms frame per op), per wall and per CPU second.
func BenchmarkDecode(b *testing.B) {
	p := make([]byte, gsm.FrameBytes)
	for i := range p {
		p[i] = byte(i*37 + 11)
	}
	p[0] = 0xD0 | p[0]&0x0f
	d := gsm.NewDecoder()
	pcm := make([]int16, 0, gsm.FrameSamples)
	b.ReportAllocs()
	b.SetBytes(gsm.FrameBytes)
	cpu0 := codectest.CPUTime()
	for b.Loop() {
		pcm, _ = d.Decode(pcm[:0], p)
	}
	codectest.ReportSpeed(b, 20*time.Millisecond, cpu0)
}

// TestGarbage: a stream whose frames lack the signature (random bytes:
// 15 in 16) is Garbage; a real GSM stream never is.
func TestGarbage(t *testing.T) {
	d := gsm.NewDecoder()
	p := make([]byte, gsm.FrameBytes)
	for i := range 40 {
		p[0] = byte(i * 37) // signature 0xD only now and then
		_, _ = d.Decode(nil, p)
	}
	if !d.Garbage() {
		t.Error("random signatures: not Garbage")
	}
	streams := codectest.RTPStreams(t, codectest.Capture(t, "wireshark-samples/sip-rtp-gsm.pcap"))
	d = gsm.NewDecoder()
	for _, p := range streams[0].Payloads {
		if _, err := d.Decode(nil, p); err != nil || d.Garbage() {
			t.Fatalf("real stream: %v, Garbage %v", err, d.Garbage())
		}
	}
}

// TestConceal: after speech (the real call), lost frames are the last
// good one repeated ever quieter, 16 frames (320 ms) at most, and a good
// frame starts the count again; before any frame nothing is made up.
func TestConceal(t *testing.T) {
	d := gsm.NewDecoder()
	if pcm := d.Conceal(nil, 160); len(pcm) != 0 {
		t.Fatalf("concealed %d samples before any frame", len(pcm))
	}
	streams := codectest.RTPStreams(t, codectest.Capture(t, "wireshark-samples/sip-rtp-gsm.pcap"))
	payloads := streams[0].Payloads
	// Stop in speech: the loudest frame of the first 200.
	loud, level := 0, 0.0
	ref := gsm.NewDecoder()
	for i, p := range payloads[:200] {
		pcm, _ := ref.Decode(nil, p)
		if r := codectest.RMS(pcm); r > level {
			loud, level = i, r
		}
	}
	for _, p := range payloads[:loud+1] {
		if _, err := d.Decode(nil, p); err != nil {
			t.Fatal(err)
		}
	}
	pcm := d.Conceal(nil, 30*gsm.FrameSamples)
	if len(pcm) != 16*gsm.FrameSamples {
		t.Fatalf("concealed %d samples of 30 frames, want 16 frames", len(pcm))
	}
	first := codectest.RMS(pcm[:gsm.FrameSamples])
	lastRMS := codectest.RMS(pcm[15*gsm.FrameSamples:])
	if first < level/4 || lastRMS > first/10 {
		t.Errorf("concealed frames: first RMS %.0f (last good %.0f), last %.0f", first, level, lastRMS)
	}
	if more := d.Conceal(nil, gsm.FrameSamples); len(more) != 0 {
		t.Errorf("%d more samples after 16 concealed frames", len(more))
	}
	if _, err := d.Decode(nil, payloads[loud+1]); err != nil {
		t.Fatal(err)
	}
	if again := d.Conceal(nil, 100); len(again) != gsm.FrameSamples {
		t.Errorf("after a good frame: %d samples for 100 asked, want one frame", len(again))
	}
}
