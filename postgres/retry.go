package postgres

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxTries bounds the tries of a transaction that PostgreSQL aborted as a
// deadlock or serialization failure (retryable).
const maxTries = 3

// retryable reports whether err is a deadlock (40P01) or a serialization
// failure (40001): PostgreSQL aborted the transaction, which may succeed
// if run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// beginRetry runs fn in a transaction (pgx.BeginFunc), and again, up to
// maxTries in all, after a short jittered pause, while PostgreSQL aborts
// it as a deadlock or serialization failure. PutCall and the deletions
// take their locks in one order (see legs.go), so this is a second guard:
// each retry is counted (db.retries) and logged as a warning.
func (db *DB) beginRetry(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	for try := 1; ; try++ {
		err := pgx.BeginFunc(ctx, db.pool, fn)
		if err == nil || try >= maxTries || !retryable(err) || ctx.Err() != nil {
			return err
		}
		db.retries.Add(1)
		pause := time.Duration(try)*10*time.Millisecond + rand.N(20*time.Millisecond)
		slog.Warn("index: transaction aborted by PostgreSQL, retrying", "what", what, "try", try, "pause", pause, "err", err)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
