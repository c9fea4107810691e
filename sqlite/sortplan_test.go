package sqlite

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
)

// fewTies are the sort keys of many distinct values, whose ties (calls
// with the same start time, number, duration, MOS, PDD or ring time) SQLite may sort by ID
// in small groups as it walks the key's index ("TEMP B-TREE FOR LAST
// TERM"); a key of few values (direction, status) must not: its groups
// are a share of all calls, and so must the status code, codec, hang-up
// side and sensor.
var fewTies = map[string]bool{"start": true, "caller": true, "callee": true, "duration": true, "talk": true, "mos": true, "quality": true, "pdd": true, "ring": true}

// sortColumns names the column of each sort key's expression as SQLite's
// plans show it in an index's constraint ("<expr>" for an expression).
var sortColumns = map[string]string{
	"start": "start_ns", "caller": "caller_number", "callee": "callee_number", "direction": "direction",
	"duration": "duration_ns", "talk": "duration_ns", "status": "status", "mos": "mos", "quality": "mos",
	"pdd": "pdd_ns", "ring": "ring_ns", "legs": "legs",
}

// TestSortIndexes: every sort of the call list, both ways — the number
// of legs too, kept in the row since migration 0026 — is planned as a walk
// of an index in the order the page asks for, not a
// sort of every call, for the first page and for the keyset page after a
// call (CallFilter.After) when the page's size is not given (afterSQL);
// and the page of a given size after a call (seekPageSQL) seeks to where
// it starts in the key's index: to the call's key and ID (key=? AND
// id>?), past its key (key<? or key>?) and, for a key that can be NULL,
// to the calls without one (key=NULL AND id>?, shown as key=?), never
// reading the index (or the calls) from its start.
func TestSortIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	plan := func(q string, args ...any) string {
		t.Helper()
		rows, err := db.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(plan, "; ")
	}
	const id = "20261207-093000-00000000"
	for _, key := range spanrec.SortKeys {
		for _, sort := range []string{key, "-" + key} {
			order, err := orderSQL(sort)
			if err != nil {
				t.Fatal(err)
			}
			after, afterArgs, err := afterSQL(sort, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, page := range []struct {
				name, where string
				args        []any
			}{{"first page", "", nil}, {"next page of any size", " WHERE " + after, afterArgs}} {
				p := plan(`SELECT id FROM calls`+page.where+order+` LIMIT 50`, page.args...)
				if fewTies[key] {
					p = strings.ReplaceAll(p, "USE TEMP B-TREE FOR LAST TERM OF ORDER BY", "")
				}
				if strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, "INDEX") {
					t.Errorf("sort=%s, %s: not an index walk: %s", sort, page.name, p)
				}
			}
			if !seekable(sort) {
				t.Errorf("sort=%s: its next page is not read by seekPageSQL", sort)
				continue
			}
			q, args, err := seekPageSQL("calls", "", nil, sort, id, 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			p := plan(q, args...)
			col, ok := sortColumns[key]
			if !ok {
				col = "<expr>"
			}
			op := ">"
			if strings.HasPrefix(sort, "-") {
				op = "<"
			}
			eq := regexp.QuoteMeta(col + "=?")
			if col != "caller_number" && col != "callee_number" { // (number), no ID: few ties
				eq += regexp.QuoteMeta(" AND id>?")
			}
			for _, want := range []string{
				`SEARCH calls USING (COVERING )?INDEX calls_\w+ \(` + eq + `\)`,
				`SEARCH calls USING (COVERING )?INDEX calls_\w+ \(` + regexp.QuoteMeta(col+op+"?") + `\)`,
			} {
				if !regexp.MustCompile(want).MatchString(p) {
					t.Errorf("sort=%s, next page of 100: no %s: %s", sort, want, p)
				}
			}
			nulls := regexp.MustCompile(`SEARCH calls USING (COVERING )?INDEX calls_\w+ \(` + regexp.QuoteMeta(col+"=? AND id>?") + `\)`)
			if !notNullKeys[key] && len(nulls.FindAllString(p, -1)) < 2 {
				t.Errorf("sort=%s, next page of 100: no seek to the calls without a key: %s", sort, p)
			}
			if strings.Contains(p, "SCAN calls") {
				t.Errorf("sort=%s, next page of 100: reads the calls or an index from its start: %s", sort, p)
			}
		}
	}
}
