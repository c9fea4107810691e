package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// cachedQueries are the writer's statements run for every stored call:
// prepared once when the database opens rather than at every call, which
// saves SQLite's parse and plan, about a third of what storing a call
// costs.
var cachedQueries = []string{
	upsertCall,
	deleteStreams,
	deleteDTMF,
	insertStream,
	insertDTMF,
	deleteLinks,
	insertLink,
	linkedCalls,
	setInteraction,
	deleteHeaders,
	deleteAddrs,
	queueCall,
	callExistsQuery,
	deleteQuality,
	insertQuality,
}

func init() {
	cachedQueries = append(cachedQueries, insertHeaders.queries...)
	cachedQueries = append(cachedQueries, insertAddrs.queries...)
}

const (
	deleteStreams  = `DELETE FROM streams WHERE call_id = ?`
	deleteDTMF     = `DELETE FROM dtmf WHERE call_id = ?`
	deleteLinks    = `DELETE FROM call_links WHERE call_id = ?`
	insertLink     = `INSERT OR IGNORE INTO call_links (call_id, key) VALUES (?, ?)`
	setInteraction = `UPDATE calls SET interaction = ? WHERE id = ?`
	// callExistsQuery tells PutCall whether the call is stored already:
	// a new call has no streams, DTMF or other rows to delete (they all
	// reference calls, foreign keys on).
	callExistsQuery = `SELECT EXISTS (SELECT 1 FROM calls WHERE id = ?)`
	deleteQuality   = `DELETE FROM stream_quality WHERE call_id = ?`
	insertQuality   = `INSERT INTO stream_quality (call_id, seq, quality) VALUES (?, ?, ?)`
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

// txStmt returns the statement of query bound to tx (the writer's
// transaction): the cached one, else one prepared in tx (closed with it).
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st := db.stmts[query]; st != nil {
		return tx.StmtContext(ctx, st), nil
	}
	return tx.PrepareContext(ctx, query)
}

// exec runs query in tx, through the statement cache.
func (db *DB) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	st, err := db.txStmt(ctx, tx, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// queryRow runs query in tx, through the statement cache.
func (db *DB) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := db.stmts[query]; st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}
