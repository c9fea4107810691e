package retention_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/sqlite"
)

var quiet = slog.New(slog.DiscardHandler)

// TestMain stops the PostgreSQL cluster the tests with a central side
// started (pgtest).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openIndex(t testing.TB, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// importSource records every call of src into dir and db, with the disk
// guard's verdict disk.
func importSource(t testing.TB, dir string, db *sqlite.DB, disk *limits.Disk, src capture.Source) recorder.Summary {
	t.Helper()
	defer src.Close()
	cfg := recorder.Config{Call: call.Config{DataDir: dir, Disk: disk}, Logger: quiet}
	sum, err := recorder.Import(context.Background(), cfg, src, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// importDemo imports pcaptest's demo calls captured from start on.
func importDemo(t testing.TB, dir string, db *sqlite.DB, start time.Time) {
	t.Helper()
	importDemoAs(t, dir, db, start, "")
}

// importDemoAs imports pcaptest's demo calls captured from start on as
// recorded by sensor.
func importDemoAs(t testing.TB, dir string, db *sqlite.DB, start time.Time, sensor string) {
	t.Helper()
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Start: start, Calls: pcaptest.Demo()}); err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg := recorder.Config{Call: call.Config{DataDir: dir, Sensor: sensor}, Logger: quiet}
	if _, err := recorder.Import(context.Background(), cfg, src, db, nil); err != nil {
		t.Fatal(err)
	}
}

// importCapture imports the third-party capture rel.
func importCapture(t *testing.T, dir string, db *sqlite.DB, disk *limits.Disk, rel string) recorder.Summary {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join(pcaptest.CapturesDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return importSource(t, dir, db, disk, src)
}

func allCalls(t testing.TB, db *sqlite.DB) []*spanrec.Call {
	t.Helper()
	cs, err := db.Calls(context.Background(), spanrec.CallFilter{Sort: spanrec.SortStart})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func exists(t *testing.T, dir, rel string) bool {
	t.Helper()
	if rel == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func ids(vs []retention.Victim) []spanrec.CallID {
	var out []spanrec.CallID
	for _, v := range vs {
		out = append(out, v.Call.ID)
	}
	slices.Sort(out)
	return out
}

// TestRules records the demo's calls (inbound, outbound, internal) as if
// captured 100, 40 and 1 days ago and applies rules by number and
// direction: first a dry run, then for real.
func TestRules(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openIndex(t, dir)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	for _, age := range []time.Duration{100 * day, 40 * day, day} {
		importDemo(t, dir, db, now.Add(-age))
	}
	before := allCalls(t, db)
	if len(before) != 21 {
		t.Fatalf("%d calls indexed, want 3×7", len(before))
	}
	// Hold the oldest inbound call.
	var held *spanrec.Call
	for _, c := range before {
		if c.Direction == spanrec.Inbound && c.Audio != "" {
			held = c
			break
		}
	}
	if held == nil {
		t.Fatal("the demo has no inbound call with audio")
	}
	if err := db.SetLegalHold(ctx, held.ID, &spanrec.LegalHold{By: "alice", At: now}); err != nil {
		t.Fatal(err)
	}
	rules := []retention.Rule{
		{Name: "ivr", Number: "+15555550199"}, // kept for ever
		{Name: "inbound", Direction: spanrec.Inbound, MaxAge: 30 * day},
		{Name: "outbound", Direction: spanrec.Outbound, MaxAge: 90 * day},
	}
	// What the rules say, written out: the first rule that matches.
	var want []spanrec.CallID
	dirs := map[spanrec.Direction]int{}
	for _, c := range before {
		age := now.Sub(c.Start)
		ivr := c.Caller.Number == "+15555550199" || c.Callee.Number == "+15555550199"
		switch {
		case c.ID == held.ID, ivr:
		case c.Direction == spanrec.Inbound && age > 30*day, c.Direction == spanrec.Outbound && age > 90*day:
			want = append(want, c.ID)
			dirs[c.Direction]++
		}
	}
	slices.Sort(want)
	if dirs[spanrec.Inbound] < 2 || dirs[spanrec.Outbound] < 1 {
		t.Fatalf("the demo gives too few calls to delete: %v", dirs)
	}

	s := retention.New(retention.Config{Rules: rules, Logger: quiet, Now: func() time.Time { return now }}, db, dir)
	plan, err := s.Sweep(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(plan); !slices.Equal(got, want) {
		t.Errorf("dry run: %v\nwant %v", got, want)
	}
	if n := len(allCalls(t, db)); n != len(before) {
		t.Fatalf("the dry run deleted calls: %d left of %d", n, len(before))
	}
	for _, v := range plan {
		if !strings.HasPrefix(v.Reason, "retention rule inbound: older than 30d") && !strings.HasPrefix(v.Reason, "retention rule outbound: older than 90d") {
			t.Errorf("%s: reason %q", v.Call.ID, v.Reason)
		}
	}

	done, err := s.Sweep(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(done); !slices.Equal(got, want) {
		t.Errorf("deleted: %v\nwant %v", got, want)
	}
	after := map[spanrec.CallID]bool{}
	for _, c := range allCalls(t, db) {
		after[c.ID] = true
	}
	for _, c := range before {
		gone := slices.Contains(want, c.ID)
		if after[c.ID] == gone {
			t.Errorf("call %s (%s, %s): indexed %v, want %v", c.ID, c.Direction, now.Sub(c.Start), after[c.ID], !gone)
		}
		for _, f := range []string{c.Audio, c.PCAP} {
			if f != "" && exists(t, dir, f) == gone {
				t.Errorf("call %s: file %s exists %v, want %v", c.ID, f, !gone, !gone)
			}
		}
	}
	if st := s.Stats(); st.DeletedByRule != uint64(len(want)) || st.BytesFreed == 0 {
		t.Errorf("stats %+v", st)
	}
	es, n, err := db.Events(ctx, auth.EventFilter{Action: auth.ActionDelete, User: retention.ByRule, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("%d audit entries by %s, want %d", n, retention.ByRule, len(want))
	}
	for _, e := range es {
		if !slices.Contains(want, spanrec.CallID(e.CallID)) || !strings.Contains(e.Detail, "retention rule") || !strings.Contains(e.Detail, "files: recordings/") {
			t.Errorf("audit entry %+v", e)
		}
	}
	// A second pass finds nothing more.
	if again, err := s.Sweep(ctx, false); err != nil || len(again) != 0 {
		t.Errorf("second pass: %v, %v", ids(again), err)
	}
}

// TestRulesBySensor records the demo's calls as three recorders (the head
// office's, a branch's, and one that gave no name) 90, 91 and 92 days ago
// and applies rules by sensor name and pattern: the branches' calls go
// after 30 days, the head office's are kept, and of the rest (an unnamed
// sensor's) the inbound ones go after 60 days.
func TestRulesBySensor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openIndex(t, dir)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	importDemoAs(t, dir, db, now.Add(-90*day), "hq")
	importDemoAs(t, dir, db, now.Add(-91*day), "branch-7")
	importDemoAs(t, dir, db, now.Add(-92*day), "")
	before := allCalls(t, db)
	if len(before) != 21 {
		t.Fatalf("%d calls indexed, want 3×7", len(before))
	}
	rules := []retention.Rule{
		{Name: "branches", Sensor: "branch-*", MaxAge: 30 * day},
		{Name: "head office", Sensor: "hq"}, // kept for ever
		{Name: "inbound", Sensor: "*", Direction: spanrec.Inbound, MaxAge: 60 * day},
	}
	var want []spanrec.CallID
	kept := map[string]int{}
	for _, c := range before {
		switch {
		case c.Sensor == "branch-7", c.Sensor == "" && c.Direction == spanrec.Inbound:
			want = append(want, c.ID)
		default:
			kept[c.Sensor]++
		}
	}
	slices.Sort(want)
	if kept["hq"] != 7 || kept[""] == 0 || kept[""] == 7 {
		t.Fatalf("the demo's calls by sensor, kept: %v", kept)
	}
	s := retention.New(retention.Config{Rules: rules, Logger: quiet, Now: func() time.Time { return now }}, db, dir)
	done, err := s.Sweep(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(done); !slices.Equal(got, want) {
		t.Errorf("deleted: %v\nwant %v", got, want)
	}
	for _, v := range done {
		if r := "retention rule branches: older than 30d"; v.Call.Sensor == "branch-7" && !strings.HasPrefix(v.Reason, r) {
			t.Errorf("%s: reason %q, want %q", v.Call.ID, v.Reason, r)
		}
	}
	left := map[string]int{}
	for _, c := range allCalls(t, db) {
		left[c.Sensor]++
	}
	if left["hq"] != 7 || left["branch-7"] != 0 || left[""] != kept[""] {
		t.Errorf("calls left by sensor %v, want hq 7, branch-7 0, unnamed %d", left, kept[""])
	}
}

func TestRuleCheckSensor(t *testing.T) {
	r := retention.Rule{Name: "x", Sensor: "branch-[", MaxAge: time.Hour}
	if err := r.Check(); err == nil || !strings.Contains(err.Error(), `sensor "branch-[" is not a pattern`) {
		t.Errorf("Check = %v", err)
	}
}

// TestMaxTotalBytes bounds the recordings of two demo imports to what
// one of them takes: the oldest calls go first, never the held one.
func TestMaxTotalBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openIndex(t, dir)
	old := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	importDemo(t, dir, db, old)
	cs := allCalls(t, db)
	size := func(c *spanrec.Call) int64 {
		var n int64
		for _, f := range []string{c.Audio, c.PCAP} {
			if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); f != "" && err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	var first int64
	for _, c := range cs {
		first += size(c)
	}
	importDemo(t, dir, db, old.AddDate(0, 1, 0))
	cs = allCalls(t, db)
	oldest := cs[0]
	if err := db.SetLegalHold(ctx, oldest.ID, &spanrec.LegalHold{By: "alice"}); err != nil {
		t.Fatal(err)
	}
	// Expected: oldest first, skipping the held one, until the rest fits.
	var total int64
	for _, c := range cs {
		total += size(c)
	}
	var want []spanrec.CallID
	for _, c := range cs[1:] {
		if total <= first {
			break
		}
		if n := size(c); n > 0 {
			want = append(want, c.ID)
			total -= n
		}
	}
	slices.Sort(want)
	s := retention.New(retention.Config{MaxTotalBytes: first, Logger: quiet}, db, dir)
	done, err := s.Sweep(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(done); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("deleted %v, want %v", got, want)
	}
	if _, err := db.Call(ctx, oldest.ID); err != nil {
		t.Errorf("held call deleted: %v", err)
	}
	if !exists(t, dir, oldest.Audio) && !exists(t, dir, oldest.PCAP) {
		t.Error("held call's files deleted")
	}
}

// TestRun: the loop applies the rules at its start and stops when its
// context ends.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	db := openIndex(t, dir)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	importDemo(t, dir, db, now.Add(-48*time.Hour))
	s := retention.New(retention.Config{
		Rules:   []retention.Rule{{Direction: spanrec.Inbound, MaxAge: 24 * time.Hour}},
		MinFree: -1, Interval: 20 * time.Millisecond, Logger: quiet, Now: func() time.Time { return now },
	}, db, dir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.After(20 * time.Second)
	for {
		inbound := 0
		for _, c := range allCalls(t, db) {
			if c.Direction == spanrec.Inbound {
				inbound++
			}
		}
		if inbound == 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("%d inbound calls left after 20 s", inbound)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if st := s.Stats(); st.DeletedByRule == 0 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}
