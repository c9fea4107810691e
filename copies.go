package spanrec

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"time"
)

// The same call seen by two sensors.
//
// A call between phones on two switches, each mirrored to its own
// recorder, is recorded twice: two rows with different IDs (a CallID
// hashes the start time, which each sensor's clock and position see a
// little differently), each with its sensor, streams and files. In an
// index that gathers both sensors' calls they are one call: the index
// keeps both rows, links them into one interaction (they share their
// Call-ID's link key), and names them in Call.Copies, with the copy to
// play first and, per direction, the copy that holds it (Call.AudioFrom).

// CopySlack is how far apart in time two sensors' copies of a call may
// lie and still be one call: their spans, each from its start to its end,
// overlap once either is widened by it. A Call-ID and tags reused later
// (a day later) are another call.
const CopySlack = 10 * time.Second

// CallCopy is one sensor's recording of a call that several sensors
// recorded.
type CallCopy struct {
	ID     CallID `json:"id"`
	Sensor string `json:"sensor"`
	// Sides are the directions whose audio the copy's recording holds
	// (the sides of its decoded streams), caller first.
	Sides []Side `json:"sides"`
	// Packets counts the packets of its decoded streams.
	Packets int `json:"packets"`
}

// SameCall reports whether a and b are copies of one call recorded by two
// sensors: different sensors, the same SIP Call-ID and caller's tag, the
// callee's tags equal (or one not seen: a sensor that saw only the
// caller's packets may still have it from the ACK, but a failed call may
// have none), and spans that overlap within CopySlack. Calls without a
// Call-ID or a caller's tag (found as RTP alone, or joined mid-dialog)
// are never copies.
func SameCall(a, b *Call) bool {
	if a.ID == b.ID || a.Sensor == b.Sensor || a.SIPCallID == "" || a.SIPCallID != b.SIPCallID ||
		a.CallerTag == "" || a.CallerTag != b.CallerTag {
		return false
	}
	if a.CalleeTag != "" && b.CalleeTag != "" && a.CalleeTag != b.CalleeTag {
		return false
	}
	return b.Start.Before(lastOf(a).Add(CopySlack)) && a.Start.Before(lastOf(b).Add(CopySlack))
}

// lastOf returns the end of c, or its start when it has none.
func lastOf(c *Call) time.Time {
	if c.End.IsZero() || c.End.Before(c.Start) {
		return c.Start
	}
	return c.End
}

// CopyOf describes c as a copy: its sensor and the directions its
// recording holds, from its streams.
func CopyOf(c *Call) CallCopy {
	cp := CallCopy{ID: c.ID, Sensor: c.Sensor, Sides: []Side{}}
	var has [2]bool
	for _, s := range c.Streams {
		if !s.Decoded || s.Packets <= 0 {
			continue
		}
		cp.Packets += s.Packets
		switch s.Side {
		case CallerSide:
			has[0] = true
		case CalleeSide:
			has[1] = true
		}
	}
	if has[0] {
		cp.Sides = append(cp.Sides, CallerSide)
	}
	if has[1] {
		cp.Sides = append(cp.Sides, CalleeSide)
	}
	return cp
}

// SetCopies sets c.Copies and c.AudioFrom from others, the calls the
// index found with c's Call-ID (those that are not SameCall as c are left
// out): nothing when none is a copy. The copies are ordered to be played:
// first the copies that hold both directions, then those that hold more
// of them, then more decoded packets, then by ID; each direction's audio
// comes from the first copy that holds it.
func SetCopies(c *Call, others []*Call) {
	c.Copies, c.AudioFrom = nil, nil
	copies := []CallCopy{CopyOf(c)}
	for _, o := range others {
		if SameCall(c, o) {
			copies = append(copies, CopyOf(o))
		}
	}
	if len(copies) == 1 {
		return
	}
	slices.SortFunc(copies, func(x, y CallCopy) int {
		if n := cmp.Compare(len(y.Sides), len(x.Sides)); n != 0 {
			return n
		}
		if n := cmp.Compare(y.Packets, x.Packets); n != 0 {
			return n
		}
		return cmp.Compare(x.ID, y.ID)
	})
	c.Copies = copies
	c.AudioFrom = map[Side]CallID{}
	for _, side := range []Side{CallerSide, CalleeSide} {
		for _, cp := range copies {
			if slices.Contains(cp.Sides, side) {
				c.AudioFrom[side] = cp.ID
				break
			}
		}
	}
}

// ForSensor returns the ID under which a central index keeps sensor's
// copy of the call id when another sensor's call holds id there already:
// two sensors that saw a call's first INVITE at the same nanosecond (or
// imported one capture) give it the same ID. It depends on id and sensor
// only, so shipping the call again finds the same row.
func (id CallID) ForSensor(sensor string) CallID {
	h := sha256.New()
	io.WriteString(h, string(id))
	io.WriteString(h, "\x00sensor\x00")
	io.WriteString(h, sensor)
	return CallID(hex.EncodeToString(h.Sum(nil))[:20])
}
