package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// numberRunes are what the numbers and texts of the number-search tests
// are made of: digits, letters in both cases, LIKE's wildcards and escape,
// the full-text query's quote, a space, and letters outside ASCII whose
// case or compatibility forms the trigram tokenizer folds but LIKE does
// not (ä Ä, ß, K and the KELVIN SIGN, Σ σ ς) or that are several bytes.
var numberRunes = []rune("0123456789012345abcABC%_\\\" äÄßkK\u212aΣσς電🙂")

func randomText(r *rand.Rand, min, max int) string {
	var b strings.Builder
	for range min + r.IntN(max-min+1) {
		b.WriteRune(numberRunes[r.IntN(len(numberRunes))])
	}
	return b.String()
}

// likeIDs returns the IDs of the calls whose numbers LIKE finds text in,
// reading every row: the search as it was before migration 0019.
func likeIDs(t testing.TB, db *DB, text string) []string {
	t.Helper()
	p := "%" + spanrec.EscapeLike(text) + "%"
	rows, err := db.r.Query(`SELECT id FROM calls WHERE caller_number LIKE ? ESCAPE '\' OR callee_number LIKE ? ESCAPE '\' ORDER BY id`, p, p)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// searchIDs returns the IDs of the calls Calls finds by number, in ID order.
func searchIDs(t testing.TB, db *DB, text string) []string {
	t.Helper()
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{Number: text})
	if err != nil {
		t.Fatalf("Number %q: %v", text, err)
	}
	ids := make([]string, 0, len(calls))
	for _, c := range calls {
		ids = append(ids, string(c.ID))
	}
	slices.Sort(ids)
	n, err := db.Count(context.Background(), spanrec.CallFilter{Number: text})
	if err != nil || n != len(ids) {
		t.Fatalf("Number %q: Count = %d, %v; Calls found %d", text, n, err, len(ids))
	}
	return ids
}

// TestNumberSearchTrigrams: on calls indexed before migration 0019 (which
// fills the trigram table from them) and after it (which its triggers
// fill), replaced and deleted, a search by number of three characters or
// more, read through the trigram table, finds the same calls as LIKE over
// every row: texts of digits, letters, %, _, \, " and letters outside
// ASCII, from the numbers themselves in other cases and at random.
func TestNumberSearchTrigrams(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	// An index at the schema before the trigram table.
	w, err := openPool(ctx, fileURI(path)+"?"+dsnParams(true), 1)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	before := slices.IndexFunc(ms, func(m migration) bool { return strings.HasSuffix(m.name, "_search_indexes.sql") })
	if before < 0 {
		t.Fatal("no migration *_search_indexes.sql")
	}
	first := -1
	for {
		done, err := migrateOne(ctx, w, ms[:before], &first)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	var numbers []string
	for i := range 300 {
		caller, callee := randomText(r, 0, 12), randomText(r, 0, 6)
		numbers = append(numbers, caller, callee)
		if _, err := w.ExecContext(ctx, `INSERT INTO calls (id, sip_call_id, caller_number, caller_name, caller_addr,
			callee_number, callee_name, callee_addr, direction, status, status_code, start_ns, duration_ns, codecs,
			audio_ms, audio, audio_sha256, pcap, pcap_sha256, capture_loss, notes)
			VALUES (?, '', ?, '', '', ?, '', '', 'unknown', 'answered', 200, ?, 0, 'null', 0, '', '', '', '', 0, 'null')`,
			fmt.Sprintf("old-%03d", i), caller, callee, int64(i)*1e9); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 300 {
		c := &spanrec.Call{ID: spanrec.CallID(fmt.Sprintf("new-%03d", i)), Start: indextest.T0}
		c.Caller.Number, c.Callee.Number = randomText(r, 0, 12), randomText(r, 0, 6)
		numbers = append(numbers, c.Caller.Number, c.Callee.Number)
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	compare := func() {
		t.Helper()
		var texts []string
		for _, n := range numbers {
			rs := []rune(n)
			if len(rs) < 3 || r.IntN(3) > 0 {
				continue
			}
			i := r.IntN(len(rs) - 2)
			sub := string(rs[i : i+3+r.IntN(len(rs)-i-2)])
			texts = append(texts, []string{sub, strings.ToUpper(sub), strings.ToLower(sub)}[r.IntN(3)])
		}
		for range 100 {
			texts = append(texts, randomText(r, 3, 6))
		}
		fts := 0
		for _, text := range texts {
			if _, ok := trigramPhrase(text); ok {
				fts++
			}
			if got, want := searchIDs(t, db, text), likeIDs(t, db, text); !slices.Equal(got, want) {
				t.Errorf("Number %q: %q, LIKE over every row finds %q", text, got, want)
			}
		}
		if fts < len(texts)*9/10 {
			t.Errorf("only %d of %d texts searched through the trigram table", fts, len(texts))
		}
	}
	compare()
	// Calls replaced with other numbers, calls deleted.
	for i := range 100 {
		c := &spanrec.Call{ID: spanrec.CallID(fmt.Sprintf("%s-%03d", []string{"old", "new"}[i%2], i*2)), Start: indextest.T0}
		c.Caller.Number, c.Callee.Number = randomText(r, 3, 12), randomText(r, 3, 6)
		numbers = append(numbers, c.Caller.Number, c.Callee.Number)
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteCall(ctx, spanrec.CallID(fmt.Sprintf("%s-%03d", []string{"new", "old"}[i%2], i*2+1))); err != nil {
			t.Fatal(err)
		}
	}
	compare()
}

// TestNumberSearchPlan: SQLite answers a search by number of three
// characters or more from the trigram table, not by reading every call.
func TestNumberSearchPlan(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range []struct {
		text string
		fts  bool
	}{{"12345", true}, {"äbc", true}, {"12", false}, {"ab\x00c", false}, {"\xff\xfe\xfd", false}} {
		where, args, err := filterSQL(spanrec.CallFilter{Number: tt.text}, startAll)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`SELECT id FROM calls` + where + ` ORDER BY start_ns DESC LIMIT 50`, `SELECT count(*) FROM calls` + where} {
			plan := queryPlan(t, db, q, args...)
			if strings.Contains(plan, "calls_number") != tt.fts || (tt.fts && scansCalls.MatchString(plan)) {
				t.Errorf("Number %q: plan of %s:\n%s", tt.text, q, plan)
			}
		}
	}
}

// scansCalls matches a plan that reads every row of calls (or of an index
// of it).
var scansCalls = regexp.MustCompile(`(?m)^SCAN calls( |$)`)

// queryPlan returns SQLite's EXPLAIN QUERY PLAN of q, one step a line.
func queryPlan(t testing.TB, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.r.Query(`EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// FuzzNumberSearch: whatever number a call has and whatever text is
// searched, the search never fails and finds the call exactly when LIKE
// over every row does (the trigram table, its triggers and the quoting of
// the text as a full-text query agree with it).
func FuzzNumberSearch(f *testing.F) {
	for _, s := range [][2]string{
		{"+4930012345", "12345"}, {"Alice", "LIC"}, {"100%", "0%"}, {"1_3", "1_3"}, {`a"b"c`, `"b"`},
		{"Äpfel", "äpf"}, {"\u212aelvin", "kel"}, {"ab\x00cd", "b\x00c"}, {"\xff\xfe12", "\xfe12"}, {"x", `"""`},
		{"NEAR(a b)", "AR("}, {"a OR b", " OR "}, {"*^:-+", "^:-"},
	} {
		f.Add(s[0], s[1])
	}
	ctx := context.Background()
	db, err := Open(ctx, ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	f.Fuzz(func(t *testing.T, number, text string) {
		if len(number) > 256 || len(text) > 64 || text == "" { // what Set allows of a text
			return
		}
		c := &spanrec.Call{ID: "fuzz", Start: indextest.T0, Caller: spanrec.Party{Number: number}, Callee: spanrec.Party{Number: strings.ToUpper(number)}}
		if !utf8.ValidString(number) {
			c.Callee.Number = "" // ToUpper would replace the invalid bytes
		}
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if got, want := searchIDs(t, db, text), likeIDs(t, db, text); !slices.Equal(got, want) {
			t.Errorf("number %q, text %q: %q, LIKE finds %q", number, text, got, want)
		}
	})
}

// TestSearchIndexPlans: calls with capture loss are read from the partial
// index calls_loss_start (page and count), and the count of a direction
// and a status together from calls_direction_status_start alone.
func TestSearchIndexPlans(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	yes := true
	for _, tt := range []struct {
		name        string
		f           spanrec.CallFilter
		page, count string
	}{
		{"has loss", spanrec.CallFilter{HasLoss: &yes}, "calls_loss_start", "calls_loss_start"},
		{"inbound and answered", spanrec.CallFilter{Direction: spanrec.Inbound, Status: spanrec.Answered}, "", "COVERING INDEX calls_direction_status_start"},
	} {
		where, args, err := filterSQL(tt.f, startAll)
		if err != nil {
			t.Fatal(err)
		}
		order, err := orderSQL("")
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct{ sql, want string }{
			{`SELECT ` + callColumns + ` FROM calls` + where + order + ` LIMIT 50`, tt.page},
			{`SELECT count(*) FROM calls` + where, tt.count},
		} {
			plan := queryPlan(t, db, q.sql, args...)
			if q.want != "" && !strings.Contains(plan, q.want) || strings.Contains(plan, "SCAN calls\n") {
				t.Errorf("%s: plan of %s:\n%s", tt.name, q.sql, plan)
			}
		}
	}
}
