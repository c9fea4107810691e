package recorder

import (
	"bytes"
	"time"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/sipmsg"
)

// tcpStream puts the segments of one direction of a TCP connection in
// order for the SIP framer. It is deliberately small: SIP connections carry
// little data, so out-of-order segments are kept in a short list and a hole
// that never fills is skipped after a few segments (a mirror port loses
// frames; the framer resynchronises on the next SIP start line).
//
// It also remembers which segments carried the bytes of each message, so
// that a message's call gets every segment of it in its pcap (a message may
// span segments, and a segment carry several messages; RFC 3261 §18.3).
type tcpStream struct {
	init     bool
	data     bool // some payload was seen
	next     uint32
	framer   sipmsg.Framer
	ooo      []tcpSegment
	lastSeen time.Time

	// held are the in-order segments whose bytes the framer has not
	// emitted yet (or is emitting), oldest first; buf holds their payload
	// bytes, and scan is the offset in buf where the next message may
	// start.
	held []*heldSegment
	buf  []byte
	scan int

	// tls, when set, is the stream's TLS connection: its bytes are
	// records, and the framer gets their plaintext (recorder/tls.go).
	// base is the stream offset of buf[0], msgStart that of the record
	// where the message being framed began (-1: none yet).
	tls      *tlsHalf
	base     int64
	msgStart int64
	// tlsFirst says a message was emitted: the first one also takes the
	// TLS handshake's segments, so that its call's pcap can be decrypted
	// with the key log (Wireshark).
	tlsFirst bool
	// mem is the bytes of the stream's buffers taken from the memory
	// budget, since when they were not empty (for oldest-first eviction).
	mem   int64
	since time.Time
}

type tcpSegment struct {
	seq   uint32
	data  []byte
	frame call.Frame // owned copy
}

// heldSegment is one segment whose bytes are in tcpStream.buf.
type heldSegment struct {
	frame      call.Frame
	owned      bool // frame.Data is a copy, not the batch's buffer
	start, end int  // its payload in buf
	calls      []string
}

// tcpMessage is a complete SIP message with the segments that carried it.
type tcpMessage struct {
	msg  []byte
	segs []*heldSegment
	at   time.Time // when set, the message's time (else its first segment's)
}

const (
	maxOOO       = 16
	tcpSYN       = 0x02
	tcpFIN       = 0x01
	tcpRST       = 0x04
	tcpIdleLimit = 5 * time.Minute
	// maxHeld bounds the bytes kept for segments not yet emitted: twice
	// the largest message the framer buffers.
	maxHeld = 2 * sipmsg.DefaultMaxMessage
)

func frameOf(p *packet.Packet) call.Frame {
	return call.Frame{Data: p.Frame, Link: p.Link, Time: p.Time, Orig: p.OrigLen}
}

// add accounts one segment and calls emit for every complete SIP message.
// The packet's buffers are only borrowed.
func (s *tcpStream) add(p *packet.Packet, emit func(tcpMessage)) {
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
	s.push(seq, p.Payload, frameOf(p), emit, true)
	for len(s.ooo) > 0 {
		progressed := false
		for i := 0; i < len(s.ooo); i++ {
			g := s.ooo[i]
			if int32(g.seq-s.next) <= 0 {
				s.ooo = append(s.ooo[:i], s.ooo[i+1:]...)
				s.push(g.seq, g.data, g.frame, emit, false)
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
		s.push(g.seq, g.data, g.frame, emit, false)
	}
}

// push takes a segment's data at sequence number seq: held back if it is
// ahead of the stream, framed if it is next. borrowed says that data and
// fr.Data belong to the caller and must be copied to be kept.
func (s *tcpStream) push(seq uint32, data []byte, fr call.Frame, emit func(tcpMessage), borrowed bool) {
	d := int32(seq - s.next)
	switch {
	case d > 0:
		if borrowed {
			data = append([]byte(nil), data...)
			fr.Data = append([]byte(nil), fr.Data...)
		}
		s.ooo = append(s.ooo, tcpSegment{seq: seq, data: data, frame: fr})
	case -d >= int32(len(data)):
		// A retransmission of bytes already seen.
	default:
		data = data[-d:]
		s.next += uint32(len(data))
		s.frame(data, fr, emit, !borrowed)
	}
}

// frame feeds in-order bytes to the framer and emits each message with
// the segments that carried it.
func (s *tcpStream) frame(data []byte, fr call.Frame, emit func(tcpMessage), owned bool) {
	seg := &heldSegment{frame: fr, owned: owned, start: len(s.buf), end: len(s.buf) + len(data)}
	s.held = append(s.held, seg)
	s.buf = append(s.buf, data...)
	if s.tls != nil {
		s.frameTLS(seg, data, emit)
		s.trim()
		return
	}
	s.framer.Write(data, func(msg []byte) {
		// The message is the next one in buf, after any keep-alive CRLFs
		// or bytes skipped to resynchronise.
		start := s.scan
		if i := bytes.Index(s.buf[s.scan:], msg); i >= 0 {
			start += i
		}
		end := min(start+len(msg), len(s.buf))
		m := tcpMessage{msg: msg}
		for _, h := range s.held {
			if h.start < end && h.end > start {
				m.segs = append(m.segs, h)
			}
		}
		if len(m.segs) == 0 {
			m.segs = append(m.segs, seg)
		}
		s.scan = end
		emit(m)
	})
	s.trim()
}

// size returns the bytes the stream holds: the framer's incomplete
// message, the held segments' payload and frame copies, and the segments
// waiting for a hole to fill.
func (s *tcpStream) size() int64 {
	n := s.framer.Buffered() + len(s.buf)
	for _, h := range s.held {
		if h.owned {
			n += len(h.frame.Data)
		}
	}
	for _, g := range s.ooo {
		n += len(g.data) + len(g.frame.Data)
	}
	if s.tls != nil {
		n += s.tls.conn.c.Buffered(s.tls.client)
	}
	return int64(n)
}

// drop forgets every byte the stream holds, as a recorder short of memory
// does with the oldest incomplete message: the framer resynchronises on
// the next SIP start line.
func (s *tcpStream) drop() {
	s.framer.Drop()
	clear(s.held)
	clear(s.ooo)
	s.base += int64(len(s.buf))
	s.held, s.buf, s.ooo, s.scan = nil, nil, nil, 0
}

// trim forgets the segments whose bytes were all emitted, and the oldest
// ones beyond maxHeld, and takes copies of the frames it keeps.
func (s *tcpStream) trim() {
	k := 0
	for k < len(s.held) && (s.held[k].end <= s.scan || len(s.buf)-s.held[k].end > maxHeld) {
		k++
	}
	if k == len(s.held) {
		s.base += int64(len(s.buf))
		s.held, s.buf, s.scan = s.held[:0], s.buf[:0], 0
		return
	}
	cut := s.held[k].start
	s.base += int64(cut)
	n := copy(s.held, s.held[k:])
	clear(s.held[n:])
	s.held = s.held[:n]
	s.buf = s.buf[:copy(s.buf, s.buf[cut:])]
	s.scan = max(s.scan-cut, 0)
	for _, h := range s.held {
		h.start -= cut
		h.end -= cut
		if !h.owned {
			h.frame.Data = append([]byte(nil), h.frame.Data...)
			h.owned = true
		}
	}
}
