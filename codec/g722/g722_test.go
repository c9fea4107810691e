package g722

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ffmpegPath returns ffmpeg, the test oracle, or skips the test.
func ffmpegPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not in PATH; the G.722 oracle tests need it (apt-get install ffmpeg)")
	}
	return p
}

// ffmpeg runs ffmpeg with args, feeding stdin, and returns its stdout.
func ffmpeg(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(ffmpegPath(t), append([]string{"-hide_banner", "-loglevel", "error", "-nostdin"}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %q: %v\n%s", args, err, stderr.Bytes())
	}
	return out
}

// ffmpegDecode decodes a raw G.722 stream with ffmpeg to 16 kHz s16le.
func ffmpegDecode(t *testing.T, g722 []byte) []int16 {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in.g722")
	if err := os.WriteFile(f, g722, 0o644); err != nil {
		t.Fatal(err)
	}
	return s16le(ffmpeg(t, nil, "-f", "g722", "-i", f, "-f", "s16le", "-acodec", "pcm_s16le", "-"))
}

// testSignal asks ffmpeg for 2 s of 16 kHz s16le: a 1 kHz tone at -6 dBFS
// plus a quieter 5 kHz tone (which lands in the high band).
func testSignal(t *testing.T) []int16 {
	t.Helper()
	return s16le(ffmpeg(t, nil,
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000:duration=2",
		"-f", "lavfi", "-i", "sine=frequency=5000:sample_rate=16000:duration=2",
		"-filter_complex", "[0][1]amix=inputs=2:weights=1 0.25:normalize=0",
		"-f", "s16le", "-acodec", "pcm_s16le", "-ar", "16000", "-ac", "1", "-"))
}

func s16le(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

// snr returns the signal-to-noise ratio in dB of got against ref.
func snr(ref, got []int16) float64 {
	var sig, noise float64
	for i := range ref {
		s, n := float64(ref[i]), float64(got[i])-float64(ref[i])
		sig += s * s
		noise += n * n
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

// requireExact fails unless got equals ffmpeg's output want sample for
// sample: both implement the recommendation's fixed-point arithmetic, so a
// conforming decoder is bit-exact. The SNR is reported to size a mismatch.
func requireExact(t *testing.T, what string, want, got []int16) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d samples, ffmpeg %d", what, len(got), len(want))
	}
	diff, first := 0, -1
	for i := range want {
		if want[i] != got[i] {
			if first < 0 {
				first = i
			}
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%s: %d of %d samples differ from ffmpeg (first at %d: %d, want %d); SNR %.1f dB",
			what, diff, len(want), first, got[first], want[first], snr(want, got))
	}
}

func rms(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(x)))
}

// goertzel returns the power of x at frequency f (sample rate fs),
// normalised so that a full-scale sine yields about 1/4.
func goertzel(x []int16, f, fs float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/fs)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)/32768+k*s1-s2, s1
	}
	n := float64(len(x))
	return (s1*s1 + s2*s2 - k*s1*s2) / (n * n)
}

// ffmpegToneDB is the Goertzel level of ffmpeg's sine source (amplitude 1/8).
var ffmpegToneDB = 20*math.Log10(1.0/8) - 6.02

// checkTones requires the 1 kHz tone at level1k dB (±2 dB), the 5 kHz tone
// 12 dB (a quarter of the amplitude) below it (±3 dB), and the 3 kHz and
// 7 kHz probes at least 30 dB below the 1 kHz tone.
func checkTones(t *testing.T, pcm []int16, level1k float64) {
	t.Helper()
	db := func(f float64) float64 { return 10 * math.Log10(goertzel(pcm, f, 16000)+1e-20) }
	p1, p5, p3, p7 := db(1000), db(5000), db(3000), db(7000)
	if math.Abs(p1-level1k) > 2 || math.Abs(p1-p5-12) > 3 || p1-p3 < 30 || p1-p7 < 30 {
		t.Errorf("tones: 1k %.1f dB (want %.1f), 5k %.1f dB, probes 3k %.1f dB, 7k %.1f dB",
			p1, level1k, p5, p3, p7)
	}
}

func TestDecodeMatchesFFmpeg(t *testing.T) {
	in := testSignal(t)
	f := filepath.Join(t.TempDir(), "in.s16")
	if err := os.WriteFile(f, le16(in), 0o644); err != nil {
		t.Fatal(err)
	}
	stream := ffmpeg(t, nil, "-f", "s16le", "-ar", "16000", "-ac", "1", "-i", f, "-acodec", "g722", "-f", "g722", "-")
	if len(stream) != len(in)/2 {
		t.Fatalf("ffmpeg made %d octets from %d samples", len(stream), len(in))
	}
	// Our encoder implements the same recommendation: same octets.
	if mine := NewEncoder().Encode(nil, in); !bytes.Equal(mine, stream) {
		diff := 0
		for i := range mine {
			if mine[i] != stream[i] {
				diff++
			}
		}
		t.Errorf("Encoder differs from ffmpeg's g722 encoder in %d of %d octets", diff, len(stream))
	}
	want := ffmpegDecode(t, stream)

	// Decode in RTP-sized pieces to exercise state carried across calls.
	d := NewDecoder()
	var got []int16
	for p := stream; len(p) > 0; {
		n := min(len(p), 160)
		var err error
		if got, err = d.Decode(got, p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if len(got) != 2*len(stream) || len(want) != len(got) {
		t.Fatalf("got %d samples, ffmpeg %d, for %d octets", len(got), len(want), len(stream))
	}
	requireExact(t, "1 kHz + 5 kHz", want, got)
	checkTones(t, got, ffmpegToneDB)
}

// TestDecodeModesMatchFFmpeg checks modes 2 and 3 (56 and 48 kbit/s) against
// ffmpeg's decoder told to use 7 and 6 bits per codeword.
func TestDecodeModesMatchFFmpeg(t *testing.T) {
	in := testSignal(t)
	stream := NewEncoder().Encode(nil, in)
	f := filepath.Join(t.TempDir(), "in.g722")
	if err := os.WriteFile(f, stream, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		mode Mode
		bits string
	}{{Mode1, "8"}, {Mode2, "7"}, {Mode3, "6"}} {
		want := s16le(ffmpeg(t, nil, "-bits_per_codeword", tt.bits, "-f", "g722", "-i", f, "-f", "s16le", "-"))
		d, err := NewDecoderMode(tt.mode)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := d.Decode(nil, stream)
		if len(got) != len(want) {
			t.Fatalf("mode %d: %d samples, ffmpeg %d", tt.mode, len(got), len(want))
		}
		requireExact(t, fmt.Sprintf("mode %d", tt.mode), want, got)
		checkTones(t, got, ffmpegToneDB)
	}
}

func le16(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func TestEncodeFFmpegDecodes(t *testing.T) {
	in := testSignal(t)
	enc := NewEncoder()
	var stream []byte
	for p := in; len(p) > 0; {
		n := min(len(p), 320)
		stream = enc.Encode(stream, p[:n])
		p = p[n:]
	}
	if len(stream) != len(in)/2 {
		t.Fatalf("%d octets from %d samples", len(stream), len(in))
	}
	got := ffmpegDecode(t, stream)
	if len(got) != len(in) {
		t.Fatalf("ffmpeg decoded %d samples, want %d", len(got), len(in))
	}
	s := snr(in[:len(in)-codecDelay], got[codecDelay:])
	t.Logf("SNR vs input: %.1f dB", s)
	if s < 20 {
		t.Errorf("SNR vs input %.1f dB, want >= 20", s)
	}
	checkTones(t, got, ffmpegToneDB)

	// Our decoder must agree with ffmpeg on our own stream too.
	mine, _ := NewDecoder().Decode(nil, stream)
	requireExact(t, "own stream", got, mine)
}

// capturesDir locates the shared third-party captures: $SPANREC_CAPTURES, or
// ../shared/captures beside the directory holding go.mod.
func capturesDir(t *testing.T) string {
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

// readPcap returns the frames of a classic little-endian microsecond pcap
// file with Ethernet link type (which the capture is). It is a test helper,
// not a general reader: pcapgo would do, but it pulls in golang.org/x/net,
// which go.sum does not list yet.
func readPcap(t *testing.T, name string) [][]byte {
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

// TestDecodeCapture decodes the G.722 RTP stream of a real call
// (wireshark-samples/sip-rtp-g722.pcap, 10.0.2.15:17472 -> 10.0.2.20:6000,
// payload type 9) and compares it with ffmpeg decoding the same octets.
func TestDecodeCapture(t *testing.T) {
	ffmpegPath(t)
	name := filepath.Join(capturesDir(t), "wireshark-samples", "sip-rtp-g722.pcap")
	if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s absent", name)
	}
	d := NewDecoder()
	var stream []byte
	var got []int16
	packets := 0
	for _, frame := range readPcap(t, name) {
		pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.NoCopy)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		udp, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if ip == nil || udp == nil || ip.SrcIP.String() != "10.0.2.15" || udp.SrcPort != 17472 ||
			ip.DstIP.String() != "10.0.2.20" || udp.DstPort != 6000 {
			continue
		}
		rtp := udp.Payload
		if len(rtp) < 12 || rtp[0]>>6 != 2 || rtp[1]&0x7F != 9 {
			t.Fatalf("packet %d: not an RTP G722 packet", packets)
		}
		payload := rtp[12:] // no CSRCs, extension or padding in this stream
		stream = append(stream, payload...)
		var err error
		if got, err = d.Decode(got, payload); err != nil {
			t.Fatal(err)
		}
		packets++
	}
	if packets != 425 {
		t.Fatalf("found %d RTP packets, tshark sees 425", packets)
	}
	if len(got) != 2*len(stream) {
		t.Fatalf("%d samples from %d octets", len(got), len(stream))
	}
	want := ffmpegDecode(t, stream)
	if len(want) != len(got) {
		t.Fatalf("ffmpeg decoded %d samples, we %d", len(want), len(got))
	}
	t.Logf("%d packets, %d octets, RMS %.0f", packets, len(stream), rms(got))
	requireExact(t, "sip-rtp-g722.pcap", want, got)
	if r := rms(got); r < 100 {
		t.Errorf("RMS %.1f: decoded audio is (nearly) silent", r)
	}
}
