package recorder

import (
	"slices"

	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/siptls"
)

// sipTLSPort is the SIP over TLS port (RFC 3261 §26.2): connections to it
// are counted even without keys.
const sipTLSPort = 5061

// Live recording holds the records of a TLS connection whose keys are not
// known yet (they may come a moment later: SIGHUP, POST /api/keys), up to
// tlsHold bytes per direction, for at most maxWaitingTLS connections.
const (
	tlsHold       = 64 << 10
	maxWaitingTLS = 256
)

// notSIPAfter is how many bytes of plaintext without a SIP message make a
// connection not SIP.
const notSIPAfter = 16 << 10

// noteTLS is the note of calls whose SIP was decrypted.
const noteTLS = "SIP over TLS decrypted with the key log"

// TLSStats counts the TLS connections that may carry SIP.
type TLSStats struct {
	// Connections counts the TLS handshakes (ClientHello) followed: those
	// on port 5061, and any when keys are given.
	Connections int
	// Decrypted counts the connections whose records were decrypted.
	Decrypted int
	// NoKeys counts the connections on port 5061 whose secrets the key log
	// lacks (or all, when no key log was given).
	NoKeys int
	// Unsupported counts connections of a version or cipher suite that
	// cannot be decrypted; Joined those seen only after their handshake.
	Unsupported, Joined int
	// NotSIP counts decrypted connections that did not carry SIP.
	NotSIP int
	// AuthFailures counts records that failed authentication (the
	// connection is not decrypted further).
	AuthFailures uint64
}

// tlsConn is a TLS connection the worker follows, shared by the
// tcpStreams of its two directions.
type tlsConn struct {
	c       *siptls.Conn
	on5061  bool
	state   siptls.State
	sip     bool // some plaintext framed as SIP
	counted bool // Decrypted counted
	gone    bool // forgotten (connection closed or expired)
	first   bool // a message was emitted: the handshake went with it
}

// tlsHalf is a tcpStream's link to its TLS connection.
type tlsHalf struct {
	conn   *tlsConn
	client bool
	peer   *tcpStream // the other direction
}

// looksClientHello reports whether b starts with a TLS handshake record
// holding a ClientHello (RFC 8446 §5.1, §4.1.2).
func looksClientHello(b []byte) bool {
	return len(b) >= 6 && b[0] == 22 && b[1] == 3 && b[2] <= 4 && b[5] == 1
}

// noKeys is the key source of a recorder without keys.
type noKeys struct{}

func (noKeys) Lookup(keys.ClientRandom) (keys.Secrets, bool) { return keys.Secrets{}, false }

// startTLS follows the TLS connection whose ClientHello p carries, in the
// streams k (client to server) and its reverse, when it is on the SIP TLS
// port or keys are given; it reports whether it does.
func (w *worker) startTLS(p *packet.Packet, k flowKey) bool {
	on5061 := p.Dst.Port() == sipTLSPort || p.Src.Port() == sipTLSPort
	if !on5061 && w.keys == nil {
		return false
	}
	var src siptls.Secrets = noKeys{}
	if w.keys != nil {
		src = w.keys
	}
	tc := &tlsConn{c: siptls.New(src), on5061: on5061}
	tc.c.Hold = w.tlsHold
	w.tls.Connections++
	c := w.tcp[k]
	if c == nil {
		if len(w.tcp) >= 1<<16 {
			return false
		}
		c = &tcpStream{}
		w.tcp[k] = c
		w.tcpFlows++
	}
	rk := flowKey{src: k.dst, dst: k.src}
	s := w.tcp[rk]
	if s == nil {
		s = &tcpStream{}
		w.tcp[rk] = s
	}
	c.data, c.tls = true, &tlsHalf{conn: tc, client: true, peer: s}
	s.data, s.tls = true, &tlsHalf{conn: tc, peer: c}
	return true
}

// checkTLS accounts a change of a TLS connection's state after its
// stream k got bytes, and stops following a connection that will give
// nothing more.
func (w *worker) checkTLS(k flowKey, h *tlsHalf) {
	tc := h.conn
	st := tc.c.State()
	if st == siptls.Decrypting && !tc.counted && tc.c.Stats().Decrypted > 0 {
		tc.counted = true
		w.tls.Decrypted++
	}
	if st == siptls.Decrypting && !tc.sip && tc.c.Stats().Plaintext > notSIPAfter {
		// Decrypted, but the framer found no SIP message in it.
		w.tls.NotSIP++
		tc.state = siptls.Broken
		w.dropTLS(k)
		return
	}
	if st == tc.state {
		return
	}
	if tc.state == siptls.Waiting {
		w.tlsWaiting--
	}
	if st == siptls.Waiting {
		if w.tlsWaiting >= maxWaitingTLS {
			tc.c.GiveUp()
			st = tc.c.State()
		} else {
			w.tlsWaiting++
		}
	}
	tc.state = st
	switch st {
	case siptls.NoKeys:
		if tc.on5061 {
			w.tls.NoKeys++
		}
	case siptls.Unsupported:
		w.tls.Unsupported++
	case siptls.Joined:
		w.tls.Joined++
	case siptls.Broken:
		w.tls.AuthFailures += tc.c.Stats().AuthFailures
	}
	if st != siptls.Decrypting && st != siptls.Handshake && st != siptls.Waiting {
		w.dropTLS(k)
	}
}

// forgetTLS accounts a TLS connection the worker stops following while
// it still waited for keys (closed, expired, end of the capture).
func (w *worker) forgetTLS(s *tcpStream) {
	if s.tls == nil || s.tls.conn.gone {
		return
	}
	tc := s.tls.conn
	tc.gone = true
	if tc.state == siptls.Waiting {
		w.tlsWaiting--
		tc.state = siptls.NoKeys
		if tc.on5061 {
			w.tls.NoKeys++
		}
	}
}

// drainPeer decrypts what the reverse direction of stream k (whose packet
// p was just handled) held while its connection waited for keys, now that
// they came.
func (w *worker) drainPeer(p *packet.Packet, k flowKey, h *tlsHalf) {
	if h.conn.c.State() != siptls.Decrypting || !h.conn.c.Queued(!h.client) {
		return
	}
	peer := w.tcp[flowKey{src: k.dst, dst: k.src}]
	if peer == nil || peer.tls == nil {
		return
	}
	rp := *p
	rp.Src, rp.Dst = p.Dst, p.Src
	w.cur, w.curTLS = &rp, peer.tls
	peer.frameTLS(nil, nil, w.emitTCP)
	peer.trim()
	w.curTLS = nil
}

// dropTLS stops following both directions of stream k's connection.
func (w *worker) dropTLS(k flowKey) {
	for _, k := range []flowKey{k, {src: k.dst, dst: k.src}} {
		if s := w.tcp[k]; s != nil {
			w.forgetTCP(k, s)
		}
	}
}

// frameTLS hands a segment's bytes, the last in s.buf, to the stream's
// TLS connection and its plaintext to the framer (seg nil, data empty:
// only what the connection held while waiting for keys). A message is emitted
// with the segments from the one where the first record holding its bytes
// began.
func (s *tcpStream) frameTLS(seg *heldSegment, data []byte, emit func(tcpMessage)) {
	h := s.tls
	h.conn.c.Write(h.client, data, func(plain []byte) {
		rec := h.conn.c.RecordStart(h.client)
		if s.framer.Buffered() == 0 {
			s.msgStart = rec
		}
		s.framer.Write(plain, func(msg []byte) {
			start := int(max(s.msgStart-s.base, 0))
			m := tcpMessage{msg: msg}
			from := start
			if !s.tlsFirst {
				// The handshake's segments go with the stream's first
				// message.
				s.tlsFirst, from = true, 0
			}
			for _, g := range s.held {
				if g.end > from {
					m.segs = append(m.segs, g)
				}
				if m.at.IsZero() && g.end > start {
					m.at = g.frame.Time
				}
			}
			if !h.conn.first && h.peer != nil {
				// The connection's first message takes the other
				// direction's handshake too, in time order, so that its
				// call's pcap holds the whole handshake (Wireshark
				// decrypts it with the key log); the peer's first
				// message does not write them again (heldSegment.calls).
				h.conn.first = true
				m.segs = append(m.segs, h.peer.held...)
				slices.SortStableFunc(m.segs, func(a, b *heldSegment) int { return a.frame.Time.Compare(b.frame.Time) })
			}
			if len(m.segs) == 0 && seg != nil {
				m.segs = append(m.segs, seg)
			}
			if len(m.segs) == 0 {
				// Drained with no segment held: nothing to time it by.
				return
			}
			// The next message begins in this record or a later one.
			s.msgStart = rec
			s.scan = int(max(rec-s.base, 0))
			emit(m)
		})
	})
}
