package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
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
			rows, err := db.pool.Query(ctx, `EXPLAIN SELECT count(*) FROM calls`+where, a...)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
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
	var (
		mu     sync.Mutex
		stores = map[string]string{}
	)
	indextest.Run(t, indextest.Backend{
		Open: func(t *testing.T, name string) (indextest.Index, error) {
			mu.Lock()
			u, ok := stores[name]
			if !ok {
				u = pgtest.NewSchema(t)
				stores[name] = u
			}
			mu.Unlock()
			return Open(context.Background(), u)
		},
		Only: []string{"SearchSIP", "SearchTexts", "SearchInvalid", "SearchStop", "SearchStopGrouped", "HostileStrings"},
	})
}
