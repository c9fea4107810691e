package postgres_test

import (
	"context"
	"testing"

	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
)

// BenchmarkPutCall measures storing a call (indextest.BenchCall: two
// streams, two key presses, link keys) into a new schema, one
// transaction each, as a sensor's shipper does: what every index on
// calls costs an insert.
func BenchmarkPutCall(b *testing.B) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := db.PutCall(ctx, indextest.BenchCall(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
