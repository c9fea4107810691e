// Package codectest holds what the codec subpackages' tests share: ffmpeg as
// the reference decoder (skipping when it is absent), the RTP payloads of a
// capture, SNR and tone measurements. It is imported only by _test.go files.
package codectest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
)

// FFmpeg runs ffmpeg with args, feeding stdin, and returns its stdout. It
// skips tb when ffmpeg is not installed.
func FFmpeg(tb testing.TB, stdin []byte, args ...string) []byte {
	tb.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		tb.Skip("ffmpeg not in PATH; the reference-decoder tests need it (apt-get install ffmpeg)")
	}
	cmd := exec.Command(p, append([]string{"-hide_banner", "-loglevel", "error", "-nostdin"}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("ffmpeg %q: %v\n%s", args, err, stderr.Bytes())
	}
	return out
}

// HaveFFmpeg skips tb when ffmpeg is not installed.
func HaveFFmpeg(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		tb.Skip("ffmpeg not in PATH; the reference-decoder tests need it (apt-get install ffmpeg)")
	}
}

// FFmpegDecode writes data to a file and decodes it with ffmpeg's raw
// demuxer format (plus any input options before -i) to 8 kHz s16le mono.
func FFmpegDecode(tb testing.TB, data []byte, format string, inputOpts ...string) []int16 {
	tb.Helper()
	f := filepath.Join(tb.TempDir(), "in."+format)
	if err := os.WriteFile(f, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"-f", format}, inputOpts...)
	args = append(args, "-i", f, "-f", "s16le", "-acodec", "pcm_s16le", "-")
	return S16LE(FFmpeg(tb, nil, args...))
}

// S16LE converts little-endian 16-bit samples.
func S16LE(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

// AppendS16LE appends pcm as little-endian 16-bit samples to b.
func AppendS16LE(b []byte, pcm []int16) []byte {
	for _, s := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// SNR returns the signal-to-noise ratio in dB of got against ref over their
// common length (+Inf when equal).
func SNR(ref, got []int16) float64 {
	var sig, noise float64
	for i := range min(len(ref), len(got)) {
		s, n := float64(ref[i]), float64(got[i])-float64(ref[i])
		sig += s * s
		noise += n * n
	}
	if noise == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(sig/noise)
}

// Diff counts the samples in which got and want differ and returns the
// first such index (-1 if none). Lengths must be compared by the caller.
func Diff(want, got []int16) (n, first int) {
	first = -1
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	return n, first
}

// RMS is the root mean square of x.
func RMS(x []int16) float64 {
	if len(x) == 0 {
		return 0
	}
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(len(x)))
}

// ToneDB returns the Goertzel power of x at f Hz (sample rate fs) in dB,
// normalised so that a full-scale sine yields about −6 dB.
func ToneDB(x []int16, f, fs float64) float64 {
	k := 2 * math.Cos(2*math.Pi*f/fs)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)/32768+k*s1-s2, s1
	}
	n := float64(len(x))
	return 10 * math.Log10((s1*s1+s2*s2-k*s1*s2)/(n*n)+1e-20)
}

// A Stream is the RTP payloads of one SSRC in a capture, in capture order.
type Stream struct {
	SSRC     uint32
	PT       uint8
	Src, Dst string // ip:port
	Payloads [][]byte
}

// Capture returns the file in the third-party capture corpus (skipping tb
// when the corpus or the file is absent).
func Capture(tb testing.TB, rel string) string {
	tb.Helper()
	name := filepath.Join(pcaptest.CapturesDir(tb), rel)
	if _, err := os.Stat(name); err != nil {
		tb.Skipf("capture %s: %v", rel, err)
	}
	return name
}

// RTPStreams returns the RTP streams (UDP, version 2, payload types other
// than 101) of a capture file, in order of first packet. Padding, CSRCs and
// header extensions are removed from the payloads.
func RTPStreams(tb testing.TB, name string) []*Stream {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	frames, err := capture.ReadAllFrom(f)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	var streams []*Stream
	bySSRC := map[uint32]*Stream{}
	for _, fr := range frames {
		pkt := gopacket.NewPacket(fr.Data, layers.LayerTypeEthernet, gopacket.NoCopy)
		udp, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		nl := pkt.NetworkLayer()
		if udp == nil || nl == nil || udp.SrcPort == 5060 || udp.DstPort == 5060 {
			continue
		}
		b := udp.Payload
		if len(b) < 12 || b[0]>>6 != 2 {
			continue
		}
		pt := b[1] & 0x7f
		if pt == 101 || (pt >= 72 && pt <= 76) { // DTMF events, RTCP
			continue
		}
		ssrc := binary.BigEndian.Uint32(b[8:])
		off := 12 + 4*int(b[0]&0x0f)
		end := len(b)
		if b[0]&0x20 != 0 && end > off {
			end -= int(b[end-1])
		}
		if b[0]&0x10 != 0 && off+4 <= end {
			off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
		}
		if off > end {
			continue
		}
		s := bySSRC[ssrc]
		if s == nil {
			src, dst := nl.NetworkFlow().Endpoints()
			s = &Stream{SSRC: ssrc, PT: pt,
				Src: fmt.Sprintf("%s:%d", src, udp.SrcPort), Dst: fmt.Sprintf("%s:%d", dst, udp.DstPort)}
			bySSRC[ssrc] = s
			streams = append(streams, s)
		}
		s.Payloads = append(s.Payloads, bytes.Clone(b[off:end]))
	}
	return streams
}

// SoxG72x decodes G.721/G.723 ADPCM codewords (bits 3, 4 or 5 per sample,
// packed from the least significant bit, RFC 3551's G726-NN order) with
// sox, whose decoder is Sun Microsystems' public reference implementation
// of the recommendation: an oracle independent of ffmpeg. It wraps the
// data in a Sun .au header (encodings 23, 25, 26) and skips tb when sox is
// not installed.
func SoxG72x(tb testing.TB, data []byte, bits int) []int16 {
	tb.Helper()
	p, err := exec.LookPath("sox")
	if err != nil {
		tb.Skip("sox not in PATH; the G.726 reference-decoder test needs it (apt-get install sox)")
	}
	enc := map[int]uint32{3: 25, 4: 23, 5: 26}[bits]
	if enc == 0 {
		tb.Fatalf("sox has no G.72x decoder for %d bits", bits)
	}
	hdr := make([]byte, 24)
	copy(hdr, ".snd")
	binary.BigEndian.PutUint32(hdr[4:], 24)
	binary.BigEndian.PutUint32(hdr[8:], uint32(len(data)))
	binary.BigEndian.PutUint32(hdr[12:], enc)
	binary.BigEndian.PutUint32(hdr[16:], 8000)
	binary.BigEndian.PutUint32(hdr[20:], 1)
	f := filepath.Join(tb.TempDir(), "in.au")
	if err := os.WriteFile(f, append(hdr, data...), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(p, "-V1", f, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("sox: %v\n%s", err, stderr.Bytes())
	}
	return S16LE(out)
}

// ReportSpeed reports a decode benchmark's speed in multiples of real
// time on one core, per wall second (x-realtime) and per CPU second
// (x-realtime-cpu, which the load of a shared machine does not skew),
// given the audio one op decodes and the CPUTime at the loop's start.
func ReportSpeed(b *testing.B, perOp time.Duration, cpu0 time.Duration) {
	audio := time.Duration(b.N) * perOp
	b.ReportMetric(audio.Seconds()/b.Elapsed().Seconds(), "x-realtime")
	if cpu := CPUTime() - cpu0; cpu > 0 && cpu0 > 0 {
		b.ReportMetric(audio.Seconds()/cpu.Seconds(), "x-realtime-cpu")
	}
}
