package indextest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spanrec/spanrec"
)

// numberCalls are the calls of testNumberSearch: numbers of digits, of
// letters in either case, with the LIKE wildcards, a backslash, a double
// quote (the quote of a full-text query), spaces, and letters outside
// ASCII (whose case a search does not ignore).
var numberCalls = []struct{ id, caller, callee string }{
	{"n01", "+4930012345", "2042"},
	{"n02", "+4930112345", "2001"},
	{"n03", "0049 30 1234", "12"},
	{"n04", "Alice", "bob.SMITH"},
	{"n05", "ALICE", "100%"},
	{"n06", "1_3_5", "50%off"},
	{"n07", `a\b\c`, `"quoted"`},
	{"n08", "Äpfel", "äpfel"},
	{"n09", "straße", "STRASSE"},
	{"n10", "Ωμέγα", "ωμέγα"},
	{"n11", "電話番号", "内線123"},
	{"n12", "call☎︎me", "🙂🙃🙂"},
	{"n13", "\u212a", "k"}, // KELVIN SIGN and k
	{"n14", "", "345"},
	{"n15", "xyz", ""},
}

// testNumberSearch: a search by number (CallFilter.Number) finds exactly
// the calls whose caller or callee number contains the text, ignoring the
// case of ASCII letters only, taking % _ \ " as text: for every substring
// of every number (short and long, where an index may answer), in other
// cases, and for texts no number has; again after numbers are replaced
// and calls deleted, which indexes of the numbers must follow.
func (s *suite) testNumberSearch(t *testing.T) {
	db := s.fresh(t)
	calls := map[string]*spanrec.Call{}
	for i, n := range numberCalls {
		c := &spanrec.Call{
			ID: spanrec.CallID(n.id), Start: T0.Add(time.Duration(i) * time.Minute),
			Caller: spanrec.Party{Number: n.caller}, Callee: spanrec.Party{Number: n.callee},
		}
		calls[n.id] = c
		put(t, db, c)
	}
	check := func(t *testing.T) {
		t.Helper()
		texts := map[string]bool{}
		for _, c := range calls {
			for _, num := range []string{c.Caller.Number, c.Callee.Number} {
				for _, sub := range substrings(num, 6) {
					texts[sub], texts[strings.ToUpper(sub)], texts[strings.ToLower(sub)] = true, true, true
				}
			}
		}
		for _, x := range []string{"12346", "%", "_", `\`, `"`, `""`, "0%o", "1_3", "1%3", "a_b", "Ä", "ÄPFEL", "STRAßE", "ss", "ΩΜΈΓΑ", "K", "\u212a", "+4930", "30 1", " ", "999999", "號"} {
			texts[x] = true
		}
		delete(texts, "")
		ctx := context.Background()
		for _, text := range slices.Sorted(func(yield func(string) bool) {
			for x := range texts {
				if !yield(x) {
					return
				}
			}
		}) {
			var want []string
			for id, c := range calls {
				if containsFoldASCII(c.Caller.Number, text) || containsFoldASCII(c.Callee.Number, text) {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			got, err := db.Calls(ctx, spanrec.CallFilter{Number: text, Sort: spanrec.SortStart})
			if err != nil {
				t.Fatalf("Number %q: %v", text, err)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, string(c.ID))
			}
			if !slices.Equal(ids, want) {
				t.Errorf("Number %q: calls %q, want %q", text, ids, want)
			}
			if n, err := db.Count(ctx, spanrec.CallFilter{Number: text}); err != nil || n != len(want) {
				t.Errorf("Number %q: Count = %d, %v; want %d", text, n, err, len(want))
			}
		}
	}
	check(t)
	// Replaced numbers (a call stored again) and deleted calls.
	calls["n01"].Caller.Number, calls["n01"].Callee.Number = "+4930999888", "2043"
	calls["n04"].Callee.Number = "carol"
	calls["n15"].Caller.Number = "xyzzy"
	put(t, db, calls["n01"], calls["n04"], calls["n15"])
	for _, id := range []string{"n02", "n11"} {
		if err := db.DeleteCall(context.Background(), spanrec.CallID(id)); err != nil {
			t.Fatal(err)
		}
		delete(calls, id)
	}
	check(t)
}

// substrings returns every substring of s, in whole characters, of at most
// n characters.
func substrings(s string, n int) []string {
	var out []string
	for i := range s {
		if !utf8.RuneStart(s[i]) {
			continue
		}
		j, k := i, 0
		for j < len(s) && k < n {
			_, size := utf8.DecodeRuneInString(s[j:])
			j += size
			k++
			out = append(out, s[i:j])
		}
	}
	return out
}

// containsFoldASCII reports whether s contains sub, ignoring the case of
// ASCII letters only (as SQL LIKE does in SQLite, and ILIKE under the C
// collation in PostgreSQL).
func containsFoldASCII(s, sub string) bool {
	lower := func(x string) string {
		b := []byte(x)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	return strings.Contains(lower(s), lower(sub))
}
