package packet

import (
	"hash/maphash"
	"time"
)

// dedup drops the second copy of a packet mirrored twice (for example by two
// SPAN sessions, or by the ingress and egress of one switch). Two copies
// differ in their L2 header and VLAN tags, and, when a router sits between
// the two mirror points, in the IP TTL/hop limit and the IPv4 header
// checksum; everything else of the IP packet is equal. So the key is a hash
// of the IP packet without those fields, and a copy counts as a duplicate
// when the same key was seen within the window (a few milliseconds, far
// shorter than any retransmission timer, so retransmissions pass).
//
// The table is a fixed set-associative cache of (hash, time) entries: no
// allocation per packet and bounded memory. When a set is full the oldest
// entry is replaced, so under extreme load a copy may be missed (counted
// twice), but two different packets are never merged unless their 64-bit
// hashes collide.
type dedup struct {
	window int64 // ns; 0 = disabled
	seed   maphash.Seed
	slots  []dedupSlot
	mask   uint64 // number of sets - 1
}

type dedupSlot struct {
	h uint64 // 0 = empty (hashes have their low bit set)
	t int64
}

const (
	dedupWays = 4
	dedupSets = 8192 // 32768 entries: > 6 ms at 5 Mpps
)

func (dd *dedup) init(window time.Duration) {
	dd.window = int64(window)
	dd.seed = maphash.MakeSeed()
	dd.slots = make([]dedupSlot, dedupWays*dedupSets)
	for i := range dd.slots {
		dd.slots[i].t = minTime
	}
	dd.mask = dedupSets - 1
}

// seen reports whether the IP packet ip (version ver, header complete in
// ip) was seen within the window around now, and records it otherwise.
func (dd *dedup) seen(ip []byte, ver uint8, now int64) bool {
	if dd.window == 0 {
		return false
	}
	var h uint64
	if ver == 4 {
		// RFC 791 §3.1: skip TTL (byte 8) and header checksum (10-11).
		h = maphash.Bytes(dd.seed, ip[12:])
		h = mix64(h ^ be64(ip[0:8]))
		h = mix64(h ^ uint64(ip[9]))
	} else {
		// RFC 8200 §3: skip the hop limit (byte 7).
		h = maphash.Bytes(dd.seed, ip[8:])
		h = mix64(h ^ be64(ip[0:8])&^0xff)
	}
	return dd.seenHash(h, now)
}

// seenHash reports whether hash h was recorded within the window around
// now, and records it otherwise.
func (dd *dedup) seenHash(h uint64, now int64) bool {
	h |= 1
	set := dd.slots[(h>>1&dd.mask)*dedupWays:][:dedupWays]
	victim := 0
	for i := range set {
		s := &set[i]
		if s.h == h {
			if dt := now - s.t; dt <= dd.window && dt >= -dd.window {
				return true
			}
			s.t = now
			return false
		}
		if s.t < set[victim].t {
			victim = i
		}
	}
	set[victim] = dedupSlot{h: h, t: now}
	return false
}

// Dedup drops the second copy of a decoded packet that reached the
// pipeline through two capture sources: the same call mirrored on two
// switch ports, captured on two interfaces, each with its own Decoder (whose
// own window only sees the copies of one source). Two packets are copies
// when their addresses, ports, protocol, TCP sequence number and payload
// are equal and their capture times are within the window; link layer, VLAN
// tags, TTL and checksums do not count. The table has the bounded memory
// and the no-allocation property of the Decoder's own window.
//
// A Dedup is not safe for concurrent use: the recorder keeps one in the
// goroutine that merges the sources.
type Dedup struct {
	dd dedup
}

// NewDedup returns a Dedup with the given window; 0 means
// DefaultDedupWindow and a negative window disables it (Seen always
// reports false).
func NewDedup(window time.Duration) *Dedup {
	d := &Dedup{}
	if window == 0 {
		window = DefaultDedupWindow
	}
	if window > 0 {
		d.dd.init(window)
	}
	return d
}

// Seen reports whether a copy of p was seen within the window around
// p.Time, and records p otherwise. p is not retained.
func (d *Dedup) Seen(p *Packet) bool {
	if d.dd.window == 0 {
		return false
	}
	s, t := p.Src.Addr().As16(), p.Dst.Addr().As16()
	h := maphash.Bytes(d.dd.seed, p.Payload)
	h = mix64(h ^ be64(s[:8]))
	h = mix64(h ^ be64(s[8:]))
	h = mix64(h ^ be64(t[:8]))
	h = mix64(h ^ be64(t[8:]))
	h = mix64(h ^ uint64(p.Src.Port())<<48 ^ uint64(p.Dst.Port())<<32 ^ uint64(p.Proto)<<24)
	h = mix64(h ^ uint64(p.TCPSeq))
	return d.dd.seenHash(h, p.Time.UnixNano())
}
