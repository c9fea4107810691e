package pcaptest

import "container/heap"

// source yields packets in time order. next stores the next packet in p and
// reports whether there was one; p.payload is valid until the next call.
type source interface {
	next(p *packet) bool
}

// sigSource yields a call's precomputed signaling packets.
type sigSource struct {
	pkts []packet
	i    int
}

func (s *sigSource) next(p *packet) bool {
	if s.i == len(s.pkts) {
		return false
	}
	*p = s.pkts[s.i]
	s.i++
	return true
}

// entry is a source with its next packet. An RTP source is built only when
// its first packet is due, so that idle calls hold no audio tables.
type entry struct {
	p      packet
	src    source
	id     int
	spec   *rtpSpec
	stream int
}

type sourceHeap []*entry

func (h sourceHeap) Len() int { return len(h) }
func (h sourceHeap) Less(i, j int) bool {
	if h[i].p.at != h[j].p.at {
		return h[i].p.at < h[j].p.at
	}
	return h[i].id < h[j].id
}
func (h sourceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sourceHeap) Push(x any)   { *h = append(*h, x.(*entry)) }
func (h *sourceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// run merges the packets of all calls in time order (ties broken by call,
// then signaling before the caller's then the callee's media) and passes
// each to emit. The packet passed to emit is valid only during the call.
func run(ps []*callPlan, emit func(*packet) error) error {
	h := make(sourceHeap, 0, 3*len(ps))
	for _, p := range ps {
		id := p.index * 4
		if len(p.sig) > 0 {
			e := &entry{src: &sigSource{pkts: p.sig}, id: id}
			e.src.next(&e.p)
			h = append(h, e)
		}
		for k, s := range p.streams {
			id := id + 1
			if s.side == "callee" {
				id++
			}
			h = append(h, &entry{p: packet{at: s.segs[0].from, call: p}, id: id, spec: s, stream: k})
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		e := h[0]
		if e.src == nil {
			e.src = newRTPSource(e.spec, e.stream, e.p.call)
		} else if err := emit(&e.p); err != nil {
			return err
		}
		if e.src.next(&e.p) {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}
