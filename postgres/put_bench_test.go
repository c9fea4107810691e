package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
)

// BenchmarkPutCall measures storing a call (indextest.BenchCall: two
// streams, two key presses, link keys) into a new schema, one
// transaction each, as a sensor's shipper does: what every index on
// calls costs an insert. wal-B/call is the write-ahead log written per
// call (the cluster's, so nothing else may write meanwhile): unlike the
// time, it does not depend on the machine's load, and each index entry
// adds to it.
func BenchmarkPutCall(b *testing.B) {
	ctx := context.Background()
	u := pgtest.NewSchema(b)
	db, err := postgres.Open(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	lsn := func() string {
		var s string
		if err := conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&s); err != nil {
			b.Fatal(err)
		}
		return s
	}
	start := lsn()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := db.PutCall(ctx, indextest.BenchCall(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	var wal float64
	if err := conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)`, lsn(), start).Scan(&wal); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(wal/float64(b.N), "wal-B/call")
}
