package pcaptest

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// B2BUA describes one conversation through a back-to-back user agent (a
// PBX or SBC): two calls with their own Call-IDs, the caller to the PBX
// (leg A) and the PBX to the callee (leg B).
type B2BUA struct {
	// Caller and Callee are the two phones; their numbers, addresses and
	// tones as in Endpoint (Number and SIP are required, RTP defaults to
	// the SIP address, port 16384 and 16386).
	Caller, Callee Endpoint
	// PBX is the B2BUA's address: its SIP and, without DirectMedia, its
	// media ports PBXPort and PBXPort+2.
	PBX     netip.Addr
	PBXPort uint16 // default 20000
	// CallIDs are the legs' Call-IDs; default b2bua-a-N@caller and
	// b2bua-b-N@pbx, N the index given to Legs.
	CallIDs [2]string
	Start   time.Duration // leg A's INVITE
	Ring    time.Duration // leg A's INVITE → its 200 OK; default 1s
	Talk    time.Duration // leg A's 200 OK → BYE; default 3s
	// DirectMedia makes the PBX hand each phone the other's media address
	// (both legs' final SDP name the same two endpoints): the RTP flows
	// once, phone to phone, and leg A's capture has no RTP of its own.
	// Without it the media goes through the PBX: each leg has its own.
	DirectMedia bool
	// Headers are header lines the PBX puts in leg B's INVITE; "{a}"
	// stands for leg A's Call-ID (X-Orig-Call-ID: {a}).
	Headers []string
	// HeadersA are header lines of leg A's INVITE, as the caller sends it.
	HeadersA []string
}

// Legs returns the two calls of the conversation, leg A first, for call
// index n (which only picks default Call-IDs). Leg B starts 20 ms after
// leg A and is answered 20 ms before it; the PBX sends leg B's BYE 10 ms
// after leg A's. Leg A's callee and leg B's caller are the PBX, with the
// far phone's number; each leg's channels carry the caller's and the
// callee's tones.
func (b B2BUA) Legs(n int) []Call {
	if b.PBXPort == 0 {
		b.PBXPort = 20000
	}
	if b.Ring == 0 {
		b.Ring = time.Second
	}
	if b.Talk == 0 {
		b.Talk = 3 * time.Second
	}
	if !b.Caller.RTP.IsValid() {
		b.Caller.RTP = netip.AddrPortFrom(b.Caller.SIP, 16384)
	}
	if !b.Callee.RTP.IsValid() {
		b.Callee.RTP = netip.AddrPortFrom(b.Callee.SIP, 16386)
	}
	if b.CallIDs[0] == "" {
		b.CallIDs[0] = fmt.Sprintf("b2bua-a-%d@%s", n, uriHost(b.Caller.SIP))
	}
	if b.CallIDs[1] == "" {
		b.CallIDs[1] = fmt.Sprintf("b2bua-b-%d@%s", n, uriHost(b.PBX))
	}
	toB := Endpoint{Number: b.Callee.Number, Name: b.Callee.Name, SIP: b.PBX, Tone: b.Callee.Tone,
		RTP: netip.AddrPortFrom(b.PBX, b.PBXPort)}
	fromA := Endpoint{Number: b.Caller.Number, Name: b.Caller.Name, SIP: b.PBX, Tone: b.Caller.Tone,
		RTP: netip.AddrPortFrom(b.PBX, b.PBXPort+2)}
	if b.DirectMedia {
		toB.RTP, fromA.RTP = b.Callee.RTP, b.Caller.RTP
	}
	hs := make([]string, len(b.Headers))
	for i, h := range b.Headers {
		hs[i] = strings.ReplaceAll(h, "{a}", b.CallIDs[0])
	}
	const lag = 20 * time.Millisecond
	return []Call{
		{CallID: b.CallIDs[0], Caller: b.Caller, Callee: toB, Start: b.Start, Ring: b.Ring, Talk: b.Talk,
			Headers: b.HeadersA, SignalOnly: b.DirectMedia},
		{CallID: b.CallIDs[1], Caller: fromA, Callee: b.Callee, Start: b.Start + lag, Ring: b.Ring - 2*lag,
			Talk: b.Talk + 2*lag + 10*time.Millisecond, Headers: hs},
	}
}
