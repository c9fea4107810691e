package rtpstream

import (
	"encoding/binary"
	"time"
)

// Digit is one key press decoded from RFC 4733 telephone events.
type Digit struct {
	// Digit is "0"–"9", "*", "#", "A"–"D", or "flash" (events 0–16, RFC
	// 4733 §3.2).
	Digit string
	// At is when the key went down: the capture time of the event's first
	// packet, or, when its first packets were lost, of the first packet
	// seen minus the duration that packet reports.
	At time.Time
	// Duration is the event's length from its end packets (E bit), or the
	// longest duration seen when no end packet arrived.
	Duration time.Duration
	// Volume is the tone's power level in dB below 1 mW (−dBm0, RFC 4733
	// §2.3.4): 0 is loudest, 63 quietest. It is taken from the first packet
	// seen.
	Volume int
	// Ended reports whether an end packet (E bit) was seen.
	Ended bool
}

// maxEvents bounds the events an Events keeps, so that a hostile stream with
// a new timestamp in every packet cannot grow it without end.
const maxEvents = 4096

// recentEvents is how many of the latest events a packet is matched against
// by timestamp; retransmitted end packets and reordered packets of an older
// event find it among them.
const recentEvents = 8

// longSegment is the duration above which an event that goes on under a new
// timestamp is a long event's next segment (RFC 4733 §2.5.1.3) and not a new
// key press.
const longSegment = 0xff00

// event is one telephone event being tracked.
type event struct {
	ts      uint32 // RTP timestamp of its (first segment's) start
	segTS   uint32 // RTP timestamp of its current segment
	code    uint8
	dur     uint32 // longest duration seen, timestamp units, all segments
	segDur  uint32 // longest duration seen in the current segment
	ended   bool
	rate    int
	at      time.Time
	volume  int
	isDigit bool
}

// Events decodes the RFC 4733 telephone-event payloads of one RTP stream
// into key presses. Every event is one digit, identified by its RTP
// timestamp (RFC 4733 §2.2.1), so that its repeated updates and its three
// end packets count once, retransmitted or reordered packets of an older
// event update that event, and an event whose first packets were lost is
// still found. Events 17 and up (tones such as fax answer tones) are
// followed but are not digits.
//
// The zero value is ready to use. An Events is not safe for concurrent use.
type Events struct {
	events  []event
	dropped int
}

var digitNames = [17]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "A", "B", "C", "D", "flash"}

// Update accounts one telephone-event packet with header h, payload (from
// [Parse]; not retained), capture time t and clockRate, the RTP clock rate of
// the telephone-event payload type (0 means the default 8000 Hz, RFC 4733
// §7.1.1). It returns the digit and ok = true when the packet starts a new
// key press; the digit's Duration is then what that packet reports so far.
// Payloads shorter than 4 bytes are ignored.
func (e *Events) Update(h Header, payload []byte, t time.Time, clockRate int) (d Digit, ok bool) {
	if len(payload) < 4 {
		return Digit{}, false
	}
	// RFC 4733 §2.3: event, E bit, R bit, 6-bit volume, 16-bit duration.
	code := payload[0]
	end := payload[1]&0x80 != 0
	volume := int(payload[1] & 0x3f)
	dur := uint32(binary.BigEndian.Uint16(payload[2:4]))
	if clockRate <= 0 {
		clockRate = 8000
	}

	if ev := e.find(h.Timestamp); ev != nil {
		ev.update(h.Timestamp, dur, end)
		return Digit{}, false
	}
	if n := len(e.events); n > 0 {
		last := &e.events[n-1]
		// RFC 4733 §2.5.1.3: a long event goes on in a new segment
		// whose timestamp is advanced by the earlier segments'
		// duration, and whose first packet carries no marker bit.
		if !last.ended && !h.Marker && code == last.code && last.segDur >= longSegment &&
			h.Timestamp-last.segTS == last.segDur {
			last.segTS = h.Timestamp
			last.segDur = 0
			last.update(h.Timestamp, dur, end)
			return Digit{}, false
		}
	}
	if len(e.events) >= maxEvents {
		e.dropped++
		return Digit{}, false
	}
	ev := event{
		ts: h.Timestamp, segTS: h.Timestamp, code: code, rate: clockRate,
		at: t, volume: volume, isDigit: int(code) < len(digitNames),
	}
	// RFC 4733 §2.2.2: the first packet of an event has the marker bit
	// set. Without it the start was lost; the duration so far says when
	// the event began.
	if !h.Marker && dur > 0 {
		ev.at = t.Add(-ev.timeOf(dur))
	}
	ev.update(h.Timestamp, dur, end)
	e.insert(ev)
	if !ev.isDigit {
		return Digit{}, false
	}
	return ev.digit(), true
}

// find returns the recent event with timestamp ts (of its first or current
// segment), or nil.
func (e *Events) find(ts uint32) *event {
	for i := len(e.events) - 1; i >= 0 && i >= len(e.events)-recentEvents; i-- {
		if ev := &e.events[i]; ev.ts == ts || ev.segTS == ts {
			return ev
		}
	}
	return nil
}

// insert adds ev in timestamp order among the recent events: an event whose
// packets all arrived after a later event's goes before it.
func (e *Events) insert(ev event) {
	i := len(e.events)
	for i > 0 && i > len(e.events)-recentEvents && int32(ev.ts-e.events[i-1].ts) < 0 {
		i--
	}
	e.events = append(e.events, event{})
	copy(e.events[i+1:], e.events[i:])
	e.events[i] = ev
}

func (ev *event) update(ts, dur uint32, end bool) {
	if ts == ev.segTS && dur > ev.segDur {
		ev.segDur = dur
	}
	if total := ev.segTS - ev.ts + ev.segDur; total > ev.dur {
		ev.dur = total
	}
	if end {
		ev.ended = true
	}
}

func (ev *event) timeOf(units uint32) time.Duration {
	return time.Duration(int64(units) * int64(time.Second) / int64(ev.rate))
}

func (ev *event) digit() Digit {
	return Digit{
		Digit:    digitNames[ev.code],
		At:       ev.at,
		Duration: ev.timeOf(ev.dur),
		Volume:   ev.volume,
		Ended:    ev.ended,
	}
}

// Digits returns every key press seen so far, in the order they were made,
// with their durations as known now; a digit whose end was never seen has
// Ended false and the longest duration seen. The slice is the caller's.
func (e *Events) Digits() []Digit {
	var ds []Digit
	for i := range e.events {
		if e.events[i].isDigit {
			ds = append(ds, e.events[i].digit())
		}
	}
	return ds
}

// Dropped returns how many events were ignored because the Events already
// held the most it keeps (4096).
func (e *Events) Dropped() int { return e.dropped }
