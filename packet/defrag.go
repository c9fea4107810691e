package packet

import (
	"bytes"
	"net/netip"
	"time"
)

// This is a small defragmenter of our own rather than gopacket's
// ip4defrag/ip6defrag: those want a decoded *layers.IPv4 / gopacket.Packet
// per fragment (a full decode and allocations for every fragment), they do
// not keep the original frames (the recorder writes every fragment's frame to
// the call's pcap), and they have no bound on held bytes. This one keys
// IPv4 and IPv6 datagrams in one table, copies each held fragment once,
// bounds fragment count and bytes, drops overlaps, and expires by packet
// time.

// fragKey identifies the datagram a fragment belongs to: RFC 791 §3.2 keys
// IPv4 on (source, destination, protocol, identification), RFC 8200 §4.5 keys
// IPv6 on (source, destination, identification).
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8 // IPv4 only
	v6       bool
}

// fragPiece is one held fragment: a copy of its frame followed by a copy of
// its fragment data, which covers bytes [off, end) of the datagram payload.
type fragPiece struct {
	off, end int
	flen     int // frame length at the start of buf
	buf      []byte
}

func (pc *fragPiece) frame() []byte { return pc.buf[:pc.flen] }
func (pc *fragPiece) data() []byte  { return pc.buf[pc.flen:] }

// datagram is a datagram waiting for fragments.
type datagram struct {
	key    fragKey
	first  int64 // packet time of its first fragment, ns
	pieces []fragPiece
	total  int   // payload length, known from the last fragment; -1 before
	have   int   // payload bytes held
	nh     uint8 // IPv6: next header given by the offset-0 fragment
	bytes  int   // bytes held (frames and data)
	dead   bool  // removed from the table; still in the FIFO
}

const (
	maxPiecesPerDatagram = 128
	maxDatagramPayload   = 65535
)

type defrag struct {
	timeout  int64
	maxFrags int
	maxBytes int
	m        map[fragKey]*datagram
	fifo     []*datagram // creation order; removed entries are skipped lazily
	head     int
	nfrags   int
	nbytes   int
	buf      []byte   // last reassembled payload
	frames   [][]byte // last reassembled datagram's frames
}

func (f *defrag) init(maxFrags, maxBytes int, timeout time.Duration) {
	f.maxFrags, f.maxBytes, f.timeout = maxFrags, maxBytes, int64(timeout)
	f.m = make(map[fragKey]*datagram)
}

func (f *defrag) pending() bool { return len(f.m) > 0 }

// oldest returns the oldest pending datagram, or nil.
func (f *defrag) oldest() *datagram {
	for f.head < len(f.fifo) {
		dg := f.fifo[f.head]
		if !dg.dead {
			return dg
		}
		f.fifo[f.head] = nil
		f.head++
	}
	f.fifo, f.head = f.fifo[:0], 0
	return nil
}

// remove takes dg out of the table and returns how many fragments it held.
func (f *defrag) remove(dg *datagram) uint64 {
	dg.dead = true
	delete(f.m, dg.key)
	f.nfrags -= len(dg.pieces)
	f.nbytes -= dg.bytes
	n := uint64(len(dg.pieces))
	dg.pieces = nil
	if f.head > 64 && f.head > len(f.fifo)/2 {
		n := copy(f.fifo, f.fifo[f.head:])
		clear(f.fifo[n:])
		f.fifo, f.head = f.fifo[:n], 0
	}
	return n
}

// expire drops datagrams whose first fragment is older than the timeout at
// now and returns the number of fragments dropped.
func (f *defrag) expire(now int64) uint64 {
	var n uint64
	for {
		dg := f.oldest()
		if dg == nil || now-dg.first <= f.timeout {
			return n
		}
		n += f.remove(dg)
	}
}

// fragment takes one IP fragment: data covers payload bytes [off,
// off+len(data)) of datagram k, more is the more-fragments flag, nh the
// next header of an IPv6 fragment header. p.Frame is the fragment's frame.
// When the fragment completes its datagram it returns the reassembled
// payload (valid until the next Decode), the next header of the offset-0
// fragment, and resOK, and sets p.Fragments. Otherwise it returns the reason
// the frame produced no packet.
func (d *Decoder) fragment(p *Packet, k fragKey, off int, more bool, data []byte, nh uint8, now int64) ([]byte, uint8, result) {
	end := off + len(data)
	if (more && (len(data) == 0 || len(data)%8 != 0)) || end > maxDatagramPayload {
		// RFC 791 §3.2 and RFC 8200 §4.5: all but the last fragment carry
		// a non-zero multiple of 8 octets; the datagram fits 64 KiB.
		return nil, 0, resTruncated
	}
	f := &d.frag
	dg := f.m[k]
	if dg != nil {
		bad := (!more && dg.total >= 0 && dg.total != end) || (more && dg.total >= 0 && end > dg.total)
		for i := range dg.pieces {
			pc := &dg.pieces[i]
			if !more && pc.end > end {
				bad = true
			}
			if off < pc.end && pc.off < end {
				if off == pc.off && end == pc.end && bytes.Equal(pc.data(), data) {
					return nil, 0, resDuplicate // the same fragment again
				}
				// Overlapping fragments: drop the whole datagram
				// (RFC 5722 §4 for IPv6; the same policy for IPv4).
				bad = true
			}
		}
		if bad || len(dg.pieces) >= maxPiecesPerDatagram {
			d.stats.FragmentsDropped += f.remove(dg)
			return nil, 0, resFragDrop
		}
	}
	total := -1
	if dg != nil {
		total = dg.total
	}
	if !more {
		total = end
	}
	if dg != nil && total >= 0 && dg.have+len(data) == total {
		// Complete: with no overlap and every piece inside [0, total),
		// the lengths adding up means the payload is covered.
		if cap(f.buf) < total {
			f.buf = make([]byte, total, max(total, 2048))
		}
		buf := f.buf[:total]
		frames := f.frames[:0]
		for i := range dg.pieces {
			pc := &dg.pieces[i]
			copy(buf[pc.off:], pc.data())
			frames = append(frames, pc.frame())
		}
		copy(buf[off:], data)
		frames = append(frames, p.Frame)
		if off != 0 {
			nh = dg.nh // the completing fragment is not the first one
		}
		f.remove(dg)
		d.stats.Fragments++
		f.frames = frames
		p.Fragments = frames
		d.stats.Reassembled++
		return buf, nh, resOK
	}

	size := len(p.Frame) + len(data)
	if size > f.maxBytes {
		return nil, 0, resFragDrop
	}
	for f.nfrags+1 > f.maxFrags || f.nbytes+size > f.maxBytes {
		old := f.oldest()
		if old == nil {
			break
		}
		d.stats.FragmentsDropped += f.remove(old)
		if old == dg {
			dg = nil
		}
	}
	if dg == nil {
		dg = &datagram{key: k, first: now, total: -1}
		f.m[k] = dg
		f.fifo = append(f.fifo, dg)
	}
	buf := make([]byte, size)
	copy(buf, p.Frame)
	copy(buf[len(p.Frame):], data)
	dg.pieces = append(dg.pieces, fragPiece{off: off, end: end, flen: len(p.Frame), buf: buf})
	dg.have += len(data)
	dg.bytes += size
	if !more {
		dg.total = end
	}
	if off == 0 {
		dg.nh = nh
	}
	f.nfrags++
	f.nbytes += size
	d.stats.Fragments++
	return nil, 0, resFragment
}
