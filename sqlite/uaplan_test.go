package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// TestUACountPlan: a capped count of a user agent that reads the distinct
// user agents (starts.uaValues) counts the calls of those like the text
// from calls_caller_ua and calls_callee_ua (migration 0028), each value a
// seek into its side's index, and reads no call otherwise, under the
// statistics ANALYZE gives BenchmarkUISearch's million calls (where
// walking the calls for "PBX 18.7.0", 5 % of them, took 248 / 270 ms:
// docs/PERFORMANCE.md, "Twelfth session"; and where a subquery of the
// values, of unknown length, made the planner walk them: "Fourteenth
// session").
func TestUACountPlan(t *testing.T) {
	db := benchStatsDB(t)
	for _, tt := range []struct {
		f   spanrec.CallFilter
		key string // the key each side's index is searched by
	}{
		{spanrec.CallFilter{UserAgent: "PBX 18.7.0"}, "_ua=?)"},
		{spanrec.CallFilter{UserAgent: "PBX 18.7.0", Since: indextest.T0}, "_ua=? AND start_ns>?)"},
	} {
		// A version of each side like the text, as uaLikeValues reads them.
		where, args, err := filterSQL(tt.f, starts{uaValues: true,
			uaCaller: []string{"Yealink SIP-T46S 66.86.0.7"}, uaCallee: []string{"Asterisk PBX 18.7.0"}})
		if err != nil {
			t.Fatal(err)
		}
		p := queryPlan(t, db, `SELECT count(*) FROM (SELECT 1 FROM calls`+where+` LIMIT 10001)`, args...)
		for _, want := range []string{
			"MULTI-INDEX OR",
			"SEARCH calls USING INDEX calls_caller_ua (caller" + tt.key,
			"SEARCH calls USING INDEX calls_callee_ua (callee" + tt.key,
		} {
			if !strings.Contains(p, want) {
				t.Errorf("%q since %v: plan lacks %q:\n%s", tt.f.UserAgent, tt.f.Since, want, p)
			}
		}
		if strings.Contains(p, "SCAN calls") {
			t.Errorf("%q since %v: plan walks the calls:\n%s", tt.f.UserAgent, tt.f.Since, p)
		}
	}
}

// TestUAValues: a capped count of a user agent reads the distinct user
// agents when neither side has more than uaValues of them, whatever its
// trigram set (calls_ua); else it starts from the set if it is small, or
// walks the calls (and so does a bounded search). A page starts from the
// calls of those user agents under the same conditions when they are few
// (rareUA). Every plan finds the same calls.
func TestUAValues(t *testing.T) {
	defer func(n, u int) { uaValues, uaStarts = n, u }(uaValues, uaStarts)
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Callers: three distinct user agents; callees: two ("" is one).
	for i := range 12 {
		c := &spanrec.Call{ID: spanrec.CallID(fmt.Sprint("c", i)), Start: indextest.T0.Add(time.Duration(i) * time.Minute),
			CallerUA: fmt.Sprint("Yealink SIP-T46S 66.86.0.", i%3)}
		if i%4 == 0 {
			c.CalleeUA = "Asterisk PBX 18.7.0"
		}
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		f              spanrec.CallFilter
		values, starts int  // uaValues, uaStarts
		want           bool // whether the count reads the distinct user agents
		n              int
	}{
		{spanrec.CallFilter{UserAgent: "pbx 18.7"}, 3, 0, true, 3},
		{spanrec.CallFilter{UserAgent: "66.86.0.1"}, 3, 0, true, 4},
		{spanrec.CallFilter{UserAgent: "0."}, 3, 0, true, 12}, // no trigram
		{spanrec.CallFilter{UserAgent: "0."}, 2, 0, false, 12},
		{spanrec.CallFilter{UserAgent: "pbx 18.7"}, 2, 0, false, 3},          // three callers
		{spanrec.CallFilter{UserAgent: "pbx 18.7"}, 2, pageStarts, false, 3}, // few candidates
		{spanrec.CallFilter{UserAgent: "pbx 18.7"}, 3, pageStarts, true, 3},
		{spanrec.CallFilter{UserAgent: "0.", ScanLimit: 5}, 3, 0, false, 5}, // bounded
		{spanrec.CallFilter{UserAgent: "PBX 19"}, 3, 0, true, 0},
	} {
		uaValues, uaStarts = tt.values, tt.starts
		st, err := db.countPlan(ctx, tt.f, 20)
		// The trigram set is read where the values are not, and its
		// candidates are few where uaStarts is pageStarts.
		_, served := trigramPhrase(tt.f.UserAgent)
		if err != nil || st.uaValues != tt.want || st.ua != (served && !tt.want && tt.starts > 0) {
			t.Errorf("%q with %d values, %d starts: uaValues %v, ua %v, %v; want %v", tt.f.UserAgent, tt.values, tt.starts, st.uaValues, st.ua, err, tt.want)
		}
		if n, more, err := db.CountUpTo(ctx, tt.f, 20); err != nil || n != tt.n || more {
			t.Errorf("%q with %d values, %d starts: CountUpTo = %d, %v, %v; want %d", tt.f.UserAgent, tt.values, tt.starts, n, more, err, tt.n)
		}
		// A page starts from the calls of the values: fewer than
		// uaRowStarts.
		if tt.want {
			if rare, err := db.rareUA(ctx, st); err != nil || !rare {
				t.Errorf("%q with %d values: rareUA %v, %v; want true", tt.f.UserAgent, tt.values, rare, err)
			}
		}
		if calls, err := db.Calls(ctx, tt.f); err != nil || len(calls) != tt.n {
			t.Errorf("%q with %d values, %d starts: %d calls, %v; want %d", tt.f.UserAgent, tt.values, tt.starts, len(calls), err, tt.n)
		}
	}
}

// TestUAPagePlan: a page of a user agent that few calls have, of few
// distinct values (starts.uaRows), starts from the calls of the distinct
// user agents like the text, read from calls_caller_ua and
// calls_callee_ua, and sorts them; it walks no index of the calls' order
// (which read the whole table for a version no call has when its
// trigrams are common).
func TestUAPagePlan(t *testing.T) {
	db := benchStatsDB(t)
	for _, f := range []spanrec.CallFilter{
		{UserAgent: "PBX 19.7.0"},
		{UserAgent: "PBX 19.7.0", Sort: "-duration"},
		{UserAgent: "PBX 19.7.0", GroupInteraction: true},
	} {
		p := pagePlan(t, db, f, starts{walk: true, uaRows: true,
			uaCaller: []string{"Yealink SIP-T46S 66.86.0.7"}, uaCallee: []string{"Asterisk PBX 19.7.0"}}, "")
		if !strings.HasPrefix(p, "SEARCH calls USING INTEGER PRIMARY KEY (rowid=?); LIST SUBQUERY") ||
			!strings.Contains(p, "SEARCH c USING INDEX calls_caller_ua (caller_ua=?)") ||
			!strings.Contains(p, "SEARCH c USING INDEX calls_callee_ua (callee_ua=?)") ||
			!strings.HasSuffix(p, "USE TEMP B-TREE FOR ORDER BY") || strings.Contains(p, "SCAN calls") {
			t.Errorf("%+v: plan %q, want a start from the calls of the user agents", f, p)
		}
	}
}

// TestConformanceUAWalk runs the conformance suite's searches of user
// agents with every user agent's trigram set taken for too large
// (uaStarts 0) and more distinct user agents than a search reads
// (uaValues 0), so that pages and counts walk the calls testing each,
// as they do where the calls have many distinct user agents: the plan
// TestConformance and TestConformancePlans leave out.
func TestConformanceUAWalk(t *testing.T) {
	defer func(n, u int) { uaValues, uaStarts = n, u }(uaValues, uaStarts)
	uaValues, uaStarts = 0, 0
	dir := t.TempDir()
	indextest.Run(t, indextest.Backend{
		Open: func(t *testing.T, name string) (indextest.Index, error) {
			return Open(context.Background(), filepath.Join(dir, name+".db"))
		},
		Only: []string{"SearchSIP", "SearchTexts", "SearchInvalid", "SearchStop", "SearchStopGrouped", "HostileStrings"},
	})
}
