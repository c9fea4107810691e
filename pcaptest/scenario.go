package pcaptest

import (
	"fmt"
	"net/netip"
	"time"
)

// Tone bands of Concurrent: callers below 1450 Hz, callees above 1550 Hz.
const (
	callerLow, callerHigh = 300, 1450
	calleeLow, calleeHigh = 1550, 3400
)

// Concurrent returns n answered G.711 µ-law calls starting evenly within
// spread, each talking talk, for benchmarks and load tests. Call i goes from
// number 1000+i on phone 10.1.x.y to number 2000+i on the PBX 10.0.0.10
// (numbers 100000+i and 200000+i when n > 1000); every call has its own RTP
// ports and its own pair of tones, the callee's never within 15 Hz of a
// harmonic of the caller's. Tones are distinct across calls up to 1150 calls.
func Concurrent(n int, spread, talk time.Duration) []Call {
	callerBase, calleeBase := 1000, 2000
	if n > 1000 {
		callerBase, calleeBase = 100000, 200000
	}
	pbx := netip.AddrFrom4([4]byte{10, 0, 0, 10})
	used := map[int]bool{}
	calls := make([]Call, n)
	for i := range calls {
		phone := netip.AddrFrom4([4]byte{10, 1, byte(i / 250 % 256), byte(i%250 + 1)})
		ct := callerLow + i*(callerHigh-callerLow)/max(n, 1)
		calls[i] = Call{
			Caller: Endpoint{
				Number: fmt.Sprint(callerBase + i),
				SIP:    phone,
				RTP:    netip.AddrPortFrom(phone, uint16(16384+2*(i%16000))),
				Tone:   ct,
			},
			Callee: Endpoint{
				Number: fmt.Sprint(calleeBase + i),
				SIP:    pbx,
				RTP:    netip.AddrPortFrom(pbx, uint16(20000+2*(i%22000))),
				Tone:   calleeTone(ct, calleeLow+i*(calleeHigh-calleeLow)/max(n, 1), used),
			},
			Start: time.Duration(i) * spread / time.Duration(max(n, 1)),
			Talk:  talk,
		}
	}
	return calls
}

// calleeTone moves t up from want until it is unused and away from the
// harmonics of the caller's tone ct, wrapping within the callee band.
func calleeTone(ct, want int, used map[int]bool) int {
	t := want
	for range calleeHigh - calleeLow {
		if !used[t] && !nearHarmonic(ct, t) {
			break
		}
		t++
		if t >= calleeHigh {
			t = calleeLow
		}
	}
	used[t] = true
	return t
}

func nearHarmonic(f, g int) bool {
	for k := 2; k*f < g+15; k++ {
		if d := g - k*f; d > -15 && d < 15 {
			return true
		}
	}
	return false
}

// Demo returns a small varied set of calls as a PBX's mirror port sees
// them: phones and the PBX on 10.0.0.0/8, the SIP trunk of the provider at
// 203.0.113.10 and a carrier at 198.51.100.20 (RFC 5737 documentation
// ranges), numbers from the 555-01xx fictional range. Seven calls over about
// 20 seconds: an inbound call with early media, an outbound A-law call with
// RFC 4733 digits, an internal G.722 call put on hold, an inbound call to a
// busy phone, an outbound call cancelled while ringing, a teleworker behind
// NAT calling in with SIP INFO digits, and an internal call nobody answers.
// The parties speak (Endpoint.Voice): turns of synthetic vowels and pauses,
// so that a recording's waveform, its silences and its digits read at a
// glance. The tests that check tone frequencies use their own calls.
func Demo() []Call {
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	ap := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	trunk, carrier := ip("203.0.113.10"), ip("198.51.100.20")
	alice := Endpoint{Number: "201", Name: "Alice", SIP: ip("10.0.1.21"), RTP: ap("10.0.1.21:16384")}
	bob := Endpoint{Number: "202", Name: "Bob", SIP: ip("10.0.1.22"), RTP: ap("10.0.1.22:16384")}
	carol := Endpoint{Number: "203", Name: "Carol", SIP: ip("10.0.1.23"), RTP: ap("10.0.1.23:16384")}
	dave := Endpoint{Number: "204", Name: "Dave", SIP: ip("10.0.1.24"), RTP: ap("10.0.1.24:16384")}
	with := func(e Endpoint, voice int, port uint16) Endpoint {
		e.Voice = voice
		if port != 0 {
			e.RTP = netip.AddrPortFrom(e.RTP.Addr(), port)
		}
		return e
	}
	// Fundamental frequencies of the voices, Hz.
	const (
		low, lowish, mid, high, higher = 105, 125, 160, 195, 220
	)
	return []Call{{
		// Inbound from the trunk, with ringback as early media.
		Caller:     Endpoint{Number: "+15555550123", SIP: trunk, RTP: ap("203.0.113.10:30000"), Voice: lowish},
		Callee:     with(alice, high, 0),
		Start:      0,
		Ring:       2 * time.Second,
		Talk:       6 * time.Second,
		EarlyMedia: true,
	}, {
		// Outbound to an IVR over the carrier, A-law, keys pressed.
		Caller: with(bob, low, 0),
		Callee: Endpoint{Number: "+15555550199", SIP: carrier, RTP: ap("198.51.100.20:40000"), Voice: mid},
		Start:  1500 * time.Millisecond,
		Ring:   1500 * time.Millisecond,
		Talk:   6 * time.Second,
		Codec:  "PCMA",
		DTMF:   "1234#",
	}, {
		// Internal wideband call, Carol puts Dave on hold.
		Caller: with(carol, higher, 0),
		Callee: with(dave, lowish, 0),
		Start:  3 * time.Second,
		Talk:   8 * time.Second,
		Codec:  "G722",
		Hold:   &Hold{At: 2 * time.Second, Length: 2500 * time.Millisecond},
	}, {
		// Inbound to Alice while she is on the phone.
		Caller:  Endpoint{Number: "+15555550145", SIP: trunk, RTP: ap("203.0.113.10:30002")},
		Callee:  with(alice, 0, 16388),
		Start:   4 * time.Second,
		Ring:    300 * time.Millisecond,
		Outcome: Busy,
	}, {
		// Outbound, the caller gives up after four seconds of ringing.
		Caller:  with(bob, 0, 16388),
		Callee:  Endpoint{Number: "+15555550177", SIP: carrier, RTP: ap("198.51.100.20:40002")},
		Start:   10 * time.Second,
		Ring:    4 * time.Second,
		Outcome: Cancelled,
	}, {
		// A teleworker's phone behind NAT calls Alice and sends digits as SIP INFO.
		Caller:    Endpoint{Number: "205", Name: "Erin", SIP: ip("192.168.1.10"), RTP: ap("192.168.1.10:4000"), Voice: high},
		Callee:    with(alice, mid, 16392),
		CallerNAT: ap("203.0.113.50:61000"),
		Start:     12 * time.Second,
		Talk:      5 * time.Second,
		DTMFInfo:  "42",
	}, {
		// Internal, nobody picks up.
		Caller:  with(dave, 0, 16388),
		Callee:  with(carol, 0, 16388),
		Start:   14 * time.Second,
		Ring:    5 * time.Second,
		Outcome: NoAnswer,
	}}
}
