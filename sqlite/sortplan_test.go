package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
)

// unindexedSorts are the sort keys whose page SQLite still sorts in a
// temporary B-tree, wholly or by ties (docs/PERFORMANCE.md, "Tenth
// session"): each would need two more indexes on calls, or cannot have
// one (legs).
var unindexedSorts = map[string]bool{"status_code": true, "codec": true, "legs": true, "hangup_by": true, "sensor": true}

// fewTies are the sort keys of many distinct values, whose ties (calls
// with the same start time, number, duration, MOS, PDD or ring time) SQLite may sort by ID
// in small groups as it walks the key's index ("TEMP B-TREE FOR LAST
// TERM"); a key of few values (direction, status) must not: its groups
// are a share of all calls.
var fewTies = map[string]bool{"start": true, "caller": true, "callee": true, "duration": true, "talk": true, "mos": true, "quality": true, "pdd": true, "ring": true}

// TestSortIndexes: every other sort of the call list, both ways, is
// planned as a walk of an index in the order the page asks for, not a
// sort of every call.
func TestSortIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, key := range spanrec.SortKeys {
		if unindexedSorts[key] {
			continue
		}
		for _, sort := range []string{key, "-" + key} {
			order, err := orderSQL(sort)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.r.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM calls`+order+` LIMIT 50`)
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
				t.Errorf("sort=%s is not an index walk: %s", sort, p)
			}
		}
	}
}
