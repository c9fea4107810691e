package recorder

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/dialog"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/sipmsg"
)

// Call sharding.
//
// With Config.Shards > 1 the worker goroutine becomes a router in front of
// that many shard goroutines, each owning a call.Assembler and the calls
// it holds; nothing is shared between shards and there are no locks on the
// packet path. The router sends:
//
//   - every SIP message to the shard hash(Call-ID) % N, so that one shard
//     sees every message of a call, in capture order;
//   - every media packet to the shard of the call whose SDP announced its
//     destination, else its source (the assembler's own matching order),
//     from a directory of media endpoints the router keeps from the SDP it
//     parses and forgets when the shard reports the call finished;
//   - a copy of a media packet to the shard of every other call that
//     claims both its endpoints (the legs of one conversation through a
//     B2BUA with direct media), which the shard's assembler gives to its
//     calls that claim both, by the rule a single assembler applies
//     (call.Assembler.HandleSharedMedia);
//   - media of an endpoint no SDP announced yet is held in the router (by
//     the assembler's limits, call.MaxPendingPackets and the others) and released to the
//     call's shard just before the flow's first packet that can be routed,
//     where the assembler itself would adopt them.
//
// Each shard therefore sees the packets of its calls in the order the
// router saw them, so a call is assembled exactly as with one shard, and a
// capture gives the same recordings for any N (tested).

// itemKind says what a shard does with one item of its batch.
type itemKind uint8

const (
	itemMedia itemKind = iota
	itemSharedMedia
	itemSIP
	itemSIPStream
	itemControl
	itemSignalless
)

// shardItem is what goes with each packet of a shardBatch.
type shardItem struct {
	kind   itemKind
	msg    *sipmsg.Message
	frames []call.Frame // itemSIPStream: the segments, owned copies
	note   string       // itemSIPStream: a note for the message's call
	// itemControl: Expire at now (if not zero), then Flush, Reconfigure.
	now    time.Time
	flush  bool
	reconf *call.Config
	// itemSignalless: the signalless call the router decided, with its
	// held packets (owned).
	orphan *call.Orphan
}

// shardBatch is a batch of packets for one shard, copied into its own
// arena so that the reader's batch can be reused as soon as the router
// is done with it.
type shardBatch struct {
	batch
	items []shardItem
}

func (b *shardBatch) reset() {
	b.batch.reset()
	clear(b.items)
	b.items = b.items[:0]
}

// shardBatches is how many batches a shard has: those queued for it, the
// one it works on and the one the router fills.
const shardBatches = 8

// shard is one goroutine's share of the calls.
type shard struct {
	asm  *call.Assembler
	in   chan *shardBatch
	free chan *shardBatch
	cur  *shardBatch // being filled by the router
	snap atomic.Pointer[shardSnapshot]
}

type shardSnapshot struct {
	active int
	stats  call.Stats
}

func newShard(cfg call.Config, done func(*call.Finished)) *shard {
	s := &shard{
		asm:  call.NewAssembler(cfg, done),
		in:   make(chan *shardBatch, shardBatches),
		free: make(chan *shardBatch, shardBatches),
	}
	for range shardBatches {
		s.free <- &shardBatch{
			batch: batch{pkts: make([]packet.Packet, 0, batchSize), arena: make([]byte, 0, batchSize*256)},
			items: make([]shardItem, 0, batchSize),
		}
	}
	s.publish()
	return s
}

func (s *shard) publish() {
	s.snap.Store(&shardSnapshot{active: s.asm.Active(), stats: s.asm.Stats()})
}

// run is the shard goroutine: it handles the batches until in is closed,
// then closes every call still open.
func (s *shard) run() {
	for b := range s.in {
		for i := range b.pkts {
			s.handle(&b.pkts[i], &b.items[i])
		}
		b.reset()
		s.free <- b
	}
	s.asm.Close()
	s.publish()
}

func (s *shard) handle(p *packet.Packet, it *shardItem) {
	switch it.kind {
	case itemMedia:
		s.asm.HandleMedia(p)
	case itemSharedMedia:
		s.asm.HandleSharedMedia(p)
	case itemSIP:
		s.asm.HandleSIP(it.msg, p)
	case itemSIPStream:
		s.asm.HandleSIPStream(it.msg, p, it.frames)
		if it.note != "" {
			s.asm.Note(it.msg.CallID, it.note)
		}
	case itemSignalless:
		s.asm.StartSignalless(it.orphan)
		s.publish()
	case itemControl:
		if !it.now.IsZero() {
			s.asm.Expire(it.now)
		}
		if it.flush {
			s.asm.Flush()
		}
		if it.reconf != nil {
			s.asm.Reconfigure(*it.reconf)
		}
		s.publish()
	}
}

// router is the worker's directory of which shard holds which call and
// media endpoint. It is used by the worker goroutine only, except ended,
// which the shards fill.
type router struct {
	n      uint32
	byCall map[string]*route
	// dir holds the routes that claim each endpoint, the latest binder
	// (the owner) last, as the assembler's directory does.
	dir map[netip.AddrPort]claimants
	// shared is scratch for media: the shards of the other claimants.
	shared []int
	// held is the media no SDP claims yet, decided into signalless calls
	// as the single assembler decides (call.Orphans).
	held *call.Orphans

	mu    sync.Mutex
	ended []endedCall // reported by the shards, applied by the worker
}

// route is a call as the router knows it: its shard and the media
// endpoints bound to it.
type route struct {
	shard int
	id    spanrec.CallID
	eps   []netip.AddrPort
}

// claimants are the routes that claim one endpoint, the owner last, and
// the owner's shard: media reads it from the map's own memory, without a
// cache miss on the list and another on the owner's route per packet.
type claimants struct {
	rs    []*route
	shard int
}

// set makes rs the claimants of ep (none: ep leaves the directory).
func (r *router) set(ep netip.AddrPort, rs []*route) {
	if len(rs) == 0 {
		delete(r.dir, ep)
		return
	}
	r.dir[ep] = claimants{rs: rs, shard: rs[len(rs)-1].shard}
}

type endedCall struct {
	sipCallID string
	id        spanrec.CallID
}

func newRouter(n int, cfg call.Config) *router {
	held := call.NewOrphans()
	held.Ignore = cfg.IgnoreSignalless
	held.Budget = cfg.Budget
	return &router{
		n:      uint32(n),
		byCall: make(map[string]*route),
		dir:    make(map[netip.AddrPort]claimants),
		held:   held,
	}
}

// signallessKey is the byCall key of a signalless call's route: no
// Call-ID can be it.
func signallessKey(id spanrec.CallID) string { return "\x00" + string(id) }

// signalless routes a signalless call the router decided: to the shard of
// its key, with its media endpoints (and the RTCP ports beside them, if
// free) bound to it, as call.Assembler.StartSignalless binds them.
func (r *router) signalless(g *call.Orphan) int {
	key := g.Key()
	id := spanrec.NewCallID(key, g.First)
	rt := &route{shard: r.shardOf(key), id: id}
	r.byCall[signallessKey(id)] = rt
	r.bind(rt, g.Caller)
	r.bind(rt, g.Callee)
	for _, ep := range []netip.AddrPort{g.Caller, g.Callee} {
		if ep.Port() < 65535 {
			rtcp := netip.AddrPortFrom(ep.Addr(), ep.Port()+1)
			if _, ok := r.dir[rtcp]; !ok {
				r.bind(rt, rtcp)
			}
		}
	}
	return rt.shard
}

// shardOf hashes a Call-ID (FNV-1a) to a shard.
func (r *router) shardOf(callID string) int {
	h := uint32(2166136261)
	for i := 0; i < len(callID); i++ {
		h ^= uint32(callID[i])
		h *= 16777619
	}
	return int(h % r.n)
}

// sip routes a SIP message: it returns its shard, and binds the media
// endpoints its SDP announces to the message's call.
func (r *router) sip(m *sipmsg.Message, p *packet.Packet) int {
	s := r.shardOf(m.CallID)
	rt := r.byCall[m.CallID]
	if rt == nil {
		// The assembler starts a call on the same condition.
		if !dialog.IsInitialInvite(m) || m.CallID == "" {
			return s
		}
		rt = &route{shard: s, id: spanrec.NewCallID(m.CallID, p.Time)}
		r.byCall[m.CallID] = rt
	}
	if m.SDP == nil {
		return s
	}
	for _, md := range m.SDP.Media {
		if md.Addr.Port() == 0 || !md.Addr.Addr().IsValid() || md.Addr.Addr().IsUnspecified() {
			continue
		}
		r.bind(rt, md.Addr)
		r.held.Announce(md.Addr, p.Time)
		rtcp := md.RTCPAddr
		if !rtcp.IsValid() {
			rtcp = netip.AddrPortFrom(md.Addr.Addr(), md.Addr.Port()+1)
		}
		r.bind(rt, rtcp)
	}
	return s
}

// bind makes rt the owner of ep, as call.Assembler's bind does; the
// routes that claimed it before keep their claims.
func (r *router) bind(rt *route, ep netip.AddrPort) {
	rs := r.dir[ep].rs
	if n := len(rs); n > 0 && rs[n-1] == rt {
		return
	}
	if i := slices.Index(rs, rt); i >= 0 {
		rs = slices.Delete(rs, i, i+1)
	} else {
		rt.eps = append(rt.eps, ep)
	}
	if len(rs) >= maxClaims {
		rs = slices.Delete(rs, 0, 1)
	}
	r.set(ep, append(rs, rt))
}

// maxClaims is call's bound on the calls that claim one endpoint.
const maxClaims = 8

// media returns the shard of a media packet's call, if its destination or
// source is a known endpoint, and in shared the other shards whose calls
// claim both endpoints (valid until the next call); a source first seen
// sending to a known endpoint is learned (NAT), as the assembler does.
func (r *router) media(p *packet.Packet) (primary int, shared []int, ok bool) {
	var owner int
	ds := r.dir[p.Dst]
	if len(ds.rs) > 0 {
		owner = ds.shard
		if _, known := r.dir[p.Src]; !known {
			rt := ds.rs[len(ds.rs)-1]
			r.set(p.Src, []*route{rt})
			rt.eps = append(rt.eps, p.Src)
		}
	} else if ss := r.dir[p.Src]; len(ss.rs) > 0 {
		owner = ss.shard
	} else {
		return 0, nil, false
	}
	r.shared = r.shared[:0]
	if len(ds.rs) > 1 {
		ss := r.dir[p.Src].rs
		for _, rt := range ds.rs[:len(ds.rs)-1] {
			if rt.shard != owner && !slices.Contains(r.shared, rt.shard) && slices.Contains(ss, rt) {
				r.shared = append(r.shared, rt.shard)
			}
		}
	}
	return owner, r.shared, true
}

// hold keeps a copy of an RTP-looking packet no SDP claims yet.
func (r *router) hold(p *packet.Packet) { r.held.Hold(p) }

// take removes the held flow of p's 5-tuple, if any, and returns its
// packets.
func (r *router) take(p *packet.Packet) []packet.Packet { return r.held.Take(p) }

// expire decides the held flows as the assembler would (call.Orphans):
// it returns the signalless calls to start, and forgets the rest once idle
// for call.PendingAge; and it forgets the routes of the calls the shards
// finished.
func (r *router) expire(now time.Time) []*call.Orphan {
	r.forget()
	return r.held.Expire(now)
}

// forget drops the routes of the calls the shards reported finished.
func (r *router) forget() {
	r.mu.Lock()
	ended := r.ended
	r.ended = nil
	r.mu.Unlock()
	for _, e := range ended {
		rt := r.byCall[e.sipCallID]
		// A route the same Call-ID started again since is kept.
		if rt == nil || rt.id != e.id {
			continue
		}
		delete(r.byCall, e.sipCallID)
		for _, ep := range rt.eps {
			rs := r.dir[ep].rs
			if i := slices.Index(rs, rt); i >= 0 {
				rs = slices.Delete(rs, i, i+1)
			}
			r.set(ep, rs)
		}
	}
}

// finished is called by the shards for every call they finish.
func (r *router) finished(c *spanrec.Call) {
	k := c.SIPCallID
	if c.Signalling == spanrec.SignallingNone {
		k = signallessKey(c.ID)
	}
	r.mu.Lock()
	r.ended = append(r.ended, endedCall{sipCallID: k, id: c.ID})
	r.mu.Unlock()
}

// close decides what is still held, at the end of input: the signalless
// calls to start; the rest counts as never assigned.
func (r *router) close() []*call.Orphan { return r.held.Close() }
