package recorder_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// oneByOne hides the index's PutCalls: the recorder stores each call in a
// transaction of its own.
type oneByOne struct{ spanrec.CallIndex }

// batching records the batches the recorder stores.
type batching struct {
	*sqlite.DB
	mu      sync.Mutex
	batches []int
	fail    bool // refuse every batch, storing nothing
}

func (b *batching) PutCalls(ctx context.Context, calls []*spanrec.Call) error {
	b.mu.Lock()
	b.batches = append(b.batches, len(calls))
	b.mu.Unlock()
	if b.fail {
		return errors.New("batch refused")
	}
	return b.DB.PutCalls(ctx, calls)
}

// indexed returns every call of db as JSON by SIP Call-ID, with its INVITE
// header rows and quality series, which Calls leaves out.
func indexed(t *testing.T, db *sqlite.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for id, c := range allCalls(t, db) {
		hs, err := db.SIPHeaders(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		q, err := db.StreamQuality(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(struct {
			Call    *spanrec.Call
			Headers []spanrec.SIPHeader
			Quality []*spanrec.StreamQuality
		}{c, hs, q})
		if err != nil {
			t.Fatal(err)
		}
		out[id] = string(b)
	}
	return out
}

// TestImportBatches: an import stores calls that end together in one
// transaction, with the same rows as one call per transaction; when a
// batch fails, each of its calls is stored alone.
func TestImportBatches(t *testing.T) {
	calls := pcaptest.Concurrent(30, time.Second, 2*time.Second)
	for k := range 4 { // B2BUA legs, which the index links
		calls = append(calls, conversation(k, k%2 == 0, time.Duration(k)*300*time.Millisecond).Legs(k)...)
	}
	frames := generatedFrames(t, pcaptest.Options{Seed: 3, Calls: calls})
	run := func(index func(*sqlite.DB) spanrec.CallIndex) (map[string]string, recorder.Summary) {
		dir := t.TempDir()
		db := openIndex(t, dir)
		sum, err := recorder.Import(context.Background(), recorder.Config{Call: call.Config{DataDir: dir}}, &frameSource{frames: frames}, index(db), nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Calls != len(calls) || sum.Errors != 0 {
			t.Fatalf("%d calls, %d errors; want %d, 0", sum.Calls, sum.Errors, len(calls))
		}
		if ents := pcaptest.SpoolEntries(t, dir); len(ents) != 0 {
			t.Errorf("spool not empty after the import: %v", ents)
		}
		return indexed(t, db), sum
	}
	want, _ := run(func(db *sqlite.DB) spanrec.CallIndex { return oneByOne{db} })
	if len(want) != len(calls) {
		t.Fatalf("%d calls indexed, want %d", len(want), len(calls))
	}
	for _, fail := range []bool{false, true} {
		b := &batching{fail: fail}
		got, _ := run(func(db *sqlite.DB) spanrec.CallIndex { b.DB = db; return b })
		for id, w := range want {
			if got[id] != w {
				t.Errorf("failing batches %v: call %s\n got %s\nwant %s", fail, id, got[id], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("failing batches %v: %d calls, want %d", fail, len(got), len(want))
		}
		n, largest := 0, 0
		for _, s := range b.batches {
			n += s
			largest = max(largest, s)
		}
		// A batch of one goes through PutCall.
		if largest < 2 || n > len(calls) {
			t.Errorf("failing batches %v: batches %v of %d calls", fail, b.batches, len(calls))
		}
	}
}

// TestLiveIndexDown: a call the index does not take keeps its spool
// (journal and tracks), whether it came alone or in a batch, so that the
// next start's Recover indexes it. The calls last 2 s of the fake
// source's wall time, past the live recorder's journal flush (a call that
// ends before its first has no journal, and so no spool to keep).
func TestLiveIndexDown(t *testing.T) {
	const n = 6
	frames := generatedFrames(t, pcaptest.Options{Seed: 4, Calls: pcaptest.Concurrent(n, time.Second, 40*time.Second)})
	dir := t.TempDir()
	db := openIndex(t, dir)
	down := &batching{DB: db, fail: true}
	var mu sync.Mutex
	failed := 0
	l := recorder.NewLive(recorder.Config{Call: call.Config{DataDir: dir}, Queue: 4096},
		[]capture.Source{&fakeLive{frames: frames}}, refusing{down})
	if err := l.Run(context.Background(), func(e recorder.Event) {
		if e.Kind == recorder.CallFailed {
			mu.Lock()
			failed++
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if failed != n {
		t.Errorf("%d calls failed, want all %d", failed, n)
	}
	if n := len(allCalls(t, db)); n != 0 {
		t.Fatalf("%d calls indexed by an index that refuses them", n)
	}
	if kept := pcaptest.SpoolEntries(t, dir); len(kept) != n {
		t.Fatalf("%d spools kept, want %d: %v", len(kept), n, kept)
	}
	got, err := recorder.Recover(context.Background(), recorder.Config{Call: call.Config{DataDir: dir}}, db, nil)
	if err != nil || got != n {
		t.Fatalf("Recover = %d, %v; want %d", got, err, n)
	}
	for id, c := range allCalls(t, db) {
		if c.Audio == "" || c.AudioMS < 30000 {
			t.Errorf("recovered call %s: audio %q, %d ms", id, c.Audio, c.AudioMS)
		}
	}
	if ents := pcaptest.SpoolEntries(t, dir); len(ents) != 0 {
		t.Errorf("spool not empty after recovery: %v", ents)
	}
}

// refusing is an index whose PutCall fails too (its batches fail through
// batching).
type refusing struct{ *batching }

func (refusing) PutCall(context.Context, *spanrec.Call) error {
	return errors.New("index down")
}
