package retention_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/retention"
)

// BenchmarkPlan plans a pass of the rules over an index of 5,000 calls
// (the demo's seven calls indexed again under other IDs and times, their
// files shared), none of which the rules delete: what every hourly pass
// costs once the old calls are gone. "age" reads the calls older than the
// shortest rule; "total" reads them all and stats their files.
func BenchmarkPlan(b *testing.B) {
	const n = 5000
	ctx := context.Background()
	dir := b.TempDir()
	db := openIndex(b, dir)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	importDemo(b, dir, db, now.Add(-400*24*time.Hour))
	demo := allCalls(b, db)
	for i := len(demo); i < n; i++ {
		c := *demo[i%len(demo)]
		c.ID = spanrec.CallID(fmt.Sprintf("bench%015d", i))
		c.Start = c.Start.Add(time.Duration(i) * time.Minute)
		c.LinkKeys, c.Interaction = nil, ""
		if err := db.PutCall(ctx, &c); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		cfg  retention.Config
	}{
		// Every call is old enough to be read; the rule matches none.
		{"age", retention.Config{Rules: []retention.Rule{{Number: "no such number", MaxAge: 24 * time.Hour}}}},
		{"total", retention.Config{MaxTotalBytes: 1 << 50}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tc.cfg.Logger, tc.cfg.Now = quiet, func() time.Time { return now }
			s := retention.New(tc.cfg, db, dir)
			for b.Loop() {
				vs, err := s.Plan(ctx)
				if err != nil || len(vs) != 0 {
					b.Fatalf("plan: %d victims, %v", len(vs), err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
