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

// legsExpr is what the sort by number of legs counted per row before
// migration 0026: the calls of the same interaction, or 0 for a call
// without one.
const legsExpr = `(SELECT count(*) FROM calls AS leg WHERE calls.interaction <> '' AND leg.interaction = calls.interaction)`

// TestLegsMigration: migration 0026 fills the legs of the calls an index
// held before it from their interactions, as legsExpr counted them — a
// call without an interaction (the empty interaction, which 0005 left to no
// call, but an index written by hand may hold) 0, sorted first ascending
// and last descending, as before.
func TestLegsMigration(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	leg := func(id string, start int, keys ...string) *spanrec.Call {
		c := indextest.FullCall(indextest.T0.Location())
		c.ID, c.Start, c.End = spanrec.CallID(id), indextest.T0.Add(time.Duration(start)*time.Second), indextest.T0.Add(time.Duration(start+60)*time.Second)
		c.LinkKeys = keys
		return c
	}
	for _, c := range []*spanrec.Call{
		leg("a", 0, "hdr:x"), leg("b", 1, "hdr:x", "hdr:y"), leg("c", 2, "hdr:y"),
		leg("d", 3600, "hdr:z"), leg("e", 3601, "hdr:z"), leg("f", 7200), leg("g", 9000),
	} {
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var m migration
	for _, m = range ms {
		if strings.HasSuffix(m.name, "_legs_count.sql") {
			break
		}
	}
	// The calls as an index before 0026 held them, g without an
	// interaction; then the migration, as Open applies it.
	for _, q := range []string{
		`DROP INDEX calls_legs_asc`, `DROP INDEX calls_legs_desc`, `ALTER TABLE calls DROP COLUMN legs`,
		`UPDATE calls SET interaction = '' WHERE id = 'g'`, m.sql,
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, legs, `+legsExpr+` FROM calls ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := ""
	for rows.Next() {
		var (
			id         string
			legs, expr int
		)
		if err := rows.Scan(&id, &legs, &expr); err != nil {
			t.Fatal(err)
		}
		if legs != expr {
			t.Errorf("%s: legs %d, counted %d", id, legs, expr)
		}
		got += " " + id + ":" + string(rune('0'+legs))
	}
	if want := " a:3 b:3 c:3 d:2 e:2 f:1 g:0"; got != want {
		t.Errorf("legs after the migration:%s, want%s", got, want)
	}
	for sort, want := range map[string]string{"legs": "gfdeabc", "-legs": "abcdefg"} {
		calls, err := db.Calls(ctx, spanrec.CallFilter{Sort: sort})
		if err != nil {
			t.Fatal(err)
		}
		ids := ""
		for _, c := range calls {
			ids += string(c.ID)
		}
		if ids != want {
			t.Errorf("sort %s: %s, want %s", sort, ids, want)
		}
	}
}
