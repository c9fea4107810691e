// Package packet turns captured frames into decoded IP/UDP/TCP packets.
//
// It is the first stage of the pipeline: a capture reader hands every frame
// to a Decoder, which peels the link layer (Ethernet with 802.1Q/QinQ tags,
// Linux cooked SLL/SLL2, raw IP, BSD loopback), unwraps tunnels (GRE, ERSPAN
// II/III, IP-in-IP, VXLAN, Geneve, TZSP, MPLS, PPPoE), walks IPv4 and IPv6
// (options, extension headers), reassembles IP fragments, drops the second
// copy of a packet that was mirrored twice, and returns the inner-most UDP
// datagram or TCP segment as a Packet. FlowHash shards the result by its
// symmetric 5-tuple.
//
// The package owns the per-reader state that frames need before they can be
// routed anywhere else: the IP defragmenter and the deduplication window.
// Everything is synchronous and single-goroutine; time comes from the
// packets, never from the wall clock.
package packet

import (
	"maps"
	"math"
	"net/netip"
	"time"
)

// LinkType is a pcap LINKTYPE_* number: the link layer of a captured frame.
type LinkType uint32

// Link types the Decoder understands (numbers as in the pcap/pcapng
// link-type registry).
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte AF value in the writer's byte order
	LinkEthernet  LinkType = 1   // Ethernet II / 802.3, with 802.1Q/802.1ad tags
	LinkRaw12     LinkType = 12  // raw IP as some BSD files label it (DLT_RAW)
	LinkRaw14     LinkType = 14  // raw IP as OpenBSD files label it (DLT_RAW)
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6, by the version nibble
	LinkLoop      LinkType = 108 // OpenBSD loopback: 4-byte AF value in network byte order
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1 (16-byte header)
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2 (20-byte header)
)

// IP protocol numbers of the transports a Packet carries.
const (
	ProtoTCP uint8 = 6
	ProtoUDP uint8 = 17
)

// TCP header flag bits as they appear in Packet.TCPFlags (RFC 9293 §3.1).
const (
	TCPFin uint8 = 0x01
	TCPSyn uint8 = 0x02
	TCPRst uint8 = 0x04
	TCPPsh uint8 = 0x08
	TCPAck uint8 = 0x10
)

// Config tunes a Decoder. The zero value means defaults.
type Config struct {
	// MaxFragments bounds the IP fragments held while waiting for their
	// siblings, across all pending datagrams. 0 means 4096. When full, the
	// oldest pending datagram is dropped (Stats.FragmentsDropped).
	MaxFragments int
	// MaxFragmentBytes bounds the bytes held for those fragments (each held
	// fragment keeps a copy of its frame). 0 means 16 MiB.
	MaxFragmentBytes int
	// FragmentTimeout is how long, in packet time, a datagram may wait for
	// its missing fragments. 0 means 30 s.
	FragmentTimeout time.Duration
	// DedupWindow is how close in packet time two identical IP packets must
	// be for the second one to count as a mirror copy and be dropped.
	// 0 means 5 ms; a negative value disables deduplication.
	DedupWindow time.Duration
}

// Defaults applied by NewDecoder.
const (
	DefaultMaxFragments     = 4096
	DefaultMaxFragmentBytes = 16 << 20
	DefaultFragmentTimeout  = 30 * time.Second
	DefaultDedupWindow      = 5 * time.Millisecond
)

// Packet is one decoded UDP datagram or TCP segment.
//
// Ownership: Payload, Frame and Fragments alias the frame passed to Decode
// or buffers inside the Decoder; they are valid until the next Decode call.
// Callers that keep them must copy.
type Packet struct {
	Time     time.Time
	Src, Dst netip.AddrPort // inner-most IP addresses and UDP/TCP ports
	Proto    uint8          // ProtoUDP or ProtoTCP

	// VLANs holds the first two 802.1Q/802.1ad VLAN IDs seen, outer first;
	// NVLAN (0..2) says how many are set.
	VLANs [2]uint16
	NVLAN int

	// Tunnel names the outermost encapsulation removed: "" (none), "gre"
	// (GRE carrying IP, Ethernet or PPP), "erspan", "ipip" (IPv4 or IPv6
	// in IPv4/IPv6, protocols 4 and 41), "vxlan", "geneve", "tzsp", "mpls"
	// or "pppoe".
	Tunnel string

	Payload []byte // UDP payload or TCP segment payload

	TCPSeq   uint32 // TCP sequence number
	TCPFlags uint8  // TCP flag bits (TCPSyn, TCPFin, ...)

	Frame []byte   // the frame as captured, link layer included
	Link  LinkType // link type of Frame

	// Fragments is set for a datagram reassembled from IP fragments: every
	// fragment's frame in arrival order, the last one being Frame. It is
	// nil otherwise.
	Fragments [][]byte

	OrigLen int // length of Frame on the wire (Frame may be snapped)
}

// PayloadOffset reports whether Payload is a part of Frame (the same
// memory, as Decode leaves it unless the datagram was reassembled from
// fragments), and at which offset.
func (p *Packet) PayloadOffset() (int, bool) {
	b, sub := p.Frame, p.Payload
	if len(sub) == 0 || len(sub) > len(b) {
		return 0, false
	}
	// A reslice of b keeps the end of b's array, so the difference of
	// capacities is sub's offset if sub is part of b; the address check
	// makes sure it is.
	off := cap(b) - cap(sub)
	if off < 0 || off > len(b)-len(sub) || &b[off] != &sub[0] {
		return 0, false
	}
	return off, true
}

// Clone returns a copy of p that owns its bytes: Frame, Payload (still a
// part of the copied Frame when it was one of Frame) and Fragments.
func (p *Packet) Clone() Packet {
	q := *p
	q.Frame = append([]byte(nil), p.Frame...)
	if off, ok := p.PayloadOffset(); ok {
		q.Payload = q.Frame[off : off+len(p.Payload)]
	} else {
		q.Payload = append([]byte(nil), p.Payload...)
	}
	q.Fragments = nil
	for _, fr := range p.Fragments {
		q.Fragments = append(q.Fragments, append([]byte(nil), fr...))
	}
	return q
}

// Stats are plain counters of what a Decoder saw. Each frame counts in
// Frames and in one of Decoded, NonIP, NonL4, Truncated, Duplicates,
// UnsupportedLink, FragmentsDropped (a fragment rejected on arrival) or
// Fragments (a fragment taken in); a fragment that completes its datagram
// counts in both Fragments and Decoded. Reassembled, FragmentsExpired,
// FragmentsDropped (held fragments thrown away later) and Tunnels also
// count events.
type Stats struct {
	Frames           uint64 // frames passed to Decode
	Decoded          uint64 // frames that produced a Packet (ok=true)
	NonIP            uint64 // no IP inside (ARP, LLDP, STP, unknown ethertype or tunnel payload)
	NonL4            uint64 // IP but neither UDP nor TCP (ICMP, ESP, SCTP, ...)
	Truncated        uint64 // cut by the snap length, or malformed headers
	Fragments        uint64 // IP fragments taken in by the defragmenter
	Reassembled      uint64 // datagrams completed from fragments (also counted in Decoded)
	FragmentsExpired uint64 // fragments thrown away because their datagram timed out
	FragmentsDropped uint64 // fragments thrown away: overlap, inconsistent, or over the limits
	Duplicates       uint64 // mirror copies dropped by the dedup window (and repeated fragments)
	Tunnels          uint64 // frames with at least one encapsulation removed
	UnsupportedLink  uint64 // frames of a link type the Decoder does not know
	// UnsupportedLinks counts UnsupportedLink per link type (at most
	// maxLinkTypes types; the rest count in UnsupportedLink only). Stats
	// returns a copy.
	UnsupportedLinks map[LinkType]uint64
}

// maxLinkTypes bounds Stats.UnsupportedLinks: a hostile file cannot make
// the map grow (a pcapng file may have an interface per link type).
const maxLinkTypes = 16

// Decoder turns frames into Packets. It owns the IP defragmenter and the
// dedup window of one capture reader. It is not safe for concurrent use: use
// one per reader goroutine.
type Decoder struct {
	stats Stats
	dedup dedup
	frag  defrag
}

// NewDecoder returns a Decoder configured by cfg (zero fields mean
// defaults).
func NewDecoder(cfg Config) *Decoder {
	if cfg.MaxFragments <= 0 {
		cfg.MaxFragments = DefaultMaxFragments
	}
	if cfg.MaxFragmentBytes <= 0 {
		cfg.MaxFragmentBytes = DefaultMaxFragmentBytes
	}
	if cfg.FragmentTimeout <= 0 {
		cfg.FragmentTimeout = DefaultFragmentTimeout
	}
	if cfg.DedupWindow == 0 {
		cfg.DedupWindow = DefaultDedupWindow
	}
	d := &Decoder{}
	d.frag.init(cfg.MaxFragments, cfg.MaxFragmentBytes, cfg.FragmentTimeout)
	if cfg.DedupWindow > 0 {
		d.dedup.init(cfg.DedupWindow)
	}
	return d
}

// Stats returns a snapshot of the counters. Read it from the goroutine that
// owns the Decoder.
func (d *Decoder) Stats() Stats {
	s := d.stats
	s.UnsupportedLinks = maps.Clone(s.UnsupportedLinks)
	return s
}

// Expire drops pending fragmented datagrams whose first fragment is older
// than the fragment timeout at packet time now. Decode calls it on every
// frame; call it with a time past every timeout at the end of a file.
func (d *Decoder) Expire(now time.Time) {
	d.stats.FragmentsExpired += d.frag.expire(now.UnixNano())
}

// Decode decodes one frame of link type link, captured at ts, origLen bytes
// long on the wire. It returns ok=false when the frame carries no UDP/TCP
// payload of interest: not IP, not UDP/TCP, truncated or malformed, a
// fragment waiting for its siblings, or a duplicate copy; the reason is
// counted in Stats. Decode never panics, whatever data holds.
//
// Ownership: p.Payload, p.Frame and p.Fragments alias data or buffers of the
// Decoder (for reassembled datagrams) and are valid until the next Decode
// call. Decode does not keep data after it returns (fragments are copied).
func (d *Decoder) Decode(data []byte, link LinkType, ts time.Time, origLen int) (p Packet, ok bool) {
	d.stats.Frames++
	now := ts.UnixNano()
	if d.frag.pending() {
		d.stats.FragmentsExpired += d.frag.expire(now)
	}
	p.Time = ts
	p.Frame = data
	p.Link = link
	p.OrigLen = origLen

	res := d.decode(&p, data, link, now)
	switch res {
	case resOK:
		d.stats.Decoded++
		return p, true
	case resNonIP:
		d.stats.NonIP++
	case resNonL4:
		d.stats.NonL4++
	case resTruncated:
		d.stats.Truncated++
	case resFragment:
		// counted in Fragments by the defragmenter path
	case resFragDrop:
		d.stats.FragmentsDropped++
	case resDuplicate:
		d.stats.Duplicates++
	case resUnsupportedLink:
		d.stats.UnsupportedLink++
		if d.stats.UnsupportedLinks == nil {
			d.stats.UnsupportedLinks = make(map[LinkType]uint64)
		}
		if _, ok := d.stats.UnsupportedLinks[link]; ok || len(d.stats.UnsupportedLinks) < maxLinkTypes {
			d.stats.UnsupportedLinks[link]++
		}
	}
	return p, false
}

// FlowHash returns a hash of the 5-tuple that is symmetric in its endpoints
// (FlowHash(a, b, p) == FlowHash(b, a, p)), so that both directions of a flow
// land in one shard. It is deterministic: the same in every Decoder and every
// process. IPv4 and IPv4-mapped IPv6 addresses hash alike.
func FlowHash(src, dst netip.AddrPort, proto uint8) uint64 {
	// Addition is commutative, which makes the hash symmetric; each
	// endpoint is mixed on its own first so that the sum stays well spread.
	return mix64(endpointHash(src) + endpointHash(dst) + uint64(proto)*0x9e3779b97f4a7c15)
}

func endpointHash(ap netip.AddrPort) uint64 {
	a := ap.Addr().As16()
	h := mix64(be64(a[:8]) ^ 0x243f6a8885a308d3)
	h = mix64(h ^ be64(a[8:]))
	return mix64(h ^ uint64(ap.Port()))
}

// mix64 is the 64-bit finalizer of MurmurHash3 (a bijection with good
// avalanche), used to combine words into a hash.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// minTime is a timestamp older than any packet, for empty table slots.
const minTime = math.MinInt64
