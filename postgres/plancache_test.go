package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

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
