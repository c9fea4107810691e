package packet

import (
	"bytes"
	"testing"
	"time"
)

// TestClone: a clone owns its bytes, whether the payload lies in the
// frame (an ordinary datagram) or not (one reassembled from fragments),
// and keeps every fragment's frame.
func TestClone(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	d := NewDecoder(Config{})
	whole := ether(0x0800, udp4(ip4A, ip4B, 4000, 4002, 64, rtpPayload(7)))
	p, ok := d.Decode(whole, LinkEthernet, t0, len(whole))
	if !ok {
		t.Fatal("datagram not decoded")
	}
	off, in := p.PayloadOffset()
	if !in || !bytes.Equal(whole[off:off+len(p.Payload)], p.Payload) {
		t.Fatalf("PayloadOffset = %d, %v", off, in)
	}
	q := p.Clone()
	clear(whole)
	if qoff, qin := q.PayloadOffset(); !qin || qoff != off {
		t.Errorf("clone's payload at %d, %v; want %d in its frame", qoff, qin, off)
	}
	if !bytes.Equal(q.Payload, rtpPayload(7)) || q.Src != p.Src || q.Time != p.Time {
		t.Errorf("clone changed with the original's buffer: payload %x", q.Payload)
	}

	msg := sipMessage(3000)
	var r Packet
	for i, fr := range frags4(9, msg, 1400, 64, 10) {
		if r, ok = d.Decode(fr, LinkEthernet, t0.Add(time.Duration(i)*time.Millisecond), len(fr)); ok {
			break
		}
	}
	if !ok || len(r.Fragments) < 2 {
		t.Fatalf("reassembled: %v, %d fragments", ok, len(r.Fragments))
	}
	if _, in := r.PayloadOffset(); in {
		t.Error("a reassembled payload reported inside the last fragment's frame")
	}
	c := r.Clone()
	for _, fr := range r.Fragments {
		clear(fr)
	}
	clear(r.Payload)
	if !bytes.Equal(c.Payload, msg) || len(c.Fragments) != len(r.Fragments) || bytes.Count(c.Fragments[0], []byte{0}) == len(c.Fragments[0]) {
		t.Errorf("clone of a reassembled datagram: payload ok %v, %d fragments", bytes.Equal(c.Payload, msg), len(c.Fragments))
	}
}
