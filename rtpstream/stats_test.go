package rtpstream_test

import (
	"math"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/rtpstream"
)

var testStart = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// pkt is one synthetic packet of a stream: sequence number, RTP timestamp,
// arrival in ms after testStart, and header flags.
type pkt struct {
	seq    uint16
	ts     uint32
	atMS   float64
	marker bool
	pt     uint8
}

func (p pkt) header() rtpstream.Header {
	return rtpstream.Header{Version: 2, Seq: p.seq, Timestamp: p.ts, SSRC: 42, Marker: p.marker, PayloadType: p.pt}
}

func (p pkt) time() time.Time {
	return testStart.Add(time.Duration(p.atMS * float64(time.Millisecond)))
}

// steady returns n PCMA packets 20 ms apart, from sequence number seq0.
func steady(seq0 uint16, n int) []pkt {
	ps := make([]pkt, n)
	for i := range ps {
		ps[i] = pkt{seq: seq0 + uint16(i), ts: 1000 + uint32(i)*160, atMS: float64(i) * 20, pt: 8}
	}
	return ps
}

func feed(s *rtpstream.Stats, ps []pkt) []rtpstream.Kind {
	kinds := make([]rtpstream.Kind, len(ps))
	for i, p := range ps {
		kinds[i] = s.Update(p.header(), p.time(), 8000)
	}
	return kinds
}

func without(ps []pkt, idx ...int) []pkt {
	var out []pkt
	for i, p := range ps {
		drop := false
		for _, j := range idx {
			drop = drop || i == j
		}
		if !drop {
			out = append(out, p)
		}
	}
	return out
}

func TestStatsSequence(t *testing.T) {
	base := steady(1000, 10)
	tests := []struct {
		name      string
		pkts      []pkt
		kinds     map[int]rtpstream.Kind // index → kind; others New
		packets   int
		expected  int
		lost      int
		dups      int
		late      int
		restarts  int
		maxDeltaM float64
	}{
		{name: "in order", pkts: base, packets: 10, expected: 10, maxDeltaM: 20},
		{name: "two lost", pkts: without(base, 3, 4), packets: 8, expected: 10, lost: 2, maxDeltaM: 60},
		{name: "last lost is not seen", pkts: base[:9], packets: 9, expected: 9, maxDeltaM: 20},
		{
			name:    "duplicate",
			pkts:    append(append(append([]pkt{}, base[:5]...), base[4]), base[5:]...),
			kinds:   map[int]rtpstream.Kind{5: rtpstream.Duplicate},
			packets: 11, expected: 10, dups: 1, maxDeltaM: 20,
		},
		{
			name:    "duplicates hide a loss (RFC 3550 §6.4.1), clamped at 0",
			pkts:    append(without(base, 7), base[2], base[3]),
			kinds:   map[int]rtpstream.Kind{9: rtpstream.Duplicate, 10: rtpstream.Duplicate},
			packets: 11, expected: 10, lost: 0, dups: 2, maxDeltaM: 40,
		},
		{
			name:    "reordered",
			pkts:    arriving(base[0], base[1], base[3], base[2], base[4]),
			kinds:   map[int]rtpstream.Kind{3: rtpstream.Late},
			packets: 5, expected: 5, late: 1, maxDeltaM: 20,
		},
		{
			name:  "late then its duplicate",
			pkts:  arriving(base[0], base[2], base[1], base[1], base[3]),
			kinds: map[int]rtpstream.Kind{2: rtpstream.Late, 3: rtpstream.Duplicate},
			// The copy is not an arrival: the gap runs from the
			// late packet to seq 4.
			packets: 5, expected: 4, late: 1, dups: 1, maxDeltaM: 40,
		},
		{
			name:    "a packet older than the first",
			pkts:    arriving(base[1], base[0], base[2]),
			kinds:   map[int]rtpstream.Kind{1: rtpstream.Late},
			packets: 3, expected: 3, late: 1, maxDeltaM: 20,
		},
		{name: "wrap at 65535", pkts: steady(65530, 12), packets: 12, expected: 12, maxDeltaM: 20},
		{name: "loss across the wrap", pkts: without(steady(65533, 6), 2, 3), packets: 4, expected: 6, lost: 2, maxDeltaM: 60},
		{
			name:    "sequence restart (RFC 3550 A.1): jump confirmed by the next packet",
			pkts:    append(append([]pkt{}, base[:5]...), shifted(steady(40000, 5), 100)...),
			kinds:   map[int]rtpstream.Kind{5: rtpstream.Jump, 6: rtpstream.Restart},
			packets: 10, expected: 10, restarts: 1, maxDeltaM: 20,
		},
		{
			name:    "restart after a loss keeps the loss",
			pkts:    append(without(base[:5], 2), shifted(steady(20000, 3), 100)...),
			kinds:   map[int]rtpstream.Kind{4: rtpstream.Jump, 5: rtpstream.Restart},
			packets: 7, expected: 8, lost: 1, restarts: 1, maxDeltaM: 40,
		},
		{
			name:    "a stray packet far ahead is left out",
			pkts:    append(append(append([]pkt{}, base[:5]...), pkt{seq: 30000, ts: 5, atMS: 85, pt: 8}), base[5:]...),
			kinds:   map[int]rtpstream.Kind{5: rtpstream.Jump},
			packets: 11, expected: 10, maxDeltaM: 20,
		},
		{
			name:    "a packet more than 100 behind is a jump, not late",
			pkts:    append(steady(1000, 150), pkt{seq: 1001, ts: 1160, atMS: 3000, pt: 8}),
			kinds:   map[int]rtpstream.Kind{150: rtpstream.Jump},
			packets: 151, expected: 150, maxDeltaM: 20,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s rtpstream.Stats
			kinds := feed(&s, tt.pkts)
			for i, k := range kinds {
				want, ok := tt.kinds[i]
				if !ok {
					want = rtpstream.New
				}
				if k != want {
					t.Errorf("packet %d (seq %d): %v, want %v", i, tt.pkts[i].seq, k, want)
				}
			}
			sn := s.Snapshot()
			got := [6]int{sn.Packets, sn.Expected, sn.Lost, sn.Duplicates, sn.OutOfOrder, sn.Restarts}
			want := [6]int{tt.packets, tt.expected, tt.lost, tt.dups, tt.late, tt.restarts}
			if got != want {
				t.Errorf("packets, expected, lost, dups, late, restarts = %v, want %v", got, want)
			}
			if math.Abs(sn.MaxDeltaMS-tt.maxDeltaM) > 1e-6 {
				t.Errorf("max delta %v ms, want %v", sn.MaxDeltaMS, tt.maxDeltaM)
			}
			if !sn.First.Equal(tt.pkts[0].time()) || !sn.Last.Equal(tt.pkts[len(tt.pkts)-1].time()) {
				t.Errorf("first/last %v %v", sn.First, sn.Last)
			}
		})
	}
}

// arriving returns ps arriving in that order, 20 ms apart.
func arriving(ps ...pkt) []pkt {
	for i := range ps {
		ps[i].atMS = float64(i) * 20
	}
	return ps
}

// shifted returns ps with every arrival moved later by ms.
func shifted(ps []pkt, ms float64) []pkt {
	out := append([]pkt{}, ps...)
	for i := range out {
		out[i].atMS += ms
	}
	return out
}

func TestStatsJitter(t *testing.T) {
	t.Run("constant transit is no jitter", func(t *testing.T) {
		var s rtpstream.Stats
		feed(&s, shifted(steady(1, 50), 7))
		if sn := s.Snapshot(); sn.JitterMS != 0 || sn.MaxJitterMS != 0 || sn.MeanJitterMS != 0 {
			t.Errorf("jitter %v/%v/%v, want 0", sn.JitterMS, sn.MeanJitterMS, sn.MaxJitterMS)
		}
	})
	t.Run("one packet 16 ms late (RFC 3550 A.8)", func(t *testing.T) {
		ps := steady(1, 4)
		ps[2].atMS += 16
		var s rtpstream.Stats
		feed(&s, ps[:3])
		// |D| = 16 ms: J = 0 + (16 − 0)/16.
		if sn := s.Snapshot(); math.Abs(sn.JitterMS-1) > 1e-9 {
			t.Errorf("jitter %v ms, want 1", sn.JitterMS)
		}
		s.Update(ps[3].header(), ps[3].time(), 8000)
		// Back on time: |D| = 16 ms again, J = 1 + (16 − 1)/16.
		sn := s.Snapshot()
		if math.Abs(sn.JitterMS-1.9375) > 1e-9 || math.Abs(sn.MaxJitterMS-1.9375) > 1e-9 {
			t.Errorf("jitter %v max %v ms, want 1.9375", sn.JitterMS, sn.MaxJitterMS)
		}
		if want := (0 + 1 + 1.9375) / 3; math.Abs(sn.MeanJitterMS-want) > 1e-9 {
			t.Errorf("mean jitter %v ms, want %v", sn.MeanJitterMS, want)
		}
	})
	t.Run("no clock rate, no jitter", func(t *testing.T) {
		ps := steady(1, 10)
		ps[5].atMS += 30
		var s rtpstream.Stats
		for _, p := range ps {
			s.Update(p.header(), p.time(), 0)
		}
		if sn := s.Snapshot(); sn.JitterMS != 0 || sn.MaxJitterMS != 0 || sn.Packets != 10 || sn.MaxDeltaMS != 50 {
			t.Errorf("got %+v", sn)
		}
	})
	t.Run("silence suppression: marker and comfort noise gaps are not delta", func(t *testing.T) {
		ps := steady(1, 10)
		for i := 5; i < 10; i++ {
			ps[i].atMS += 1000
			ps[i].ts += 8000
		}
		ps[5].marker = true
		ps = append(ps, pkt{seq: 11, ts: ps[9].ts + 160, atMS: ps[9].atMS + 300, pt: 13},
			pkt{seq: 12, ts: ps[9].ts + 2560, atMS: ps[9].atMS + 320, pt: 8})
		var s rtpstream.Stats
		feed(&s, ps)
		sn := s.Snapshot()
		if sn.MaxDeltaMS != 20 || sn.MaxJitterMS != 0 {
			t.Errorf("max delta %v ms, max jitter %v ms; want 20 and 0", sn.MaxDeltaMS, sn.MaxJitterMS)
		}
	})
	t.Run("a timestamp restart does not count as jitter", func(t *testing.T) {
		ps := steady(1, 20)
		for i := 10; i < 20; i++ {
			ps[i].ts -= 1_000_000
		}
		var s rtpstream.Stats
		feed(&s, ps)
		if sn := s.Snapshot(); sn.JitterMS != 0 || sn.MaxJitterMS != 0 || sn.MaxDeltaMS != 20 {
			t.Errorf("got %+v", sn)
		}
	})
	t.Run("duplicates leave jitter and delta alone", func(t *testing.T) {
		ps := steady(1, 10)
		dup := ps[4]
		dup.atMS += 13
		var s rtpstream.Stats
		feed(&s, append(append(append([]pkt{}, ps[:5]...), dup), ps[5:]...))
		if sn := s.Snapshot(); sn.JitterMS != 0 || sn.MaxDeltaMS != 20 {
			t.Errorf("got %+v", sn)
		}
	})
}

func TestStatsPacketisationAndMOS(t *testing.T) {
	var s rtpstream.Stats
	s.Codec = "PCMA"
	feed(&s, without(steady(1, 100), 50))
	sn := s.Snapshot()
	if sn.PacketisationMS != 20 {
		t.Errorf("packetisation %v ms, want 20", sn.PacketisationMS)
	}
	if want := rtpstream.MOS("PCMA", 1, 0, 20); math.Abs(sn.MOS-want) > 1e-12 {
		t.Errorf("MOS %v, want %v (1%% loss)", sn.MOS, want)
	}
	st := spanrec.Stream{SSRC: 7, Codec: "PCMA"}
	sn.Fill(&st)
	if st.SSRC != 7 || st.Packets != 99 || st.Lost != 1 || st.MOS != sn.MOS || !st.Last.Equal(sn.Last) || st.MaxDeltaMS != 40 {
		t.Errorf("Fill gave %+v from %+v", st, sn)
	}
	var empty rtpstream.Stats
	if sn := empty.Snapshot(); sn != (rtpstream.Snapshot{}) {
		t.Errorf("empty stats snapshot %+v", sn)
	}
}

func TestStatsUpdateAllocs(t *testing.T) {
	var s rtpstream.Stats
	h := rtpstream.Header{Version: 2, PayloadType: 8, SSRC: 1}
	at := testStart
	n := testing.AllocsPerRun(1000, func() {
		h.Seq++
		h.Timestamp += 160
		at = at.Add(20 * time.Millisecond)
		s.Update(h, at, 8000)
	})
	if n != 0 {
		t.Errorf("%v allocations per Update, want 0", n)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[rtpstream.Kind]string{
		rtpstream.New: "new", rtpstream.Duplicate: "duplicate", rtpstream.Late: "late",
		rtpstream.Jump: "jump", rtpstream.Restart: "restart", 99: "Kind(99)",
	} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q, want %q", k, got, want)
		}
	}
}

func FuzzStats(f *testing.F) {
	// Each 8-byte record is one packet: seq (2), timestamp (4), flags
	// (marker, CN, clock rate 0), arrival step in ms.
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 20, 0, 2, 0, 0, 0, 160, 0, 20, 0, 2, 0, 0, 0, 160, 0, 1})
	f.Add([]byte{255, 255, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 160, 1, 20, 100, 0, 0, 0, 1, 0, 0, 20, 100, 1, 0, 0, 2, 0, 0, 20})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s rtpstream.Stats
		at := testStart
		n := 0
		for ; len(b) >= 8; b = b[8:] {
			h := rtpstream.Header{
				Version: 2, Seq: uint16(b[0])<<8 | uint16(b[1]),
				Timestamp: uint32(b[2])<<24 | uint32(b[3])<<16 | uint32(b[4])<<8 | uint32(b[5]),
				Marker:    b[6]&1 != 0, PayloadType: 8,
			}
			if b[6]&2 != 0 {
				h.PayloadType = 13
			}
			rate := 8000
			if b[6]&4 != 0 {
				rate = 0
			}
			at = at.Add(time.Duration(b[7]) * time.Millisecond)
			if k := s.Update(h, at, rate); k > rtpstream.Restart {
				t.Fatalf("kind %v", k)
			}
			n++
		}
		sn := s.Snapshot()
		if sn.Packets != n || sn.Lost < 0 || sn.Duplicates+sn.OutOfOrder > n || (n > 0 && sn.Expected < 1) {
			t.Fatalf("%d packets: %+v", n, sn)
		}
		for _, v := range []float64{sn.JitterMS, sn.MeanJitterMS, sn.MaxJitterMS, sn.MaxDeltaMS, sn.MOS} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("bad figure in %+v", sn)
			}
		}
		if n > 0 && (sn.MOS < 1 || sn.MOS > 4.5) {
			t.Fatalf("MOS %v", sn.MOS)
		}
	})
}
