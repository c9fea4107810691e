package g729

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
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

// minSNR is the SNR against ffmpeg's main-body decoder the Annex A
// decoder must reach on the capture.
const minSNR = 20.0

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

// TestDecodeCaptureMatchesFFmpeg decodes the real call's G.729 stream and
// compares it with ffmpeg's decoder on the same frames, sample by sample
// (no delay: both decoders have none).
//
// The two are not the same decoder: ffmpeg implements the main-body G.729
// postfilter (§4.2: long-term postfilter with fractional delays, its own
// tilt and gain control), this package the Annex A one (§A.4.2), which
// the Recommendation allows for any G.729 bitstream. The postfilters
// differ audibly little but sample values a lot, hence the bar of 20 dB;
// docs/PERFORMANCE.md has the figure.
func TestDecodeCaptureMatchesFFmpeg(t *testing.T) {
	payloads := capturePayloads(t)
	if len(payloads) != 425 {
		t.Fatalf("found %d RTP packets, tshark sees 425", len(payloads))
	}
	d := NewDecoder()
	var got []int16
	var stream []byte
	for i, p := range payloads {
		n := len(got)
		var err error
		if got, err = d.Decode(got, p); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if len(got)-n != len(p)/FrameSize*FrameSamples {
			t.Fatalf("packet %d: %d bytes gave %d samples", i, len(p), len(got)-n)
		}
		stream = append(stream, p...)
	}
	want := ffmpegDecode(t, stream)
	if len(want) != len(got) {
		t.Fatalf("ffmpeg decoded %d samples, we %d", len(want), len(got))
	}
	s := snr(want, got)
	t.Logf("%d packets, %d samples, RMS %.0f (ffmpeg %.0f), SNR vs ffmpeg %.1f dB", len(payloads), len(got), rms(got), rms(want), s)
	if s < minSNR {
		t.Errorf("SNR vs ffmpeg %.1f dB, want >= %.0f", s, minSNR)
	}
	if r := rms(got); r < 100 {
		t.Errorf("RMS %.1f: decoded audio is (nearly) silent", r)
	}
}
