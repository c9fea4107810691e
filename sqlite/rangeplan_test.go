package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// TestRangePagePlan: a page of a time range alone, newest or oldest
// first, walks calls_start (rangeHint), under the statistics ANALYZE gave
// the million generated calls of BenchmarkUISearch; another filter with
// the range keeps the planner's choice. On that million-call file
// SQLite's own choice for a day was a skip-scan of
// calls_direction_status_start and a sort of the day (259 ms p50; 10 ms
// with the hint: docs/PERFORMANCE.md, "Eleventh session: a million calls
// in SQLite"); these statistics on an empty table do not make it choose
// so, which the test logs.
func TestRangePagePlan(t *testing.T) {
	db := benchStatsDB(t)
	plan := func(f spanrec.CallFilter, hint string) string {
		t.Helper()
		return pagePlan(t, db, f, starts{walk: true}, hint)
	}
	since := indextest.T0.Add(500_000 * time.Second)
	day := spanrec.CallFilter{Since: since, Until: since.Add(24 * time.Hour)}
	if p := plan(day, ""); !strings.Contains(p, "USE TEMP B-TREE FOR ORDER BY") {
		t.Logf("without the hint, this SQLite no longer sorts the whole range (%s): the hint may be dropped", p)
	} else {
		t.Logf("without the hint: %s", p)
	}
	groupDay := day
	groupDay.GroupInteraction = true
	for _, f := range []spanrec.CallFilter{day, {Since: since, Sort: "start"}, {Until: since}, groupDay} {
		p := plan(f, rangeHint(f))
		if !strings.Contains(p, "calls_start") || strings.Contains(p, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("%+v: plan %q, want a walk of calls_start (ties sorted at most)", f, p)
		}
	}
	for _, f := range []spanrec.CallFilter{
		{Since: since, Direction: spanrec.Inbound},
		{Since: since, Sort: "caller"},
		{Sensor: "a"},
	} {
		if h := rangeHint(f); h != "" {
			t.Errorf("%+v: hint %q, want the planner's choice", f, h)
		}
	}
}

// benchStatsDB returns a new empty index whose calls' indexes have the
// statistics ANALYZE gave the million generated calls of
// BenchmarkUISearch: the planner then chooses as it does on them.
func benchStatsDB(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.w.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sqlite_stat1 WHERE tbl = 'calls'`); err != nil {
		t.Fatal(err)
	}
	// sqlite_stat1 of BenchmarkUISearch's million calls (sqlite/migrations
	// up to 0028), the calls' indexes.
	for _, st := range [][2]string{
		{"calls_callee_number", "1000000 1000"},
		{"calls_callee_ua", "1000000 50000 1"},
		{"calls_caller_ua", "1000000 10000 1"},
		{"calls_caller_number", "1000000 10"},
		{"calls_codec_asc", "1000000 250000 1"},
		{"calls_codec_desc", "1000000 250000 1"},
		{"calls_codecs_start", "1000000 250000 1"},
		{"calls_direction_desc", "1000000 500000 1"},
		{"calls_direction_id", "1000000 500000 1"},
		{"calls_direction_start", "1000000 500000 1"},
		{"calls_direction_status_start", "1000000 500000 125000 1"},
		{"calls_duration", "1000000 2494 1"},
		{"calls_hangup_by_asc", "1000000 250000 1"},
		{"calls_hangup_by_desc", "1000000 250000 1"},
		{"calls_hangup_by_start", "1000000 250000 1"},
		{"calls_interaction", "1000000 1 1"},
		{"calls_loss_start", "20000 1 1"},
		{"calls_mos", "1000000 2850 1"},
		{"calls_pdd", "1000000 200 1"},
		{"calls_ring", "1000000 1000000 1"},
		{"calls_sensor_asc", "1000000 250000 1"},
		{"calls_sensor_desc", "1000000 250000 1"},
		{"calls_sensor_start", "1000000 250000 1"},
		{"calls_signalling_start", "1000000 1000000 1"},
		{"calls_sip_call_id", "1000000 1"},
		{"calls_start", "1000000 1 1"},
		{"calls_status_code_asc", "1000000 250000 1"},
		{"calls_status_code_desc", "1000000 250000 1"},
		{"calls_status_code_start", "1000000 250000 1"},
		{"calls_status_desc", "1000000 250000 1"},
		{"calls_status_id", "1000000 250000 1"},
		{"calls_status_start", "1000000 250000 1"},
		{"sqlite_autoindex_calls_1", "1000000 1"},
	} {
		if _, err := db.w.ExecContext(ctx, `INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('calls', ?, ?)`, st[0], st[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.w.ExecContext(ctx, `ANALYZE sqlite_schema`); err != nil {
		t.Fatal(err)
	}
	return db
}

// pagePlan returns SQLite's plan of the first page (50 calls) of f,
// starting from the sets st names, with the index hint hint: its steps
// joined by "; ".
func pagePlan(t *testing.T, db *DB, f spanrec.CallFilter, st starts, hint string) string {
	t.Helper()
	where, args, err := filterSQL(f, st)
	if err != nil {
		t.Fatal(err)
	}
	order, err := orderSQL(f.Sort)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(strings.TrimSpace(queryPlan(t, db, `SELECT `+callColumns+` FROM calls`+hint+where+order+` LIMIT 50`, args...)), "\n", "; ")
}
