package recorder

import (
	"time"

	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/sipmsg"
)

// tcpStream puts the segments of one direction of a TCP connection in
// order for the SIP framer. It is deliberately small: SIP connections carry
// little data, so out-of-order segments are kept in a short list and a hole
// that never fills is skipped after a few segments (a mirror port loses
// frames; the framer resynchronises on the next SIP start line).
type tcpStream struct {
	init     bool
	data     bool // some payload was seen
	next     uint32
	framer   sipmsg.Framer
	ooo      []tcpSegment
	lastSeen time.Time
}

type tcpSegment struct {
	seq  uint32
	data []byte
}

const (
	maxOOO       = 16
	tcpSYN       = 0x02
	tcpFIN       = 0x01
	tcpRST       = 0x04
	tcpIdleLimit = 5 * time.Minute
)

// add accounts one segment and calls emit for every complete SIP message.
func (s *tcpStream) add(p *packet.Packet, emit func([]byte)) {
	s.lastSeen = p.Time
	seq := p.TCPSeq
	if p.TCPFlags&tcpSYN != 0 {
		s.init, s.next = true, seq+1
		s.ooo = s.ooo[:0]
		return
	}
	if len(p.Payload) == 0 {
		return
	}
	if !s.init {
		// Joined mid-connection: start here.
		s.init, s.next = true, seq
	}
	s.push(seq, p.Payload, emit, true)
	for len(s.ooo) > 0 {
		progressed := false
		for i := 0; i < len(s.ooo); i++ {
			g := s.ooo[i]
			if int32(g.seq-s.next) <= 0 {
				s.ooo = append(s.ooo[:i], s.ooo[i+1:]...)
				s.push(g.seq, g.data, emit, false)
				progressed = true
				break
			}
		}
		if !progressed {
			break
		}
	}
	if len(s.ooo) >= maxOOO {
		// Give up on the hole: continue from the earliest held segment.
		earliest := 0
		for i := range s.ooo {
			if int32(s.ooo[i].seq-s.ooo[earliest].seq) < 0 {
				earliest = i
			}
		}
		g := s.ooo[earliest]
		s.ooo = append(s.ooo[:earliest], s.ooo[earliest+1:]...)
		s.next = g.seq
		s.push(g.seq, g.data, emit, false)
	}
}

func (s *tcpStream) push(seq uint32, data []byte, emit func([]byte), copyIfHeld bool) {
	d := int32(seq - s.next)
	switch {
	case d > 0:
		if copyIfHeld {
			data = append([]byte(nil), data...)
		}
		s.ooo = append(s.ooo, tcpSegment{seq: seq, data: data})
	case -d >= int32(len(data)):
		// A retransmission of bytes already seen.
	default:
		data = data[-d:]
		s.framer.Write(data, emit)
		s.next += uint32(len(data))
	}
}
