package sqlite

import (
	"context"
	"path/filepath"
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

// TestSortIndexes: every sort of the call list, both ways — the number
// of legs too, kept in the row since migration 0026 — is planned as a walk
// of an index in the order the page asks for, not a
// sort of every call, for the first page and for the keyset page after a
// call (CallFilter.After).
func TestSortIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, key := range spanrec.SortKeys {
		for _, sort := range []string{key, "-" + key} {
			order, err := orderSQL(sort)
			if err != nil {
				t.Fatal(err)
			}
			after, afterArgs, err := afterSQL(sort, "20261207-093000-00000000")
			if err != nil {
				t.Fatal(err)
			}
			for _, page := range []struct {
				name, where string
				args        []any
			}{{"first page", "", nil}, {"next page", " WHERE " + after, afterArgs}} {
				rows, err := db.r.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM calls`+page.where+order+` LIMIT 50`, page.args...)
				if err != nil {
					t.Fatal(err)
				}
				var plan []string
				for rows.Next() {
					var id, parent, unused int
					var detail string
					if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, detail)
				}
				rows.Close()
				p := strings.Join(plan, "; ")
				if fewTies[key] {
					p = strings.ReplaceAll(p, "USE TEMP B-TREE FOR LAST TERM OF ORDER BY", "")
				}
				if strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, "INDEX") {
					t.Errorf("sort=%s, %s: not an index walk: %s", sort, page.name, p)
				}
			}
		}
	}
}
