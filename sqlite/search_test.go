package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sqlite"
)

func TestCallsSearch(t *testing.T) {
	ctx := context.Background()
	mk := func(id string, min int, caller, callee string, dur time.Duration, loss bool, codecs ...string) *spanrec.Call {
		return &spanrec.Call{
			ID: spanrec.CallID(id), Start: t0.Add(time.Duration(min) * time.Minute),
			Caller: spanrec.Party{Number: caller}, Callee: spanrec.Party{Number: callee},
			Duration: dur, CaptureLoss: loss, Codecs: codecs,
		}
	}
	calls := []*spanrec.Call{
		mk("a", 10, "201", "+4930111", 30*time.Second, false, "PCMU", "telephone-event"),
		mk("b", 20, "+4930222", "202", 90*time.Second, true, "G722"),
		mk("c", 30, "2010", "201", 0, false),
		mk("d", 40, "203", "204", 5*time.Second, true, "PCMA"),
	}
	calls[3].Signalling = spanrec.SignallingNone // found as RTP alone
	calls[0].Signalling = spanrec.SignallingSIP  // "" (b, c) reads as sip
	// Outcome and quality: c has no PDD, ring time or MOS.
	calls[0].HangupBy, calls[0].PDD, calls[0].RingTime, calls[0].StatusCode = spanrec.HangupCaller, 300*time.Millisecond, 4*time.Second, 200
	calls[1].HangupBy, calls[1].PDD, calls[1].RingTime, calls[1].StatusCode = spanrec.HangupCallee, 2*time.Second, 0, 200
	calls[3].HangupBy, calls[3].PDD, calls[3].RingTime, calls[3].StatusCode = spanrec.HangupSystem, 50*time.Millisecond, 9*time.Second, 480
	calls[0].Streams = []spanrec.Stream{{MOS: 4.1}, {MOS: 3.2}}
	calls[1].Streams = []spanrec.Stream{{MOS: 4.4}}
	calls[3].Streams = []spanrec.Stream{{MOS: 0}, {MOS: 3.9}} // 0: no MOS
	yes, no := true, false
	tests := []struct {
		name string
		f    spanrec.CallFilter
		want string
	}{
		{"min duration inclusive", spanrec.CallFilter{MinDuration: 30 * time.Second}, "ba"},
		{"max duration inclusive", spanrec.CallFilter{MaxDuration: 30 * time.Second}, "dca"},
		{"duration range", spanrec.CallFilter{MinDuration: time.Second, MaxDuration: time.Minute}, "da"},
		{"codec", spanrec.CallFilter{Codec: "PCMU"}, "a"},
		{"codec ignores case", spanrec.CallFilter{Codec: "g722"}, "b"},
		{"codec is exact", spanrec.CallFilter{Codec: "PCM"}, ""},
		{"has loss", spanrec.CallFilter{HasLoss: &yes}, "db"},
		{"has no loss", spanrec.CallFilter{HasLoss: &no}, "ca"},
		{"extensions exact, either side", spanrec.CallFilter{Extensions: []string{"201"}}, "ca"},
		{"extensions several", spanrec.CallFilter{Extensions: []string{"202", "204"}}, "db"},
		{"extensions none match", spanrec.CallFilter{Extensions: []string{"20"}}, ""},
		{"extensions and number", spanrec.CallFilter{Extensions: []string{"201", "202"}, Number: "4930"}, "ba"},
		{"signalling none", spanrec.CallFilter{Signalling: spanrec.SignallingNone}, "d"},
		{"signalling sip", spanrec.CallFilter{Signalling: spanrec.SignallingSIP}, "cba"},
		{"sort start", spanrec.CallFilter{Sort: spanrec.SortStart}, "abcd"},
		{"sort -start", spanrec.CallFilter{Sort: spanrec.SortStartDesc}, "dcba"},
		{"sort duration", spanrec.CallFilter{Sort: spanrec.SortDuration}, "cdab"},
		{"sort -duration", spanrec.CallFilter{Sort: spanrec.SortDurationDesc}, "badc"},
		{"sort with limit", spanrec.CallFilter{Sort: spanrec.SortDurationDesc, Limit: 2, Offset: 1}, "ad"},
		{"sort caller (text)", spanrec.CallFilter{Sort: "caller"}, "bacd"},
		{"sort -callee", spanrec.CallFilter{Sort: "-callee"}, "dbca"},
		{"sort codec: first codec, none last", spanrec.CallFilter{Sort: "codec"}, "bdac"},
		{"sort -mos: worst stream's, none last", spanrec.CallFilter{Sort: "-mos"}, "bdac"},
		{"sort quality", spanrec.CallFilter{Sort: "quality"}, "adbc"},
		{"sort pdd, none last", spanrec.CallFilter{Sort: "pdd"}, "dabc"},
		{"sort -pdd, none last", spanrec.CallFilter{Sort: "-pdd"}, "badc"},
		{"sort ring", spanrec.CallFilter{Sort: "ring"}, "adbc"},
		{"sort talk", spanrec.CallFilter{Sort: "talk"}, "cdab"},
		{"sort -status_code, ties by id", spanrec.CallFilter{Sort: "-status_code"}, "dabc"},
		{"sort hangup_by", spanrec.CallFilter{Sort: "hangup_by"}, "badc"},
		{"hangup by callee", spanrec.CallFilter{HangupBy: "callee"}, "b"},
		{"hangup unknown", spanrec.CallFilter{HangupBy: "unknown"}, "c"},
		{"status code", spanrec.CallFilter{StatusCode: 200}, "ba"},
		{"min pdd inclusive", spanrec.CallFilter{MinPDD: 300 * time.Millisecond}, "ba"},
		{"max pdd leaves out the unmeasured", spanrec.CallFilter{MaxPDD: time.Second}, "da"},
		{"ring range", spanrec.CallFilter{MinRing: time.Second, MaxRing: 5 * time.Second}, "a"},
	}
	kinds(t, func(t *testing.T, db *sqlite.DB) {
		put(t, db, calls...)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.Calls(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var ids strings.Builder
				for _, c := range got {
					ids.WriteString(string(c.ID))
				}
				if ids.String() != tt.want {
					t.Errorf("Calls = %q, want %q", ids.String(), tt.want)
				}
				f := tt.f
				f.Limit, f.Offset = 0, 0
				all, _ := db.Calls(ctx, f)
				if n, err := db.Count(ctx, tt.f); err != nil || n != len(all) {
					t.Errorf("Count = %d, %v; want %d", n, err, len(all))
				}
			})
		}
	})
}

func TestCallsSearchInvalid(t *testing.T) {
	db := open(t, ":memory:")
	for name, f := range map[string]spanrec.CallFilter{
		"sort":          {Sort: "nope"},
		"sort injected": {Sort: "caller; DROP TABLE calls"},
		"sort twice -":  {Sort: "--start"},
		"hangup by":     {HangupBy: "both"},
		"min pdd":       {MinPDD: -time.Second},
		"min duration":  {MinDuration: -time.Second},
		"max duration":  {MaxDuration: -time.Second},
	} {
		if _, err := db.Calls(context.Background(), f); spanrec.ErrorKind(err) != spanrec.EINVALID {
			t.Errorf("%s: Calls error %v, want kind invalid", name, err)
		}
	}
}

func TestCallsAfter(t *testing.T) {
	ctx := context.Background()
	kinds(t, func(t *testing.T, db *sqlite.DB) {
		if seq, err := db.LastSeq(ctx); err != nil || seq != 0 {
			t.Fatalf("LastSeq of an empty index = %d, %v", seq, err)
		}
		// Indexing order, not start order: the poller sees calls as they come.
		put(t, db, &spanrec.Call{ID: "late", Start: t0.Add(time.Hour)}, &spanrec.Call{ID: "early", Start: t0})
		calls, seq, err := db.CallsAfter(ctx, 0, 0)
		if err != nil || len(calls) != 2 || calls[0].ID != "late" || calls[1].ID != "early" {
			t.Fatalf("CallsAfter(0) = %v, %d, %v", calls, seq, err)
		}
		if last, _ := db.LastSeq(ctx); last != seq {
			t.Errorf("LastSeq %d, CallsAfter's seq %d", last, seq)
		}
		// A replaced call keeps its place; a new one comes after.
		put(t, db, &spanrec.Call{ID: "late", Start: t0.Add(time.Hour), Status: spanrec.Answered}, &spanrec.Call{ID: "new", Start: t0})
		calls, seq2, err := db.CallsAfter(ctx, seq, 0)
		if err != nil || len(calls) != 1 || calls[0].ID != "new" || seq2 <= seq {
			t.Fatalf("CallsAfter(%d) = %v, %d, %v", seq, calls, seq2, err)
		}
		calls, seq3, err := db.CallsAfter(ctx, seq2, 0)
		if err != nil || len(calls) != 0 || seq3 != seq2 {
			t.Errorf("CallsAfter(end) = %v, %d, %v", calls, seq3, err)
		}
		calls, seq4, err := db.CallsAfter(ctx, 0, 1)
		if err != nil || len(calls) != 1 || calls[0].ID != "late" || seq4 >= seq2 {
			t.Errorf("CallsAfter(0, limit 1) = %v, %d, %v", calls, seq4, err)
		}
	})
}
