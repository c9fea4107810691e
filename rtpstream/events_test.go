package rtpstream_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/spanrec/spanrec/rtpstream"
)

// ev is one RFC 4733 packet: event code, end bit, duration (8 kHz units),
// RTP timestamp, marker, and arrival in ms after testStart.
type ev struct {
	code   byte
	end    bool
	dur    uint16
	ts     uint32
	marker bool
	atMS   int
}

func (e ev) payload() []byte {
	p := []byte{e.code, 10, 0, 0} // volume 10
	if e.end {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], e.dur)
	return p
}

// press returns the packets of one well-behaved key press starting at
// timestamp ts and arrival atMS: a marked start, updates every 20 ms and
// three end packets (RFC 4733 §2.5.1.4).
func press(code byte, ts uint32, atMS int, updates int) []ev {
	ps := []ev{{code: code, ts: ts, marker: true, atMS: atMS, dur: 160}}
	for i := 1; i <= updates; i++ {
		ps = append(ps, ev{code: code, ts: ts, atMS: atMS + 20*i, dur: uint16(160 * (i + 1))})
	}
	end := uint16(160 * (updates + 1))
	for i := range 3 {
		ps = append(ps, ev{code: code, ts: ts, end: true, dur: end, atMS: atMS + 20*(updates+1) + i})
	}
	return ps
}

func runEvents(e *rtpstream.Events, ps []ev) []rtpstream.Digit {
	var started []rtpstream.Digit
	for i, p := range ps {
		h := rtpstream.Header{Version: 2, PayloadType: 101, Seq: uint16(i), Timestamp: p.ts, Marker: p.marker}
		if d, ok := e.Update(h, p.payload(), testStart.Add(time.Duration(p.atMS)*time.Millisecond), 8000); ok {
			started = append(started, d)
		}
	}
	return started
}

func cat(parts ...[]ev) []ev {
	var out []ev
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func at(ms int) time.Time { return testStart.Add(time.Duration(ms) * time.Millisecond) }

func TestEvents(t *testing.T) {
	five := press(5, 8000, 1000, 4)   // 5 × 20 ms: 100 ms
	hash := press(11, 16000, 2000, 9) // 200 ms
	tests := []struct {
		name    string
		pkts    []ev
		starts  string // digits reported as starting, in order
		want    []rtpstream.Digit
		dropped int
	}{
		{
			name:   "one press, three end packets count once",
			pkts:   five,
			starts: "5",
			want:   []rtpstream.Digit{{Digit: "5", At: at(1000), Duration: 100 * time.Millisecond, Volume: 10, Ended: true}},
		},
		{
			name:   "two presses of the same key",
			pkts:   cat(five, press(5, 9600, 1300, 1)),
			starts: "55",
			want: []rtpstream.Digit{
				{Digit: "5", At: at(1000), Duration: 100 * time.Millisecond, Volume: 10, Ended: true},
				{Digit: "5", At: at(1300), Duration: 40 * time.Millisecond, Volume: 10, Ended: true},
			},
		},
		{
			name:   "start packets lost: At is back-dated by the duration",
			pkts:   cat(five[2:], hash),
			starts: "5#",
			want: []rtpstream.Digit{
				{Digit: "5", At: at(1040 - 60), Duration: 100 * time.Millisecond, Volume: 10, Ended: true},
				{Digit: "#", At: at(2000), Duration: 200 * time.Millisecond, Volume: 10, Ended: true},
			},
		},
		{
			name:   "only an end packet survived",
			pkts:   five[len(five)-1:],
			starts: "5",
			want:   []rtpstream.Digit{{Digit: "5", At: at(1102 - 100), Duration: 100 * time.Millisecond, Volume: 10, Ended: true}},
		},
		{
			name:   "end retransmissions arriving after the next press started",
			pkts:   cat(five[:5], hash[:3], five[5:], hash[3:]),
			starts: "5#",
			want: []rtpstream.Digit{
				{Digit: "5", At: at(1000), Duration: 100 * time.Millisecond, Volume: 10, Ended: true},
				{Digit: "#", At: at(2000), Duration: 200 * time.Millisecond, Volume: 10, Ended: true},
			},
		},
		{
			name:   "reordered: a whole earlier press arrives late",
			pkts:   cat(hash[:2], five, hash[2:]),
			starts: "#5",
			want: []rtpstream.Digit{
				{Digit: "5", At: at(1000), Duration: 100 * time.Millisecond, Volume: 10, Ended: true},
				{Digit: "#", At: at(2000), Duration: 200 * time.Millisecond, Volume: 10, Ended: true},
			},
		},
		{
			name:   "end never seen",
			pkts:   five[:3],
			starts: "5",
			want:   []rtpstream.Digit{{Digit: "5", At: at(1000), Duration: 60 * time.Millisecond, Volume: 10}},
		},
		{
			name: "long event in two segments (RFC 4733 §2.5.1.3)",
			pkts: []ev{
				{code: 16, ts: 1000, marker: true, dur: 160, atMS: 0},
				{code: 16, ts: 1000, dur: 0xffff, atMS: 8190},
				{code: 16, ts: 1000 + 0xffff, dur: 800, atMS: 8300},
				{code: 16, ts: 1000 + 0xffff, dur: 1600, end: true, atMS: 8400},
			},
			starts: "flash",
			want:   []rtpstream.Digit{{Digit: "flash", At: at(0), Duration: time.Duration(0xffff+1600) * time.Second / 8000, Volume: 10, Ended: true}},
		},
		{
			name:   "tones that are not keys (fax ANS, event 32) are not digits",
			pkts:   cat(press(32, 100, 0, 3), press(12, 5000, 500, 0)),
			starts: "A",
			want:   []rtpstream.Digit{{Digit: "A", At: at(500), Duration: 20 * time.Millisecond, Volume: 10, Ended: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e rtpstream.Events
			started := runEvents(&e, tt.pkts)
			s := ""
			for _, d := range started {
				s += d.Digit
			}
			if s != tt.starts {
				t.Errorf("digits started %q, want %q", s, tt.starts)
			}
			got := e.Digits()
			if len(got) != len(tt.want) {
				t.Fatalf("digits %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("digit %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestEventsIgnoresShortPayloadsAndDefaultsClock(t *testing.T) {
	var e rtpstream.Events
	h := rtpstream.Header{Version: 2, Marker: true, Timestamp: 1}
	if _, ok := e.Update(h, []byte{1, 2, 3}, testStart, 8000); ok {
		t.Error("3-byte payload taken as an event")
	}
	d, ok := e.Update(h, []byte{1, 0x80, 0x03, 0x20}, testStart, 0)
	if !ok || d.Digit != "1" || d.Duration != 100*time.Millisecond || !d.Ended {
		t.Errorf("got %+v %v; want digit 1 of 100 ms at the default 8000 Hz", d, ok)
	}
}

func TestEventsBounded(t *testing.T) {
	var e rtpstream.Events
	for i := range 5000 {
		h := rtpstream.Header{Version: 2, Marker: true, Timestamp: uint32(i) * 1000}
		e.Update(h, []byte{byte(i % 16), 0x80, 0, 160}, testStart.Add(time.Duration(i)*time.Second), 8000)
	}
	if n := len(e.Digits()); n != 4096 || e.Dropped() != 5000-4096 {
		t.Errorf("kept %d, dropped %d", n, e.Dropped())
	}
}

func FuzzEvents(f *testing.F) {
	// Each 9-byte record is one packet: marker, timestamp (4), payload (4).
	f.Add([]byte{1, 0, 0, 0, 1, 5, 10, 0, 160, 0, 0, 0, 0, 1, 5, 0x8a, 3, 32})
	f.Add([]byte{0, 0, 0, 0, 1, 16, 0x80, 0xff, 0xff, 0, 0, 1, 0, 0, 16, 0x80, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e rtpstream.Events
		n := 0
		for ; len(b) >= 9; b = b[9:] {
			h := rtpstream.Header{Version: 2, Marker: b[0]&1 != 0, Timestamp: binary.BigEndian.Uint32(b[1:5])}
			e.Update(h, b[5:9], testStart.Add(time.Duration(n)*20*time.Millisecond), int(b[0]>>1)*1000)
			n++
		}
		ds := e.Digits()
		if len(ds) > n {
			t.Fatalf("%d digits from %d packets", len(ds), n)
		}
		for _, d := range ds {
			if d.Digit == "" || d.Duration < 0 || d.Volume < 0 || d.Volume > 63 {
				t.Fatalf("bad digit %+v", d)
			}
		}
	})
}
