package call

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/rtpstream"
)

// Signalless calls.
//
// RTP that no SDP claims is held per flow (Orphans) in case its SDP comes
// later. A held flow that is RTP by its own shape (see shape) and that no
// SDP claimed for PendingAge after its first packet becomes a call of its
// own at the next Expire, paired with the opposite flow by addresses: a
// "signalless" call (spanrec.SignallingNone). The SIP of such calls is not
// readable (SIP over TLS) or not SIP at all (SCCP, H.323, MGCP), or the
// call began before the capture; Hints names the likely reason. At the end
// of input (Close) no SDP can come any more, so held flows are decided at
// once.

// Limits of what is held for flows that may become signalless calls: a
// flow that has the shape of RTP keeps up to MaxSignallessHeld packets
// (enough for PendingAge at 10 ms packets), all such flows together at
// most MaxSignallessHeldTotal beyond MaxPendingPackets each; what comes
// beyond is counted as unassigned.
const (
	MaxSignallessHeld      = 640
	MaxSignallessHeldTotal = 1 << 16
)

// Packet counts a flow needs to become a signalless call: a pair of flows
// (both directions) or a lone flow, and a pair whose hosts were seen in
// signalling spanrec cannot follow (SCCP, H.323, MGCP, SIP over TLS),
// which corroborates a shorter exchange.
const (
	minSignallessPackets      = 50
	minCorroboratedPackets    = 10
	maxShapeFaultsPer         = 20 // at most one fault in 20 packets
	maxSamplesPerPacketMillis = 200
)

// shape follows whether a flow is RTP by its own form (RFC 3550 §5.1): one
// SSRC, a static audio payload type (RFC 3551 §6), sequence numbers and
// timestamps advancing together (the timestamp by a constant number of
// samples per packet, or a multiple after silence), at the pace of the
// payload type's clock in capture time, payloads of the size the codec
// gives for that many samples.
type shape struct {
	started bool
	n       int // packets consistent with the shape
	faults  int
	ooo     int // reordered or duplicated packets (not counted in n)
	ssrc    uint32
	pt      uint8
	clock   int
	seq     uint16
	ts      uint32
	spp     uint32 // timestamp units per packet
	span    int64  // timestamp units from the first packet to the last
	first   time.Time
	last    time.Time
	// Payload sizes: as the codec gives for spp samples, or that plus an
	// SRTP authentication tag (RFC 3711 §3.1: 4 or 10 bytes, with or
	// without a 4-byte MKI).
	sizeOK, sizeTagged int
	// hist counts the first payload bytes of G.711 flows: ciphertext is
	// flat, speech is not.
	hist  [256]uint16
	histN int
}

// histBytes is how many payload bytes of a G.711 flow the entropy test
// looks at.
const histBytes = 4096

func (s *shape) add(b []byte, t time.Time) {
	h, payload, err := rtpstream.Parse(b)
	if err != nil {
		s.faults++
		return
	}
	pt := h.PayloadType
	if pt >= 96 || pt == 13 || pt == 19 {
		return // events or comfort noise beside the audio: not judged
	}
	if !s.started {
		name, clock, _, ok := codec.Static(pt)
		if !ok || clock <= 0 || !audioStatic(name) {
			s.faults++
			return
		}
		s.started, s.ssrc, s.pt, s.clock = true, h.SSRC, pt, clock
		s.seq, s.ts, s.first, s.last = h.Seq, h.Timestamp, t, t
		s.n = 1
		s.size(payload)
		return
	}
	if h.SSRC != s.ssrc || pt != s.pt {
		s.faults++
		return
	}
	dseq := int32(int16(h.Seq - s.seq))
	switch {
	case dseq <= 0:
		s.ooo++
		return
	case dseq > 50:
		s.faults++
		s.seq, s.ts = h.Seq, h.Timestamp
		return
	}
	dts := int64(int32(h.Timestamp - s.ts))
	switch {
	case dts <= 0:
		s.faults++
	case s.spp == 0:
		if dts%int64(dseq) != 0 || !s.plausibleSPP(dts/int64(dseq)) {
			s.faults++
		} else {
			s.spp = uint32(dts / int64(dseq))
		}
	case dts == int64(dseq)*int64(s.spp):
	case dts > int64(dseq)*int64(s.spp) && (h.Marker || dts%int64(s.spp) == 0):
		// Silence suppressed (RFC 3551 §4.1: the marker starts a talkspurt).
	default:
		s.faults++
	}
	if dts > 0 {
		s.span += dts
	}
	s.seq, s.ts, s.last = h.Seq, h.Timestamp, t
	s.n++
	s.size(payload)
}

func (s *shape) plausibleSPP(spp int64) bool {
	return spp > 0 && spp*1000 <= int64(s.clock)*maxSamplesPerPacketMillis
}

// size accounts a payload's length against what spp samples of the codec
// take.
func (s *shape) size(payload []byte) {
	if (s.pt == 0 || s.pt == 8) && s.histN < histBytes {
		for _, c := range payload[:min(len(payload), histBytes-s.histN)] {
			s.hist[c]++
		}
		s.histN += min(len(payload), histBytes-s.histN)
	}
	want := s.payloadSize()
	if want < 0 {
		return
	}
	switch len(payload) - want {
	case 0:
		s.sizeOK++
	case 4, 8, 10, 14:
		s.sizeTagged++
	default:
		if s.pt != 18 || len(payload)%10 != 2 { // G.729 Annex B SID
			s.faults++
		}
	}
}

// payloadSize is the payload length of spp samples of the flow's codec, -1
// when not known (yet).
func (s *shape) payloadSize() int {
	spp := int(s.spp)
	if spp == 0 {
		return -1
	}
	switch s.pt {
	case 0, 8, 9: // G.711; G.722 (RFC 3551 §4.5.2: 8,000 Hz clock, 8 bits per tick)
		return spp
	case 3: // GSM 06.10: 33 bytes per 160 samples
		if spp%160 == 0 {
			return 33 * spp / 160
		}
	case 18: // G.729: 10 bytes per 80 samples
		if spp%80 == 0 {
			return 10 * spp / 80
		}
	}
	return -1
}

// audioStatic reports whether a static payload type name is audio (RFC
// 3551 §6), not video (JPEG, H261, MPV, MP2T, H263).
func audioStatic(name string) bool {
	switch name {
	case "JPEG", "H261", "MPV", "MP2T", "H263", "CelB", "nv":
		return false
	}
	return true
}

// ok reports whether the flow is RTP by its shape, with at least min
// packets.
func (s *shape) ok(min int) bool {
	if !s.started || s.n < min || s.spp == 0 || s.faults*maxShapeFaultsPer > s.n {
		return false
	}
	if s.payloadSize() >= 0 && (s.sizeOK+s.sizeTagged)*10 < s.n*9 {
		return false
	}
	// The timestamps run at the clock's pace in capture time (within a
	// fifth, and 200 ms for short flows or a lagging mirror).
	media := float64(s.span) / float64(s.clock)
	wall := s.last.Sub(s.first).Seconds()
	return math.Abs(media-wall) <= 0.2*wall+0.2
}

// promising reports whether the flow may still become a signalless call,
// so that more of it is worth holding.
func (s *shape) promising() bool {
	return s.started && s.faults*maxShapeFaultsPer <= s.n+maxShapeFaultsPer
}

// encrypted reports whether the payloads look like SRTP rather than plain
// audio: most carry an authentication tag beyond the codec's size, or, for
// G.711, the bytes are as flat as ciphertext (speech and tones are not:
// their G.711 codes cluster).
func (s *shape) encrypted() bool {
	if s.sizeTagged > s.sizeOK {
		return true
	}
	if s.histN < histBytes/2 {
		return false
	}
	var h float64
	for _, c := range s.hist {
		if c > 0 {
			p := float64(c) / float64(s.histN)
			h -= p * math.Log2(p)
		}
	}
	// 2,048+ random bytes give 7.9 bits or more; G.711 speech about 6–7.
	return h > 7.7
}

// Orphan is a signalless call decided by Orphans: the held packets of one
// flow or of both directions between two media addresses.
type Orphan struct {
	// Caller sent the first packet; Callee is where it went.
	Caller, Callee netip.AddrPort
	First          time.Time
	// Packets are the held packets of both directions in capture order.
	Packets []packet.Packet
	// Reason says why no signalling was followed (see Hints.Reason).
	Reason string
	// Encrypted[0] and [1] say that what the caller and the callee sent
	// looks like SRTP (shape.encrypted): it is never decoded as plain.
	Encrypted [2]bool
	// Paired: both directions were seen.
	Paired bool
}

// Key identifies the call an Orphan becomes, among the calls of an
// Assembler (by Call-ID otherwise: it cannot be one) and in the index.
func (o *Orphan) Key() string {
	return "rtp " + o.Caller.String() + " " + o.Callee.String() + " " + o.First.UTC().Format(time.RFC3339Nano)
}

// Orphans holds the media no SDP claims yet and decides which of it
// becomes signalless calls. The Assembler (one shard) and the recorder's
// shard router (several) each own one, fed the same packets in the same
// order, so that they decide alike. The zero value is not usable; see
// NewOrphans.
type Orphans struct {
	// Ignore keeps held media from becoming calls
	// (calls.rtp_without_signalling: ignore).
	Ignore bool
	// Hints is the signalling seen that spanrec does not follow.
	Hints *Hints
	// Budget is the memory budget the held packets are taken from
	// (limits.HeldMedia); when it is spent, the flows held longest are
	// forgotten first. Nil: no limit.
	Budget *limits.Budget
	// ShapeOnly keeps no packets, only each flow's shape: for a caller
	// that wants to know what would become a call (Preview), not record it
	// (the doctor).
	ShapeOnly bool

	flows map[flowKey]*orphanFlow
	// announced is when an SDP last named each media address: RTP to or
	// from one after its call ended is the tail of that call, not a call
	// of its own.
	announced map[netip.AddrPort]time.Time
	seq       uint64
	extra     int // packets held beyond MaxPendingPackets, all flows

	// Unassigned counts held packets never assigned to a call, Dropped
	// the flows not held because MaxPendingFlows were.
	Unassigned, Dropped int
}

type orphanFlow struct {
	key   flowKey
	pkts  []heldPacket
	mem   int64 // bytes of pkts taken from Budget
	first time.Time
	last  time.Time
	shape shape
}

type heldPacket struct {
	seq uint64
	p   packet.Packet
}

// NewOrphans returns an empty Orphans with its own Hints.
func NewOrphans() *Orphans {
	return &Orphans{flows: make(map[flowKey]*orphanFlow), announced: make(map[netip.AddrPort]time.Time), Hints: NewHints()}
}

// How long, and for how many addresses, Orphans remembers that an SDP
// named a media address.
const (
	announceMemory  = time.Minute
	maxAnnouncedEPs = 1 << 17
)

// Announce tells that an SDP seen at t named media address ep.
func (o *Orphans) Announce(ep netip.AddrPort, t time.Time) {
	if _, ok := o.announced[ep]; ok || len(o.announced) < maxAnnouncedEPs {
		o.announced[ep] = t
	}
}

// tail reports whether f runs to or from an address an SDP named within
// announceMemory before f began (or since).
func (o *Orphans) tail(f *orphanFlow) bool {
	for _, ep := range []netip.AddrPort{f.key.src, f.key.dst} {
		if t, ok := o.announced[ep]; ok && !t.Before(f.first.Add(-announceMemory)) {
			return true
		}
	}
	return false
}

// Len returns the number of flows held.
func (o *Orphans) Len() int { return len(o.flows) }

// Hold keeps a copy of p, an RTP-looking packet no SDP claims yet. It
// reports whether p may still be assigned to a call.
func (o *Orphans) Hold(p *packet.Packet) bool {
	k := flowKey{p.Src, p.Dst}
	f := o.flows[k]
	if f == nil {
		if !looksMedia(p.Payload) {
			return false
		}
		if len(o.flows) > MaxPendingFlows {
			o.Dropped++
			return false
		}
		f = &orphanFlow{key: k, first: p.Time}
		o.flows[k] = f
	}
	f.last = p.Time
	f.shape.add(p.Payload, p.Time)
	limit := MaxPendingPackets
	if !o.Ignore && f.shape.promising() {
		limit = MaxSignallessHeld
	}
	extra := len(f.pkts) >= MaxPendingPackets
	if len(f.pkts) >= limit || (extra && o.extra >= MaxSignallessHeldTotal) {
		o.Unassigned++
		return false
	}
	if o.ShapeOnly {
		return true
	}
	n := HeldSize(p)
	for !o.Budget.Take(limits.HeldMedia, n) {
		if !o.evict(f) {
			o.Budget.Evicted(limits.HeldMedia, n)
			o.Unassigned++
			return false
		}
	}
	f.mem += n
	if extra {
		o.extra++
	}
	o.seq++
	f.pkts = append(f.pkts, heldPacket{seq: o.seq, p: p.Clone()})
	return true
}

// evict forgets the held flows held longest, other than keep, an eighth
// of them at a time, when the memory budget is spent; it reports whether
// it forgot any.
func (o *Orphans) evict(keep *orphanFlow) bool {
	var held []*orphanFlow
	for _, f := range o.flows {
		if f != keep && f.mem > 0 {
			held = append(held, f)
		}
	}
	if len(held) == 0 {
		return false
	}
	slices.SortFunc(held, func(x, y *orphanFlow) int {
		return cmp.Or(x.first.Compare(y.first), cmpAddrPort(x.key.src, y.key.src), cmpAddrPort(x.key.dst, y.key.dst))
	})
	for _, f := range held[:max(1, len(held)/8)] {
		o.Budget.Evicted(limits.HeldMedia, f.mem)
		o.Unassigned += len(f.pkts)
		o.remove(f)
	}
	return true
}

// Take removes the flow of p's addresses, if held, and returns its
// packets in capture order: an SDP claimed it.
func (o *Orphans) Take(p *packet.Packet) []packet.Packet {
	if len(o.flows) == 0 {
		return nil
	}
	k := flowKey{p.Src, p.Dst}
	f := o.flows[k]
	if f == nil {
		return nil
	}
	o.remove(f)
	out := make([]packet.Packet, len(f.pkts))
	for i := range f.pkts {
		out[i] = f.pkts[i].p
	}
	return out
}

func (o *Orphans) remove(f *orphanFlow) {
	delete(o.flows, f.key)
	o.extra -= max(0, len(f.pkts)-MaxPendingPackets)
	o.Budget.Free(limits.HeldMedia, f.mem)
	f.mem = 0
}

// Expire decides, as of packet time now, the held flows no SDP claimed
// for PendingAge: those that are RTP by their shape become signalless
// calls (returned in the order of their first packets), the others that
// went idle for PendingAge are forgotten.
func (o *Orphans) Expire(now time.Time) []*Orphan {
	for ep, t := range o.announced {
		if now.Sub(t) > 2*announceMemory {
			delete(o.announced, ep)
		}
	}
	return o.decide(func(f *orphanFlow) bool { return now.Sub(f.first) >= PendingAge },
		func(f *orphanFlow) bool { return now.Sub(f.last) > PendingAge })
}

// Close decides every held flow, at the end of input: no SDP can claim
// them any more.
func (o *Orphans) Close() []*Orphan {
	return o.decide(func(*orphanFlow) bool { return true }, func(*orphanFlow) bool { return true })
}

// Preview returns the signalless calls Close would make now, without
// their packets and without changing o.
func (o *Orphans) Preview() []*Orphan {
	return o.decideMode(func(*orphanFlow) bool { return true }, func(*orphanFlow) bool { return false }, true)
}

func (o *Orphans) decide(due, forget func(*orphanFlow) bool) []*Orphan {
	return o.decideMode(due, forget, false)
}

func (o *Orphans) decideMode(due, forget func(*orphanFlow) bool, dry bool) []*Orphan {
	if len(o.flows) == 0 {
		return nil
	}
	var cand []*orphanFlow
	if !o.Ignore {
		for _, f := range o.flows {
			if due(f) && f.shape.ok(minCorroboratedPackets) && !o.tail(f) {
				cand = append(cand, f)
			}
		}
	}
	slices.SortFunc(cand, func(x, y *orphanFlow) int {
		return cmp.Or(x.first.Compare(y.first), cmpAddrPort(x.key.src, y.key.src), cmpAddrPort(x.key.dst, y.key.dst))
	})
	var out []*Orphan
	used := map[flowKey]bool{}
	for _, f := range cand {
		if o.flows[f.key] != f || used[f.key] {
			continue // taken as the reverse of an earlier one
		}
		rev := o.flows[flowKey{f.key.dst, f.key.src}]
		if rev != nil && o.tail(rev) {
			continue
		}
		corroborated := o.Hints.Seen(f.key.src.Addr()) || o.Hints.Seen(f.key.dst.Addr())
		var g *Orphan
		switch {
		case rev != nil && f.shape.ok(minSignallessPackets) && rev.shape.ok(minSignallessPackets),
			rev != nil && corroborated && rev.shape.ok(minCorroboratedPackets),
			f.shape.ok(minSignallessPackets): // rev, if held, is what came back, RTP or not
			g = o.orphan(f, rev, dry)
		default:
			continue
		}
		used[f.key] = true
		if rev != nil {
			used[rev.key] = true
		}
		out = append(out, g)
	}
	for _, f := range o.flows {
		if forget(f) {
			o.Unassigned += len(f.pkts)
			o.remove(f)
		}
	}
	return out
}

// orphan makes the signalless call of flow f and its reverse rev (nil if
// none), removing both from the held flows.
func (o *Orphans) orphan(f, rev *orphanFlow, dry bool) *Orphan {
	first := f
	if rev != nil && rev.first.Before(f.first) {
		first = rev
	}
	g := &Orphan{Caller: first.key.src, Callee: first.key.dst, First: first.first, Paired: rev != nil}
	g.Reason = o.Hints.Reason(g.Caller.Addr(), g.Callee.Addr())
	for i, fl := range []*orphanFlow{first, other2(first, f, rev)} {
		if fl != nil && fl.shape.started && fl.shape.encrypted() {
			g.Encrypted[i] = true
		}
	}
	if dry {
		return g
	}
	n := len(f.pkts)
	o.remove(f)
	if rev != nil {
		n += len(rev.pkts)
		o.remove(rev)
	}
	held := make([]heldPacket, 0, n)
	held = append(held, f.pkts...)
	if rev != nil {
		held = append(held, rev.pkts...)
		slices.SortFunc(held, func(x, y heldPacket) int { return cmp.Compare(x.seq, y.seq) })
	}
	g.Packets = make([]packet.Packet, len(held))
	for i := range held {
		g.Packets[i] = held[i].p
	}
	return g
}

// other2 returns whichever of f and rev is not first (nil if rev is nil).
func other2(first, f, rev *orphanFlow) *orphanFlow {
	if rev == nil {
		return nil
	}
	if first == f {
		return rev
	}
	return f
}

func cmpAddrPort(x, y netip.AddrPort) int {
	return cmp.Or(x.Addr().Compare(y.Addr()), cmp.Compare(x.Port(), y.Port()))
}
