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

// TestSpectrogram reads the spectrogram of the demo's G.722 call (16 kHz,
// parties that speak in turns): each channel has silent columns (the
// other party's turn) and voiced ones whose first formants (250–1000 Hz)
// stand far above 3–4 kHz; the fetch is audited.
func TestSpectrogram(t *testing.T) {
	f := newFixture(t, false, nil)
	c := f.callWith(t, func(c *spanrec.Call) bool { return len(c.Codecs) > 0 && c.Codecs[0] == "G722" })
	var sp struct {
		Rate, Channels, Columns, Bins int
		MaxHz                         int `json:"max_hz"`
		Levels                        [][]byte
	}
	f.login(t, "sue").getJSON("/api/calls/"+string(c.ID)+"/spectrogram?columns=400", http.StatusOK, &sp)
	if sp.Rate != 16000 || sp.Bins != 256 || sp.MaxHz != 8000 || sp.Columns != 400 || len(sp.Levels) != 2 {
		t.Fatalf("spectrogram: %d Hz, %d×%d, %d channels", sp.Rate, sp.Columns, sp.Bins, len(sp.Levels))
	}
	hz := func(k int) float64 { return float64(k) * 8000 / 256 }
	for ch, lv := range sp.Levels {
		silent, voiced := 0, 0
		for col := range sp.Columns {
			row := lv[col*sp.Bins : (col+1)*sp.Bins]
			low, high, top := 0, 0, 0
			for k, v := range row {
				top = max(top, int(v))
				switch {
				case hz(k) >= 250 && hz(k) < 1000:
					low = max(low, int(v))
				case hz(k) >= 3000 && hz(k) < 4000:
					high = max(high, int(v))
				}
			}
			switch {
			case top < 64: // under −72 dBFS everywhere
				silent++
			case low > 170 && low-high > 50: // formant peak over −32 dBFS, 19 dB above 3–4 kHz
				voiced++
			}
		}
		// The callee is on hold for 2.5 s of the 8: it speaks less.
		if silent < 40 || voiced < 20 {
			t.Errorf("channel %d: %d silent and %d voiced columns of 400, want 40 and 20 or more", ch, silent, voiced)
		}
	}
	if n := auditCount(t, f, "spectrogram", c.ID); n != 1 {
		t.Errorf("%d spectrogram audit entries, want 1", n)
	}
}
