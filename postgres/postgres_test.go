package postgres_test

import (
	"context"
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
	var (
		mu     sync.Mutex
		stores = map[string]string{}
	)
	indextest.Run(t, indextest.Backend{
		Open: func(t *testing.T, name string) (indextest.Index, error) {
			mu.Lock()
			u, ok := stores[name]
			if !ok {
				u = pgtest.NewSchema(t)
				stores[name] = u
			}
			mu.Unlock()
			return postgres.Open(context.Background(), u)
		},
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
