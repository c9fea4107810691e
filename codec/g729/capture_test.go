package g729

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// capturesDir locates the shared third-party captures: $SPANREC_CAPTURES,
// or ../shared/captures beside the directory holding go.mod (pcaptest's
// rule; pcaptest itself cannot be imported here: it imports codec, which
// imports this package).
func capturesDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("SPANREC_CAPTURES"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("go.mod not found above the test directory")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "captures")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("captures folder absent (%v); set SPANREC_CAPTURES", err)
	}
	return d
}

// ffmpegPath returns ffmpeg, the test oracle, or skips the test.
func ffmpegPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not in PATH; the G.729 oracle test needs it (apt-get install ffmpeg)")
	}
	return p
}

// ffmpegDecode decodes a raw stream of 10-byte G.729 frames with ffmpeg's
// own (native) G.729 decoder to 8 kHz s16le.
func ffmpegDecode(t testing.TB, frames []byte) []int16 {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in.g729")
	if err := os.WriteFile(f, frames, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ffmpegPath(t), "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "g729", "-i", f, "-f", "s16le", "-ar", "8000", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, stderr.Bytes())
	}
	pcm := make([]int16, len(out)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(out[2*i:]))
	}
	return pcm
}

// readPcap returns the frames of a classic little-endian microsecond pcap
// file with Ethernet link type: a test helper, not a general reader.
func readPcap(t testing.TB, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(data[20:]) != 1 {
		t.Fatalf("%s: not a little-endian Ethernet pcap", name)
	}
	var frames [][]byte
	for p := data[24:]; len(p) > 0; {
		if len(p) < 16 {
			t.Fatalf("%s: truncated record header", name)
		}
		n := int(binary.LittleEndian.Uint32(p[8:]))
		if len(p) < 16+n {
			t.Fatalf("%s: truncated record", name)
		}
		frames = append(frames, p[16:16+n])
		p = p[16+n:]
	}
	return frames
}

// capturePayloads returns the G.729 RTP payloads of the real call
// wireshark-samples/sip-rtp-g729a.pcap (10.0.2.15:28120 -> 10.0.2.20:6000,
// payload type 18, 425 packets of two frames).
func capturePayloads(t testing.TB) [][]byte {
	t.Helper()
	name := filepath.Join(capturesDir(t), "wireshark-samples", "sip-rtp-g729a.pcap")
	if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s absent", name)
	}
	var out [][]byte
	for _, f := range readPcap(t, name) {
		// Ethernet (14) + IPv4 without options (20) + UDP (8) + RTP (12).
		if len(f) < 54 || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != 17 {
			continue
		}
		udp := f[34:]
		if binary.BigEndian.Uint16(udp[0:]) != 28120 || binary.BigEndian.Uint16(udp[2:]) != 6000 {
			continue
		}
		rtp := udp[8:]
		if rtp[0]>>6 != 2 || rtp[0]&0x3f != 0 || rtp[1]&0x7f != 18 {
			t.Fatalf("packet %d: not a plain RTP G.729 packet", len(out))
		}
		out = append(out, rtp[12:])
	}
	return out
}

// minSNR is the SNR against ffmpeg's (main-body) decoder each mode must
// reach on the capture: what it reaches, rounded down (docs/PERFORMANCE.md).
var minSNR = map[Mode]float64{ModeG729A: 23.0, ModeG729: 29.5}

// snr is the signal to noise ratio of got against ref, in dB.
func snr(ref, got []int16) float64 {
	var s, n float64
	for i := range ref {
		d := float64(ref[i]) - float64(got[i])
		s += float64(ref[i]) * float64(ref[i])
		n += d * d
	}
	if n == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(s/n)
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

// TestDecodeCaptureMatchesFFmpeg decodes the real call's G.729 stream in
// both modes and compares each with ffmpeg's decoder on the same frames,
// sample by sample (no delay: the decoders have none), over the whole
// call and frame by frame.
//
// ffmpeg implements the main-body postfilter (§4.2), as ModeG729 does;
// ModeG729A has the Annex A one (§A.4.2), which differs in sample values
// a lot and audibly little. docs/PERFORMANCE.md has the figures and what
// is known of the remaining difference.
func TestDecodeCaptureMatchesFFmpeg(t *testing.T) {
	payloads := capturePayloads(t)
	if len(payloads) != 425 {
		t.Fatalf("found %d RTP packets, tshark sees 425", len(payloads))
	}
	var stream []byte
	for _, p := range payloads {
		stream = append(stream, p...)
	}
	want := ffmpegDecode(t, stream)
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			d := NewDecoderMode(m)
			var got []int16
			for i, p := range payloads {
				n := len(got)
				var err error
				if got, err = d.Decode(got, p); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if len(got)-n != len(p)/FrameSize*FrameSamples {
					t.Fatalf("packet %d: %d bytes gave %d samples", i, len(p), len(got)-n)
				}
			}
			if len(want) != len(got) {
				t.Fatalf("ffmpeg decoded %d samples, we %d", len(want), len(got))
			}
			// Frame by frame, over the frames with speech (RMS >= 100).
			var frames []float64
			exact := 0
			for f := 0; f+FrameSamples <= len(got); f += FrameSamples {
				w, g := want[f:f+FrameSamples], got[f:f+FrameSamples]
				if slices.Equal(w, g) {
					exact++
				}
				if rms(w) >= 100 {
					frames = append(frames, snr(w, g))
				}
			}
			slices.Sort(frames)
			s := snr(want, got)
			t.Logf("%d packets, RMS %.0f (ffmpeg %.0f), SNR vs ffmpeg %.1f dB; %d of %d frames identical; "+
				"speech frames (%d): SNR 10th percentile %.1f, median %.1f, 90th %.1f dB",
				len(payloads), rms(got), rms(want), s, exact, len(got)/FrameSamples,
				len(frames), frames[len(frames)/10], frames[len(frames)/2], frames[len(frames)*9/10])
			if s < minSNR[m] {
				t.Errorf("SNR vs ffmpeg %.1f dB, want >= %.1f", s, minSNR[m])
			}
			if r := rms(got); r < 100 {
				t.Errorf("RMS %.1f: decoded audio is (nearly) silent", r)
			}
		})
	}
}
