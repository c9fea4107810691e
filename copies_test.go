package spanrec_test

import (
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

func TestSameCall(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	base := spanrec.Call{ID: "a", Sensor: "east", SIPCallID: "x@h", CallerTag: "1", CalleeTag: "2", Start: t0, End: t0.Add(time.Minute)}
	for _, tt := range []struct {
		name string
		edit func(*spanrec.Call)
		want bool
	}{
		{"another sensor's copy", func(c *spanrec.Call) { c.Start = c.Start.Add(3 * time.Millisecond) }, true},
		{"callee's tag not seen", func(c *spanrec.Call) { c.CalleeTag = "" }, true},
		{"a short call, 5 s later (unanswered, no end)", func(c *spanrec.Call) { c.Start, c.End = t0.Add(65*time.Second), time.Time{} }, true},
		{"the same sensor", func(c *spanrec.Call) { c.Sensor = "east" }, false},
		{"the same row", func(c *spanrec.Call) { c.ID = "a" }, false},
		{"another Call-ID", func(c *spanrec.Call) { c.SIPCallID = "y@h" }, false},
		{"another caller's tag", func(c *spanrec.Call) { c.CallerTag = "9" }, false},
		{"another callee's tag", func(c *spanrec.Call) { c.CalleeTag = "9" }, false},
		{"a day later", func(c *spanrec.Call) { c.Start, c.End = c.Start.Add(24*time.Hour), c.End.Add(24*time.Hour) }, false},
		{"11 s after the end", func(c *spanrec.Call) { c.Start, c.End = t0.Add(71*time.Second), t0.Add(90*time.Second) }, false},
	} {
		b := base
		b.ID, b.Sensor = "b", "west"
		tt.edit(&b)
		if got := spanrec.SameCall(&base, &b); got != tt.want {
			t.Errorf("%s: SameCall = %v", tt.name, got)
		}
		if got := spanrec.SameCall(&b, &base); got != tt.want {
			t.Errorf("%s, the other way: SameCall = %v", tt.name, got)
		}
	}
	none := base
	none.SIPCallID, none.CallerTag = "", ""
	other := none
	other.ID, other.Sensor = "b", "west"
	if spanrec.SameCall(&none, &other) {
		t.Error("calls without a Call-ID and tags (RTP alone) are copies")
	}
}

func TestForSensor(t *testing.T) {
	id := spanrec.NewCallID("x@h", time.Unix(0, 1))
	a, b := id.ForSensor("switch-b"), id.ForSensor("switch-c")
	if a == id || a == b || a != id.ForSensor("switch-b") || len(a) != len(id) {
		t.Errorf("ForSensor: %s → %s, %s", id, a, b)
	}
}
