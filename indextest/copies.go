package indextest

import (
	"context"
	"log/slog"
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
)

// copyCall returns a call of the copies tests: sensor, Call-ID and tags,
// start and end in milliseconds after T0, and the sides of its decoded
// streams (100 packets each).
func copyCall(id, sensor, callerTag, calleeTag string, start, end int, sides ...spanrec.Side) *spanrec.Call {
	c := &spanrec.Call{
		ID: spanrec.CallID(id), SIPCallID: "3848276298220188511@atlanta.example.com", Sensor: sensor,
		CallerTag: callerTag, CalleeTag: calleeTag, Status: spanrec.Answered,
		Start: T0.Add(time.Duration(start) * time.Millisecond), End: T0.Add(time.Duration(end) * time.Millisecond),
		LinkKeys: []string{"cid:3848276298220188511@atlanta.example.com"},
	}
	for i, side := range sides {
		c.Streams = append(c.Streams, spanrec.Stream{SSRC: uint32(i + 1), Side: side, Decoded: true, Packets: 100, First: c.Start, Last: c.End})
	}
	return c
}

// testSensorConflict: in a central index a call ID is its sensor's;
// another sensor's call with the same ID is refused, and changes nothing.
// A sensor's own index replaces it (the recording replaced its files).
func (s *suite) testSensorConflict(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	a := copyCall("same-id", "switch-a", "1928301774", "a6c85cf", 0, 60000, spanrec.CallerSide, spanrec.CalleeSide)
	put(t, db, a)
	b := copyCall("same-id", "switch-b", "1928301774", "a6c85cf", 0, 60000, spanrec.CallerSide)
	b.Caller.Number = "from-b"
	err := db.PutCall(ctx, b)
	if !s.b.Central {
		got, gerr := db.Call(ctx, "same-id")
		if err != nil || gerr != nil || got.Sensor != "switch-b" || got.Caller.Number != "from-b" || len(got.Streams) != 1 {
			t.Errorf("a sensor's own index: another sensor's call with the same ID: %v, %v, %+v; want it replaced", err, gerr, got)
		}
		return
	}
	if spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Fatalf("PutCall of another sensor's call with the same ID: %v, want a conflict", err)
	}
	got, err := db.Call(ctx, "same-id")
	if err != nil {
		t.Fatal(err)
	}
	if got.Sensor != "switch-a" || got.Caller.Number != "" || len(got.Streams) != 2 {
		t.Errorf("after the refused put: sensor %q, caller %q, %d streams; want switch-a's call", got.Sensor, got.Caller.Number, len(got.Streams))
	}
	// A call of an unnamed sensor (indexed before sensors were named)
	// may be claimed.
	u := copyCall("unnamed", "", "1", "2", 0, 1000)
	put(t, db, u)
	u.Sensor = "switch-a"
	put(t, db, u)
	// The same sensor replaces its call, as ever.
	a.Caller.Number = "again"
	put(t, db, a)
	if got, err := db.Call(ctx, "same-id"); err != nil || got.Caller.Number != "again" {
		t.Errorf("the same sensor's call again: %+v, %v", got, err)
	}
	// ForSensor's ID keeps switch-b's copy beside it.
	b.ID = b.ID.ForSensor(b.Sensor)
	put(t, db, b)
	if got, err := db.Call(ctx, b.ID); err != nil || got.Sensor != "switch-b" || len(got.Copies) != 2 {
		t.Errorf("switch-b's copy under %s: %+v, %v", b.ID, got, err)
	}
}

// testCopies: the same call from two sensors is one interaction whose
// rows name each other as copies, the one with both directions played;
// the same Call-ID and tags a day later, or with another From tag, is
// another call.
func (s *suite) testCopies(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	const day = 24 * 3600 * 1000
	put(t, db,
		copyCall("b-copy", "switch-b", "1928301774", "", 3, 60004, spanrec.CallerSide), // no 2xx seen: no callee tag
		copyCall("a-copy", "switch-a", "1928301774", "a6c85cf", 0, 60000, spanrec.CallerSide, spanrec.CalleeSide),
		copyCall("c-day-later", "switch-b", "1928301774", "a6c85cf", day, day+60000, spanrec.CallerSide, spanrec.CalleeSide),
		copyCall("d-other-tag", "switch-c", "777", "a6c85cf", 1, 60001, spanrec.CallerSide, spanrec.CalleeSide),
		// Another callee's tag: another dialog (a forked INVITE's other
		// branch), not a copy.
		copyCall("e-callee-1", "switch-d", "314159", "1111", 3*day, 3*day+60000, spanrec.CallerSide, spanrec.CalleeSide),
		copyCall("e-callee-2", "switch-e", "314159", "2222", 3*day+2, 3*day+60002, spanrec.CallerSide, spanrec.CalleeSide),
	)
	both := []spanrec.CallCopy{
		{ID: "a-copy", Sensor: "switch-a", Sides: []spanrec.Side{spanrec.CallerSide, spanrec.CalleeSide}, Packets: 200},
		{ID: "b-copy", Sensor: "switch-b", Sides: []spanrec.Side{spanrec.CallerSide}, Packets: 100},
	}
	fromA := map[spanrec.Side]spanrec.CallID{spanrec.CallerSide: "a-copy", spanrec.CalleeSide: "a-copy"}
	for _, id := range []spanrec.CallID{"a-copy", "b-copy"} {
		c, err := db.Call(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(c.Copies, both, copyEqual) || !maps.Equal(c.AudioFrom, fromA) {
			t.Errorf("%s: copies %+v, audio from %v; want %+v, %v", id, c.Copies, c.AudioFrom, both, fromA)
		}
		if c.Interaction != "a-copy" {
			t.Errorf("%s: interaction %s, want a-copy (one conversation)", id, c.Interaction)
		}
	}
	for _, id := range []spanrec.CallID{"c-day-later", "d-other-tag", "e-callee-1", "e-callee-2"} {
		c, err := db.Call(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Copies != nil || c.AudioFrom != nil {
			t.Errorf("%s: copies %+v, audio from %v; want none", id, c.Copies, c.AudioFrom)
		}
	}
	if c, _ := db.Call(ctx, "c-day-later"); c == nil || c.Interaction != "c-day-later" || len(c.Legs) != 0 {
		t.Errorf("the call a day later: %+v; want a conversation of its own", c)
	}
	// The list carries the copies too.
	calls, err := db.Calls(ctx, spanrec.CallFilter{Interaction: "a-copy", Sort: spanrec.SortStart})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		if (c.ID == "a-copy" || c.ID == "b-copy") != (len(c.Copies) == 2) {
			t.Errorf("list: %s has copies %+v", c.ID, c.Copies)
		}
	}

	checkLegsSort(t, db, "copies")

	// Two one-way copies: each direction from the copy that has it.
	put(t, db,
		copyCall("f-caller", "east", "5551", "5552", day*2, day*2+30000, spanrec.CallerSide),
		copyCall("g-callee", "west", "5551", "5552", day*2+5, day*2+30005, spanrec.CalleeSide),
	)
	c, err := db.Call(ctx, "f-caller")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[spanrec.Side]spanrec.CallID{spanrec.CallerSide: "f-caller", spanrec.CalleeSide: "g-callee"}; !maps.Equal(c.AudioFrom, want) || len(c.Copies) != 2 {
		t.Errorf("one-way copies: audio from %v, copies %+v; want %v", c.AudioFrom, c.Copies, want)
	}
	// Deleting a copy leaves the other alone.
	if err := db.DeleteCall(ctx, "g-callee"); err != nil {
		t.Fatal(err)
	}
	if c, err := db.Call(ctx, "f-caller"); err != nil || c.Copies != nil || c.AudioFrom != nil {
		t.Errorf("after deleting its copy: %+v, %v", c, err)
	}
	checkLegsSort(t, db, "after deleting a copy")
}

func copyEqual(x, y spanrec.CallCopy) bool {
	return x.ID == y.ID && x.Sensor == y.Sensor && x.Packets == y.Packets && slices.Equal(x.Sides, y.Sides)
}

// oneWay is a capture source that shifts every frame's time by shift
// and drops the packets sent from drop: what a sensor sees that has only
// one direction of a call mirrored, or a later capture of it.
type oneWay struct {
	capture.Source
	dec   *packet.Decoder
	drop  netip.AddrPort
	shift time.Duration
}

func (o *oneWay) ReadFrame() (capture.Frame, error) {
	for {
		f, err := o.Source.ReadFrame()
		if err != nil {
			return f, err
		}
		f.Time = f.Time.Add(o.shift)
		if o.drop.IsValid() {
			if p, ok := o.dec.Decode(f.Data, packet.LinkType(f.Link), f.Time, f.Orig); ok && p.Src == o.drop {
				continue
			}
		}
		return f, nil
	}
}

// testTwoSensors records a real call (the Wireshark sample nb6-telephone:
// one answered call, G.711 A-law in both directions, tshark: 248 and 261
// RTP packets) as two sensors into one index: switch-a sees all of it;
// switch-b, whose clock is 1.5 ms ahead, misses the callee's RTP on its
// mirror; switch-b also records the same capture replayed a day later.
// The index has one interaction with both rows, each with its sensor and
// streams; switch-a's copy, which has both directions, is played; the
// call a day later is another one. (Two sensors whose copies got the same
// ID are package ship's test: the central index refuses the second (see
// testSensorConflict), and the shipper keeps it under ID.ForSensor.)
func (s *suite) testTwoSensors(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	path := filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "nb6-telephone.pcap")
	quiet := slog.New(slog.DiscardHandler)
	record := func(sensor string, drop netip.AddrPort, shift time.Duration) {
		t.Helper()
		f, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src := &oneWay{Source: f, dec: packet.NewDecoder(packet.Config{}), drop: drop, shift: shift}
		defer src.Close()
		cfg := recorder.Config{Call: call.Config{DataDir: t.TempDir(), Sensor: sensor}, Renderers: 1, Logger: quiet}
		if sum, err := recorder.Import(ctx, cfg, src, db, nil); err != nil || sum.Errors > 0 {
			t.Fatalf("import as %s: %v (%d errors)", sensor, err, sum.Errors)
		}
	}
	record("switch-a", netip.AddrPort{}, 0)
	all, err := db.Calls(ctx, spanrec.CallFilter{Status: spanrec.Answered})
	if err != nil || len(all) != 1 {
		t.Fatalf("switch-a: %d answered calls, %v; want nb6-telephone's one", len(all), err)
	}
	a := all[0]
	var calleeRTP netip.AddrPort
	sides := map[spanrec.Side]int{}
	for _, st := range a.Streams {
		if st.Decoded {
			sides[st.Side] += st.Packets
		}
		if st.Side == spanrec.CalleeSide {
			calleeRTP = st.Src
		}
	}
	if sides[spanrec.CallerSide] != 248 || sides[spanrec.CalleeSide] != 261 || !calleeRTP.IsValid() || a.CallerTag == "" || a.CalleeTag == "" {
		t.Fatalf("switch-a's call: decoded packets by side %v, callee's RTP from %v, tags %q %q; want both sides (tshark: 248, 261)", sides, calleeRTP, a.CallerTag, a.CalleeTag)
	}
	record("switch-b", calleeRTP, 1500*time.Microsecond)
	record("switch-b", netip.AddrPort{}, 24*time.Hour)

	rows, err := db.Calls(ctx, spanrec.CallFilter{SIPCallID: a.SIPCallID, Sort: spanrec.SortStart})
	if err != nil || len(rows) != 3 {
		t.Fatalf("rows of %s: %d, %v; want switch-a's, switch-b's and the one a day later", a.SIPCallID, len(rows), err)
	}
	ca, cb, later := rows[0], rows[1], rows[2]
	if ca.ID != a.ID || cb.Sensor != "switch-b" || later.Sensor != "switch-b" {
		t.Fatalf("rows %s (%s), %s (%s), %s (%s): want switch-a's call first", ca.ID, ca.Sensor, cb.ID, cb.Sensor, later.ID, later.Sensor)
	}
	if len(ca.Streams) != len(a.Streams) || len(cb.Streams) == 0 {
		t.Errorf("streams kept: switch-a %d of %d, switch-b %d", len(ca.Streams), len(a.Streams), len(cb.Streams))
	}
	for _, st := range cb.Streams {
		if st.Decoded && st.Side == spanrec.CalleeSide {
			t.Errorf("switch-b's copy has the callee's audio, which its mirror did not see: %+v", st)
		}
	}
	if ca.Interaction != cb.Interaction || !slices.Contains(ca.Legs, cb.ID) || !slices.Contains(cb.Legs, ca.ID) {
		t.Errorf("switch-a's interaction %s legs %v, switch-b's %s legs %v: want one interaction", ca.Interaction, ca.Legs, cb.Interaction, cb.Legs)
	}
	wantFrom := map[spanrec.Side]spanrec.CallID{spanrec.CallerSide: ca.ID, spanrec.CalleeSide: ca.ID}
	for _, c := range []*spanrec.Call{ca, cb} {
		if len(c.Copies) != 2 || c.Copies[0].ID != ca.ID || c.Copies[1].ID != cb.ID ||
			!slices.Equal(c.Copies[0].Sides, []spanrec.Side{spanrec.CallerSide, spanrec.CalleeSide}) ||
			!slices.Equal(c.Copies[1].Sides, []spanrec.Side{spanrec.CallerSide}) || !maps.Equal(c.AudioFrom, wantFrom) {
			t.Errorf("%s (%s): copies %+v, audio from %v; want switch-a's (both directions) first, then switch-b's (caller)", c.ID, c.Sensor, c.Copies, c.AudioFrom)
		}
	}
	if later.Copies != nil || later.Interaction == ca.Interaction || len(later.Legs) != 0 {
		t.Errorf("the call a day later: copies %+v, interaction %s, legs %v; want a call of its own", later.Copies, later.Interaction, later.Legs)
	}
	// One conversation per interaction: the copies count once.
	n, err := db.Count(ctx, spanrec.CallFilter{SIPCallID: a.SIPCallID, GroupInteraction: true})
	if err != nil || n != 2 {
		t.Errorf("conversations with Call-ID %s: %d, %v; want 2", a.SIPCallID, n, err)
	}
	checkLegsSort(t, db, "two sensors' copies")
}
