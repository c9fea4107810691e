package pcaptest

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"
)

// udpPackets puts each SIP message of p in one UDP datagram.
func udpPackets(p *callPlan, rng *rand.Rand) []packet {
	ids := [2]uint16{uint16(rng.Uint32()), uint16(rng.Uint32())}
	out := make([]packet, 0, len(p.msgs))
	for _, m := range p.msgs {
		src, dst, side := p.callerSig, p.calleeSig, 0
		if !m.fromCaller {
			src, dst, side = dst, src, 1
		}
		ids[side]++
		out = append(out, packet{
			at: m.at, call: p, src: src, dst: dst, ipID: ids[side],
			payload: m.text, fragment: m.fragment, stream: -1,
		})
	}
	return out
}

// tcpSegment is a TCP segment before sequence numbers are assigned.
type tcpSegment struct {
	at         time.Duration
	fromCaller bool
	flags      uint8
	data       []byte
}

// mss is the TCP maximum segment size on a 1500-byte MTU with IPv4.
const mss = 1460

// tcpPackets carries the SIP messages of p over one TCP connection from the
// caller's ephemeral port to the callee's SIP port: three-way handshake,
// data segments (RFC 3261 §18.3: messages framed by Content-Length, so one
// segment may hold several messages and a message may span segments), a
// delayed ACK when no data comes back within 1ms, and a FIN exchange after
// the last message.
//
// With Transport "tls" the connection carries a TLS handshake after the
// TCP one and each message as the TLS records crypto/tls made of it.
func tcpPackets(p *callPlan, rng *rand.Rand) ([]packet, error) {
	var data []tcpSegment
	msgs := p.msgs
	if p.c.Transport == "tls" {
		hs, recs, err := tlsWire(p)
		if err != nil {
			return nil, err
		}
		for i, h := range hs {
			at := p.c.Start + time.Millisecond + time.Duration(i)*tlsFlightGap
			for b := h.data; len(b) > 0; {
				k := min(len(b), mss)
				data = append(data, tcpSegment{at: at, fromCaller: h.fromCaller, flags: tcpACK | tcpPSH, data: b[:k]})
				b = b[k:]
				at += 10 * time.Microsecond
			}
		}
		msgs = slices.Clone(msgs)
		for i := range msgs {
			msgs[i].text = recs[i]
		}
	}
	for _, m := range msgs {
		if n := len(data); m.coalesce && n > 0 && data[n-1].fromCaller == m.fromCaller {
			last := &data[n-1]
			last.data = append(slices.Clip(last.data), m.text...)
			last.at = max(last.at, m.at)
			continue
		}
		parts := [][]byte{m.text}
		if m.split {
			h := len(m.text) / 2
			parts = [][]byte{m.text[:h], m.text[h:]}
		}
		for i, part := range parts {
			at := m.at + time.Duration(i)*500*time.Microsecond
			for len(part) > 0 {
				k := min(len(part), mss)
				data = append(data, tcpSegment{at: at, fromCaller: m.fromCaller, flags: tcpACK | tcpPSH, data: part[:k]})
				part = part[k:]
				at += 10 * time.Microsecond
			}
		}
	}
	open := p.c.Start
	segs := []tcpSegment{
		{at: open, fromCaller: true, flags: tcpSYN},
		{at: open + 300*time.Microsecond, flags: tcpSYN | tcpACK},
		{at: open + 600*time.Microsecond, fromCaller: true, flags: tcpACK},
	}
	for i, s := range data {
		segs = append(segs, s)
		if i+1 == len(data) || data[i+1].at > s.at+time.Millisecond {
			segs = append(segs, tcpSegment{at: s.at + time.Millisecond, fromCaller: !s.fromCaller, flags: tcpACK})
		}
	}
	closeAt := data[len(data)-1].at + 50*time.Millisecond
	segs = append(segs,
		tcpSegment{at: closeAt, fromCaller: true, flags: tcpFIN | tcpACK},
		tcpSegment{at: closeAt + 300*time.Microsecond, flags: tcpFIN | tcpACK},
		tcpSegment{at: closeAt + 600*time.Microsecond, fromCaller: true, flags: tcpACK},
	)
	slices.SortStableFunc(segs, func(a, b tcpSegment) int { return cmp.Compare(a.at, b.at) })

	isn := [2]uint32{rng.Uint32(), rng.Uint32()}
	ids := [2]uint16{uint16(rng.Uint32()), uint16(rng.Uint32())}
	var sent [2]uint32 // sequence space used by each side (SYN and FIN count one)
	out := make([]packet, 0, len(segs))
	for _, s := range segs {
		src, dst, me := p.callerSig, p.calleeSig, 0
		if !s.fromCaller {
			src, dst, me = dst, src, 1
		}
		ids[me]++
		pk := packet{
			at: s.at, call: p, src: src, dst: dst, tcp: true, flags: s.flags,
			seq: isn[me] + sent[me], ipID: ids[me], payload: s.data, stream: -1,
		}
		if s.flags&tcpACK != 0 {
			pk.ack = isn[1-me] + sent[1-me]
		}
		sent[me] += uint32(len(s.data))
		if s.flags&(tcpSYN|tcpFIN) != 0 {
			sent[me]++
		}
		out = append(out, pk)
	}
	return out, nil
}
