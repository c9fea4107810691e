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

// TestSortIndexes: every sort of the call list, both ways — the number
// of legs too, kept in the row since migration 0019 — is planned as an
// index scan in the order the page asks for (at most an
// incremental sort of ties), not a sort of every call, for the first page
// and for the keyset page after a call (CallFilter.After) — what keeps a
// page of ten million calls under 200 ms.
func TestSortIndexes(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	db, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := indextest.FullCall(time.UTC)
	if err := db.PutCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A table of one row is scanned whatever its indexes: forbid that to
	// see which index the planner would take. On one row it also takes
	// the keyset condition of a next page for a filter that keeps few
	// rows, best read by a bitmap of its OR's parts and sorted; of a
	// table of calls it keeps all but the pages before (the 1 M benchmark
	// runs the next pages, docs/PERFORMANCE.md "Eleventh session"):
	// forbid that too.
	for _, q := range []string{`SET enable_seqscan = off`, `SET enable_bitmapscan = off`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range spanrec.SortKeys {
		for _, sort := range []string{key, "-" + key} {
			order, err := orderSQL(sort)
			if err != nil {
				t.Fatal(err)
			}
			var a args
			after, err := afterSQL(sort, c.ID, &a)
			if err != nil {
				t.Fatal(err)
			}
			for _, page := range []struct {
				name, where string
				args        []any
			}{{"first page", "", nil}, {"next page", " WHERE " + after, a}} {
				rows, err := conn.Query(ctx, `EXPLAIN SELECT `+callColumns+` FROM calls`+page.where+order+` LIMIT 50`, page.args...)
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
						t.Errorf("sort=%s, %s: sorts the calls:\n%s", sort, page.name, p)
						break
					}
				}
				if !strings.Contains(p, "Index Scan") && !strings.Contains(p, "Index Only Scan") {
					t.Errorf("sort=%s, %s: uses no index:\n%s", sort, page.name, p)
				}
			}
		}
	}
}
