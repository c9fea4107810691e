package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec/indextest"
)

// benchIndexPath returns the index of n generated calls (generateCalls)
// that a benchmark reads: $SPANREC_BENCH_DB when set (generated there
// when the file does not exist, kept after), so that several benchmarks
// and binaries share the million calls that take many minutes to build;
// else a file of the test binary's (BenchmarkUISearch's).
func benchIndexPath(b *testing.B, n int) string {
	ctx := context.Background()
	if p := os.Getenv("SPANREC_BENCH_DB"); p != "" {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			if err := generateCalls(ctx, p, n); err != nil {
				b.Fatal(err)
			}
		} else if err != nil {
			b.Fatal(err)
		}
		return p
	}
	if benchIndex.n != n {
		if benchIndex.dir != "" {
			os.RemoveAll(benchIndex.dir)
		}
		dir, err := os.MkdirTemp("", "spanrec-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchIndex.dir, benchIndex.n = dir, 0
		if err := generateCalls(ctx, filepath.Join(dir, "index.db"), n); err != nil {
			b.Fatal(err)
		}
		benchIndex.n = n
	}
	return filepath.Join(benchIndex.dir, "index.db")
}

// BenchmarkNumberSearchCheck measures, on an index of $SPANREC_BENCH_CALLS
// generated calls (default 100 000), what keeping the number-search table
// right costs, one sub-benchmark each: Open's check of the ends of calls
// and calls_number (open-check), CheckNumberSearch's test of every call
// (check), a rebuild of the table (rebuild: what Open and fsck --repair
// do after a renumbering), and for comparison the alternative of giving
// calls an INTEGER PRIMARY KEY: a copy of calls into such a table with all
// of calls' indexes, rolled back (ipk-copy). Each reports its seconds.
func BenchmarkNumberSearchCheck(b *testing.B) {
	n := indextest.BenchCalls(100_000)
	ctx := context.Background()
	db, err := Open(ctx, benchIndexPath(b, n))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, step := range []struct {
		name string
		run  func() error
	}{
		{"open-check", func() error {
			if drift, err := numberSearchDrift(ctx, db.w); err != nil || drift != "" {
				return fmt.Errorf("drift %q, %v", drift, err)
			}
			return nil
		}},
		{"check", func() error {
			if c, err := db.CheckNumberSearch(ctx, false); err != nil || !c.OK() || c.Calls != n {
				return fmt.Errorf("CheckNumberSearch = %+v, %v", c, err)
			}
			return nil
		}},
		{"rebuild", func() error { return rebuildSearchTables(ctx, db.w) }},
		{"ipk-copy", func() error { return ipkCopy(ctx, db.w) }},
	} {
		b.Run(step.name, func(b *testing.B) {
			for b.Loop() {
				start := time.Now()
				if err := step.run(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(start).Seconds(), "s")
				b.Logf("%s: %v", step.name, time.Since(start))
			}
		})
	}
}

// ipkCopy copies calls into a table whose rowid is a column of its own
// (seq INTEGER PRIMARY KEY) and builds calls' indexes on it, in a
// transaction it rolls back: the work of a migration that would make the
// calls' rowids permanent, short of the number-search table's refill and
// the swap of the tables.
func ipkCopy(ctx context.Context, w *sql.DB) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var create string
	if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'calls'`).Scan(&create); err != nil {
		return err
	}
	head, rest, ok := strings.Cut(create, "(")
	if !ok {
		return fmt.Errorf("calls' schema: %q", create)
	}
	// id stays unique, no longer the primary key.
	rest = strings.Replace(rest, "PRIMARY KEY", "UNIQUE", 1)
	stmts := []string{strings.Replace(head, "calls", "calls_ipk", 1) + "(seq INTEGER PRIMARY KEY, " + rest,
		`INSERT INTO calls_ipk SELECT rowid, * FROM calls`}
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'calls' AND sql IS NOT NULL`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			rows.Close()
			return err
		}
		sql = strings.Replace(sql, name, name+"_ipk", 1)
		stmts = append(stmts, strings.Replace(sql, " ON calls ", " ON calls_ipk ", 1))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
