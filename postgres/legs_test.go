package postgres

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
)

// legsExpr is what the sort by number of legs counted per row before
// migration 0019: the calls of the same interaction, or 0 for a call
// without one.
const legsExpr = `(SELECT count(*) FROM calls AS leg WHERE calls.interaction <> '' AND leg.interaction = calls.interaction)`

// TestLegsMigration: migration 0019 fills the legs of the calls an index
// held before it from their interactions, as legsExpr counted them — a
// call without an interaction (the empty interaction, which PutCall leaves to no
// call, but an index written by other means may hold) 0, sorted first
// ascending and last descending, as before — and new calls then count
// from 0 (the column's default).
func TestLegsMigration(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	db, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	leg := func(id string, start int, keys ...string) *spanrec.Call {
		c := indextest.FullCall(time.UTC)
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
	// The calls as an index before 0019 held them, g without an
	// interaction; then the migration, as Open applies it.
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`ALTER TABLE calls DROP COLUMN legs`, `UPDATE calls SET interaction = '' WHERE id = 'g'`, m.sql,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	check := func(want string) {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT id, legs, `+legsExpr+` FROM calls ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
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
			got += " " + id + ":" + strconv.Itoa(legs)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("legs:%s, want%s", got, want)
		}
	}
	check(" a:3 b:3 c:3 d:2 e:2 f:1 g:0")
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
	// A new call, and a leg joining d and e.
	if err := db.PutCall(ctx, leg("h", 3602, "hdr:z")); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCall(ctx, leg("i", 12000)); err != nil {
		t.Fatal(err)
	}
	check(" a:3 b:3 c:3 d:3 e:3 f:1 g:0 h:3 i:1")
}

// TestRePutWhileLinking: a call put again while a new leg links to it (the
// reviewer's race: b re-put while c joins it by a key only b and c share)
// neither deadlocks nor needs a retry, since PutCall takes the link keys'
// and interaction's locks before the call's row (lockLegs), as the new
// leg does; and all three end in one interaction.
func TestRePutWhileLinking(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const rounds = 120
	for r := range rounds {
		n := strconv.Itoa(r)
		at := indextest.T0.Add(time.Duration(r) * time.Hour)
		leg := func(id string, start int, keys ...string) *spanrec.Call {
			s := at.Add(time.Duration(start) * time.Second)
			return &spanrec.Call{ID: spanrec.CallID(id + n), Start: s, End: s.Add(time.Minute), LinkKeys: keys}
		}
		k1, k2 := "hdr:k1-"+n, "hdr:k2-"+n
		for _, c := range []*spanrec.Call{leg("a", 0, k1), leg("b", 1, k1, k2)} {
			if err := db.PutCall(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var errB, errC error
		wg.Go(func() { errB = db.PutCall(ctx, leg("b", 1, k1, k2)) })
		wg.Go(func() { errC = db.PutCall(ctx, leg("c", 2, k2)) })
		wg.Wait()
		if errB != nil || errC != nil {
			t.Fatalf("round %d: re-put b: %v; put c: %v", r, errB, errC)
		}
		for _, id := range []string{"a", "b", "c"} {
			c, err := db.Call(ctx, spanrec.CallID(id+n))
			if err != nil {
				t.Fatal(err)
			}
			if c.Interaction != spanrec.CallID("a"+n) || len(c.Legs) != 2 {
				t.Fatalf("round %d: %s: interaction %s, legs %v; want a%s and the two others", r, id, c.Interaction, c.Legs, n)
			}
		}
	}
	if n := db.retries.Load(); n != 0 {
		t.Errorf("%d transactions retried after a deadlock; want none", n)
	}
}
