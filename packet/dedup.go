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
