package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
)

// TestCustomPlans: every connection of the index plans each statement for
// its own values (plan_cache_mode force_custom_plan; a generic plan made a
// codec search on 10 M calls 20 times slower from its sixth run) and
// compiles none (jit off), unless the URL says otherwise.
func TestCustomPlans(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	for _, tt := range []struct{ url, want, jit string }{
		{u, "force_custom_plan", "off"},
		{u + "&plan_cache_mode=auto", "auto", "off"},
		{u + "&jit=on", "force_custom_plan", "on"},
		{u + "&options=-c%20jit%3Don%20-c%20plan_cache_mode%3Dforce_generic_plan", "force_generic_plan", "on"},
	} {
		db, err := Open(ctx, tt.url)
		if err != nil {
			t.Fatal(err)
		}
		// Three connections held at once, as several users' searches hold them.
		var conns []*pgxpool.Conn
		for range 3 {
			conn, err := db.pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, conn)
			var mode string
			if err := conn.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if mode != tt.want {
				t.Errorf("plan_cache_mode = %q, want %q", mode, tt.want)
			}
			var jit string
			if err := conn.QueryRow(ctx, `SHOW jit`).Scan(&jit); err != nil {
				t.Fatal(err)
			}
			if jit != tt.jit {
				t.Errorf("jit = %q, want %q", jit, tt.jit)
			}
		}
		for _, c := range conns {
			c.Release()
		}
		db.Close()
	}
}

// TestBoundedProbe: a search bounded to the newest calls (scanBound, a
// text no trigram index serves) tests each of them with a look-up of its
// own header fields, notes or tags (a SubPlan), never with a join of every
// header field of the name, every note or every tag's calls; a search
// without a bound leaves the planner its choice.
func TestBoundedProbe(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range []spanrec.CallFilter{
		{HeaderName: "X-Account", HeaderValue: "*zq*"},
		{HeaderName: "X-Account", HeaderValue: "acct-1*", NoteText: "zq"},
		{NoteText: "zq"},
		{Tag: "vip", UserAgent: "zq"},
	} {
		for _, bound := range []string{"", "start_ns >= 0"} {
			var a args
			where, err := filterSQL(f, &a, bound, nil)
			if err != nil {
				t.Fatal(err)
			}
			exists, fenced := strings.Count(where, "EXISTS"), strings.Count(where, "OFFSET 0")
			if want := map[bool]int{true: exists}[bound != ""]; exists == 0 || fenced != want {
				t.Errorf("%+v, bound %q: %d of %d EXISTS end in OFFSET 0, want %d: %s", f, bound, fenced, exists, want, where)
			}
			if bound == "" {
				continue
			}
			text := strings.Join(explain(ctx, t, db.pool, `SELECT count(*) FROM calls`+where, a...), "\n")
			if strings.Count(text, "SubPlan") < exists || strings.Contains(text, "Join") {
				t.Errorf("%+v bounded: not a look-up per call:\n%s", f, text)
			}
		}
	}
}

// TestConformanceUAWalk runs the searches of the shared suite with every
// side of more distinct user agents than a search reads (maxUAValues
// 0): each call's user agents tested with ILIKE, as on an index of a
// user agent per phone. TestConformance runs them on the distinct values.
func TestConformanceUAWalk(t *testing.T) {
	defer func(n int) { maxUAValues = n }(maxUAValues)
	maxUAValues = 0
	schema := pgtest.Schemas()
	indextest.Run(t, indextest.Backend{
		Open: func(t *testing.T, name string) (indextest.Index, error) {
			return Open(context.Background(), schema(t, name))
		},
		Only: []string{"SearchSIP", "SearchTexts", "SearchInvalid", "SearchStop", "SearchStopGrouped", "HostileStrings"},
	})
}

// TestChildCount: the capped total of a search of the notes' text, of a
// header field with a * pattern or of a tag alone is counted from the
// rows searched, a note or field tested for an earlier matching row of
// its call by a look-up of its own (a SubPlan), stopped at the cap (a
// Limit): no hash of every matching note or header field, no join with
// calls — what keeps the total of 100,000 matching notes of 10 M calls
// near the cost of 10,001 (docs/PERFORMANCE.md, "Fourteenth session"). A
// search with another condition keeps the count on calls.
func TestChildCount(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const calls = 200
	for i := range calls {
		c := &spanrec.Call{
			ID: spanrec.CallID(fmt.Sprintf("c%05d", i)), SIPCallID: fmt.Sprintf("sip-%d", i),
			Start:      indextest.T0.Add(time.Duration(i) * time.Second),
			SIPHeaders: []spanrec.SIPHeader{{Name: "X-Account", Value: fmt.Sprintf("acct-%d", i%100)}},
		}
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Ten notes and ten more fields of the header a call, all matching:
	// 2,000 of each (every row belongs to a call: the foreign key holds).
	for _, q := range []string{
		`INSERT INTO call_notes (call_id, author, at_ns, text)
			SELECT id, 'plan', 0, 'customer asked for a callback ' || k FROM calls, generate_series(1, 10) AS k (k)`,
		`INSERT INTO call_headers (call_id, seq, name, value)
			SELECT id, k, 'x-account', 'acct-1' || k FROM calls, generate_series(1, 10) AS k (k)`,
		`INSERT INTO call_tags (call_id, tag, author, at_ns) SELECT id, 'review', 'plan', 0 FROM calls`,
		`ANALYZE calls, call_notes, call_headers, call_tags`,
	} {
		if _, err := db.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []spanrec.CallFilter{
		{NoteText: "CALLBACK"},
		{NoteText: "ck"},
		{HeaderName: "x-account", HeaderValue: "acct-1*"},
		{HeaderName: "x-account", HeaderValue: "*1*"},
		{Tag: "review"},
	} {
		q, a, ok := childCountSQL(f, 100)
		if !ok {
			t.Fatalf("%+v: not counted from its rows", f)
		}
		text := strings.Join(explain(ctx, t, db.pool, q, a...), "\n")
		if !strings.Contains(text, "Limit") || f.Tag == "" && !strings.Contains(text, "SubPlan") ||
			strings.Contains(text, "Hash") || strings.Contains(text, "Join") || strings.Contains(text, " on calls") {
			t.Errorf("%+v: not a capped scan with a look-up per row:\n%s", f, text)
		}
		if n, more, err := db.CountUpTo(ctx, f, 100); err != nil || n != 100 || !more {
			t.Errorf("%+v: CountUpTo(100) = %d, %v, %v; want 100, true", f, n, more, err)
		}
		if n, more, err := db.CountUpTo(ctx, f, calls); err != nil || n != calls || more {
			t.Errorf("%+v: CountUpTo(%d) = %d, %v, %v; want %d, false", f, calls, n, more, err, calls)
		}
	}
	for _, f := range []spanrec.CallFilter{
		{NoteText: "CALLBACK", Direction: spanrec.Outbound},
		{NoteText: "CALLBACK", HeaderName: "x-account", HeaderValue: "acct-1*"},
		{HeaderName: "x-account", HeaderValue: "acct-1"},
		{HeaderName: "x-account", HeaderValue: "acct-1*", GroupInteraction: true},
		{NoteText: "CALLBACK", Sensor: "s1"},
		{Tag: "review", NoteText: "CALLBACK"},
		{Tag: "review", Until: indextest.T0},
	} {
		if _, _, ok := childCountSQL(f, 100); ok {
			t.Errorf("%+v: counted from the rows searched, want from calls", f)
		}
	}
	// A search bounded to the newest calls is counted within its bound.
	if n, more, err := db.CountUpTo(ctx, spanrec.CallFilter{NoteText: "ck", ScanLimit: 5}, 100); err != nil || n != 5 || more {
		t.Errorf("bounded: CountUpTo(100) = %d, %v, %v; want 5, false", n, more, err)
	}
}

// explain returns the lines of the plan PostgreSQL makes for the
// statement q with args.
func explain(ctx context.Context, t *testing.T, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(ctx, `EXPLAIN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return plan
}
