package call

import (
	"bytes"
	"testing"
	"time"

	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/sipmsg"
)

// TestJournalCarriesStreamStats: a live recorder killed mid-call recovers
// the call from its journal; the journal's stream statistics must be
// those of the last flush, not of the last SIP message (a recovered call
// said 18 and 17 packets for about 345 sent).
func TestJournalCarriesStreamStats(t *testing.T) {
	var buf bytes.Buffer
	o := pcaptest.Options{Seed: 1, Calls: []pcaptest.Call{{Talk: 10 * time.Second}}}
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	a := NewAssembler(Config{DataDir: data, Journal: true}, func(*Finished) {})
	dec := packet.NewDecoder(packet.Config{})
	var stop, lastFlush time.Time
	rtp := 0
	for {
		fr, err := src.ReadFrame()
		if err != nil {
			t.Fatal("the capture ended before the middle of the call")
		}
		p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if !ok {
			continue
		}
		if stop.IsZero() {
			stop = p.Time.Add(7 * time.Second) // about 5 s into the talk
		}
		if p.Time.After(stop) {
			break
		}
		if p.Time.Sub(lastFlush) >= time.Second {
			a.Flush()
			lastFlush = p.Time
		}
		if sipmsg.Looks(p.Payload) {
			if m, err := sipmsg.Parse(p.Payload); err == nil {
				a.HandleSIP(m, &p)
			}
			continue
		}
		if a.HandleMedia(&p) {
			rtp++
		}
	}
	a.Flush()
	var c *state
	for _, c = range a.calls {
	}
	j, err := ReadJournal(c.spool)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, s := range j.Streams {
		got += s.Packets
	}
	if got < rtp*9/10 || got > rtp {
		t.Errorf("the journal counts %d packets in its streams; %d were handled by the last flush", got, rtp)
	}
}
