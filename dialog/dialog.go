// Package dialog follows the SIP signalling of one call (one Call-ID) as a
// passive observer: who called whom, when it was answered and ended, how it
// ended, which media each side offered (SDP, re-INVITE, UPDATE) and the DTMF
// digits sent in SIP INFO. It sits between sipmsg (parsing) and call (the
// assembler that joins signalling and media).
//
// A Dialog is a plain value updated by Apply; it starts no goroutines and
// takes its time from the packets. Mirror ports lose and reorder messages, so
// Apply tolerates missing provisional answers, missing ACKs and duplicates.
package dialog

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sipmsg"
)

// Dialog is the signalling state of one call. It is not safe for concurrent
// use.
type Dialog struct {
	CallID    string
	CallerTag string // From tag of the initial INVITE
	// CalleeTag is the callee's tag: the To tag of the first final answer
	// to the INVITE or of the caller's first request that carries one
	// (its ACK, BYE), or the From tag of the callee's first request; ""
	// until one is seen.
	CalleeTag string
	Caller    spanrec.Party
	Callee    spanrec.Party
	Start     time.Time // first INVITE
	Answer    time.Time // first 2xx to the INVITE
	End       time.Time // BYE, or the final failure answer
	Status    spanrec.Status
	Code      int    // final answer code of the INVITE transaction
	Reason    string // reason phrase of that answer
	// HangupBy says who ended the call (see spanrec.Hangup).
	HangupBy spanrec.Hangup
	// Ringing is the first 18x to the INVITE transaction; zero if none.
	Ringing time.Time

	// Media holds, per side, the latest SDP that side sent (nil if none yet).
	Media map[spanrec.Side]*sipmsg.SDP
	DTMF  []spanrec.DTMF

	// Holds are the closed spans when the SDP said a side sends no media
	// (see MaySend); muted[side] is the start of the open one.
	Holds []spanrec.Hold
	muted [2]time.Time

	inviteCSeq uint32
	// inviteAt is when the current INVITE transaction was first sent
	// (zero for a dialog joined in the middle); okAt its first 2xx and
	// cancelAt the first CANCEL before one.
	inviteAt, okAt, cancelAt time.Time
	cancelled                bool
	finished                 bool
	infos                    []infoKey // the INFO requests with DTMF seen
}

// infoKey identifies an INFO request of a dialog.
type infoKey struct {
	side spanrec.Side
	cseq uint32
}

// maxInfos bounds the INFO requests a Dialog remembers.
const maxInfos = 1024

// New starts a dialog from the first INVITE of a Call-ID, seen at t going
// from src to dst. A re-INVITE (one with a To tag) starts a dialog whose beginning
// was not captured: it is taken as answered at t.
func New(m *sipmsg.Message, t time.Time, src, dst netip.AddrPort) *Dialog {
	d := &Dialog{
		CallID:     m.CallID,
		CallerTag:  m.FromTag,
		Start:      t,
		Status:     spanrec.Ongoing,
		inviteCSeq: m.CSeq,
		Media:      make(map[spanrec.Side]*sipmsg.SDP, 2),
	}
	d.Caller = party(m.From, m.PAI)
	d.Caller.Addr = src.Addr()
	d.Callee = party(m.To, sipmsg.Addr{})
	d.Callee.Addr = dst.Addr()
	if m.ToTag != "" {
		d.Answer = t
		d.Status = spanrec.Answered
	} else {
		d.inviteAt = t
	}
	return d
}

// Signalless returns the dialog of a call found as RTP alone, with no
// signalling: its parties are named by the media addresses caller and
// callee, and it is answered at t, its first packet. Close ends it.
func Signalless(caller, callee netip.AddrPort, t time.Time) *Dialog {
	return &Dialog{
		Caller: spanrec.Party{Number: caller.String(), Addr: caller.Addr()},
		Callee: spanrec.Party{Number: callee.String(), Addr: callee.Addr()},
		Start:  t,
		Answer: t,
		Status: spanrec.Answered,
		Media:  make(map[spanrec.Side]*sipmsg.SDP, 2),
	}
}

// party prefers the P-Asserted-Identity (RFC 3325 §9.1) over the From/To
// header for the number, as the network vouches for it. A URI without a
// user part (sip:example.com) names the party by its host, and only a URI
// of another scheme is kept as it is.
func party(a, pai sipmsg.Addr) spanrec.Party {
	p := spanrec.Party{Number: a.User, Name: a.Display}
	if pai.User != "" {
		p.Number = pai.User
		if pai.Display != "" {
			p.Name = pai.Display
		}
	}
	if p.Number == "" {
		p.Number = a.Host
	}
	if p.Number == "" {
		p.Number = a.URI
	}
	return p
}

// Update says what a message changed in a dialog.
type Update struct {
	// SDP is the session description the message carried, sent by Side.
	SDP  *sipmsg.SDP
	Side spanrec.Side
	// Reopened is set when a new INVITE transaction (for example after a 401
	// or 407 challenge) revived a dialog that had failed.
	Reopened bool
}

// Sender returns the side that sent m: requests come from the side whose
// tag is in From, responses from the other one (RFC 3261 §8.2.6.2, §12.1).
func (d *Dialog) Sender(m *sipmsg.Message) spanrec.Side {
	fromCaller := m.FromTag == d.CallerTag || d.CallerTag == ""
	if m.Request == fromCaller {
		return spanrec.CallerSide
	}
	return spanrec.CalleeSide
}

// Apply updates the dialog with message m seen at t, sent from src.
func (d *Dialog) Apply(m *sipmsg.Message, t time.Time, src netip.AddrPort) Update {
	side := d.Sender(m)
	u := Update{SDP: m.SDP, Side: side}
	if d.CalleeTag == "" {
		d.calleeTag(m, side)
	}
	if m.SDP != nil {
		d.Media[side] = m.SDP
		d.followDirection(t)
	}
	if m.Request {
		d.request(m, t, &u)
	} else {
		d.response(m, t, src)
	}
	return u
}

// calleeTag takes the callee's tag from m, sent by side, if it has it.
func (d *Dialog) calleeTag(m *sipmsg.Message, side spanrec.Side) {
	switch {
	case !m.Request && m.CSeqMethod == "INVITE" && m.StatusCode >= 200:
		d.CalleeTag = m.ToTag
	case m.Request && side == spanrec.CallerSide && m.Method != "CANCEL":
		d.CalleeTag = m.ToTag
	case m.Request && side == spanrec.CalleeSide:
		d.CalleeTag = m.FromTag
	}
}

// maxHolds bounds the hold spans a Dialog keeps (a re-INVITE storm).
const maxHolds = 256

func sideIndex(s spanrec.Side) int {
	if s == spanrec.CalleeSide {
		return 1
	}
	return 0
}

// followDirection opens or closes the hold span of each side after an SDP
// seen at t changed what the sides may send.
func (d *Dialog) followDirection(t time.Time) {
	for _, s := range []spanrec.Side{spanrec.CallerSide, spanrec.CalleeSide} {
		i := sideIndex(s)
		switch send := d.MaySend(s); {
		case !send && d.muted[i].IsZero():
			d.muted[i] = t
		case send && !d.muted[i].IsZero():
			d.closeHold(s, t)
		}
	}
}

func (d *Dialog) closeHold(s spanrec.Side, t time.Time) {
	i := sideIndex(s)
	if len(d.Holds) < maxHolds {
		d.Holds = append(d.Holds, spanrec.Hold{Side: s, Start: d.muted[i], End: t})
	}
	d.muted[i] = time.Time{}
}

// MaySend reports whether the latest SDP of both sides lets side send
// audio (RFC 3264 §5.1, §6.1, §8.4): side's own audio stream is neither
// rejected (port 0) nor recvonly or inactive, and the other side's is not
// rejected, not sendonly or inactive, and not on hold by the connection
// address 0.0.0.0. m= lines pair by position (RFC 3264 §6). Before any
// SDP, or with only one side's, what is missing does not forbid.
func (d *Dialog) MaySend(side spanrec.Side) bool {
	own, peer := d.Media[side], d.Media[other(side)]
	if own == nil && peer == nil {
		return true
	}
	n := 0
	if own != nil {
		n = len(own.Media)
	}
	if peer != nil {
		n = max(n, len(peer.Media))
	}
	for i := range n {
		var om, pm *sipmsg.Media
		if own != nil && i < len(own.Media) {
			om = &own.Media[i]
		}
		if peer != nil && i < len(peer.Media) {
			pm = &peer.Media[i]
		}
		if (om != nil && om.Type != "audio") || (pm != nil && pm.Type != "audio") {
			continue
		}
		if om != nil && (om.Addr.Port() == 0 || om.Direction == "recvonly" || om.Direction == "inactive") {
			continue
		}
		if pm != nil && (pm.Addr.Port() == 0 || pm.Direction == "sendonly" || pm.Direction == "inactive" ||
			(pm.Addr.Addr().IsValid() && pm.Addr.Addr().IsUnspecified())) {
			continue
		}
		return true
	}
	return false
}

func other(s spanrec.Side) spanrec.Side {
	if s == spanrec.CallerSide {
		return spanrec.CalleeSide
	}
	return spanrec.CallerSide
}

// Expected reports whether side was expected to send media between from
// and to, given the hold spans holds (as HoldsWithin returns them): the SDP
// let it send for more than half a second, or for the whole span when it is
// shorter, or it was never held. Only then is a missing direction the
// mirror's fault; the recorder's notes and the doctor both decide by it.
func Expected(holds []spanrec.Hold, side spanrec.Side, from, to time.Time) bool {
	talk := to.Sub(from)
	allowed := talk
	held := false
	for _, h := range holds {
		if h.Side == side {
			allowed -= h.End.Sub(h.Start)
			held = true
		}
	}
	return !held || allowed > 500*time.Millisecond
}

// HoldsWithin returns the hold spans clipped to [from, to], the spans
// still open closed at to, in start order; nil if none is left.
func (d *Dialog) HoldsWithin(from, to time.Time) []spanrec.Hold {
	if from.IsZero() || !to.After(from) {
		return nil
	}
	all := slices.Clone(d.Holds)
	for _, s := range []spanrec.Side{spanrec.CallerSide, spanrec.CalleeSide} {
		if st := d.muted[sideIndex(s)]; !st.IsZero() {
			all = append(all, spanrec.Hold{Side: s, Start: st, End: to})
		}
	}
	var out []spanrec.Hold
	for _, h := range all {
		if h.Start.Before(from) {
			h.Start = from
		}
		if h.End.After(to) {
			h.End = to
		}
		if h.End.After(h.Start) {
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(x, y spanrec.Hold) int { return x.Start.Compare(y.Start) })
	return out
}

func (d *Dialog) request(m *sipmsg.Message, t time.Time, u *Update) {
	switch m.Method {
	case "INVITE":
		// A new INVITE transaction outside the dialog (no To tag), such as
		// the retry after an authentication challenge, restarts the setup.
		if m.ToTag == "" && m.CSeq > d.inviteCSeq && d.Answer.IsZero() {
			d.inviteCSeq = m.CSeq
			if d.finished {
				u.Reopened = true
			}
			d.finished = false
			d.Status = spanrec.Ongoing
			d.Code, d.Reason, d.HangupBy = 0, "", spanrec.HangupUnknown
			d.End = time.Time{}
			d.inviteAt, d.Ringing, d.cancelAt = t, time.Time{}, time.Time{}
		}
	case "CANCEL":
		if d.Answer.IsZero() {
			d.cancelled = true
			if d.cancelAt.IsZero() {
				d.cancelAt = t
			}
			if d.HangupBy == spanrec.HangupUnknown {
				d.HangupBy = spanrec.HangupCaller
			}
		}
	case "BYE":
		if d.End.IsZero() {
			d.End = t
		}
		if d.HangupBy == spanrec.HangupUnknown {
			d.HangupBy = spanrec.Hangup(u.Side)
		}
		d.finished = true
		if d.Answer.IsZero() && d.Status == spanrec.Ongoing {
			// A BYE with no 2xx captured: the answer was lost on the mirror.
			d.Answer = t
			d.Status = spanrec.Answered
		}
	case "INFO":
		// RFC 3261 §17.1.2.2: over UDP an unanswered request is sent
		// again with the same CSeq (§12.2.1.1: each side numbers its
		// requests); a retransmitted INFO is the same key press.
		k := infoKey{u.Side, m.CSeq}
		if m.DTMF != "" && !slices.Contains(d.infos, k) {
			if len(d.infos) < maxInfos {
				d.infos = append(d.infos, k)
			}
			d.DTMF = append(d.DTMF, spanrec.DTMF{
				Digit: m.DTMF, At: t, DurationMS: m.DTMFDuration, Side: d.Sender(m), Source: "sip-info",
			})
		}
	}
}

func (d *Dialog) response(m *sipmsg.Message, t time.Time, src netip.AddrPort) {
	if m.CSeqMethod != "INVITE" || m.CSeq != d.inviteCSeq {
		return
	}
	code := m.StatusCode
	switch {
	case code < 200:
		if 180 <= code && code <= 189 && d.Ringing.IsZero() && d.Answer.IsZero() && !d.finished {
			d.Ringing = t
		}
		return
	case code < 300:
		if d.okAt.IsZero() && d.Answer.IsZero() {
			d.okAt = t
		}
		if d.Answer.IsZero() {
			// A CANCEL that crossed the 2xx ended nothing (RFC 3261 §9.2).
			d.HangupBy = spanrec.HangupUnknown
			d.Answer = t
			d.Callee.Addr = src.Addr()
			if m.PAI.User != "" {
				d.Callee.Number = m.PAI.User
				if m.PAI.Display != "" {
					d.Callee.Name = m.PAI.Display
				}
			}
		}
		d.Status = spanrec.Answered
		d.Code, d.Reason = code, m.Reason
	default:
		if !d.Answer.IsZero() || d.finished {
			return
		}
		d.Code, d.Reason = code, m.Reason
		d.Status = failure(code, d.cancelled)
		d.HangupBy = hangup(code, d.cancelled)
		d.End = t
		d.finished = true
	}
}

// hangup says who ended a call that failed with code: the caller who
// cancelled it (RFC 3261 §9: a CANCEL, answered by 487 to the INVITE),
// the callee who was busy or declined (486 Busy Here, 600 Busy
// Everywhere, 603 Decline: the callee's user agent's answer, §21.4.24,
// §21.6), or else the network (no route, timeout, unavailable, server
// errors).
func hangup(code int, cancelled bool) spanrec.Hangup {
	switch {
	case cancelled || code == 487:
		return spanrec.HangupCaller
	case code == 486 || code == 600 || code == 603:
		return spanrec.HangupCallee
	default:
		return spanrec.HangupSystem
	}
}

// PDD returns the post-dial delay: from the INVITE transaction that was
// answered to its first 18x, or to its 2xx when no 18x came first (RFC
// 6076 §4.1, session request delay). It is 0 when neither was seen, or
// when the capture joined the dialog after its INVITE. The INVITE sent
// again after a 401/407 challenge starts the count afresh: the time the
// user took to give a password is not the network's delay.
func (d *Dialog) PDD() time.Duration {
	first := d.Ringing
	if first.IsZero() || !d.okAt.IsZero() && d.okAt.Before(first) {
		first = d.okAt
	}
	if d.inviteAt.IsZero() || first.IsZero() || first.Before(d.inviteAt) {
		return 0
	}
	return first.Sub(d.inviteAt)
}

// RingTime returns the time from the first 18x to the 2xx, the CANCEL,
// or the end of a call not answered; 0 without an 18x, or when the call
// was answered but its 2xx was not captured (when it rang up to is not
// known).
func (d *Dialog) RingTime() time.Duration {
	if d.Ringing.IsZero() {
		return 0
	}
	end := d.End
	switch {
	case !d.okAt.IsZero():
		end = d.okAt
	case !d.Answer.IsZero():
		return 0
	case !d.cancelAt.IsZero():
		end = d.cancelAt
	}
	if end.Before(d.Ringing) {
		return 0
	}
	return end.Sub(d.Ringing)
}

// failure maps a final failure answer to a call status.
func failure(code int, cancelled bool) spanrec.Status {
	switch {
	case code == 487 || cancelled:
		return spanrec.Cancelled
	case code == 486 || code == 600:
		return spanrec.Busy
	case code == 408 || code == 480:
		return spanrec.NoAnswer
	default:
		return spanrec.Failed
	}
}

// Finished reports whether the call has ended in signalling: a BYE, or a
// final failure answer to the INVITE.
func (d *Dialog) Finished() bool { return d.finished }

// Challenged reports whether the INVITE was answered by an authentication
// challenge (401 or 407, RFC 3261 §22.2/§22.3): the caller usually sends it
// again, with credentials, in the same dialog and with a higher CSeq — after
// the user typed a password, perhaps many seconds later.
func (d *Dialog) Challenged() bool {
	return d.finished && d.Answer.IsZero() && (d.Code == 401 || d.Code == 407)
}

// Close settles the status of a dialog at the end of input or on timeout,
// at time t: an INVITE never answered is a no-answer call (cancelled if a
// CANCEL was seen), an answered call without a BYE ends at t.
func (d *Dialog) Close(t time.Time) {
	if d.End.IsZero() {
		d.End = t
	}
	if d.Status == spanrec.Ongoing {
		if d.cancelled {
			d.Status = spanrec.Cancelled
		} else {
			d.Status = spanrec.NoAnswer
		}
	}
	d.finished = true
}

// IsInitialInvite reports whether m starts a dialog: an INVITE request.
func IsInitialInvite(m *sipmsg.Message) bool {
	return m.Request && strings.EqualFold(m.Method, "INVITE")
}
