package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
)

// unindexedSorts are the sort keys whose page PostgreSQL still sorts
// (docs/PERFORMANCE.md, "Tenth session"): each would need two more
// indexes on calls, or cannot have one (legs).
var unindexedSorts = map[string]bool{"status_code": true, "codec": true, "legs": true, "hangup_by": true, "sensor": true}

// TestSortIndexes: every other sort of the call list, both ways, is
// planned as an index scan in the order the page asks for (at most an
// incremental sort of ties), not a sort of every call — what keeps a page
// of ten million calls under 200 ms.
func TestSortIndexes(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	db, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PutCall(ctx, indextest.FullCall(time.UTC)); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A table of one row is scanned whatever its indexes: forbid that to
	// see which index the planner would take.
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	for _, key := range spanrec.SortKeys {
		if unindexedSorts[key] {
			continue
		}
		for _, sort := range []string{key, "-" + key} {
			order, err := orderSQL(sort)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, `EXPLAIN SELECT `+callColumns+` FROM calls`+order+` LIMIT 50`)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			p := strings.Join(plan, "\n")
			for _, line := range plan {
				if l := strings.TrimLeft(line, " ->"); strings.HasPrefix(l, "Sort  (") {
					t.Errorf("sort=%s sorts the calls:\n%s", sort, p)
					break
				}
			}
			if !strings.Contains(p, "Index Scan") && !strings.Contains(p, "Index Only Scan") {
				t.Errorf("sort=%s uses no index:\n%s", sort, p)
			}
		}
	}
}
