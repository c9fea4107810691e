package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// TestQuality reads the quality over time of the Wireshark SIP_DTMF2
// sample's call (two PCMA streams, one with 2 packets lost): per stream,
// 5 s intervals that add up to the stream's packets and losses, in the
// order of the call's streams.
func TestQuality(t *testing.T) {
	f := readOnly(t)
	c := f.callWith(t, func(c *spanrec.Call) bool {
		for _, s := range c.Streams {
			if s.Lost > 0 {
				return true
			}
		}
		return false
	})
	var res struct {
		Streams []struct {
			SSRC    uint32 `json:"ssrc"`
			Side    string `json:"side"`
			Quality *spanrec.StreamQuality
		}
	}
	f.login(t, "sue").getJSON("/api/calls/"+string(c.ID)+"/quality", http.StatusOK, &res)
	if len(res.Streams) != len(c.Streams) {
		t.Fatalf("%d streams, the call has %d", len(res.Streams), len(c.Streams))
	}
	for i, sq := range res.Streams {
		st := c.Streams[i]
		q := sq.Quality
		if sq.SSRC != st.SSRC || q == nil || q.IntervalMS != 5000 {
			t.Fatalf("stream %d: %+v", i, sq)
		}
		packets, lost := 0, 0
		for j, iv := range q.Intervals {
			packets += iv.Packets
			lost += iv.Lost
			if iv.Packets > 0 && (iv.MOS < 1 || iv.MOS > 4.5) {
				t.Errorf("stream %d interval %d: MOS %.2f", i, j, iv.MOS)
			}
		}
		if packets != st.Packets || lost != st.Lost {
			t.Errorf("stream %d: intervals hold %d packets, %d lost; the stream %d and %d", i, packets, lost, st.Packets, st.Lost)
		}
		if span := st.Last.Sub(st.First); len(q.Intervals) != int(span/(5*time.Second))+1 {
			t.Errorf("stream %d: %d intervals over %v", i, len(q.Intervals), span)
		}
	}
	// An agent asking for a call that is not hers gets 404.
	other := f.callWith(t, otherCall)
	res2, body := f.login(t, "agnes").do("GET", "/api/calls/"+string(other.ID)+"/quality", nil)
	wantError(t, "agent reads another's quality", res2, body, http.StatusNotFound)
}
