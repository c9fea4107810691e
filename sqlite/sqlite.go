// Package sqlite implements spanrec.CallIndex on an SQLite database file, using
// the pure-Go modernc.org/sqlite driver. It sits at the end of the pipeline:
// the recorder puts each finished call here, and `spanrec calls` and the API
// search it, possibly from other processes at the same time.
//
// # Storage
//
// A call is one row of the calls table; its streams and DTMF key presses are
// rows of the streams and dtmf tables, deleted with it (ON DELETE CASCADE).
// Codecs and Notes are JSON text columns. Times are stored as integer Unix
// nanoseconds, so they come back in UTC and without a monotonic clock
// reading; the zero time is stored as NULL and comes back as the zero time.
// A NaN quality figure is stored as NULL and comes back as NaN.
//
// # Concurrency
//
// The database runs in WAL mode, so one writer and any number of readers, in
// this process or others, work at the same time; a writer waits up to 5 s
// (busy_timeout) for another process's write to finish. Within a process a
// DB serialises its writes on a single connection and reads on a small pool
// of read-only connections.
//
// # Schema versions
//
// The schema is built by the numbered migrations embedded from
// migrations/NNNN_name.sql, each applied in its own transaction; PRAGMA
// user_version holds the number of the last one applied. Open refuses a
// database whose version is newer than this binary knows.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spanrec/spanrec"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// fileMode is the mode of a database file Open creates: recordings metadata
// is personal data, readable by the owner and the operator's group only.
const fileMode = 0o640

// busyTimeoutMS is how long a connection waits for another's lock, in ms.
const busyTimeoutMS = 5000

// maxReaders is the number of read connections a DB on a file keeps open.
const maxReaders = 4

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is a call index in an SQLite database. It implements spanrec.CallIndex.
// A DB is safe for concurrent use by multiple goroutines.
type DB struct {
	w *sql.DB // the one write connection; also the read pool for ":memory:"
	r *sql.DB // read-only connections
	// stmts are w's prepared statements for the queries run per call
	// (cachedQueries), read-only after Open.
	stmts map[string]*sql.Stmt
}

var _ spanrec.CallIndex = (*DB)(nil)

// Open opens the index database at path, creating it with mode 0640 when it
// does not exist, and brings its schema up to date. The path ":memory:" opens
// a new private in-memory database, for tests. Open fails if the database's
// schema is newer than this binary's.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("index: empty database path")
	}
	db, err := open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	return db, nil
}

func open(ctx context.Context, path string) (*DB, error) {
	if path == ":memory:" {
		w, err := openPool(ctx, ":memory:?"+dsnParams(true), 1)
		if err != nil {
			return nil, err
		}
		if err := migrate(ctx, w); err != nil {
			w.Close()
			return nil, err
		}
		stmts, err := prepare(ctx, w)
		if err != nil {
			w.Close()
			return nil, err
		}
		return &DB{w: w, r: w, stmts: stmts}, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := createFile(abs); err != nil {
		return nil, err
	}
	uri := fileURI(abs)
	w, err := openPool(ctx, uri+"?"+dsnParams(true), 1)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	stmts, err := prepare(ctx, w)
	if err != nil {
		w.Close()
		return nil, err
	}
	r, err := openPool(ctx, uri+"?"+dsnParams(false), maxReaders)
	if err != nil {
		closeStmts(stmts)
		w.Close()
		return nil, err
	}
	return &DB{w: w, r: r, stmts: stmts}, nil
}

// Close closes the database. Calls in progress finish first.
func (db *DB) Close() error {
	err := closeStmts(db.stmts)
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return errors.Join(err, db.w.Close())
}

// dsnParams returns the driver parameters of a writer's or a reader's
// connection. Every connection needs busy_timeout and foreign_keys, which
// are per-connection settings.
func dsnParams(writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	q.Add("_pragma", "foreign_keys(1)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		// In WAL mode NORMAL keeps the database consistent on power loss;
		// only the last transactions may be lost.
		q.Add("_pragma", "synchronous(NORMAL)")
		// A statement that writes several rows keeps the pages it
		// changes in a statement journal, to undo them alone if it
		// fails: in memory rather than in a temporary file past 64 KiB,
		// a write(2) per page. The writer runs no query that sorts much.
		q.Add("_pragma", "temp_store(MEMORY)")
		// The writer's page cache: 16 MiB instead of 2, so that the pages
		// storing a call reads (the indexes' leaves) are mostly there
		// rather than read(2) again from the WAL or the file.
		q.Add("_pragma", "cache_size(-16384)")
		// Take the write lock at BEGIN, so a transaction never fails
		// half-way with SQLITE_BUSY on upgrading a read lock.
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1")
	}
	return q.Encode()
}

// fileURI returns the SQLite URI of the absolute path abs, so that no
// character of the path is taken for the start of the query.
// See https://www.sqlite.org/uri.html §3.1.
func fileURI(abs string) string {
	var b strings.Builder
	b.WriteString("file:")
	for _, c := range []byte(filepath.ToSlash(abs)) {
		switch c {
		case '%', '?', '#':
			fmt.Fprintf(&b, "%%%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// createFile creates the database file at path with mode fileMode unless it
// exists. The mode of an existing file is left as the operator set it.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// The umask may have taken bits away; SQLite gives the -wal and -shm
	// files the database file's mode, so set it exactly.
	if err := os.Chmod(path, fileMode); err != nil {
		return err
	}
	return nil
}

func openPool(ctx context.Context, dsn string, conns int) (*sql.DB, error) {
	p, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	// An in-memory database lives as long as its connection: never let
	// the pool close an idle one.
	p.SetConnMaxIdleTime(0)
	p.SetConnMaxLifetime(0)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// migration is one embedded schema step; version is its file's number.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their numbers must
// run 1, 2, 3… without gaps, so that user_version counts them.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var ms []migration
	for _, name := range names {
		base := filepath.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", base)
		}
		text, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction. The version is read again inside each transaction, which
// holds the write lock, so two processes opening a new database at once do
// not both apply a migration.
func migrate(ctx context.Context, w *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	first := -1 // the version the first step found
	for {
		done, err := migrateOne(ctx, w, ms, &first)
		if err != nil {
			return err
		}
		if done {
			// A copy of the file may have renumbered the calls under
			// the number-search table (numbersearch.go).
			return checkNumberSearchAtOpen(ctx, w)
		}
	}
}

// migrateOne applies the next migration, or reports done when there is
// none. *first is the version the first call found (set by it): when it is
// above 0, an existing index is being upgraded, and each step is logged
// (spanrec.LogMigration).
func migrateOne(ctx context.Context, w *sql.DB, ms []migration, first *int) (done bool, err error) {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: read schema version: %w", err)
	}
	switch {
	case v > len(ms):
		return false, fmt.Errorf("database schema version %d is newer than this program's %d; upgrade spanrec", v, len(ms))
	case v == len(ms):
		return true, nil
	}
	if *first < 0 {
		*first = v
	}
	m := ms[v]
	defer spanrec.LogMigration("sqlite", m.name, *first > 0)()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	// PRAGMA takes no bound parameters; the version is our own integer.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.version)); err != nil {
		return false, fmt.Errorf("migration %s: set schema version: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return false, nil
}

// Checkpoint copies the write-ahead log into the database and truncates
// it, giving its disk space back (the disk guard calls it when space runs
// short: between automatic checkpoints the log can hold a few MiB).
func (db *DB) Checkpoint(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("index: checkpoint: %w", err)
	}
	return nil
}
