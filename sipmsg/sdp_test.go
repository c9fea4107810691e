package sipmsg_test

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

func TestParseSDP(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		want []sipmsg.Media
	}{
		{"IPv6 and rtcp", `v=0
o=- 1 1 IN IP6 2001:db8::1
s=-
c=IN IP6 2001:db8::1
t=0 0
m=audio 30000 RTP/SAVP 0
a=rtcp:30011 IN IP6 2001:db8::2
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
`, []sipmsg.Media{{
			Type: "audio", Addr: netip.MustParseAddrPort("[2001:db8::1]:30000"), Proto: "RTP/SAVP", Payloads: []uint8{0},
			Direction: "sendrecv", RTCPAddr: netip.MustParseAddrPort("[2001:db8::2]:30011"), Crypto: true,
			CryptoLines: []string{"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"},
		}}},
		{"WebRTC: session-level fingerprint, zrtp-hash", `v=0
o=- 1 1 IN IP4 192.0.2.1
s=-
a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB
c=IN IP4 192.0.2.1
t=0 0
m=audio 9 UDP/TLS/RTP/SAVPF 111
m=audio 4000 RTP/AVP 0
a=zrtp-hash:1.10 fe30efd02423cb054e50efd0248742ac7a52c8f91bc2df881ae642c371ba46df
`, []sipmsg.Media{
			{Type: "audio", Addr: netip.MustParseAddrPort("192.0.2.1:9"), Proto: "UDP/TLS/RTP/SAVPF", Payloads: []uint8{111},
				Direction: "sendrecv", Fingerprint: true},
			{Type: "audio", Addr: netip.MustParseAddrPort("192.0.2.1:4000"), Proto: "RTP/AVP", Payloads: []uint8{0},
				Direction: "sendrecv", Fingerprint: true, ZRTPHash: true},
		}},
		{"hold: sendonly, c=0.0.0.0, media-level c= wins", `v=0
o=- 1 2 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 4000 RTP/AVP 8
c=IN IP4 0.0.0.0
a=sendonly
a=rtcp:4001
`, []sipmsg.Media{{
			Type: "audio", Addr: netip.MustParseAddrPort("0.0.0.0:4000"), Proto: "RTP/AVP", Payloads: []uint8{8},
			Direction: "sendonly", RTCPAddr: netip.MustParseAddrPort("0.0.0.0:4001"),
		}}},
		{"session-level direction, lines out of order, LF and CRLF, junk", "v=0\r\na=inactive\r\nm=audio 5000/2 RTP/AVP 96 foo\r\na=rtpmap:96 opus/48000/2\n" +
			"garbage line\nc=IN IP4 203.0.113.5/127\na=ptime:40\nm=video 0 RTP/AVP 31\na=recvonly\nc=IN IP4 203.0.113.6\nm=image 6000 udptl t38\nc=IN IP4 host.example.com\n",
			[]sipmsg.Media{
				{Type: "audio", Addr: netip.MustParseAddrPort("203.0.113.5:5000"), Proto: "RTP/AVP", Payloads: []uint8{96},
					RTPMap: map[uint8]sipmsg.RTPMap{96: {Name: "opus", ClockRate: 48000, Channels: 2}}, Ptime: 40, Direction: "inactive"},
				{Type: "video", Addr: netip.MustParseAddrPort("203.0.113.6:0"), Proto: "RTP/AVP", Payloads: []uint8{31}, Direction: "recvonly"},
				{Type: "image", Addr: netip.AddrPortFrom(netip.Addr{}, 6000), Proto: "udptl", Direction: "inactive"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sipmsg.ParseSDP([]byte(tt.sdp))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Media, tt.want) {
				t.Errorf("Media =\n%+v\nwant\n%+v", s.Media, tt.want)
			}
		})
	}
}

func TestParseSDPErrors(t *testing.T) {
	for _, in := range []string{"", "hello world", "x=1\r\ny=2\r\n", "\x00\x01"} {
		if s, err := sipmsg.ParseSDP([]byte(in)); !errors.Is(err, sipmsg.ErrNotSDP) || s != nil {
			t.Errorf("ParseSDP(%q) = %v, %v; want nil, ErrNotSDP", in, s, err)
		}
	}
}

// TestSDPCaptures checks SDP details of real messages against what tshark shows of them.
func TestSDPCaptures(t *testing.T) {
	dir := capturesDir(t)
	sdps := func(file string) []*sipmsg.Message {
		var out []*sipmsg.Message
		for _, m := range parseCapture(t, filepath.Join(dir, file)) {
			if m.SDP != nil {
				out = append(out, m)
			}
		}
		return out
	}
	t.Run("g722 200 OK", func(t *testing.T) {
		ms := sdps("wireshark-samples/sip-rtp-g722.pcap")
		if len(ms) != 2 {
			t.Fatalf("%d messages with SDP, want 2", len(ms))
		}
		m := ms[1]
		want(t, "StatusCode", m.StatusCode, 200)
		got := m.SDP.Media[0]
		want(t, "Addr", got.Addr, netip.MustParseAddrPort("10.0.2.15:17472"))
		want(t, "Proto", got.Proto, "RTP/AVP")
		if !reflect.DeepEqual(got.Payloads, []uint8{9, 101}) {
			t.Errorf("Payloads = %v, want [9 101]", got.Payloads)
		}
		want(t, "rtpmap 9", got.RTPMap[9], sipmsg.RTPMap{Name: "G722", ClockRate: 8000, Channels: 1})
		want(t, "rtpmap 101", got.RTPMap[101], sipmsg.RTPMap{Name: "telephone-event", ClockRate: 8000, Channels: 1})
		want(t, "Ptime", got.Ptime, 20)
		want(t, "Direction", got.Direction, "sendonly")
	})
	t.Run("L16 stereo", func(t *testing.T) {
		var found bool
		for _, m := range sdps("wireshark-samples/sip-rtp-l16.pcap") {
			if rm, ok := m.SDP.Media[0].RTPMap[99]; ok && rm.ClockRate == 16000 {
				want(t, "rtpmap 99", rm, sipmsg.RTPMap{Name: "L16", ClockRate: 16000, Channels: 2})
				found = true
			}
		}
		if !found {
			t.Error("no L16/16000/2 rtpmap")
		}
	})
	t.Run("T.38 re-INVITE", func(t *testing.T) {
		var images int
		for _, m := range sdps("ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap") {
			for _, md := range m.SDP.Media {
				if md.Type == "image" {
					images++
					want(t, "Proto", md.Proto, "udptl")
					if !md.Addr.IsValid() || md.Addr.Port() == 0 {
						t.Errorf("image Addr = %v", md.Addr)
					}
				}
			}
		}
		if images == 0 {
			t.Error("no m=image media")
		}
	})
	t.Run("IPv6", func(t *testing.T) {
		m := sdps("sngrep/ipv6frag.pcap")[0]
		want(t, "Addr", m.SDP.Media[0].Addr, netip.MustParseAddrPort("[fd17:625c:f037:2:a00:27ff:feb9:1521]:15062"))
		want(t, "rtpmap 100", m.SDP.Media[0].RTPMap[100].Name, "AMR-WB")
		want(t, "PAI.User", m.PAI.User, "08019200026")
	})
}

// TestSDPMaxMedia: an SDP of a thousand m= sections keeps MaxMedia of
// them, counts the rest, and their attributes do not leak into the last
// one kept.
func TestSDPMaxMedia(t *testing.T) {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "m=audio %d RTP/AVP 0 8\r\na=rtpmap:8 PCMA/8000\r\n", 10000+2*i)
	}
	fmt.Fprintf(&b, "m=audio 30000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n")
	sdp, err := sipmsg.ParseSDP([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(sdp.Media) != sipmsg.MaxMedia || sdp.MediaDropped != 1001-sipmsg.MaxMedia {
		t.Fatalf("%d media kept, %d dropped", len(sdp.Media), sdp.MediaDropped)
	}
	if last := sdp.Media[len(sdp.Media)-1]; len(last.RTPMap) != 1 || last.RTPMap[96].Name != "" {
		t.Errorf("the last media kept has rtpmap %v", last.RTPMap)
	}
}
