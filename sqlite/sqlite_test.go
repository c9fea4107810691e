package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/sqlite"
)

var t0 = indextest.T0

// TestConformance runs the index conformance suite, which the postgres
// index runs too, on database files.
func TestConformance(t *testing.T) {
	if raceSkip != nil {
		t.Logf("under -race the suite leaves out %v: test.sh runs them without it", raceSkip)
	}
	dir := t.TempDir()
	indextest.Run(t, indextest.Backend{
		Open: func(t *testing.T, name string) (indextest.Index, error) {
			return sqlite.Open(context.Background(), filepath.Join(dir, name+".db"))
		},
		Skip: raceSkip,
	})
}

func open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func put(t testing.TB, db *sqlite.DB, cs ...*spanrec.Call) {
	t.Helper()
	for _, c := range cs {
		if err := db.PutCall(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMemory: an in-memory database (for tests of other packages) stores
// and searches like a file.
func TestMemory(t *testing.T) {
	ctx := context.Background()
	db := open(t, ":memory:")
	c := indextest.FullCall(time.UTC)
	put(t, db, c)
	calls, err := db.Calls(ctx, spanrec.CallFilter{Number: "2001"})
	if err != nil || len(calls) != 1 || calls[0].ID != c.ID || len(calls[0].Streams) != 2 {
		t.Errorf("Calls = %+v, %v", calls, err)
	}
}

// TestCallByBytePrefix: IDs are compared byte by byte, up to 0xff.
func TestCallByBytePrefix(t *testing.T) {
	db := open(t, ":memory:")
	for _, id := range []string{"abcde\xff", "abcde\xff\xff1", "abcdef"} {
		put(t, db, &spanrec.Call{ID: spanrec.CallID(id), Start: t0})
	}
	for id, want := range map[string]string{"abcde\xff": "abcde\xff", "abcde\xff\xff": "abcde\xff\xff1"} {
		got, err := db.Call(context.Background(), spanrec.CallID(id))
		if err != nil || string(got.ID) != want {
			t.Errorf("Call(%q) = %+v, %v; want %q", id, got, err, want)
		}
	}
}

// TestDeleteCascades: deleting a call deletes its child rows.
func TestDeleteCascades(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	db := open(t, path)
	c := indextest.FullCall(time.UTC)
	other := indextest.FullCall(time.UTC)
	other.ID = "other"
	put(t, db, c, other)
	if err := db.DeleteCall(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	raw := rawOpen(t, path)
	for _, table := range []string{"streams", "dtmf", "call_links"} {
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM `+table+` WHERE call_id = ?`, c.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d %s rows left after delete", n, table)
		}
		if err := raw.QueryRow(`SELECT count(*) FROM ` + table + ` WHERE call_id = 'other'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("other call has %d %s rows, want 2", n, table)
		}
	}
}

func TestWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	open(t, path)
	var mode string
	if err := rawOpen(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.db")
	db := open(t, path)
	put(t, db, indextest.FullCall(time.UTC))
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o640 {
			t.Errorf("%s: mode %o, want 640", filepath.Base(p), m)
		}
	}
}

func TestAwkwardPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%20d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "index.db")
	db := open(t, path)
	put(t, db, indextest.FullCall(time.UTC))
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

// TestSchemaVersion: one schema version per migration file.
func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	open(t, path)
	files, _ := filepath.Glob("migrations/*.sql")
	var v int
	if err := rawOpen(t, path).QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != len(files) || v < 2 {
		t.Errorf("user_version = %d, %v; want %d", v, err, len(files))
	}
}

func TestNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	db := open(t, path)
	put(t, db, indextest.FullCall(time.UTC))
	if _, err := rawOpen(t, path).Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db2, err := sqlite.Open(ctx, path)
	if err == nil {
		db2.Close()
		t.Fatal("Open of a newer database succeeded")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error %q does not say the schema is newer", err)
	}
}

// rawOpen opens the database at path directly, to inspect what sqlite
// stores.
func rawOpen(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}
