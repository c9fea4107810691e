package rtpstream

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/spanrec/spanrec/pcaptest"
)

// capturesDir returns the shared third-party captures folder: $SPANREC_CAPTURES,
// or ../shared/captures beside the repository root. It skips the test when
// the folder is absent.
func capturesDir(t testing.TB) string {
	t.Helper()
	return pcaptest.CapturesDir(t)
}

// udpPacket is one UDP datagram of a capture.
type udpPacket struct {
	frame    int // 1-based frame number in the capture, as tshark counts
	time     time.Time
	src, dst netip.AddrPort
	payload  []byte
}

// readUDP returns the UDP datagrams of a pcap file, in capture order.
func readUDP(t testing.TB, path string) []udpPacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []udpPacket
	for frame := 1; ; frame++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if udp == nil {
			continue
		}
		var src, dst netip.Addr
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		default:
			continue
		}
		out = append(out, udpPacket{
			frame:   frame,
			time:    ci.Timestamp,
			src:     netip.AddrPortFrom(src, uint16(udp.SrcPort)),
			dst:     netip.AddrPortFrom(dst, uint16(udp.DstPort)),
			payload: udp.Payload,
		})
	}
	return out
}

// tsharkStream is one row of tshark's "-z rtp,streams" table.
type tsharkStream struct {
	src, dst                        netip.AddrPort
	ssrc                            uint32
	payload                         string
	pkts, lost                      int
	maxDelta, meanJitter, maxJitter float64
	minDelta, meanDelta, minJitter  float64
}

// readExpectStreams parses the "-z rtp,streams" table of an .expect.txt file.
func readExpectStreams(t testing.TB, path string) []tsharkStream {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []tsharkStream
	in := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "## -z rtp,streams"):
			in = true
			continue
		case strings.HasPrefix(line, "##"):
			in = false
		}
		f := strings.Fields(line)
		if !in || len(f) < 17 || strings.HasPrefix(line, "=") || f[0] == "Start" {
			continue
		}
		if f[len(f)-1] == "X" {
			f = f[:len(f)-1]
		}
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, line, err)
			}
			return v
		}
		port := func(ip, p string) netip.AddrPort {
			ap, err := netip.ParseAddrPort(ip + ":" + p)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, line, err)
			}
			return ap
		}
		ssrc, err := strconv.ParseUint(strings.TrimPrefix(f[6], "0x"), 16, 32)
		if err != nil {
			t.Fatalf("%s: %q: %v", path, line, err)
		}
		n := len(f)
		out = append(out, tsharkStream{
			src: port(f[2], f[3]), dst: port(f[4], f[5]), ssrc: uint32(ssrc),
			payload:    strings.Join(f[7:n-9], " "),
			pkts:       int(num(f[n-9])),
			lost:       int(num(f[n-8])),
			minDelta:   num(f[n-6]),
			meanDelta:  num(f[n-5]),
			maxDelta:   num(f[n-4]),
			minJitter:  num(f[n-3]),
			meanJitter: num(f[n-2]),
			maxJitter:  num(f[n-1]),
		})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no RTP streams in its -z rtp,streams table", path)
	}
	return out
}

// rtpmap is what SDP says about one payload type.
type rtpmap struct {
	name string
	rate int
}

// sdpMaps collects the a=rtpmap lines of every SDP body in the capture, keyed
// by the media port of the m= line they follow. It is a test helper, not an
// SDP parser: enough to learn the clock rate of dynamic payload types.
func sdpMaps(pkts []udpPacket) map[uint16]map[uint8]rtpmap {
	out := make(map[uint16]map[uint8]rtpmap)
	for _, p := range pkts {
		s := string(p.payload)
		if !strings.Contains(s, "\nm=") {
			continue
		}
		var port uint16
		for line := range strings.Lines(s) {
			line = strings.TrimSpace(line)
			if rest, ok := strings.CutPrefix(line, "m="); ok {
				f := strings.Fields(rest)
				port = 0
				if len(f) > 1 {
					if n, err := strconv.Atoi(f[1]); err == nil {
						port = uint16(n)
					}
				}
				continue
			}
			rest, ok := strings.CutPrefix(line, "a=rtpmap:")
			if !ok || port == 0 {
				continue
			}
			ptStr, enc, _ := strings.Cut(rest, " ")
			pt, err1 := strconv.Atoi(ptStr)
			name, rateStr, _ := strings.Cut(enc, "/")
			rateStr, _, _ = strings.Cut(rateStr, "/")
			rate, err2 := strconv.Atoi(rateStr)
			if err1 != nil || err2 != nil || pt < 0 || pt > 127 {
				continue
			}
			if out[port] == nil {
				out[port] = make(map[uint8]rtpmap)
			}
			out[port][uint8(pt)] = rtpmap{name: name, rate: rate}
		}
	}
	return out
}

// staticRates are the RTP clock rates of the static payload types (RFC 3551
// §6, Table 4).
var staticRates = map[uint8]rtpmap{
	0: {"PCMU", 8000}, 3: {"GSM", 8000}, 4: {"G723", 8000}, 5: {"DVI4", 8000},
	6: {"DVI4", 16000}, 7: {"LPC", 8000}, 8: {"PCMA", 8000}, 9: {"G722", 8000},
	10: {"L16", 44100}, 11: {"L16", 44100}, 12: {"QCELP", 8000}, 13: {"CN", 8000},
	14: {"MPA", 90000}, 15: {"G728", 8000}, 16: {"DVI4", 11025}, 17: {"DVI4", 22050},
	18: {"G729", 8000}, 19: {"CN", 8000},
}

// lookupPT returns what payload type pt of the stream src→dst is, from the
// static table or the SDP of either end.
func lookupPT(maps map[uint16]map[uint8]rtpmap, src, dst netip.AddrPort, pt uint8) (rtpmap, bool) {
	if m, ok := staticRates[pt]; ok {
		return m, true
	}
	for _, port := range []uint16{src.Port(), dst.Port()} {
		if m, ok := maps[port][pt]; ok {
			return m, true
		}
	}
	return rtpmap{}, false
}
