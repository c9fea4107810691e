package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
)

// The number-search table calls_number (migration 0019) names each call by
// the calls table's rowid. calls has a TEXT primary key, so that rowid is
// not a column of its own: SQLite's documentation allows VACUUM to change
// it, and a copy that does not carry it over (the sqlite3 shell's .dump
// read back without --preserve-rowids, an INSERT … SELECT into a new calls
// table) renumbers the calls from 1 while calls_number, whose own tables
// have INTEGER keys, keeps the old numbers: a search by number would then
// test the wrong calls and miss the right ones. (SQLite 3.x's VACUUM keeps
// the rowids of a table that has an index, as calls has, and VACUUM INTO
// keeps them all: TestNumberSearchAfterVacuum.)
//
// Such copies keep the calls' order and number them 1, 2, 3…, so a
// renumbering that changed anything leaves the largest rowid of calls
// below the largest of calls_number: Open compares the two (two B-tree
// seeks) and, when they differ, fills calls_number again from calls.
// CheckNumberSearch (spanrec fsck) tests every call.

// numberSearchDrift returns a description of how calls and calls_number
// disagree at their ends, or "" where their smallest and largest rowids
// are the same (as the triggers keep them).
func numberSearchDrift(ctx context.Context, q querier) (string, error) {
	var cmin, cmax, nmin, nmax sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT (SELECT min(rowid) FROM calls), (SELECT max(rowid) FROM calls),
		(SELECT min(id) FROM calls_number_docsize), (SELECT max(id) FROM calls_number_docsize)`).Scan(&cmin, &cmax, &nmin, &nmax)
	if err != nil {
		return "", fmt.Errorf("compare calls with calls_number: %w", err)
	}
	if cmin == nmin && cmax == nmax {
		return "", nil
	}
	return fmt.Sprintf("calls' rowids run %s…%s, the number-search table's %s…%s",
		nullText(cmin), nullText(cmax), nullText(nmin), nullText(nmax)), nil
}

func nullText(v sql.NullInt64) string {
	if !v.Valid {
		return "none"
	}
	return fmt.Sprint(v.Int64)
}

// querier is what numberSearchDrift reads through: a pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkNumberSearchAtOpen is Open's check: where calls were renumbered, it
// fills calls_number again, in one transaction, and logs what it found.
func checkNumberSearchAtOpen(ctx context.Context, w *sql.DB) error {
	drift, err := numberSearchDrift(ctx, w)
	if err != nil || drift == "" {
		return err
	}
	start := time.Now()
	if err := rebuildNumberSearch(ctx, w); err != nil {
		return fmt.Errorf("the calls were renumbered (%s); rebuilding the number-search table: %w", drift, err)
	}
	slog.Warn("index: the calls were renumbered since the number-search table was written (a copy of the index file that did not keep their rowids); rebuilt it",
		"found", drift, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// rebuildNumberSearch empties calls_number and fills it from calls, in one
// transaction, as migration 0019 filled it.
func rebuildNumberSearch(ctx context.Context, w *sql.DB) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`INSERT INTO calls_number (calls_number) VALUES ('delete-all')`,
		`INSERT INTO calls_number (rowid, caller_number, callee_number) SELECT rowid, caller_number, callee_number FROM calls`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// NumberSearchCheck is what CheckNumberSearch found.
type NumberSearchCheck struct {
	// Calls is the number of calls checked.
	Calls int
	// Missed is the number of calls that a search by their caller or
	// callee number would not have found; Examples names the first few.
	Missed   int
	Examples []spanrec.CallID
	// Stale is the number of the table's rows that name no call (they
	// cost space, never a wrong answer: the search tests each call it
	// names).
	Stale int
	// Drift says how the rowids at the two tables' ends differ ("" when
	// they agree): a renumbering of the calls.
	Drift string
	// Rebuilt is true where CheckNumberSearch filled the table again.
	Rebuilt bool
	// Unchecked counts numbers of three characters or more that are not
	// valid UTF-8: no search through the table can name them (a search
	// for such a text reads every row), so they are not tested.
	Unchecked int
}

// OK reports whether the check found nothing wrong.
func (c NumberSearchCheck) OK() bool { return c.Missed == 0 && c.Stale == 0 && c.Drift == "" }

// maxExamples is how many unfindable calls a NumberSearchCheck names.
const maxExamples = 20

// CheckNumberSearch tests that a search by number finds every call through
// the number-search table (migration 0019): for each call, the phrase of
// the trigrams of its whole caller and of its whole callee number must
// match that call's row (then every text of three characters or more in
// the number does: its trigrams are part of that phrase), and no row of
// the table may name a call that is gone. With repair, where anything is
// wrong, it fills the table again from calls and checks once more. It
// reads every call: run it where a search may wait (spanrec fsck).
func (db *DB) CheckNumberSearch(ctx context.Context, repair bool) (NumberSearchCheck, error) {
	c, err := db.checkNumberSearch(ctx)
	if err != nil || c.OK() || !repair {
		return c, err
	}
	if err := rebuildNumberSearch(ctx, db.w); err != nil {
		return c, fmt.Errorf("index: rebuild the number-search table: %w", err)
	}
	after, err := db.checkNumberSearch(ctx)
	if err != nil {
		return c, err
	}
	if !after.OK() {
		return c, fmt.Errorf("index: the number-search table is still wrong after a rebuild: %d calls missed, %d stale rows", after.Missed, after.Stale)
	}
	c.Rebuilt = true
	return c, nil
}

func (db *DB) checkNumberSearch(ctx context.Context) (NumberSearchCheck, error) {
	var c NumberSearchCheck
	// One read transaction: the calls and the table as of one moment.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return c, fmt.Errorf("index: check the number-search table: %w", err)
	}
	defer tx.Rollback()
	if c.Drift, err = numberSearchDrift(ctx, tx); err != nil {
		return c, fmt.Errorf("index: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM calls_number_docsize AS d
		WHERE NOT EXISTS (SELECT 1 FROM calls WHERE calls.rowid = d.id)`).Scan(&c.Stale); err != nil {
		return c, fmt.Errorf("index: check the number-search table: %w", err)
	}
	match, err := tx.PrepareContext(ctx, `SELECT count(*) FROM calls_number WHERE calls_number MATCH ? AND rowid = ?`)
	if err != nil {
		return c, fmt.Errorf("index: check the number-search table: %w", err)
	}
	defer match.Close()
	rows, err := tx.QueryContext(ctx, `SELECT rowid, id, caller_number, callee_number FROM calls`)
	if err != nil {
		return c, fmt.Errorf("index: check the number-search table: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rowid int64
		var id, caller, callee string
		if err := rows.Scan(&rowid, &id, &caller, &callee); err != nil {
			return c, fmt.Errorf("index: check the number-search table: %w", err)
		}
		c.Calls++
		found := true
		for _, number := range []string{caller, callee} {
			// LIKE reads a text up to its NUL (trigramPhrase): what
			// a search can find is before it.
			if i := strings.IndexByte(number, 0); i >= 0 {
				number = number[:i]
			}
			m, ok := trigramPhrase(number)
			if !ok {
				if len([]rune(number)) >= 3 {
					c.Unchecked++
				}
				continue
			}
			var n int
			if err := match.QueryRowContext(ctx, m, rowid).Scan(&n); err != nil {
				return c, fmt.Errorf("index: check the number-search table, call %s: %w", id, err)
			}
			if n == 0 {
				found = false
			}
		}
		if !found {
			c.Missed++
			if len(c.Examples) < maxExamples {
				c.Examples = append(c.Examples, spanrec.CallID(id))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("index: check the number-search table: %w", err)
	}
	return c, nil
}
