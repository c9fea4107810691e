package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
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
// fills the trigram tables keyed by the calls' rowids again, in one
// transaction, and logs what it found.
func checkNumberSearchAtOpen(ctx context.Context, w *sql.DB) error {
	drift, err := numberSearchDrift(ctx, w)
	if err != nil || drift == "" {
		return err
	}
	start := time.Now()
	if err := rebuildSearchTables(ctx, w); err != nil {
		return fmt.Errorf("the calls were renumbered (%s); rebuilding the search tables: %w", drift, err)
	}
	slog.Warn("index: the calls were renumbered since the search tables were written (a copy of the index file that did not keep their rowids); rebuilt calls_number, calls_ua and call_headers_value",
		"found", drift, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// rebuildSearchTables empties the three trigram tables keyed by the
// calls' rowids — calls_number (0019), calls_ua and call_headers_value
// (0024) — and fills them from calls and call_headers, in one
// transaction, as their migrations filled them. (call_notes_text is keyed
// by the notes' own INTEGER PRIMARY KEY, which every copy keeps.)
func rebuildSearchTables(ctx context.Context, w *sql.DB) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`INSERT INTO calls_number (calls_number) VALUES ('delete-all')`,
		`INSERT INTO calls_number (rowid, caller_number, callee_number) SELECT rowid, caller_number, callee_number FROM calls`,
		`INSERT INTO calls_ua (calls_ua) VALUES ('delete-all')`,
		`INSERT INTO calls_ua (rowid, caller_ua, callee_ua) SELECT rowid, caller_ua, callee_ua FROM calls
			WHERE caller_ua <> '' OR callee_ua <> ''`,
		`INSERT INTO call_headers_value (call_headers_value) VALUES ('delete-all')`,
		`INSERT INTO call_headers_value (rowid, value)
			SELECT calls.rowid * 64 + h.seq, h.value FROM call_headers AS h JOIN calls ON calls.id = h.call_id`,
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
	// Wrong is the number of other calls whose row in the table holds
	// trigrams their numbers do not have (harmless to the answers: the
	// search tests each call it reads; a sign of a renumbering).
	Wrong int
	// Others says how the rows of calls_ua and call_headers_value (keyed
	// by the same rowids) disagree with the calls with a user agent and
	// their header fields, by key only (their trigrams are not compared):
	// one line per table, none where they agree.
	Others []string
	// Rebuilt is true where CheckNumberSearch filled the tables again.
	Rebuilt bool
}

// OK reports whether the check found nothing wrong.
func (c NumberSearchCheck) OK() bool {
	return c.Missed == 0 && c.Wrong == 0 && c.Stale == 0 && c.Drift == "" && len(c.Others) == 0
}

// maxExamples is how many unfindable calls a NumberSearchCheck names.
const maxExamples = 20

// CheckNumberSearch tests that a search by number finds every call through
// the number-search table (migration 0019): every call's row there must
// hold exactly the trigrams, at the same places, that the table's
// tokenizer makes of the call's numbers now (then every search of three
// characters or more that LIKE would answer with the call names it), and
// no row may name a call that is gone. With repair, where anything is
// wrong, it fills the table again from calls (and calls_ua and
// call_headers_value, keyed by the same rowids) and checks once more.
//
// Without repair it only reads the index, in one read transaction on a
// connection of its own: a recorder beside it keeps writing calls (WAL
// mode), but no checkpoint can move the WAL past the check's snapshot
// while it runs, so the WAL file grows with what the recorder writes
// meanwhile (it shrinks back at the next checkpoint after the check). It
// reads every call and every trigram (minutes on a million calls): run it
// where a search may wait (spanrec fsck).
func (db *DB) CheckNumberSearch(ctx context.Context, repair bool) (NumberSearchCheck, error) {
	c, err := db.checkNumberSearch(ctx)
	if err != nil || c.OK() || !repair {
		return c, err
	}
	if err := rebuildSearchTables(ctx, db.w); err != nil {
		return c, fmt.Errorf("index: rebuild the search tables: %w", err)
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
	c, err := db.compareNumberSearch(ctx)
	if err != nil {
		return c, fmt.Errorf("index: check the number-search table: %w", err)
	}
	return c, nil
}

// numberInstance is a row of an fts5vocab instance table: a trigram, the
// row it is in and its place there (the column in bit 32: caller_number
// 0, callee_number 1, as declared).
type numberInstance struct {
	term  sql.RawBytes
	doc   int64
	place int64
}

// compare orders instances as FTS5 lists them: by trigram (its bytes),
// row, column and offset.
func (a *numberInstance) compare(b *numberInstance) int {
	if d := bytes.Compare(a.term, b.term); d != 0 {
		return d
	}
	if d := cmp.Compare(a.doc, b.doc); d != 0 {
		return d
	}
	return cmp.Compare(a.place, b.place)
}

// numberCheckHook, when set (by tests), runs inside compareNumberSearch's
// read transaction once the fresh table is built.
var numberCheckHook func()

// compareNumberSearch builds the number-search table afresh from calls in
// a temporary table of a connection of its own, and walks both tables'
// trigram instances (fts5vocab) side by side, in the order both list
// them: a trigram of a call that calls_number lacks means a search that
// misses the call; one calls_number has and the call lacks, an entry of
// the wrong call. It takes no write lock on the index: its transaction is
// deferred and writes only its temporary schema, which it keeps in a
// temporary file (temp_store FILE), not in memory: the fresh table holds
// every call's trigrams. Its memory holds the rows found wrong and
// SQLite's page caches.
func (db *DB) compareNumberSearch(ctx context.Context) (NumberSearchCheck, error) {
	var c NumberSearchCheck
	conn, done, err := db.checkConn(ctx)
	if err != nil {
		return c, err
	}
	defer done()
	// One read transaction: the calls and the table as of one moment;
	// rolling it back drops the temporary tables.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer tx.Rollback()
	if c.Drift, err = numberSearchDrift(ctx, tx); err != nil {
		return c, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM calls_number_docsize AS d
		WHERE NOT EXISTS (SELECT 1 FROM calls WHERE calls.rowid = d.id)`).Scan(&c.Stale); err != nil {
		return c, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM calls`).Scan(&c.Calls); err != nil {
		return c, err
	}
	if c.Others, err = otherSearchKeys(ctx, tx); err != nil {
		return c, err
	}
	for _, q := range []string{
		`CREATE VIRTUAL TABLE temp.number_check USING fts5 (caller_number, callee_number, tokenize = 'trigram', content = '')`,
		`INSERT INTO temp.number_check (rowid, caller_number, callee_number) SELECT rowid, caller_number, callee_number FROM main.calls`,
		`CREATE VIRTUAL TABLE temp.number_fresh USING fts5vocab (temp, number_check, instance)`,
		`CREATE VIRTUAL TABLE temp.number_live USING fts5vocab (main, calls_number, instance)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return c, err
		}
	}
	if numberCheckHook != nil {
		numberCheckHook()
	}
	const instances = `SELECT term, doc, iif(col = 'caller_number', 0, 1) << 32 | offset FROM temp.`
	fresh, err := tx.QueryContext(ctx, instances+`number_fresh`)
	if err != nil {
		return c, err
	}
	defer fresh.Close()
	live, err := tx.QueryContext(ctx, instances+`number_live`)
	if err != nil {
		return c, err
	}
	defer live.Close()
	next := func(rows *sql.Rows, in *numberInstance) (bool, error) {
		if !rows.Next() {
			return false, rows.Err()
		}
		return true, rows.Scan(&in.term, &in.doc, &in.place)
	}
	missed, wrong := map[int64]bool{}, map[int64]bool{}
	var f, l numberInstance
	fok, err := next(fresh, &f)
	if err != nil {
		return c, err
	}
	lok, err := next(live, &l)
	if err != nil {
		return c, err
	}
	for fok || lok {
		d := 0
		switch {
		case !lok:
			d = -1
		case !fok:
			d = 1
		default:
			d = f.compare(&l)
		}
		if d < 0 {
			missed[f.doc] = true
		} else if d > 0 {
			wrong[l.doc] = true
		}
		if d <= 0 {
			if fok, err = next(fresh, &f); err != nil {
				return c, err
			}
		}
		if d >= 0 {
			if lok, err = next(live, &l); err != nil {
				return c, err
			}
		}
	}
	c.Missed = len(missed)
	for doc := range wrong {
		if !missed[doc] {
			c.Wrong++
		}
	}
	if len(missed) > 0 {
		docs := slices.Sorted(maps.Keys(missed))
		for _, doc := range docs[:min(len(docs), maxExamples)] {
			var id string
			if err := tx.QueryRowContext(ctx, `SELECT id FROM calls WHERE rowid = ?`, doc).Scan(&id); err != nil {
				return c, err
			}
			c.Examples = append(c.Examples, spanrec.CallID(id))
		}
	}
	return c, nil
}

// otherSearchKeys compares the keys of calls_ua and call_headers_value
// with what they index: a row for each call with a user agent, one for
// each header field (64 × its call's rowid + its position), and no other.
// Equal counts and no row without its call or field mean the same sets.
func otherSearchKeys(ctx context.Context, tx *sql.Tx) ([]string, error) {
	var uaRows, uaCalls, uaStale, hRows, hFields, hStale int
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM calls_ua_docsize),
		(SELECT count(*) FROM calls WHERE caller_ua <> '' OR callee_ua <> ''),
		(SELECT count(*) FROM calls_ua_docsize AS d WHERE NOT EXISTS
			(SELECT 1 FROM calls WHERE calls.rowid = d.id AND (caller_ua <> '' OR callee_ua <> ''))),
		(SELECT count(*) FROM call_headers_value_docsize),
		(SELECT count(*) FROM call_headers),
		(SELECT count(*) FROM call_headers_value_docsize AS d WHERE NOT EXISTS
			(SELECT 1 FROM calls JOIN call_headers AS h ON h.call_id = calls.id WHERE calls.rowid = d.id / 64 AND h.seq = d.id % 64))`).
		Scan(&uaRows, &uaCalls, &uaStale, &hRows, &hFields, &hStale)
	if err != nil {
		return nil, fmt.Errorf("compare calls_ua and call_headers_value with the calls: %w", err)
	}
	var out []string
	if uaRows != uaCalls || uaStale > 0 {
		out = append(out, fmt.Sprintf("the user-agent table has %d rows for %d calls with a user agent, %d of them for no such call", uaRows, uaCalls, uaStale))
	}
	if hRows != hFields || hStale > 0 {
		out = append(out, fmt.Sprintf("the header-value table has %d rows for %d header fields, %d of them for no such field", hRows, hFields, hStale))
	}
	return out, nil
}

// checkConn returns the connection compareNumberSearch reads through and
// the function that releases it: for an index file, a pool of its own
// whose transactions start deferred (the writer's start with BEGIN
// IMMEDIATE, which would hold the write lock for the whole check) and
// whose temporary tables live in a file; for ":memory:" (no other
// connection can see it), the writer's.
func (db *DB) checkConn(ctx context.Context) (*sql.Conn, func(), error) {
	var file string
	if err := db.w.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		return nil, nil, fmt.Errorf("the index's file: %w", err)
	}
	if file == "" {
		conn, err := db.w.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		return conn, func() { conn.Close() }, nil
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	q.Add("_pragma", "temp_store(FILE)")
	p, err := openPool(ctx, fileURI(file)+"?"+q.Encode(), 1)
	if err != nil {
		return nil, nil, fmt.Errorf("open a reader of %s: %w", file, err)
	}
	conn, err := p.Conn(ctx)
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	return conn, func() { conn.Close(); p.Close() }, nil
}
