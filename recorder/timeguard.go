package recorder

import (
	"time"

	"github.com/spanrec/spanrec/packet"
)

// Capture-time sanity. Every stage takes its time from packets, so one
// record with an absurd capture time (a corrupt pcap record, a capture
// merged from a host whose clock was wrong) would move the clock of every
// call in progress: decades ahead, it ends them all (their media timeout
// passes) and its audio would be placed decades after the call's start.
//
// A packet whose time is more than maxClockJump away from the capture
// clock (the latest time admitted) is therefore held, not handled, until
// confirmAfter packets agree on the new time (a real gap in the capture,
// or a clock that was stepped): then they are all handled, in order, and
// the clock moves. A packet near the old clock that comes first
// contradicts them: they are skipped and counted (Summary.BadTime). Until
// the first packets agree the clock is unknown, so a bad first record is
// caught too. In live capture the kernel stamps the packets, so only a
// stepped system clock triggers it.
const (
	maxClockJump = 10 * time.Minute
	confirmAfter = 8
)

// timeGuard is the worker's capture clock (see above). It is not safe for
// concurrent use.
type timeGuard struct {
	now     time.Time       // latest admitted packet time; zero until confirmed
	held    []packet.Packet // owned copies, all within maxClockJump of held[0]
	skipped int             // packets skipped for their time
}

// admit passes p to handle if its time is plausible, or holds it; when p
// confirms the held packets, they are handled first, in order.
func (g *timeGuard) admit(p *packet.Packet, handle func(*packet.Packet)) {
	if !g.now.IsZero() && near(p.Time, g.now) {
		if len(g.held) > 0 {
			g.skip()
		}
		if p.Time.After(g.now) {
			g.now = p.Time
		}
		handle(p)
		return
	}
	if len(g.held) > 0 && !near(p.Time, g.held[0].Time) {
		g.skip()
	}
	g.held = append(g.held, p.Clone())
	if len(g.held) >= confirmAfter {
		g.release(handle)
	}
}

// end is called at the end of a capture: held packets are handled if no
// packet came before them (nothing contradicts them), else skipped.
func (g *timeGuard) end(handle func(*packet.Packet)) {
	if g.now.IsZero() {
		g.release(handle)
		return
	}
	g.skip()
}

func (g *timeGuard) release(handle func(*packet.Packet)) {
	held := g.held
	g.held = nil
	for i := range held {
		if held[i].Time.After(g.now) || g.now.IsZero() || !near(held[i].Time, g.now) {
			g.now = held[i].Time
		}
		handle(&held[i])
	}
}

func (g *timeGuard) skip() {
	g.skipped += len(g.held)
	clear(g.held)
	g.held = g.held[:0]
}

func near(a, b time.Time) bool {
	// Whole seconds apart first (time.Sub checks for overflow, at a
	// cost paid per packet): under maxClockJump by more than a second,
	// the nanoseconds cannot change the answer.
	if ds := a.Unix() - b.Unix(); ds < int64(maxClockJump/time.Second)-1 && ds > -int64(maxClockJump/time.Second)+1 {
		return true
	}
	d := a.Sub(b)
	return d <= maxClockJump && d >= -maxClockJump
}
