package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestConformance runs the index conformance suite, which the sqlite index
// runs too, on a throwaway PostgreSQL cluster: each store is a database.
func TestConformance(t *testing.T) {
	schema := pgtest.Schemas()
	indextest.Run(t, indextest.Backend{
		Open: func(t *testing.T, name string) (indextest.Index, error) {
			return postgres.Open(context.Background(), schema(t, name))
		},
		Central: true,
	})
}

func open(t *testing.T, u string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConcurrentOpen: processes starting at once against a new database
// apply each migration once (the advisory lock), and all open.
func TestConcurrentOpen(t *testing.T) {
	u := pgtest.NewSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), u)
			if err == nil {
				db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	db := open(t, u)
	if err := db.PutCall(context.Background(), indextest.FullCall(time.UTC)); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentLegs: two recorders putting the two legs of a conversation
// at the same moment, each on its own connection, still link them.
func TestConcurrentLegs(t *testing.T) {
	u := pgtest.NewSchema(t)
	ctx := context.Background()
	a, b := open(t, u), open(t, u)
	for round := range 20 {
		key := "media:10.0.0.5:" + string(rune('a'+round)) + "|10.0.2.11:30000"
		ida, idb := spanrec.CallID("a"+string(rune('a'+round))), spanrec.CallID("b"+string(rune('a'+round)))
		start := indextest.T0.Add(time.Duration(round) * time.Hour)
		var wg sync.WaitGroup
		var errA, errB error
		wg.Go(func() {
			errA = a.PutCall(ctx, &spanrec.Call{ID: ida, Start: start, End: start.Add(time.Minute), LinkKeys: []string{key}})
		})
		wg.Go(func() {
			errB = b.PutCall(ctx, &spanrec.Call{ID: idb, Start: start.Add(time.Second), End: start.Add(time.Minute), LinkKeys: []string{key}})
		})
		wg.Wait()
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		for _, id := range []spanrec.CallID{ida, idb} {
			c, err := a.Call(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Interaction != ida || len(c.Legs) != 1 {
				t.Errorf("round %d: %s: interaction %s, legs %v; want %s and the other leg", round, id, c.Interaction, c.Legs, ida)
			}
		}
	}
}

func TestNewerSchema(t *testing.T) {
	u := pgtest.NewSchema(t)
	open(t, u)
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE spanrec_schema SET version = 99`); err != nil {
		t.Fatal(err)
	}
	db2, err := postgres.Open(context.Background(), u)
	if err == nil {
		db2.Close()
		t.Fatal("Open of a newer database succeeded")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error %q does not say the schema is newer", err)
	}
}

// TestHostileStringsStored: what PostgreSQL text cannot hold is stored as
// U+FFFD.
func TestHostileStringsStored(t *testing.T) {
	ctx := context.Background()
	db := open(t, pgtest.NewSchema(t))
	c := indextest.FullCall(time.UTC)
	c.Caller.Number, c.Codecs = "555\x00\xff1", []string{"PCMU\x00"}
	if err := db.PutCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.Call(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Caller.Number != "555\uFFFD\uFFFD1" || got.Codecs[0] != "PCMU\uFFFD" {
		t.Errorf("number %q, codecs %q", got.Caller.Number, got.Codecs)
	}
}

// TestPasswordNeverShown: errors of Open name the server but never the
// password, whatever goes wrong.
func TestPasswordNeverShown(t *testing.T) {
	good := pgtest.NewSchema(t)
	u, _ := url.Parse(good)
	pw, _ := u.User.Password()
	wrongPW := *u
	wrongPW.User = url.UserPassword("spanrec", "s3cret-Wrong-pw")
	noDB := *u
	noDB.Path = "/no_such_database"
	closed := *u
	closed.Host = "127.0.0.1:1"
	for name, tc := range map[string]struct{ url, secret string }{
		"wrong password": {wrongPW.String(), "s3cret-Wrong-pw"},
		"no database":    {noDB.String(), pw},
		"no server":      {closed.String(), pw},
		"bad URL":        {"postgres://spanrec:p%zzhidden@127.0.0.1:x/db", "hidden"},
		"bad parameter":  {good + "&sslmode=bogus", pw},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			db, err := postgres.Open(ctx, tc.url)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error shows the password: %v", err)
			}
			if r := postgres.Redact(tc.url); strings.Contains(r, tc.secret) {
				t.Errorf("Redact = %q", r)
			}
		})
	}
	if r := postgres.Redact(good); strings.Contains(r, pw) || !strings.Contains(r, "spanrec:xxxxx@127.0.0.1") {
		t.Errorf("Redact = %q", r)
	}
	if r := postgres.Redact("postgres://h/db?user=a&password=qwerty"); strings.Contains(r, "qwerty") {
		t.Errorf("Redact = %q", r)
	}
}

// TestSchemaVersion: one schema version per migration file.
func TestSchemaVersion(t *testing.T) {
	u := pgtest.NewSchema(t)
	open(t, u)
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	files, _ := filepath.Glob("migrations/*.sql")
	var v int
	if err := conn.QueryRow(context.Background(), `SELECT version FROM spanrec_schema`).Scan(&v); err != nil || v != len(files) || v < 2 {
		t.Errorf("schema version = %d, %v; want %d", v, err, len(files))
	}
}

// indexesOf returns the names of the indexes of the calls, call_notes and
// call_headers tables in the
// schema u's search_path names.
func indexesOf(t *testing.T, u string) map[string]bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('calls', 'call_notes', 'call_headers')`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// trigramIndexes are the trigram indexes migrations 0008 and 0016 make
// where pg_trgm can be created.
var trigramIndexes = []string{
	"calls_caller_number_trgm", "calls_callee_number_trgm",
	"calls_caller_ua_trgm", "calls_callee_ua_trgm", "call_notes_text_trgm", "call_headers_value_trgm",
}

// TestTrigramIndexes: where the index's role may create pg_trgm (here the
// superuser), number searches have trigram indexes and the planner answers
// a substring search from them; several schemas of one database share the
// extension, wherever it was created.
func TestTrigramIndexes(t *testing.T) {
	for range 2 {
		u := pgtest.NewSchema(t)
		db := open(t, u)
		ix := indexesOf(t, u)
		for _, name := range append([]string{"calls_duration_desc", "calls_loss_start", "calls_status_code_start", "calls_codecs_lower"}, trigramIndexes...) {
			if !ix[name] {
				t.Errorf("no index %s; have %v", name, ix)
			}
		}
		ctx := context.Background()
		c := indextest.FullCall(time.UTC)
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		// A table of one row is scanned whatever its indexes: forbid that
		// to see which index the planner would take.
		if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, `EXPLAIN SELECT id FROM calls WHERE caller_number ILIKE '%12345%' OR callee_number ILIKE '%12345%'`)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		conn.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p := strings.Join(plan, "\n"); !strings.Contains(p, "calls_caller_number_trgm") || !strings.Contains(p, "calls_callee_number_trgm") {
			t.Errorf("number search does not use the trigram indexes:\n%s", p)
		}
		number := c.Caller.Number[1 : len(c.Caller.Number)-1]
		if calls, err := db.Calls(ctx, spanrec.CallFilter{Number: number}); err != nil || len(calls) != 1 {
			t.Errorf("search %q: %d calls, %v", number, len(calls), err)
		}
	}
}

// TestTrigramFallback: a role that may not create extensions in its
// database (no CREATE privilege on it) still gets a working index from
// Open, without the trigram indexes: number searches scan the table and
// find the same calls.
func TestTrigramFallback(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t)
	admin, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	const dbName, role, pw = "spanrec_no_ext", "spanrec_no_ext", "no-ext-pw"
	for _, q := range []string{
		`CREATE DATABASE ` + dbName,
		`CREATE ROLE ` + role + ` LOGIN PASSWORD '` + pw + `'`,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, c.URL("postgres"))
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close(ctx)
		for _, q := range []string{`DROP DATABASE ` + dbName + ` WITH (FORCE)`, `DROP ROLE ` + role} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Error(err)
			}
		}
	})
	super, err := pgx.Connect(ctx, c.URL(dbName))
	if err != nil {
		t.Fatal(err)
	}
	_, err = super.Exec(ctx, `CREATE SCHEMA s AUTHORIZATION `+role)
	super.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(c.URL(dbName))
	u.User = url.UserPassword(role, pw)
	limited := u.String() + "&search_path=s"
	db := open(t, limited)
	ix := indexesOf(t, limited)
	for _, name := range trigramIndexes {
		if ix[name] {
			t.Errorf("index %s made without pg_trgm", name)
		}
	}
	if !ix["calls_duration_desc"] || !ix["calls_status_code_start"] {
		t.Errorf("indexes %v: want calls_duration_desc and calls_status_code_start", ix)
	}
	call := indextest.FullCall(time.UTC)
	call.CallerUA = "Linphone/3.6.1"
	call.SIPHeaders = []spanrec.SIPHeader{{Name: "X-Account", Value: "acct-100"}}
	if err := db.PutCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddNote(ctx, spanrec.CallNote{CallID: call.ID, User: "alice", At: call.Start, Text: "asked for a REFUND"}); err != nil {
		t.Fatal(err)
	}
	number := call.Caller.Number[1 : len(call.Caller.Number)-1]
	for _, f := range []spanrec.CallFilter{
		{Number: number}, {UserAgent: "LINPHONE"}, {NoteText: "refund"}, {HeaderName: "x-account", HeaderValue: "*cct-1*"},
	} {
		if calls, err := db.Calls(ctx, f); err != nil || len(calls) != 1 {
			t.Errorf("search %+v: %d calls, %v", f, len(calls), err)
		}
	}
}

// TestCallCounts: the totals read from call_counts (all calls, one
// sensor's) stay those count(*) gives while calls are inserted, replaced
// (with their sensor changed, or not), deleted one by one and many at once
// by one statement, and while four writers insert at the same time.
func TestCallCounts(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	db := open(t, u)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	sensors := []string{"berlin-1", "paris-1", "", "no-such-sensor"}
	check := func(when string) {
		t.Helper()
		var want int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM calls`).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Count(ctx, spanrec.CallFilter{Limit: 5, Sort: "-duration"}); err != nil || got != want {
			t.Errorf("%s: Count() = %d, %v; count(*) %d", when, got, err, want)
		}
		for _, s := range sensors {
			if s == "" {
				continue // no sensor filter: all calls, checked above
			}
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM calls WHERE sensor = $1`, s).Scan(&want); err != nil {
				t.Fatal(err)
			}
			if got, err := db.Count(ctx, spanrec.CallFilter{Sensor: s}); err != nil || got != want {
				t.Errorf("%s: Count(sensor %q) = %d, %v; count(*) %d", when, s, got, err, want)
			}
		}
	}
	mk := func(i int, sensor string) *spanrec.Call {
		c := indextest.FullCall(time.UTC)
		cid := fmt.Sprintf("count-%d@example.com", i)
		start := indextest.T0.Add(time.Duration(i) * time.Second)
		c.ID, c.Interaction, c.SIPCallID, c.LinkKeys = spanrec.NewCallID(cid, start), spanrec.NewCallID(cid, start), cid, []string{"cid:" + cid}
		c.Sensor = sensor
		return c
	}
	check("empty")
	var calls []*spanrec.Call
	for i := range 6 {
		c := mk(i, sensors[i%3])
		calls = append(calls, c)
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	check("six calls inserted")
	if err := db.PutCall(ctx, calls[0]); err != nil {
		t.Fatal(err)
	}
	calls[1].Sensor = "paris-1"
	if err := db.PutCall(ctx, calls[1]); err != nil {
		t.Fatal(err)
	}
	check("replaced, one with another sensor")
	if err := db.DeleteCall(ctx, calls[2].ID); err != nil {
		t.Fatal(err)
	}
	check("one deleted")
	if _, err := conn.Exec(ctx, `DELETE FROM calls WHERE sensor = 'paris-1'`); err != nil {
		t.Fatal(err)
	}
	check("a sensor's calls deleted by one statement")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				if err := db.PutCall(ctx, mk(100+10*w+i, sensors[w%2])); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	check("four writers")
	if got, err := db.Count(ctx, spanrec.CallFilter{Sensor: "berlin-1", Number: "4930"}); err != nil || got == 0 {
		t.Errorf("sensor and number: %d, %v", got, err)
	}
}

// TestStatsRebuild checks that spanrec_stats_rebuild, which the bulk load
// of BenchmarkUISearch runs after inserting with the triggers off, counts
// the same per-hour and per-day aggregates as the triggers kept call by call,
// replacement and deletion.
func TestStatsRebuild(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	db := open(t, u)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i := range 200 {
		c := indextest.BenchCall(i * 7)
		c.Callee.Number = fmt.Sprintf("2%03d", i%9)
		c.Sensor = fmt.Sprintf("sensor-%d", i%3)
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i += 5 {
		c := indextest.BenchCall(i * 7)
		c.Sensor = fmt.Sprintf("sensor-%d", i%3)
		c.Start = c.Start.Add(90 * time.Minute)
		c.Streams = c.Streams[:1]
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < 200; i += 9 {
		if err := db.DeleteCall(ctx, indextest.BenchCall(i*7).ID); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() string {
		var b strings.Builder
		for _, q := range []string{
			`SELECT * FROM stats_hours WHERE calls <> 0 OR streams <> 0 ORDER BY hour_ns, sensor`,
			`SELECT * FROM stats_hosts WHERE streams <> 0 ORDER BY hour_ns, sensor, host`,
			`SELECT * FROM stats_numbers WHERE calls <> 0 ORDER BY number, hour_ns`,
			`SELECT * FROM stats_host_days WHERE streams <> 0 ORDER BY day_ns, sensor, host`,
			`SELECT * FROM stats_number_days WHERE calls <> 0 ORDER BY number, day_ns`,
		} {
			rows, err := conn.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				v, err := rows.Values()
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintln(&b, v...)
			}
			rows.Close()
			if rows.Err() != nil {
				t.Fatal(rows.Err())
			}
		}
		return b.String()
	}
	kept := snapshot()
	if _, err := conn.Exec(ctx, `SELECT spanrec_stats_rebuild()`); err != nil {
		t.Fatal(err)
	}
	if rebuilt := snapshot(); rebuilt != kept || strings.Count(kept, "\n") < 100 {
		t.Errorf("aggregates kept by the triggers (%d rows) differ from those rebuilt (%d rows)", strings.Count(kept, "\n"), strings.Count(rebuilt, "\n"))
	}
}
