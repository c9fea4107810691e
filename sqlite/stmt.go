package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
)

// cachedQueries are the writer's statements run for every stored call:
// prepared once when the database opens rather than at every call, which
// saves SQLite's parse and plan, about a third of what storing a call
// costs.
var cachedQueries = []string{
	upsertCall,
	deleteStreams,
	deleteDTMF,
	deleteLinks,
	linkedCalls,
	setInteraction,
	callInteraction,
	recountLegs,
	deleteHeaders,
	deleteAddrs,
	queueCall,
	callExistsQuery,
	deleteQuality,
}

func init() {
	for _, m := range []*multiInsert{insertStreams, insertDTMF, insertHeaders, insertAddrs, insertQuality, insertLinks} {
		cachedQueries = append(cachedQueries, m.queries...)
	}
}

const (
	deleteStreams = `DELETE FROM streams WHERE call_id = ?`
	deleteDTMF    = `DELETE FROM dtmf WHERE call_id = ?`
	deleteLinks   = `DELETE FROM call_links WHERE call_id = ?`
	// setInteraction writes a call's interaction (?1) unless it has it
	// already: a new call without other legs has (upsertCall).
	setInteraction = `UPDATE calls SET interaction = ?1 WHERE id = ?2 AND interaction <> ?1`
	// callInteraction reads a call's interaction before group changes it.
	callInteraction = `SELECT interaction FROM calls WHERE id = ?`
	// recountLegs sets the legs of the calls of an interaction (?1) to
	// their number where it differs (migration 0026). The count does not
	// depend on the row: SQLite runs it once.
	recountLegs = `UPDATE calls SET legs = (SELECT count(*) FROM calls AS leg WHERE leg.interaction = ?1)
		WHERE interaction = ?1 AND legs <> (SELECT count(*) FROM calls AS leg WHERE leg.interaction = ?1)`
	// callExistsQuery tells PutCall whether the call is stored already:
	// a new call has no streams, DTMF or other rows to delete (they all
	// reference calls, foreign keys on).
	callExistsQuery = `SELECT EXISTS (SELECT 1 FROM calls WHERE id = ?)`
	deleteQuality   = `DELETE FROM stream_quality WHERE call_id = ?`
)

var (
	insertLinks   = newMultiInsert(`INSERT OR IGNORE INTO call_links (call_id, key)`, 2)
	insertQuality = newMultiInsert(`INSERT INTO stream_quality (call_id, seq, quality)`, 3)
)

// prepare prepares cachedQueries on w. It runs before any transaction: w
// has one connection, which a transaction holds until it ends.
func prepare(ctx context.Context, w *sql.DB) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(cachedQueries))
	for _, q := range cachedQueries {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			closeStmts(m)
			return nil, fmt.Errorf("prepare: %w", err)
		}
		m[q] = st
	}
	return m, nil
}

func closeStmts(m map[string]*sql.Stmt) error {
	var errs []error
	for _, st := range m {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// wtx is a transaction of the writer's connection that stores calls:
// each cached statement is bound to it once (Tx.StmtContext allocates a
// statement each time) and then serves every row and every call the
// transaction stores.
type wtx struct {
	*sql.Tx
	db    *DB
	bound map[string]*sql.Stmt
	vals  []any  // the values of a multiInsert, reused
	txt   []byte // scratch of text
}

// rows returns an empty slice for the values of a multiInsert's rows,
// which its exec gives back to tx.
func (tx *wtx) rows() []any {
	return tx.vals[:0]
}

// text returns the text of p as the index stores it ("" for the zero
// AddrPort).
func (tx *wtx) text(p netip.AddrPort) string {
	tx.txt, _ = p.AppendText(tx.txt[:0]) // never fails
	return string(tx.txt)
}

// beginWrite starts a write transaction on the writer's connection.
func (db *DB) beginWrite(ctx context.Context) (*wtx, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return db.wrap(tx), nil
}

// wrap returns tx, a transaction of the writer's connection, as a wtx.
func (db *DB) wrap(tx *sql.Tx) *wtx {
	return &wtx{Tx: tx, db: db}
}

// stmt returns the statement of query bound to tx: the cached one, else
// one prepared in tx; either is closed when tx ends.
func (tx *wtx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := tx.bound[query]; st != nil {
		return st, nil
	}
	var st *sql.Stmt
	if cached := tx.db.stmts[query]; cached != nil {
		st = tx.StmtContext(ctx, cached)
	} else {
		var err error
		if st, err = tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
	}
	if tx.bound == nil {
		tx.bound = make(map[string]*sql.Stmt, len(cachedQueries))
	}
	tx.bound[query] = st
	return st, nil
}

// txStmt returns the statement of query bound to tx.
func (db *DB) txStmt(ctx context.Context, tx *wtx, query string) (*sql.Stmt, error) {
	return tx.stmt(ctx, query)
}

// exec runs query in tx, through the statement cache.
func (db *DB) exec(ctx context.Context, tx *wtx, query string, args ...any) error {
	st, err := tx.stmt(ctx, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// queryRow runs query in tx, through the statement cache.
func (db *DB) queryRow(ctx context.Context, tx *wtx, query string, args ...any) *sql.Row {
	st, err := tx.stmt(ctx, query)
	if err != nil {
		return tx.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}
