package pcaptest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/spanrec/spanrec"
)

// Signaling delays of the generated dialogs.
const (
	tryingAfter  = 5 * time.Millisecond
	ringingAfter = 40 * time.Millisecond
	ackAfter     = 15 * time.Millisecond
	okAfter      = 10 * time.Millisecond
	mediaAfter   = 2 * time.Millisecond
	dtmfLength   = 100 * time.Millisecond // RFC 4733 event length
	infoDuration = 160                    // ms, in SIP INFO bodies
)

// callPlan is the resolved timeline of one call.
type callPlan struct {
	index   int
	c       Call // defaults applied
	codec   codecInfo
	msgs    []sipMsg
	streams []*rtpSpec
	sig     []packet // signaling packets in time order

	callerSig netip.AddrPort // where the caller's SIP comes from
	calleeSig netip.AddrPort

	invite, answer, end time.Duration // answer is -1 when unanswered
	status              spanrec.Status
	code                int
	dtmf                []dtmfPlan
	seed                int64
	holds               []holdPlan // spans when the SDP mutes a side, in start order

	srtp   srtpSuite       // with c.SRTP
	rekeys []time.Duration // with c.SRTP.Rekey: when each re-INVITE was answered
}

// holdPlan is a span of the talk time during which the SDP says side sends
// nothing.
type holdPlan struct {
	side     spanrec.Side
	from, to time.Duration
}

// dtmfPlan is one digit the caller sends.
type dtmfPlan struct {
	digit      byte
	at         time.Duration // the first RTP event packet, or the INFO
	durationMS int
	source     string // "rfc4733" or "sip-info"
}

// plan resolves the timelines of all calls of o.
func plan(o Options) ([]*callPlan, error) {
	ps := make([]*callPlan, 0, len(o.Calls))
	for i, c := range o.Calls {
		p, err := planCall(c, i, o.Seed)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func planCall(c Call, i int, seed int64) (*callPlan, error) {
	c, codec, err := withDefaults(c, i)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)<<8))
	d := newSIPDialog(&c, codec, rng)
	p := &callPlan{index: i, c: c, codec: codec, answer: -1, seed: seed}
	if c.SRTP != nil {
		p.srtp, _ = srtpSuiteOf(c.SRTP.Suite)
	}
	d.plan = p
	tcp := c.Transport != "udp"
	p.calleeSig = netip.AddrPortFrom(c.Callee.SIP, uint16(c.SIPPort))
	p.callerSig = netip.AddrPortFrom(c.Caller.SIP, uint16(c.SIPPort))
	if c.CallerNAT.IsValid() {
		p.callerSig = netip.AddrPortFrom(c.CallerNAT.Addr(), uint16(c.SIPPort))
	}
	if tcp {
		p.callerSig = netip.AddrPortFrom(p.callerSig.Addr(), uint16(49152+rng.IntN(16000)))
	}
	// media as seen on the wire: behind the NAT the caller's ports are mapped.
	seen := func(a netip.AddrPort) netip.AddrPort {
		if !c.CallerNAT.IsValid() {
			return a
		}
		return netip.AddrPortFrom(c.CallerNAT.Addr(), c.CallerNAT.Port()+a.Port()-c.Caller.RTP.Port())
	}

	add := func(at time.Duration, byCaller bool, text []byte, method string, code int) *sipMsg {
		p.msgs = append(p.msgs, sipMsg{at: at, fromCaller: byCaller, text: text, method: method, code: code})
		return &p.msgs[len(p.msgs)-1]
	}

	t0 := c.Start
	if tcp {
		t0 += time.Millisecond // after the TCP handshake
	}
	if c.Transport == "tls" {
		t0 += tlsHandshakeTime
	}
	p.invite = t0
	ruri := d.calleeURI + ":" + fmt.Sprint(c.SIPPort)
	if tcp {
		ruri += ";transport=" + c.Transport
	}
	inv := &request{
		method: "INVITE", ruri: ruri, branch: d.newBranch(), cseq: 1, byCaller: true, contact: true,
		headers: []string{
			"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE",
			"Supported: replaces, timer",
			"User-Agent: pcaptest",
		},
		ctype: "application/sdp",
		body:  d.sdp(true, 1, c.Caller.RTP, offerDir(&c)),
	}
	inv.headers = append(inv.headers, c.Headers...)
	if c.FragmentInvite {
		// Three fragments: more than two fragments' worth of UDP payload.
		inv.headers = append(inv.headers, d.padHeaders(len(d.encodeRequest(inv)), 2*1480+200)...)
	}
	m := add(t0, true, d.encodeRequest(inv), "INVITE", 0)
	m.fragment, m.split = c.FragmentInvite, tcp

	final := t0 + c.Ring
	if c.Outcome == Failed {
		add(t0+tryingAfter, false, d.encodeResponse(inv, 100, ""), "", 100)
	} else {
		at := t0 + tryingAfter
		if tcp {
			at = t0 + ringingAfter
		}
		add(at, false, d.encodeResponse(inv, 100, ""), "", 100)
		if c.EarlyMedia {
			m = add(t0+ringingAfter, false, d.encodeResponse(inv, 183, d.sdp(false, 1, c.Callee.RTP, "sendrecv")), "", 183)
		} else {
			m = add(t0+ringingAfter, false, d.encodeResponse(inv, 180, ""), "", 180)
		}
		m.coalesce = tcp
	}
	var callee []segment
	if c.EarlyMedia && c.Outcome != Failed {
		callee = append(callee, segment{
			from: t0 + ringingAfter + mediaAfter, to: final + mediaAfter,
			src: c.Callee.RTP, dst: seen(c.Caller.RTP), marker: true, ringbackUntil: final + mediaAfter,
		})
	}

	ackFor := func(at time.Duration, r *request) {
		ack := &request{method: "ACK", ruri: ruri, branch: r.branch, cseq: r.cseq, byCaller: true, toTag: true}
		add(at, true, d.encodeRequest(ack), "ACK", 0)
	}
	p.end = final
	switch c.Outcome {
	case Busy, NoAnswer, Failed:
		code := map[Outcome]int{Busy: 486, NoAnswer: 480, Failed: 503}[c.Outcome]
		add(final, false, d.encodeResponse(inv, code, ""), "", code)
		ackFor(final+okAfter, inv) // RFC 3261 §17.1.1.3: same branch as the INVITE
		p.status, p.code = map[Outcome]spanrec.Status{Busy: spanrec.Busy, NoAnswer: spanrec.NoAnswer, Failed: spanrec.Failed}[c.Outcome], code
	case Cancelled:
		// RFC 3261 §9.1: CANCEL has the INVITE's Request-URI, branch and CSeq number.
		cancel := &request{method: "CANCEL", ruri: ruri, branch: inv.branch, cseq: 1, byCaller: true}
		add(final, true, d.encodeRequest(cancel), "CANCEL", 0)
		add(final+5*time.Millisecond, false, d.encodeResponse(cancel, 200, ""), "", 200)
		p.end = final + 8*time.Millisecond
		add(p.end, false, d.encodeResponse(inv, 487, ""), "", 487)
		ackFor(p.end+okAfter, inv)
		p.status, p.code = spanrec.Cancelled, 487
	case Answered:
		p.status, p.code, p.answer = spanrec.Answered, 200, final
		if err := p.planAnswered(d, inv, seen, &callee); err != nil {
			return nil, fmt.Errorf("pcaptest: call %d: %w", i, err)
		}
	}
	slices.SortStableFunc(p.msgs, func(a, b sipMsg) int { return cmp.Compare(a.at, b.at) })
	if len(callee) > 0 {
		p.streams = append(p.streams, p.rtpSpec(spanrec.CalleeSide, c.Callee.Tone, callee))
	}
	if c.SilentCopy.IsValid() && p.answer >= 0 {
		p.streams = append(p.streams, p.silentCopy(seen(c.Caller.RTP)))
	}
	if c.SignalOnly {
		p.streams = nil
	}
	if tcp {
		if p.sig, err = tcpPackets(p, rng); err != nil {
			return nil, fmt.Errorf("pcaptest: call %d: %w", i, err)
		}
	} else {
		p.sig = udpPackets(p, rng)
	}
	if c.SRTP != nil {
		for _, sp := range p.streams {
			if sp.srtp, err = newSRTPSender(p, sp.side); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// planAnswered adds the dialog of an answered call (200, ACK, re-INVITEs,
// INFOs, BYE) and the caller's stream, and extends the callee's segments.
func (p *callPlan) planAnswered(d *sipDialog, inv *request, seen func(netip.AddrPort) netip.AddrPort, callee *[]segment) error {
	c := &p.c
	ans := p.answer
	add := func(at time.Duration, byCaller bool, text []byte, method string, code int) {
		p.msgs = append(p.msgs, sipMsg{at: at, fromCaller: byCaller, text: text, method: method, code: code})
	}
	answerDir := "sendrecv"
	if c.OneWay {
		answerDir = "recvonly"
		p.holds = append(p.holds, holdPlan{spanrec.CalleeSide, ans, ans + c.Talk})
	}
	add(ans, false, d.encodeResponse(inv, 200, d.sdp(false, 1, c.Callee.RTP, answerDir)), "", 200)
	ack := func(at time.Duration, r *request) {
		a := &request{method: "ACK", ruri: d.calleeCont, branch: d.newBranch(), cseq: r.cseq, byCaller: true, toTag: true}
		add(at, true, d.encodeRequest(a), "ACK", 0)
	}
	ack(ans+ackAfter, inv)
	bye := ans + c.Talk
	p.end = bye

	// Caller-initiated in-dialog transactions get CSeq numbers in time order.
	type txn struct {
		at   time.Duration
		kind string // "hold", "resume", "info", "refer", "bye"
		info byte
	}
	txns := []txn{{at: bye, kind: "bye"}}
	if c.Refer != nil {
		txns = append(txns, txn{at: ans + c.Refer.At, kind: "refer"})
	}

	// Media. The caller starts after its ACK; its stream may move at resume.
	callerFrom := ans + ackAfter + mediaAfter
	callerRTP := seen(c.Caller.RTP)
	caller := []segment{{from: callerFrom, to: bye, src: callerRTP, dst: c.Callee.RTP, marker: true}}
	calleeFrom := ans + mediaAfter
	if n := len(*callee); n > 0 {
		// Early media goes on: the same stream switches from ringback to tone.
		(*callee)[n-1].to = bye
	} else if !c.OneWay {
		*callee = append(*callee, segment{from: calleeFrom, to: bye, src: c.Callee.RTP, dst: callerRTP, marker: true})
	}
	if h := c.Hold; h != nil {
		hold, resume := ans+h.At, ans+h.At+h.Length
		txns = append(txns, txn{at: hold, kind: "hold"}, txn{at: resume, kind: "resume"})
		cs := *callee
		last := &cs[len(cs)-1]
		last.to = hold + 20*time.Millisecond // stops once it has answered recvonly
		newDst := callerRTP
		if h.NewCallerRTP.IsValid() {
			newDst = seen(h.NewCallerRTP)
			// The caller moves on the packet grid of its stream.
			g := callerFrom + alignUp(resume+30*time.Millisecond-callerFrom, c.PTime)
			caller[0].to = g
			caller = append(caller, segment{from: g, to: bye, src: newDst, dst: c.Callee.RTP})
		}
		*callee = append(cs, segment{from: resume + 20*time.Millisecond + mediaAfter, to: bye, src: c.Callee.RTP, dst: newDst, marker: true})
		switch h.Style {
		case HoldInactive:
			// The caller stops at its own offer and resumes after the 200.
			seg := caller[0]
			gHold := callerFrom + alignUp(hold-callerFrom, c.PTime)
			gResume := callerFrom + alignUp(resume+30*time.Millisecond-callerFrom, c.PTime)
			caller[0].to = gHold
			if h.NewCallerRTP.IsValid() {
				caller[1].from = gResume
			} else {
				caller = append(caller, segment{from: gResume, to: seg.to, src: seg.src, dst: seg.dst})
			}
			p.holds = append(p.holds, holdPlan{spanrec.CallerSide, hold, resume + 20*time.Millisecond},
				holdPlan{spanrec.CalleeSide, hold, resume + 20*time.Millisecond})
		case HoldZeroAddr:
			// The callee may send again as soon as the offer has an address.
			p.holds = append(p.holds, holdPlan{spanrec.CalleeSide, hold, resume})
		default:
			// Until the callee's own answer says sendrecv again.
			p.holds = append(p.holds, holdPlan{spanrec.CalleeSide, hold, resume + 20*time.Millisecond})
		}
	}

	// DTMF: RFC 4733 events first, then SIP INFO.
	s := p.rtpSpec(spanrec.CallerSide, c.Caller.Tone, caller)
	at := callerFrom + alignUp(min(time.Second, c.Talk/4), c.PTime)
	space := alignUp(max(300*time.Millisecond, time.Duration(s.dtmfSlots+4)*c.PTime), c.PTime)
	lastUse := at
	for _, digit := range []byte(c.DTMF) {
		s.dtmf = append(s.dtmf, dtmfSend{at: at, event: dtmfEvent(digit)})
		p.dtmf = append(p.dtmf, dtmfPlan{digit, at, int(time.Duration(s.dtmfSlots) * c.PTime / time.Millisecond), "rfc4733"})
		lastUse = at + time.Duration(s.dtmfSlots+2)*c.PTime
		at += space
	}
	if c.DTMF != "" {
		at += 500 * time.Millisecond
	}
	for _, digit := range []byte(c.DTMFInfo) {
		txns = append(txns, txn{at: at, kind: "info", info: digit})
		p.dtmf = append(p.dtmf, dtmfPlan{digit, at, infoDuration, "sip-info"})
		lastUse = at + okAfter
		at += 400 * time.Millisecond
	}
	if lastUse > bye-100*time.Millisecond {
		return fmt.Errorf("DTMF %q/%q does not fit in talk %v", c.DTMF, c.DTMFInfo, c.Talk)
	}
	p.streams = append(p.streams, s)

	slices.SortStableFunc(txns, func(a, b txn) int { return cmp.Compare(a.at, b.at) })
	version := 1
	for k, t := range txns {
		r := &request{ruri: d.calleeCont, branch: d.newBranch(), cseq: k + 2, byCaller: true, toTag: true}
		switch t.kind {
		case "bye":
			r.method = "BYE"
			add(t.at, true, d.encodeRequest(r), "BYE", 0)
			add(t.at+okAfter, false, d.encodeResponse(r, 200, ""), "", 200)
		case "refer":
			r.method = "REFER"
			r.headers = []string{"Refer-To: " + c.Refer.To, "Referred-By: <" + d.callerURI + ">"}
			add(t.at, true, d.encodeRequest(r), "REFER", 0)
			add(t.at+okAfter, false, d.encodeResponse(r, 202, ""), "", 202)
		case "info":
			// application/dtmf-relay, the de-facto format of SIP INFO digits.
			r.method, r.ctype = "INFO", "application/dtmf-relay"
			r.body = fmt.Sprintf("Signal=%c\r\nDuration=%d\r\n", t.info, infoDuration)
			add(t.at, true, d.encodeRequest(r), "INFO", 0)
			add(t.at+okAfter, false, d.encodeResponse(r, 200, ""), "", 200)
		case "hold", "resume":
			version++
			media, dir, answer := c.Caller.RTP, "sendonly", "recvonly"
			switch c.Hold.Style {
			case HoldInactive:
				dir, answer = "inactive", "inactive"
			case HoldZeroAddr:
				// RFC 3264 §8.4 (the RFC 2543 way): the unspecified address.
				unspec := netip.IPv4Unspecified()
				if media.Addr().Is6() {
					unspec = netip.IPv6Unspecified()
				}
				media, dir, answer = netip.AddrPortFrom(unspec, media.Port()), "sendrecv", "sendrecv"
			}
			if t.kind == "resume" {
				media = c.Caller.RTP
				dir, answer = "sendrecv", "sendrecv"
				if c.Hold.NewCallerRTP.IsValid() {
					media = c.Hold.NewCallerRTP
				}
			}
			// RFC 3264 §8.4: hold is a re-offer with a=sendonly.
			r.method, r.contact, r.ctype = "INVITE", true, "application/sdp"
			r.body = d.sdp(true, version, media, dir)
			add(t.at, true, d.encodeRequest(r), "INVITE", 0)
			add(t.at+20*time.Millisecond, false, d.encodeResponse(r, 200, d.sdp(false, version, c.Callee.RTP, answer)), "", 200)
			p.rekeys = append(p.rekeys, t.at+20*time.Millisecond)
			ack(t.at+30*time.Millisecond, r)
		}
	}
	return nil
}

// offerDir is the direction attribute of the INVITE's offer.
func offerDir(c *Call) string {
	if c.OneWay {
		return "sendonly"
	}
	return "sendrecv"
}

// rtpSpec returns the stream a party sends over segs, with its random
// initial values (RFC 3550 §5.1: sequence number, timestamp, SSRC) drawn from
// the seed, the call and the side.
func (p *callPlan) rtpSpec(side spanrec.Side, tone int, segs []segment) *rtpSpec {
	c := &p.c
	k := uint64(p.index)<<8 | 1
	if side == spanrec.CalleeSide {
		k++
	}
	r := rand.New(rand.NewPCG(uint64(p.seed), k))
	n := max(2, int((dtmfLength+c.PTime/2)/c.PTime))
	ssrc, seq0 := r.Uint32(), uint16(r.Uint32())
	if c.SRTP != nil && c.SRTP.WrapAfter > 0 {
		seq0 = uint16(-int(c.SRTP.WrapAfter / c.PTime))
	}
	voice := c.Caller.Voice
	if side == spanrec.CalleeSide {
		voice = c.Callee.Voice
	}
	var encoded []byte
	var packetBytes int
	if e := c.Encoded; e != nil {
		encoded, packetBytes = e.Caller, e.PacketBytes
		if side == spanrec.CalleeSide {
			encoded = e.Callee
		}
	}
	return &rtpSpec{
		side:        side,
		codec:       p.codec,
		ptime:       c.PTime,
		ssrc:        ssrc,
		seq0:        seq0,
		ts0:         r.Uint32(),
		tone:        tone,
		voice:       voice,
		segs:        segs,
		dtmfSlots:   n,
		loss:        c.Loss,
		reorder:     c.Reorder,
		seed:        [2]uint64{r.Uint64(), r.Uint64()},
		g729:        c.G729Frames,
		g729From:    g729From(side, len(c.G729Frames)),
		encoded:     encoded,
		packetBytes: packetBytes,
	}
}

// g729From is where in Call.G729Frames a party starts: the caller at the
// beginning, the callee in the middle, so that the two directions differ.
func g729From(side spanrec.Side, n int) int {
	if side == spanrec.CalleeSide {
		return n / 2
	}
	return 0
}

// silentCopy returns the stream of Call.SilentCopy: the relay's copy of
// the callee's audio to the caller's media address dst, all silence at
// half the packet time, with its own SSRC.
func (p *callPlan) silentCopy(dst netip.AddrPort) *rtpSpec {
	c := &p.c
	s := p.rtpSpec(spanrec.CalleeSide, c.Callee.Tone, []segment{{
		from: p.answer + mediaAfter + time.Millisecond, to: p.end, src: c.SilentCopy, dst: dst, marker: true,
	}})
	r := rand.New(rand.NewPCG(uint64(p.seed), uint64(p.index)<<8|3))
	s.ssrc, s.seq0, s.ts0 = r.Uint32(), uint16(r.Uint32()), r.Uint32()
	s.seed = [2]uint64{r.Uint64(), r.Uint64()}
	s.ptime = c.PTime / 2
	s.silent = true
	return s
}

func alignUp(d, step time.Duration) time.Duration {
	return (d + step - 1) / step * step
}
