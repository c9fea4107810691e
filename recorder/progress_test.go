package recorder_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// TestProgressEvents: the assembler reports each call's start and answer
// as they happen, with the parties and times the index later holds.
func TestProgressEvents(t *testing.T) {
	data := t.TempDir()
	src, err := capture.OpenFile("../testdata/demo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	started := map[spanrec.CallID]*spanrec.Call{}
	answered := map[spanrec.CallID]*spanrec.Call{}
	var mu sync.Mutex // shards report concurrently
	cfg := recorder.Config{Call: call.Config{DataDir: data, Progress: func(p call.ProgressEvent) {
		mu.Lock()
		defer mu.Unlock()
		if p.Answered {
			answered[p.Call.ID] = p.Call
		} else {
			started[p.Call.ID] = p.Call
		}
	}}}
	if _, err := recorder.Import(context.Background(), cfg, src, db, nil); err != nil {
		t.Fatal(err)
	}
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(started) != len(calls) {
		t.Errorf("%d start events, %d calls", len(started), len(calls))
	}
	for _, c := range calls {
		s := started[c.ID]
		if s == nil {
			t.Errorf("call %s: no start event", c.ID)
			continue
		}
		if !s.Start.Equal(c.Start) || s.Caller.Number != c.Caller.Number || s.Callee.Number != c.Callee.Number || s.Direction != c.Direction {
			t.Errorf("call %s: start event %+v, index %+v", c.ID, s, c)
		}
		a := answered[c.ID]
		if (a != nil) != (c.Status == spanrec.Answered) {
			t.Errorf("call %s (%s): answer event %v", c.ID, c.Status, a != nil)
		} else if a != nil && !a.Answer.Equal(c.Answer) {
			t.Errorf("call %s: answered at %v, index %v", c.ID, a.Answer, c.Answer)
		}
	}
}
