// Package limits bounds the memory that the recorder's buffering stages
// hold on behalf of the traffic they see: SIP over TCP waiting for the rest
// of a message, RTP held for flows no SDP has claimed yet, calls in
// progress, and the quality series (per-interval jitter, loss and MOS) of
// their streams. A recorder on a mirror port reads every frame anyone
// sends, so each of these grows with what a stranger chooses to send; one
// Budget, handed to every stage that buffers, caps their sum.
//
// A stage Takes bytes before it keeps them and Frees them when it lets go.
// When a Take is refused, the stage evicts its own oldest holdings (the
// oldest TCP message still incomplete, the oldest held flow, the oldest
// call) until the Take succeeds, or stops growing (a quality series), and
// counts each eviction here; nothing is evicted silently. The stages
// decide what "oldest" means; the Budget only counts.
//
// A Budget is safe for concurrent use (the worker and the call shards
// share one). A nil *Budget is unlimited and counts nothing.
package limits

import (
	"sync/atomic"
)

// Kind is a kind of holding, for the counters.
type Kind uint8

// The kinds of holdings.
const (
	TCP       Kind = iota // SIP over TCP: framer and reassembly buffers
	HeldMedia             // RTP held until an SDP claims its flow
	Calls                 // calls in progress (their state and buffers)
	// Series are the quality series of the streams of calls in progress
	// (spanrec.QualityInterval per interval). A refused Take stops the
	// stream's series where it is (what it holds stays until the call
	// ends): counted as an eviction of no bytes.
	Series
	numKinds
)

func (k Kind) String() string {
	switch k {
	case TCP:
		return "tcp"
	case HeldMedia:
		return "held_media"
	case Calls:
		return "calls"
	case Series:
		return "quality_series"
	}
	return "unknown"
}

// Kinds lists every Kind, for reports.
var Kinds = [...]Kind{TCP, HeldMedia, Calls, Series}

// Budget is a byte budget shared by the buffering stages.
type Budget struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64
	kinds [numKinds]kindCounters
}

type kindCounters struct {
	held      atomic.Int64
	evictions atomic.Uint64
	evicted   atomic.Uint64 // bytes
}

// New returns a Budget of limit bytes; limit <= 0 means no limit (the
// holdings are still counted).
func New(limit int64) *Budget {
	return &Budget{limit: limit}
}

// Limit returns the budget's limit in bytes (0: none).
func (b *Budget) Limit() int64 {
	if b == nil || b.limit < 0 {
		return 0
	}
	return b.limit
}

// Take reserves n bytes for a holding of kind k. It reports false, and
// reserves nothing, when that would exceed the limit: the caller evicts
// (see Evicted) and tries again, or does without.
func (b *Budget) Take(k Kind, n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	for {
		u := b.used.Load()
		if b.limit > 0 && u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			b.kinds[k].held.Add(n)
			for p := b.peak.Load(); u+n > p && !b.peak.CompareAndSwap(p, u+n); p = b.peak.Load() {
			}
			return true
		}
	}
}

// TakeOver reserves n bytes for a holding of kind k even past the limit:
// for what a stage must not refuse when it holds nothing of its own to
// evict, because another stage sharing the budget holds it all (a new
// call in one of the recorder's shards). What passes the limit shows in
// Stats as Peak over Limit.
func (b *Budget) TakeOver(k Kind, n int64) {
	if b == nil || n <= 0 {
		return
	}
	u := b.used.Add(n)
	b.kinds[k].held.Add(n)
	for p := b.peak.Load(); u > p && !b.peak.CompareAndSwap(p, u); p = b.peak.Load() {
	}
}

// Free returns n bytes of kind k taken before.
func (b *Budget) Free(k Kind, n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.used.Add(-n)
	b.kinds[k].held.Add(-n)
}

// Evicted counts one eviction of a holding of kind k that held n bytes
// (the caller Frees them).
func (b *Budget) Evicted(k Kind, n int64) {
	if b == nil {
		return
	}
	b.kinds[k].evictions.Add(1)
	b.kinds[k].evicted.Add(uint64(max(n, 0)))
}

// Stats is a snapshot of a Budget.
type Stats struct {
	Limit int64 // bytes; 0: none
	Used  int64 // bytes held now
	Peak  int64 // most bytes held at once
	Kinds [numKinds]KindStats
}

// KindStats counts the holdings of one Kind.
type KindStats struct {
	Held         int64  // bytes held now
	Evictions    uint64 // holdings evicted to stay within the limit
	EvictedBytes uint64
}

// Evictions returns the evictions of every kind, summed.
func (s Stats) Evictions() uint64 {
	var n uint64
	for _, k := range s.Kinds {
		n += k.Evictions
	}
	return n
}

// Stats returns the counters.
func (b *Budget) Stats() Stats {
	if b == nil {
		return Stats{}
	}
	s := Stats{Limit: b.Limit(), Used: b.used.Load(), Peak: b.peak.Load()}
	for i := range s.Kinds {
		k := &b.kinds[i]
		s.Kinds[i] = KindStats{Held: k.held.Load(), Evictions: k.evictions.Load(), EvictedBytes: k.evicted.Load()}
	}
	return s
}
