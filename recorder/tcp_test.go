package recorder

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec/packet"
)

func sipText(method string, body string) string {
	return fmt.Sprintf("%s sip:x@example.com SIP/2.0\r\nCall-ID: c\r\nCSeq: 1 %s\r\nContent-Length: %d\r\n\r\n%s", method, method, len(body), body)
}

// TestTCPStreamSegments checks that each message framed from a TCP stream
// comes with exactly the segments that carried its bytes.
func TestTCPStreamSegments(t *testing.T) {
	inv, ack, bye := sipText("INVITE", "v=0\r\n"), sipText("ACK", ""), sipText("BYE", "")
	type seg struct {
		off  int    // sequence offset from the ISN+1
		data string // payload
	}
	tests := []struct {
		name string
		segs []seg
		want []string // per message: its method and the indexes of its segments
	}{
		{"one per segment", []seg{{0, inv}, {len(inv), ack}},
			[]string{"INVITE 0", "ACK 1"}},
		{"split message", []seg{{0, inv[:20]}, {20, inv[20:]}},
			[]string{"INVITE 0 1"}},
		{"two in one segment", []seg{{0, inv + ack}},
			[]string{"INVITE 0", "ACK 0"}},
		{"second starts in the first segment", []seg{{0, inv + ack[:10]}, {len(inv) + 10, ack[10:] + bye}},
			[]string{"INVITE 0", "ACK 0 1", "BYE 1"}},
		{"keep-alive between", []seg{{0, inv}, {len(inv), "\r\n\r\n"}, {len(inv) + 4, ack}},
			[]string{"INVITE 0", "ACK 2"}},
		{"out of order", []seg{{20, inv[20:]}, {0, inv[:20]}, {len(inv), ack}},
			[]string{"INVITE 1 0", "ACK 2"}},
		{"retransmission", []seg{{0, inv}, {0, inv}, {len(inv), ack}},
			[]string{"INVITE 0", "ACK 2"}},
		{"split over three", []seg{{0, inv[:10]}, {10, inv[10:30]}, {30, inv[30:] + ack}},
			[]string{"INVITE 0 1 2", "ACK 2"}},
	}
	const isn = 1000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s tcpStream
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			syn := packet.Packet{Time: t0, TCPSeq: isn, TCPFlags: tcpSYN}
			var got []string
			emit := func(m tcpMessage) {
				w := strings.Fields(string(m.msg))[0]
				for _, h := range m.segs {
					// The frame of segment i is the byte i+'a'.
					w += fmt.Sprint(" ", int(h.frame.Data[0]-'a'))
				}
				got = append(got, w)
			}
			s.add(&syn, emit)
			for i, sg := range tt.segs {
				frame := []byte{byte('a' + i)}
				p := packet.Packet{
					Time: t0.Add(time.Duration(i+1) * time.Millisecond), TCPSeq: uint32(isn + 1 + sg.off),
					Payload: []byte(sg.data), Frame: frame,
				}
				s.add(&p, emit)
				// The batch reuses the buffers: what the stream kept must
				// be its own copy.
				frame[0] = 'z'
				clear(p.Payload)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("messages %q, want %q", got, tt.want)
			}
			if len(s.held) != 0 || len(s.buf) != 0 {
				t.Errorf("%d segments (%d bytes) still held", len(s.held), len(s.buf))
			}
		})
	}
}
