package packet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/spanrec/spanrec/pcaptest"
)

// findCaptures locates the shared third-party captures: $SPANREC_CAPTURES,
// or ../shared/captures beside the repository root (the directory holding
// go.mod). It returns "" and the reason when they are absent.
func findCaptures() (dir, why string) {
	d, err := pcaptest.FindCaptures()
	if err != nil {
		return "", err.Error()
	}
	return d, ""
}

// capturesDir is findCaptures for a test, which it skips when the
// captures are absent.
func capturesDir(tb testing.TB) string {
	tb.Helper()
	dir, why := findCaptures()
	if dir == "" {
		tb.Skip(why)
	}
	return dir
}

type capFrame struct {
	data []byte
	link LinkType
	ts   time.Time
	orig int
}

// readCapture reads every frame of a pcap or pcapng file with gopacket's
// pcapgo readers.
func readCapture(tb testing.TB, path string) []capFrame {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	var frames []capFrame
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			tb.Fatalf("open %s: %v", path, err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatalf("read %s: %v", path, err)
			}
			iface, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				tb.Fatalf("read %s: %v", path, err)
			}
			frames = append(frames, capFrame{data, LinkType(iface.LinkType), ci.Timestamp, ci.Length})
		}
		return frames
	}
	r, err := pcapgo.NewReader(br)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("read %s: %v", path, err)
		}
		frames = append(frames, capFrame{data, LinkType(r.LinkType()), ci.Timestamp, ci.Length})
	}
	return frames
}

// expectation is what a capture's .expect.txt says (tshark 4.0.17).
type expectation struct {
	frames   int
	link     string
	sipTotal int
	sip      map[string]int // request method or status code → packets
}

var (
	reCapinfos  = regexp.MustCompile(`(?m)^[^,\n]+,([^,\n]+),(\d+),`)
	reSIPTotal  = regexp.MustCompile(`Number of SIP messages: (\d+)`)
	reSIPStatus = regexp.MustCompile(`(?m)^\s+SIP (\d{3}) .*:\s+(\d+) Packets`)
	reSIPMethod = regexp.MustCompile(`(?m)^\s+([A-Z]+)\s+:\s+(\d+) Packets`)
)

func readExpect(tb testing.TB, path string) expectation {
	tb.Helper()
	b, err := os.ReadFile(path + ".expect.txt")
	if err != nil {
		tb.Fatal(err)
	}
	s := string(b)
	var e expectation
	m := reCapinfos.FindStringSubmatch(s)
	if m == nil {
		tb.Fatalf("%s.expect.txt: no capinfos line", path)
	}
	e.link = m[1]
	e.frames, _ = strconv.Atoi(m[2])
	if m := reSIPTotal.FindStringSubmatch(s); m != nil {
		e.sipTotal, _ = strconv.Atoi(m[1])
	}
	e.sip = map[string]int{}
	for _, m := range reSIPStatus.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[2])
		e.sip[m[1]] += n
	}
	for _, m := range reSIPMethod.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[2])
		e.sip[m[1]] += n
	}
	return e
}

var reSIPStart = regexp.MustCompile(`^(?:SIP/2\.0 (\d{3}) |([A-Z]+) sips?:\S+ SIP/2\.0\r\n)`)

// sipKey returns the method or status code of a SIP message in payload.
func sipKey(payload []byte) (string, bool) {
	m := reSIPStart.FindSubmatch(payload)
	if m == nil {
		return "", false
	}
	if len(m[1]) > 0 {
		return string(m[1]), true
	}
	return string(m[2]), true
}

// sipFramingOK reports whether a SIP message's length is its header block
// plus Content-Length (compact form "l" too). Over UDP the header may be
// absent (RFC 3261 §18.3: the body then runs to the end of the datagram),
// which is accepted unless requireCL.
func sipFramingOK(payload []byte, requireCL bool) bool {
	i := bytes.Index(payload, []byte("\r\n\r\n"))
	if i < 0 {
		return false
	}
	cl := -1
	for line := range strings.SplitSeq(string(payload[:i]), "\r\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "content-length" || name == "l" {
			cl, _ = strconv.Atoi(strings.TrimSpace(val))
		}
	}
	if cl < 0 {
		return !requireCL
	}
	return len(payload) == i+4+cl
}

// TestCaptures decodes every frame of third-party captures and checks the
// result against tshark's view of them (the .expect.txt beside each file,
// and, for what that file does not list, tshark's protocol column as noted).
func TestCaptures(t *testing.T) {
	dir := capturesDir(t)
	tests := []struct {
		file string
		// From tshark -T fields -e frame.protocols: frames that end in UDP
		// or TCP, frames through a tunnel, frames that are IP fragments
		// waiting for their last piece, frames cut by the snap length.
		decoded, tunneled, truncated, dups int
		tunnel                             string
		vlan                               uint16 // first VLAN ID, 0 = none
		checkSIP                           bool
		reassembled                        int
		rtpDst                             uint16 // RTP destination port (tshark -z rtp,streams)
		rtp                                int    // RTP packets to rtpDst
	}{
		// 34 frames, 2 IPv6 datagrams in 2 fragments each: 32 SIP messages.
		// Frames 26 and 27 are a retransmitted 200 OK 0.5 s apart: both kept.
		{file: "sngrep/ipv6frag.pcap", decoded: 32, reassembled: 2, checkSIP: true},
		// Ethernet; frames 2 and 3 are IPv4-in-IPv4 (eth:ip:ip:tcp:sip).
		{file: "sngrep/ipip.pcap", decoded: 4, tunneled: 2, tunnel: "ipip", checkSIP: true},
		// Raw IP (linktype 101); tshark shows raw:ip:udp:sip for all 8.
		{file: "heplify/ipip0.pcap", decoded: 8, checkSIP: true},
		// eth:vlan:ip:gre(PPTP enhanced GRE):ppp:ip:udp:sip.
		{file: "ndpi/gre.pcapng", decoded: 1, tunneled: 1, tunnel: "gre", vlan: 142, checkSIP: true},
		// eth:vlan(5):ip:udp:vxlan:eth:ip:{tcp,udp} for all 127. Frames 54
		// and 55 carry the same inner TCP RST (IP ID 0, same seq) 143 µs
		// apart: byte-identical inner packets, so the second is a duplicate.
		{file: "ndpi/vxlan.pcap", decoded: 126, dups: 1, tunneled: 126, tunnel: "vxlan", vlan: 5},
		// BSD null: 4 SIP + 45 RTP.
		{file: "wireshark-samples/h263-over-rtp.pcap", decoded: 49, checkSIP: true, rtpDst: 32976, rtp: 45},
		// Linux SLL, 5 compound RTCP datagrams.
		{file: "ndpi/rtcp_multiple_pkts_in_the_same_datagram.pcap", decoded: 5},
		{file: "gopacket/be_test010.pcapng", decoded: 4},
		{file: "gopacket/le_test010.pcapng", decoded: 4},
		{file: "gopacket/le_test100.pcapng", decoded: 5},
		// 6 DHCP frames cut at 96 or 128 bytes by the interface snap
		// length, and the same null:ip:udp packet recorded twice 3 ms apart
		// on two interfaces (a copy, counted once).
		{file: "gopacket/le_test202.pcapng", decoded: 1, truncated: 6, dups: 1},
		// Linux "any" capture: tshark flags 9 frames "IPv4 total length
		// exceeds packet length" and 1 "Bogus TCP header length"; 13 IP
		// packets were captured twice within microseconds, byte for byte
		// (frames 1 and 2, ...; 85 and 86 differ in the TCP checksum, so
		// both are kept).
		{file: "gopacket/linux_sll_oversized_addr.pcapng", decoded: 186, truncated: 10, dups: 13},
		{file: "gopacket/test_loopback.pcap", decoded: 24},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			exp := readExpect(t, path)
			frames := readCapture(t, path)
			if len(frames) != exp.frames {
				t.Fatalf("read %d frames, capinfos says %d", len(frames), exp.frames)
			}
			d := NewDecoder(Config{})
			var decoded, tunneled int
			sip := map[string]int{}
			sipTotal, rtp := 0, 0
			for i, f := range frames {
				p, ok := d.Decode(f.data, f.link, f.ts, f.orig)
				if !ok {
					continue
				}
				decoded++
				if p.Tunnel != "" {
					tunneled++
					if p.Tunnel != tt.tunnel {
						t.Errorf("frame %d: tunnel %q, want %q", i+1, p.Tunnel, tt.tunnel)
					}
				}
				if tt.vlan != 0 && (p.NVLAN == 0 || p.VLANs[0] != tt.vlan) {
					t.Errorf("frame %d: VLANs %v (%d), want first %d", i+1, p.VLANs, p.NVLAN, tt.vlan)
				}
				if !p.Src.IsValid() || !p.Dst.IsValid() || (p.Proto != ProtoUDP && p.Proto != ProtoTCP) {
					t.Errorf("frame %d: bad packet %v > %v proto %d", i+1, p.Src, p.Dst, p.Proto)
				}
				if tt.rtpDst != 0 && p.Dst.Port() == tt.rtpDst && len(p.Payload) >= 12 && p.Payload[0]>>6 == 2 {
					rtp++
				}
				if p.Fragments != nil {
					if !bytes.Equal(p.Fragments[len(p.Fragments)-1], f.data) {
						t.Errorf("frame %d: last fragment frame is not the frame", i+1)
					}
					if !sipFramingOK(p.Payload, true) {
						t.Errorf("frame %d: reassembled payload of %d bytes is not one whole SIP message", i+1, len(p.Payload))
					}
				}
				if k, ok := sipKey(p.Payload); ok {
					sip[k]++
					sipTotal++
					if p.Proto == ProtoUDP && !sipFramingOK(p.Payload, false) {
						t.Errorf("frame %d: SIP message of %d bytes: length is not headers + Content-Length", i+1, len(p.Payload))
					}
				}
			}
			st := d.Stats()
			if decoded != tt.decoded || st.Decoded != uint64(tt.decoded) {
				t.Errorf("decoded %d (stats %d), want %d; stats %+v", decoded, st.Decoded, tt.decoded, st)
			}
			if rtp != tt.rtp {
				t.Errorf("%d RTP packets to port %d, tshark says %d", rtp, tt.rtpDst, tt.rtp)
			}
			if tunneled != tt.tunneled {
				t.Errorf("tunneled %d, want %d", tunneled, tt.tunneled)
			}
			if st.Frames != uint64(exp.frames) {
				t.Errorf("Stats.Frames = %d, want %d", st.Frames, exp.frames)
			}
			if sum := st.Decoded + st.NonIP + st.NonL4 + st.Truncated + st.Duplicates + st.UnsupportedLink +
				st.FragmentsDropped + st.Fragments - st.Reassembled; sum != st.Frames {
				t.Errorf("counters add up to %d frames, not %d: %+v", sum, st.Frames, st)
			}
			if st.Truncated != uint64(tt.truncated) {
				t.Errorf("Stats.Truncated = %d, want %d", st.Truncated, tt.truncated)
			}
			if st.Reassembled != uint64(tt.reassembled) || st.Fragments != uint64(2*tt.reassembled) {
				t.Errorf("Stats.Reassembled = %d, Fragments = %d; want %d, %d", st.Reassembled, st.Fragments, tt.reassembled, 2*tt.reassembled)
			}
			if st.Duplicates != uint64(tt.dups) {
				t.Errorf("Stats.Duplicates = %d, want %d", st.Duplicates, tt.dups)
			}
			if tt.checkSIP {
				if sipTotal != exp.sipTotal {
					t.Errorf("%d SIP messages, tshark says %d", sipTotal, exp.sipTotal)
				}
				for k, n := range exp.sip {
					if sip[k] != n {
						t.Errorf("SIP %s: %d packets, tshark says %d", k, sip[k], n)
					}
				}
				for k, n := range sip {
					if _, ok := exp.sip[k]; !ok {
						t.Errorf("SIP %s: %d packets, tshark lists none", k, n)
					}
				}
			}
		})
	}
}
