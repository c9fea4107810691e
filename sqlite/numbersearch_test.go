package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// keptCalls is how many of numberIndex's calls are left.
const keptCalls = numberCalls - 50 - 50

// numberCalls is how many calls numberIndex puts (few: the tests that use
// it search every text twice, and run under -race in CI).
const numberCalls = 200

// numberIndex returns the path of a closed index of numberCalls calls with random
// numbers (call-NNN with a header x-tag: tag-NNN, and but for every fourth
// call the user agent phone-NNN), of which the first 50 and every third after were deleted (as
// retention and the UI delete), so that the calls' rowids have gaps; and
// the texts to search it by: pieces of the numbers left.
func numberIndex(t *testing.T) (string, []string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var texts []string
	for i := range numberCalls {
		c := &spanrec.Call{ID: spanrec.CallID(fmt.Sprintf("call-%03d", i)), Start: indextest.T0}
		c.Caller.Number, c.Callee.Number = randomText(r, 3, 12), randomText(r, 0, 6)
		if i%4 != 0 { // every fourth call has no user agent (no row in calls_ua)
			c.CallerUA = fmt.Sprintf("phone-%03d", i)
		}
		c.SIPHeaders = []spanrec.SIPHeader{{Name: "x-tag", Value: fmt.Sprintf("tag-%03d", i)}}
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if i < 50 || i%3 == 0 {
			continue
		}
		rs := []rune(c.Caller.Number)
		j := r.IntN(len(rs) - 2)
		texts = append(texts, string(rs[j:j+3+r.IntN(len(rs)-j-2)]))
	}
	for i := range numberCalls {
		if i < 50 || i%3 == 0 {
			if err := db.DeleteCall(ctx, spanrec.CallID(fmt.Sprintf("call-%03d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, texts
}

// rowids returns the rowid of every row of table by its key column.
func rowids(t *testing.T, q *sql.DB, table, key string) map[string]int64 {
	t.Helper()
	rows, err := q.Query(`SELECT ` + key + `, rowid FROM ` + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			t.Fatal(err)
		}
		m[k] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// rawDB opens the index at path as a DB without Open's check of the
// number-search table: the index as a search saw it before that check.
func rawDB(t *testing.T, path string) *DB {
	t.Helper()
	ctx := context.Background()
	w, err := openPool(ctx, fileURI(path)+"?"+dsnParams(true), 1)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := prepare(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	db := &DB{w: w, r: w, stmts: stmts}
	t.Cleanup(func() { db.Close() })
	return db
}

// missed returns the texts whose search by number does not find what LIKE
// over every row finds.
func missed(t *testing.T, db *DB, texts []string) []string {
	t.Helper()
	var bad []string
	for _, text := range texts {
		if !slices.Equal(searchIDs(t, db, text), likeIDs(t, db, text)) {
			bad = append(bad, text)
		}
	}
	return bad
}

// TestNumberSearchAfterVacuum: a VACUUM of a real index whose calls have
// gaps in their rowids (deleted calls) keeps the calls' rowids, and every
// search by number finds what LIKE finds; the same VACUUM renumbers a
// table that has no index (what SQLite's documentation warns of: calls
// keeps its rowids because it has indexes, not by promise). VACUUM INTO
// keeps the rowids of every table.
func TestNumberSearchAfterVacuum(t *testing.T) {
	path, texts := numberIndex(t)
	w := rawDB(t, path).w
	before := rowids(t, w, "calls", "id")
	if _, err := w.Exec(`CREATE TABLE plain (k TEXT); INSERT INTO plain SELECT id FROM calls ORDER BY rowid;
		DELETE FROM plain WHERE rowid % 2 = 0`); err != nil {
		t.Fatal(err)
	}
	plainBefore := rowids(t, w, "plain", "k")
	if _, err := w.Exec(`VACUUM`); err != nil {
		t.Fatal(err)
	}
	if after := rowids(t, w, "calls", "id"); len(before) != keptCalls || !sameRowids(before, after) {
		t.Errorf("VACUUM changed the calls' rowids: %d calls before, %d after, equal %v", len(before), len(after), sameRowids(before, after))
	}
	plainAfter := rowids(t, w, "plain", "k")
	if sameRowids(plainBefore, plainAfter) || len(plainAfter) != len(plainBefore) {
		t.Errorf("VACUUM kept the rowids of a table without an index (or lost rows: %d, %d); SQLite changed", len(plainBefore), len(plainAfter))
	}
	into := filepath.Join(t.TempDir(), "into.db")
	if _, err := w.Exec(`VACUUM INTO ?`, into); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), into)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if after := rowids(t, db.r, "plain", "k"); !sameRowids(plainAfter, after) {
		t.Error("VACUUM INTO changed the rowids of a table without an index")
	}
	for _, d := range []*DB{rawDB(t, path), db} {
		if bad := missed(t, d, texts); len(bad) > 0 {
			t.Errorf("after VACUUM, %d of %d searches by number differ from LIKE: %q", len(bad), len(texts), bad)
		}
		if c, err := d.CheckNumberSearch(context.Background(), false); err != nil || !c.OK() || c.Calls != keptCalls {
			t.Errorf("CheckNumberSearch after VACUUM = %+v, %v", c, err)
		}
	}
}

func sameRowids(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// renumber numbers the calls 1, 2, 3… in their order, as reading back the
// sqlite3 shell's .dump does (it writes calls' rows without their rowids
// and the number-search table's own tables with their INTEGER keys).
func renumber(t *testing.T, w *sql.DB) {
	t.Helper()
	if _, err := w.Exec(`CREATE TEMP TABLE renumber AS SELECT rowid AS old, row_number() OVER (ORDER BY rowid) AS new FROM calls;
		UPDATE calls SET rowid = -rowid;
		UPDATE calls SET rowid = (SELECT new FROM renumber WHERE old = -calls.rowid);
		DROP TABLE renumber`); err != nil {
		t.Fatal(err)
	}
}

// otherMissed returns the calls of db that a search by their user agent or
// by their x-tag header value (each read through its trigram table) does
// not find alone, and checks that calls_ua has a row for each call with a
// user agent and none for the others.
func otherMissed(t *testing.T, db *DB) []string {
	t.Helper()
	ctx := context.Background()
	var bad []string
	for id := range rowids(t, db.r, "calls", "id") {
		n := id[len("call-"):]
		i, err := strconv.Atoi(n)
		if err != nil {
			t.Fatal(err)
		}
		filters := []spanrec.CallFilter{{HeaderName: "X-Tag", HeaderValue: "tag-" + n + "*"}}
		if i%4 != 0 {
			filters = append(filters, spanrec.CallFilter{UserAgent: "phone-" + n})
		}
		for _, f := range filters {
			calls, err := db.Calls(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != 1 || string(calls[0].ID) != id {
				bad = append(bad, fmt.Sprintf("%s by %+v: %d calls", id, f, len(calls)))
			}
		}
	}
	var rows, withUA int
	if err := db.r.QueryRow(`SELECT (SELECT count(*) FROM calls_ua_docsize), (SELECT count(*) FROM calls WHERE caller_ua <> '' OR callee_ua <> '')`).Scan(&rows, &withUA); err != nil {
		t.Fatal(err)
	}
	if rows != withUA {
		bad = append(bad, fmt.Sprintf("calls_ua has %d rows for %d calls with a user agent", rows, withUA))
	}
	return bad
}

// TestNumberSearchRenumbered: where the calls of a real index were
// renumbered under the number-search table, the search by number misses
// calls (the problem), CheckNumberSearch says so, and Open finds it by
// itself and fills the table again: every search then finds what LIKE
// over every row finds.
func TestNumberSearchRenumbered(t *testing.T) {
	ctx := context.Background()
	path, texts := numberIndex(t)
	raw := rawDB(t, path)
	renumber(t, raw.w)
	if bad := missed(t, raw, texts); len(bad) < len(texts)/2 {
		t.Errorf("after renumbering, only %d of %d searches differ from LIKE", len(bad), len(texts))
	}
	if bad := otherMissed(t, raw); len(bad) < keptCalls {
		t.Errorf("after renumbering, only %d searches by user agent or header miss their call", len(bad))
	}
	c, err := raw.CheckNumberSearch(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.OK() || c.Drift == "" || c.Missed != keptCalls || c.Calls != keptCalls || len(c.Examples) != maxExamples || c.Stale == 0 {
		t.Errorf("CheckNumberSearch of renumbered calls = %+v", c)
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if bad := missed(t, db, texts); len(bad) > 0 {
		t.Errorf("after Open, %d of %d searches by number differ from LIKE: %q", len(bad), len(texts), bad)
	}
	if bad := otherMissed(t, db); len(bad) > 0 {
		t.Errorf("after Open, %d searches by user agent or header miss their call: %q", len(bad), bad)
	}
	if c, err := db.CheckNumberSearch(ctx, false); err != nil || !c.OK() || c.Calls != keptCalls {
		t.Errorf("CheckNumberSearch after Open = %+v, %v", c, err)
	}
}

// TestCheckNumberSearchRepair: damage that Open's check of the tables'
// ends cannot see (two calls exchange their rowids; a row of the table
// names no call; the user-agent table lacks a call, the header-value
// table has a row for no field) is found by CheckNumberSearch, and repair
// fills the tables again so that every search by number finds what LIKE
// finds and every call is found by its user agent and header value.
func TestCheckNumberSearchRepair(t *testing.T) {
	ctx := context.Background()
	path, texts := numberIndex(t)
	raw := rawDB(t, path)
	var a, b, gap int64
	// Rowid 100 was call-099's, deleted: a row of the table there names no call.
	if err := raw.w.QueryRow(`SELECT count(*) FROM calls WHERE rowid = 100`).Scan(&gap); err != nil || gap != 0 {
		t.Fatalf("rowid 100: %d calls, %v", gap, err)
	}
	if err := raw.w.QueryRow(`SELECT (SELECT rowid FROM calls WHERE id = 'call-100'), (SELECT rowid FROM calls WHERE id = 'call-190')`).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.w.Exec(`UPDATE calls SET rowid = -rowid WHERE rowid = ?1;
		UPDATE calls SET rowid = ?1 WHERE rowid = ?2;
		UPDATE calls SET rowid = ?2 WHERE rowid = -?1;
		INSERT INTO calls_number (rowid, caller_number, callee_number) VALUES (100, '123', '456')`, a, b); err != nil {
		t.Fatal(err)
	}
	// The user-agent table loses call-101's row; the header-value table
	// gains one for a field no call has.
	if _, err := raw.w.Exec(`DELETE FROM calls_ua WHERE rowid = (SELECT rowid FROM calls WHERE id = 'call-101');
		INSERT INTO call_headers_value (rowid, value) VALUES (100 * 64 + 5, 'tag-stray')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.CheckNumberSearch(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []spanrec.CallID{"call-100", "call-190"}
	slices.Sort(c.Examples)
	if c.Missed != 2 || !slices.Equal(c.Examples, want) || c.Stale != 1 || len(c.Others) != 2 || c.Rebuilt || c.OK() {
		t.Errorf("CheckNumberSearch = %+v, want 2 missed (%v), 1 stale, the user-agent and header-value tables' keys wrong", c, want)
	}
	c, err = db.CheckNumberSearch(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Missed != 2 || c.Stale != 1 || !c.Rebuilt {
		t.Errorf("CheckNumberSearch with repair = %+v", c)
	}
	if c, err := db.CheckNumberSearch(ctx, false); err != nil || !c.OK() || c.Calls != keptCalls {
		t.Errorf("CheckNumberSearch after repair = %+v, %v", c, err)
	}
	if bad := missed(t, db, texts); len(bad) > 0 {
		t.Errorf("after repair, %d of %d searches by number differ from LIKE: %q", len(bad), len(texts), bad)
	}
	if bad := otherMissed(t, db); len(bad) > 0 {
		t.Errorf("after repair, %d searches by user agent or header miss their call: %q", len(bad), bad)
	}
}

// TestCheckNumberSearchBesideWriter: the check without repair only reads:
// while its transaction is open (fresh table built, comparison not yet
// run), another process's writer (a second DB on the same file, as a
// recorder beside spanrec fsck) stores and deletes calls within its busy
// timeout, and the check still reports the calls of its snapshot.
func TestCheckNumberSearchBesideWriter(t *testing.T) {
	ctx := context.Background()
	path, _ := numberIndex(t)
	recorder, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer recorder.Close()
	fsck, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer fsck.Close()
	var writeErr error
	wrote := false
	numberCheckHook = func() {
		wrote = true
		c := &spanrec.Call{ID: "beside-fsck", Start: indextest.T0, CallerUA: "phone-beside"}
		c.Caller.Number = "4930123"
		writeErr = errors.Join(recorder.PutCall(ctx, c), recorder.DeleteCall(ctx, "call-197"))
	}
	defer func() { numberCheckHook = nil }()
	c, err := fsck.CheckNumberSearch(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !wrote || writeErr != nil {
		t.Fatalf("a writer beside the check: ran %v, %v", wrote, writeErr)
	}
	if !c.OK() || c.Calls != keptCalls {
		t.Errorf("CheckNumberSearch = %+v, want OK over the snapshot's %d calls", c, keptCalls)
	}
	numberCheckHook = nil
	if c, err := fsck.CheckNumberSearch(ctx, false); err != nil || !c.OK() || c.Calls != keptCalls {
		t.Errorf("CheckNumberSearch after the writes = %+v, %v", c, err)
	}
	if got := searchIDs(t, fsck, "4930123"); !slices.Equal(got, []string{"beside-fsck"}) {
		t.Errorf("the call written beside the check: search finds %q", got)
	}
}

// TestUserAgentRows: calls_ua holds a row only for a call with a user
// agent, as the call is stored, changed and deleted, and a search by user
// agent finds it exactly while it has one.
func TestUserAgentRows(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := func() int {
		var n int
		if err := db.r.QueryRow(`SELECT count(*) FROM calls_ua_docsize`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	found := func() int {
		calls, err := db.Calls(ctx, spanrec.CallFilter{UserAgent: "Yealink"})
		if err != nil {
			t.Fatal(err)
		}
		return len(calls)
	}
	c := &spanrec.Call{ID: "ua", Start: indextest.T0}
	for _, step := range []struct {
		caller, callee string
		rows, found    int
	}{
		{"", "", 0, 0},
		{"Yealink SIP-T46S", "", 1, 1},
		{"", "yealink W60B", 1, 1},
		{"", "", 0, 0},
		{"Grandstream", "", 1, 0},
	} {
		c.CallerUA, c.CalleeUA = step.caller, step.callee
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if r, f := rows(), found(); r != step.rows || f != step.found {
			t.Errorf("UAs %q, %q: %d rows, search finds %d; want %d, %d", step.caller, step.callee, r, f, step.rows, step.found)
		}
	}
	if err := db.DeleteCall(ctx, "ua"); err != nil {
		t.Fatal(err)
	}
	if r := rows(); r != 0 {
		t.Errorf("after delete: %d rows", r)
	}
}
