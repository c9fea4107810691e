package pcaptest

import (
	"time"

	"github.com/spanrec/spanrec"
)

// Expectation is what a correct recorder reports for one generated call.
type Expectation struct {
	// Call holds the fields of the record a recorder must produce:
	// ID, SIPCallID, Caller and Callee (Addr is where the party's SIP
	// packets come from, so the NAT address for a caller behind one),
	// Direction (local networks are the private ranges, netip.Addr.IsPrivate),
	// Status, StatusCode, Start (the INVITE), Answer (the 200 OK), End (the
	// BYE, or the final failure response), Duration, Codecs, DTMF (At is the
	// first RFC 4733 packet or the INFO), Streams and CaptureLoss. The
	// audio, file and quality fields are left zero. Holds are the spans of
	// the talk time when the SDP mutes a side (Hold, OneWay), Signalling is
	// "sip".
	//
	// Stream.Packets counts distinct packets in the capture, after loss;
	// Lost is the RFC 3550 A.3 figure (sequence span minus packets);
	// OutOfOrder counts packets whose sequence number is below one seen
	// before; Duplicates counts the mirror copies (all packets when the call
	// has Duplicate). Src and Dst are those of the first packet; First and
	// Last are capture times. The caller's stream comes first; unanswered
	// calls have only the callee's early media, if any.
	Call spanrec.Call
	// CallerTone and CalleeTone are the frequencies, in Hz, of the sines
	// the parties send (the callee's early media is a 425 Hz ringback);
	// 0 for a party that speaks (Endpoint.Voice).
	CallerTone, CalleeTone int
	// CallerVoice and CalleeVoice are the parties' Endpoint.Voice: the
	// fundamental frequency of the speech-like signal they send, or 0.
	CallerVoice, CalleeVoice int
	// Requests counts the SIP requests sent per method, Responses the
	// responses per status code, each message once (mirror copies excluded).
	Requests  map[string]int
	Responses map[int]int
}

// Expected returns, for each call of o in order, what a correct recorder
// reports. It generates the same packets as Write without writing them.
func Expected(o Options) ([]Expectation, error) {
	ps, err := plan(o)
	if err != nil {
		return nil, err
	}
	start := o.Start
	if start.IsZero() {
		start = defaultStart()
	}
	type acc struct {
		first, last      time.Duration
		packets, ooo     int
		minSlot, maxSlot int
	}
	stats := make([][]acc, len(ps))
	for i, p := range ps {
		stats[i] = make([]acc, len(p.streams))
	}
	out := make([]Expectation, len(ps))
	for i, p := range ps {
		out[i] = expectCall(p, start)
	}
	err = run(ps, func(pk *packet) error {
		if pk.stream < 0 || pk.slot < 0 { // signalling, or a ZRTP packet
			return nil
		}
		e := &out[pk.call.index]
		s := &e.Call.Streams[pk.stream]
		a := &stats[pk.call.index][pk.stream]
		if a.packets == 0 {
			s.Src, s.Dst = pk.src, pk.dst
			a.first, a.minSlot, a.maxSlot = pk.at, pk.slot, pk.slot
		}
		if pk.slot < a.maxSlot {
			a.ooo++
		}
		a.packets++
		a.last = pk.at
		a.minSlot, a.maxSlot = min(a.minSlot, pk.slot), max(a.maxSlot, pk.slot)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, p := range ps {
		c := &out[i].Call
		for k := range c.Streams {
			s, a := &c.Streams[k], &stats[i][k]
			s.Packets = a.packets
			if a.packets == 0 {
				continue
			}
			s.First, s.Last = start.Add(a.first), start.Add(a.last)
			s.Lost = a.maxSlot - a.minSlot + 1 - a.packets
			s.OutOfOrder = a.ooo
			if p.c.Duplicate {
				s.Duplicates = a.packets
			}
			if s.Lost > 0 {
				c.CaptureLoss = true
			}
		}
	}
	return out, nil
}

// expectCall fills what the plan says about p, before packets are counted.
func expectCall(p *callPlan, start time.Time) Expectation {
	c := &p.c
	e := Expectation{
		CallerTone:  c.Caller.Tone,
		CalleeTone:  c.Callee.Tone,
		CallerVoice: c.Caller.Voice,
		CalleeVoice: c.Callee.Voice,
		Requests:    map[string]int{},
		Responses:   map[int]int{},
	}
	if c.Caller.Voice != 0 {
		e.CallerTone = 0
	}
	if c.Callee.Voice != 0 {
		e.CalleeTone = 0
	}
	for _, m := range p.msgs {
		if m.method != "" {
			e.Requests[m.method]++
		} else {
			e.Responses[m.code]++
		}
	}
	k := &e.Call
	k.SIPCallID = c.CallID
	k.Start = start.Add(p.invite)
	k.ID = spanrec.NewCallID(c.CallID, k.Start)
	k.Caller = spanrec.Party{Number: c.Caller.Number, Name: c.Caller.Name, Addr: p.callerSig.Addr()}
	k.Callee = spanrec.Party{Number: c.Callee.Number, Name: c.Callee.Name, Addr: p.calleeSig.Addr()}
	k.Direction = direction(k.Caller.Addr.IsPrivate(), k.Callee.Addr.IsPrivate())
	k.Status, k.StatusCode = p.status, p.code
	k.End = start.Add(p.end)
	if p.answer >= 0 {
		k.Answer = start.Add(p.answer)
		k.Duration = k.End.Sub(k.Answer)
	}
	k.Codecs = []string{p.codec.name}
	k.DTMF = []spanrec.DTMF{}
	for _, d := range p.dtmf {
		k.DTMF = append(k.DTMF, spanrec.DTMF{
			Digit: string(d.digit), At: start.Add(d.at), DurationMS: d.durationMS,
			Side: spanrec.CallerSide, Source: d.source,
		})
	}
	for _, h := range p.holds {
		k.Holds = append(k.Holds, spanrec.Hold{Side: h.side, Start: start.Add(h.from), End: start.Add(h.to)})
	}
	k.Signalling = spanrec.SignallingSIP
	k.Streams = make([]spanrec.Stream, len(p.streams))
	for i, s := range p.streams {
		k.Streams[i] = spanrec.Stream{
			SSRC: s.ssrc, Side: s.side, PayloadType: s.codec.pt, Codec: s.codec.name,
			ClockRate: s.codec.clock, Decoded: true,
		}
	}
	return e
}

func direction(callerLocal, calleeLocal bool) spanrec.Direction {
	switch {
	case callerLocal && calleeLocal:
		return spanrec.Internal
	case callerLocal:
		return spanrec.Outbound
	case calleeLocal:
		return spanrec.Inbound
	}
	return spanrec.Unknown
}
