package rtpstream_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/spanrec/spanrec/rtpstream"
)

// rtpPacket builds an RTP packet: b0 is the first byte (version, P, X, CC),
// b1 the second (M, PT), then seq, timestamp, SSRC and the rest verbatim.
func rtpPacket(b0, b1 byte, seq uint16, ts, ssrc uint32, rest ...byte) []byte {
	p := []byte{b0, b1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return append(p, rest...)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		pkt     []byte
		want    rtpstream.Header
		payload []byte
		err     error
	}{
		{
			name:    "plain PCMA",
			pkt:     rtpPacket(0x80, 8, 1234, 160, 0xdeadbeef, 1, 2, 3),
			want:    rtpstream.Header{Version: 2, PayloadType: 8, Seq: 1234, Timestamp: 160, SSRC: 0xdeadbeef},
			payload: []byte{1, 2, 3},
		},
		{
			name:    "marker, dynamic PT, empty payload",
			pkt:     rtpPacket(0x80, 0x80|101, 65535, 0xffffffff, 1),
			want:    rtpstream.Header{Version: 2, Marker: true, PayloadType: 101, Seq: 65535, Timestamp: 0xffffffff, SSRC: 1},
			payload: []byte{},
		},
		{
			name:    "two CSRCs",
			pkt:     rtpPacket(0x82, 0, 1, 2, 3, 0, 0, 0, 9, 0, 0, 0, 8, 0xaa),
			want:    rtpstream.Header{Version: 2, CSRCCount: 2, Seq: 1, Timestamp: 2, SSRC: 3},
			payload: []byte{0xaa},
		},
		{
			name:    "header extension of one word",
			pkt:     rtpPacket(0x90, 0, 1, 2, 3, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0, 0xaa, 0xbb),
			want:    rtpstream.Header{Version: 2, Extension: true, Seq: 1, Timestamp: 2, SSRC: 3},
			payload: []byte{0xaa, 0xbb},
		},
		{
			name:    "CSRC, extension and padding",
			pkt:     rtpPacket(0xb1, 0, 1, 2, 3, 0, 0, 0, 9, 0xbe, 0xde, 0, 0, 0xaa, 0, 0, 3),
			want:    rtpstream.Header{Version: 2, Padding: true, Extension: true, CSRCCount: 1, Seq: 1, Timestamp: 2, SSRC: 3},
			payload: []byte{0xaa},
		},
		{
			name:    "padding is the whole payload",
			pkt:     rtpPacket(0xa0, 0, 1, 2, 3, 0, 0, 0, 4),
			want:    rtpstream.Header{Version: 2, Padding: true, Seq: 1, Timestamp: 2, SSRC: 3},
			payload: []byte{},
		},
		{name: "empty", pkt: nil, err: rtpstream.ErrShort},
		{name: "11 bytes", pkt: rtpPacket(0x80, 0, 1, 2, 3)[:11], err: rtpstream.ErrShort},
		{name: "version 1", pkt: rtpPacket(0x40, 0, 1, 2, 3, 1), err: rtpstream.ErrVersion},
		{name: "version 0 (STUN-like)", pkt: rtpPacket(0x00, 1, 1, 2, 3, 1), err: rtpstream.ErrVersion},
		{name: "CSRC list past the end", pkt: rtpPacket(0x8f, 0, 1, 2, 3, 0, 0, 0, 1), err: rtpstream.ErrShort},
		{name: "extension header cut", pkt: rtpPacket(0x90, 0, 1, 2, 3, 0xbe, 0xde, 0), err: rtpstream.ErrExtension},
		{name: "extension length past the end", pkt: rtpPacket(0x90, 0, 1, 2, 3, 0xbe, 0xde, 0, 2, 1, 2, 3, 4), err: rtpstream.ErrExtension},
		{name: "padding count 0", pkt: rtpPacket(0xa0, 0, 1, 2, 3, 1, 0), err: rtpstream.ErrPadding},
		{name: "padding past the header", pkt: rtpPacket(0xa0, 0, 1, 2, 3, 1, 3), err: rtpstream.ErrPadding},
		{name: "padding bit, no payload", pkt: rtpPacket(0xa0, 0, 1, 2, 3), err: rtpstream.ErrPadding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, payload, err := rtpstream.Parse(tt.pkt)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if payload != nil {
					t.Errorf("payload %x on error", payload)
				}
				return
			}
			if h != tt.want {
				t.Errorf("header = %+v, want %+v", h, tt.want)
			}
			if !bytes.Equal(payload, tt.payload) {
				t.Errorf("payload = %x, want %x", payload, tt.payload)
			}
		})
	}
}

func TestParsePayloadAliasesInput(t *testing.T) {
	pkt := rtpPacket(0x80, 0, 1, 2, 3, 7, 7)
	_, payload, err := rtpstream.Parse(pkt)
	if err != nil {
		t.Fatal(err)
	}
	pkt[12] = 9
	if payload[0] != 9 {
		t.Error("payload is a copy, want a sub-slice of the input")
	}
	if cap(payload) != 2 {
		t.Errorf("payload capacity %d, want 2: appending must not overwrite the packet's padding", cap(payload))
	}
}

func TestParseAllocs(t *testing.T) {
	pkt := rtpPacket(0xb2, 0x80|8, 1, 2, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 0xaa, 0, 2)
	bad := rtpPacket(0x90, 0, 1, 2, 3, 0xbe, 0xde, 0, 9)
	n := testing.AllocsPerRun(1000, func() {
		rtpstream.Parse(pkt)
		rtpstream.Parse(bad)
		rtpstream.IsRTCP(pkt)
		rtpstream.LooksRTP(pkt)
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// rtcpPacket builds one RTCP packet of type pt with words 32-bit words after
// its 4-byte header.
func rtcpPacket(pt byte, words int) []byte {
	p := make([]byte, 4+4*words)
	p[0], p[1] = 0x80, pt
	binary.BigEndian.PutUint16(p[2:], uint16(words))
	return p
}

func TestIsRTCPAndLooksRTP(t *testing.T) {
	sr := rtcpPacket(200, 6)
	sdes := rtcpPacket(202, 3)
	compound := append(append([]byte{}, sr...), sdes...)
	pcma := rtpPacket(0x80, 8, 1, 160, 7, make([]byte, 160)...)
	tests := []struct {
		name            string
		pkt             []byte
		rtcp, looksLike bool
	}{
		{"SR+SDES compound", compound, true, false},
		{"RR without report blocks", rtcpPacket(201, 1), true, false},
		{"BYE alone", rtcpPacket(203, 0), true, false},
		{"XR (207)", rtcpPacket(207, 2), true, false},
		{"compound with a trailing byte", append(append([]byte{}, compound...), 0), false, false},
		{"compound cut short", compound[:len(compound)-4], false, false},
		{"second packet not RTCP", append(append([]byte{}, sr...), pcma...), false, false},
		{"version 1 RTCP", append([]byte{0x40}, sr[1:]...), false, false},
		{"PCMA", pcma, false, true},
		{"PT 96 with marker", rtpPacket(0x80, 0x80|96, 1, 2, 3, 1, 2), false, true},
		{"PT 72 (SR read as RTP)", rtpPacket(0x80, 72, 1, 2, 3, 1, 2), false, false},
		{"PT 76", rtpPacket(0x80, 76, 1, 2, 3), false, false},
		{"PT 77 not RTCP-consistent", rtpPacket(0x80, 77, 1, 2, 3), false, true},
		{"RTP short", pcma[:11], false, false},
		{"RTP version 0", rtpPacket(0x00, 8, 1, 2, 3, 1), false, false},
		{"RTP CSRCs past the end", rtpPacket(0x85, 8, 1, 2, 3, 1, 2, 3, 4), false, false},
		{"RTP extension past the end", rtpPacket(0x90, 8, 1, 2, 3, 0xbe, 0xde, 0, 5), false, false},
		{"empty", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rtpstream.IsRTCP(tt.pkt); got != tt.rtcp {
				t.Errorf("IsRTCP = %v, want %v", got, tt.rtcp)
			}
			if got := rtpstream.LooksRTP(tt.pkt); got != tt.looksLike {
				t.Errorf("LooksRTP = %v, want %v", got, tt.looksLike)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(rtpPacket(0x80, 8, 1, 160, 7, 1, 2, 3))
	f.Add(rtpPacket(0xb1, 0, 1, 2, 3, 0, 0, 0, 9, 0xbe, 0xde, 0, 0, 0xaa, 0, 0, 3))
	f.Add(rtpPacket(0x90, 0, 1, 2, 3, 0xbe, 0xde, 0, 2, 1, 2, 3, 4))
	f.Add(rtpPacket(0xa0, 0, 1, 2, 3, 1, 0xff))
	f.Add(append(rtcpPacket(200, 6), rtcpPacket(202, 3)...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, err := rtpstream.Parse(b)
		rtcp := rtpstream.IsRTCP(b)
		looks := rtpstream.LooksRTP(b)
		if looks && rtcp {
			t.Fatal("LooksRTP and IsRTCP both true")
		}
		if err != nil {
			if payload != nil {
				t.Fatalf("payload on error %v", err)
			}
			return
		}
		if h.Version != 2 {
			t.Fatalf("version %d parsed without error", h.Version)
		}
		if len(payload) > len(b)-12-4*int(h.CSRCCount) {
			t.Fatalf("payload of %d bytes from a %d-byte packet", len(payload), len(b))
		}
		// The payload must lie inside b.
		if len(payload) > 0 && &payload[0] != &b[len(b)-len(payload)-paddingLen(h, b)] {
			t.Fatal("payload is not where the padding says it ends")
		}
		var s rtpstream.Stats
		s.Update(h, testStart, 8000)
		if sn := s.Snapshot(); sn.Packets != 1 || sn.Lost != 0 {
			t.Fatalf("one packet gives %+v", sn)
		}
	})
}

func paddingLen(h rtpstream.Header, b []byte) int {
	if !h.Padding {
		return 0
	}
	return int(b[len(b)-1])
}
