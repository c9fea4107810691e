// Package postgres implements spanrec.CallIndex, and the accounts of the
// web UI, on a PostgreSQL database, using github.com/jackc/pgx/v5: the
// central index that many recorders write to and any number of stateless
// `spanrec serve` processes read, sharing their logins (sessions are rows
// here, not memory).
//
// It behaves as package sqlite does — the same call fields, search
// filters, sort orders, ID prefixes, leg linking and account rules — and
// both run the conformance suite of package indextest.
//
// # Storage
//
// The schema mirrors sqlite's: a call is a row of calls; its streams, key
// presses and link keys are rows of streams, dtmf and call_links, deleted
// with it. Times are bigint Unix nanoseconds (NULL for the zero time), so
// they round-trip to the nanosecond as in sqlite; a NaN quality figure is
// NULL. Text columns compare byte by byte (COLLATE "C"), as SQLite's BINARY
// collation does, so the order of IDs and the ASCII-only case folding of
// number searches are the same in both backends whatever the database's
// locale. PostgreSQL text holds neither NUL bytes nor invalid UTF-8, which
// SIP from the wire may carry: such bytes are stored as U+FFFD.
//
// # Schema versions
//
// The numbered migrations embedded from migrations/NNNN_name.sql run on
// Open, each in its own transaction that first takes a transaction-level
// advisory lock, so processes starting at the same time apply each
// migration once; the table spanrec_schema holds the number of the last
// one applied. Open refuses a database whose version is newer than this
// binary knows.
//
// # Indexes
//
// Every search and sort the web UI offers by default has an index (see the
// migrations). The substring search on numbers uses trigram indexes of the
// pg_trgm extension when the database lets the index's role create it
// (migration 0008); otherwise it scans the table and Open logs a warning.
//
// # Credentials
//
// The URL given to Open may carry a password. It never appears in an error
// or log line of this package: Redact gives the URL to show.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spanrec/spanrec"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the advisory lock key the migrations take: "spanrec" in
// ASCII, so other applications of the database are unlikely to share it.
const migrationLock int64 = 0x7370616e726563

// DB is a call index in a PostgreSQL database. It implements
// spanrec.CallIndex. A DB is safe for concurrent use by multiple
// goroutines and processes.
type DB struct {
	pool *pgxpool.Pool
	// noTrigrams: the trigram indexes are missing (warnNoTrigrams), so
	// that every substring search scans.
	noTrigrams bool
	// retries counts the transactions run again after PostgreSQL aborted
	// them as a deadlock or serialization failure (beginRetry).
	retries atomic.Int64
}

var _ spanrec.CallIndex = (*DB)(nil)

// Open connects to the database at rawURL (postgres://user:password@host:port/db?…,
// with any of libpq's parameters) and brings its schema up to date. It
// fails if the database's schema is newer than this binary's. Errors name
// the URL without its password.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	db, err := open(ctx, rawURL)
	if err != nil {
		return nil, scrub(fmt.Errorf("index: open %s: %w", Redact(rawURL), err), rawURL)
	}
	return db, nil
}

func open(ctx context.Context, rawURL string) (*DB, error) {
	if !strings.HasPrefix(rawURL, "postgres://") && !strings.HasPrefix(rawURL, "postgresql://") {
		return nil, errors.New("not a postgres:// URL")
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, errors.New("cannot parse the URL")
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "spanrec"
	}
	// Every statement is planned for its own values. pgx prepares each
	// statement once per connection, and after five runs PostgreSQL may
	// switch to a generic plan, one for any values: a codec search on
	// 10 M calls took 1.1 s from its sixth run on a connection, 50 ms
	// planned for its value (docs/PERFORMANCE.md, "Thirteenth session").
	// Planning again costs well under a millisecond. A URL's own
	// plan_cache_mode wins, also one in its options (-c name=value),
	// over which the startup parameter would win.
	opts := cfg.ConnConfig.RuntimeParams["options"]
	if cfg.ConnConfig.RuntimeParams["plan_cache_mode"] == "" && !strings.Contains(opts, "plan_cache_mode") {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	// No statement is compiled (JIT). The planner costs the look-ups of a
	// search at random pages where they come from the cache, so on 10 M
	// calls a search's cost passes jit_above_cost and compiling it added
	// 30-130 ms to statements that take 25-90 ms: the capped totals of a
	// day's grouped calls (85 -> 50 ms p50) and of a note search
	// (docs/PERFORMANCE.md, "Fourteenth session"). The index answers a
	// person's searches, which read few rows each; a URL's own jit (or
	// one in its options) wins.
	if cfg.ConnConfig.RuntimeParams["jit"] == "" && !strings.Contains(opts, "jit") {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{pool: pool, noTrigrams: warnNoTrigrams(ctx, pool)}, nil
}

// trigramIndexes are the trigram indexes of substring searches that
// migrations 0008 (numbers) and 0016 (user agents, notes, header values)
// leave out where the pg_trgm extension cannot be created.
var trigramIndexes = []string{
	"calls_caller_number_trgm", "calls_callee_number_trgm",
	"calls_caller_ua_trgm", "calls_callee_ua_trgm", "call_notes_text_trgm", "call_headers_value_trgm",
}

// warnNoTrigrams logs a warning when trigramIndexes are missing, and
// reports whether they are: the searches then scan the table.
func warnNoTrigrams(ctx context.Context, pool *pgxpool.Pool) bool {
	var n int
	err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
		AND indexname = ANY ($1)`, trigramIndexes).Scan(&n)
	if err != nil || n == len(trigramIndexes) {
		return false
	}
	slog.Warn("index: the trigram indexes of substring searches are missing (the extension pg_trgm could not be created): " +
		"a search by part of a number, user agent, note or header value scans every call; see README, \"Many recorders, one archive\"")
	return true
}

// Close closes the database's connections. Calls in progress finish first.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Redact returns rawURL with its password, if any, replaced by "xxxxx",
// for logs and error messages. A URL it cannot parse is replaced whole.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if p, ok := u.User.Password(); ok && p != "" {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// scrub returns err with every occurrence of rawURL's password in its
// message replaced, in case a driver error quoted it; errors.Is and As
// still see err.
func scrub(err error, rawURL string) error {
	if err == nil {
		return nil
	}
	u, perr := url.Parse(rawURL)
	if perr != nil {
		return &scrubbed{msg: "postgres: (message withheld: unparsable URL)", err: err}
	}
	var secrets []string
	if p, ok := u.User.Password(); ok && p != "" {
		secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
	}
	if p := u.Query().Get("password"); p != "" {
		secrets = append(secrets, p, url.QueryEscape(p))
	}
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return &scrubbed{msg: msg, err: err}
}

// scrubbed is an error whose message had a password taken out.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// migration is one embedded schema step; version is its file's number.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their numbers must
// run 1, 2, 3… without gaps.
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

// migrate applies the migrations the database lacks, one transaction each.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	first := -1 // the version the first step found
	for {
		done, err := migrateOne(ctx, pool, ms, &first)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateOne applies the next migration, or reports done when there is
// none. The advisory lock, held to the end of the transaction, makes a
// second process wait and then read the version the first one left.
// *first is the version the first call found (set by it): when it is
// above 0, an existing index is being upgraded, and each step is logged
// (spanrec.LogMigration).
func migrateOne(ctx context.Context, pool *pgxpool.Pool, ms []migration, first *int) (done bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return false, fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS spanrec_schema (version integer NOT NULL)`); err != nil {
		return false, fmt.Errorf("migrate: schema version table: %w", err)
	}
	var v int
	err = tx.QueryRow(ctx, `SELECT version FROM spanrec_schema`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := tx.Exec(ctx, `INSERT INTO spanrec_schema (version) VALUES (0)`); err != nil {
			return false, fmt.Errorf("migrate: schema version: %w", err)
		}
	} else if err != nil {
		return false, fmt.Errorf("migrate: read schema version: %w", err)
	}
	switch {
	case v > len(ms):
		return false, fmt.Errorf("database schema version %d is newer than this program's %d; upgrade spanrec", v, len(ms))
	case v == len(ms):
		return true, tx.Commit(ctx)
	}
	if *first < 0 {
		*first = v
	}
	m := ms[v]
	defer spanrec.LogMigration("postgres", m.name, *first > 0)()
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE spanrec_schema SET version = $1`, m.version); err != nil {
		return false, fmt.Errorf("migration %s: set schema version: %w", m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return false, nil
}

// text returns s as PostgreSQL text can hold it: invalid UTF-8 and NUL
// bytes become U+FFFD.
func text(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= 0x80 {
			return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
		}
	}
	return s
}

// texts applies text to every string of ss, returning ss itself when none
// changes.
func texts(ss []string) []string {
	var out []string
	for i, s := range ss {
		if t := text(s); t != s {
			if out == nil {
				out = append([]string(nil), ss...)
			}
			out[i] = t
		}
	}
	if out == nil {
		return ss
	}
	return out
}
