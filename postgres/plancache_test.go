package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/pgtest"
)

// TestCustomPlans: every connection of the index plans each statement for
// its own values (plan_cache_mode force_custom_plan; a generic plan made a
// codec search on 10 M calls 20 times slower from its sixth run), unless
// the URL says otherwise.
func TestCustomPlans(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	for _, tt := range []struct{ url, want string }{
		{u, "force_custom_plan"},
		{u + "&plan_cache_mode=auto", "auto"},
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
		}
		for _, c := range conns {
			c.Release()
		}
		db.Close()
	}
}

// TestBoundedProbe: a wildcard header value or a note text no trigram
// index serves is a search bounded to the newest calls (ScanLimit),
// planned as a look-up of each call's own rows (a SubPlan), never as a
// join with every header field of the name or every note; a text the
// index serves, or a search with no bound (the CSV export), leaves the
// planner its choice.
func TestBoundedProbe(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range []struct {
		f     spanrec.CallFilter
		fence bool
	}{
		{spanrec.CallFilter{HeaderName: "X-Account", HeaderValue: "*zq*", ScanLimit: spanrec.MaxUnindexedScan}, true},
		{spanrec.CallFilter{HeaderName: "X-Account", HeaderValue: "*zq*"}, false},
		{spanrec.CallFilter{HeaderName: "X-Account", HeaderValue: "acct-1*", ScanLimit: spanrec.MaxUnindexedScan}, false},
		{spanrec.CallFilter{NoteText: "zq", ScanLimit: spanrec.MaxUnindexedScan}, true},
		{spanrec.CallFilter{NoteText: "zq"}, false},
		{spanrec.CallFilter{NoteText: "callback", ScanLimit: spanrec.MaxUnindexedScan}, false},
	} {
		var a args
		where, err := filterSQL(tt.f, &a, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(where, "OFFSET 0"); got != tt.fence {
			t.Errorf("%+v: fenced %v, want %v: %s", tt.f, got, tt.fence, where)
		}
		if !tt.fence {
			continue
		}
		rows, err := db.pool.Query(ctx, `EXPLAIN SELECT count(*) FROM calls`+where, a...)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "SubPlan") || strings.Contains(text, "Join") {
			t.Errorf("%+v bounded: not a look-up per call:\n%s", tt.f, text)
		}
	}
}
