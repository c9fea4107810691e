package postgres

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
)

// sortColumns names the column of each sort key's expression.
var sortColumns = map[string]string{
	"start": "start_ns", "caller": "caller_number", "callee": "callee_number", "direction": "direction",
	"duration": "duration_ns", "talk": "duration_ns", "status": "status", "status_code": "status_code",
	"codec": "codecs", "mos": "mos", "quality": "mos", "pdd": "pdd_ns", "ring": "ring_ns",
	"hangup_by": "hangup_by", "sensor": "sensor", "legs": "legs",
}

// TestSortIndexes: every sort of the call list, both ways — the number
// of legs too, kept in the row since migration 0019 — is planned as an
// index scan in the order the page asks for (at most an
// incremental sort of ties), not a sort of every call, for the first page
// and for the keyset page after a call (CallFilter.After) when the page's
// size is not given (afterSQL) — what keeps a page of ten million calls
// under 200 ms; and the page of a given size after a call (seekPageSQL)
// starts its index scans where the page starts: an Index Cond on the
// call's key and ID (key = … AND id > …; for the caller's and callee's
// number, whose index has no ID, the key), one past its key (key < … or
// key > …) and, for a key that can be NULL, one on the calls without a
// key (key IS NULL AND id > …).
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
			}{{"first page", "", nil}, {"next page of any size", " WHERE " + after, a}} {
				plan := explain(ctx, t, conn, `SELECT `+callColumns+` FROM calls`+page.where+order+` LIMIT 50`, page.args...)
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
			if !seekable(sort) {
				t.Errorf("sort=%s: its next page is not read by seekPageSQL", sort)
				continue
			}
			var sa args
			q, err := seekPageSQL("", sort, c.ID, 100, 0, &sa)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, `EXPLAIN `+q, sa...)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			p := strings.Join(plan, "\n")
			// An Index Cond line that names the key's column and has
			// (or has not) the condition on the ID.
			cond := func(re string, id bool) bool {
				for _, l := range plan {
					if strings.Contains(l, "Index Cond: ") && strings.Contains(l, sortColumns[key]) &&
						regexp.MustCompile(re).MatchString(l) && strings.Contains(l, "id > ") == id {
						return true
					}
				}
				return false
			}
			op := ` > `
			if strings.HasPrefix(sort, "-") {
				op = ` < `
			}
			eq, past, nulls := cond(` = `, key != "caller" && key != "callee"), cond(op, false), cond(` IS NULL\)`, true)
			if !eq || !past || !notNullKeys[key] && !nulls {
				t.Errorf("sort=%s, next page of 100: Index Cond on the key and ID %v, past the key %v, without a key %v:\n%s",
					sort, eq, past, nulls, p)
			}
			if strings.Contains(p, "Seq Scan") {
				t.Errorf("sort=%s, next page of 100: reads every call:\n%s", sort, p)
			}
		}
	}
}
