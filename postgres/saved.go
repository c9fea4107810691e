package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// SavedSearches returns the searches user saved, by name.
func (db *DB) SavedSearches(ctx context.Context, user string) ([]auth.SavedSearch, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, user_name, name, query, created_ns FROM saved_searches
		WHERE user_name = $1 ORDER BY name, id`, text(user))
	if err != nil {
		return nil, fmt.Errorf("postgres: saved searches of %s: %w", user, err)
	}
	defer rows.Close()
	out := []auth.SavedSearch{}
	for rows.Next() {
		var (
			s       auth.SavedSearch
			created int64
		)
		if err := rows.Scan(&s.ID, &s.User, &s.Name, &s.Query, &created); err != nil {
			return nil, fmt.Errorf("postgres: saved searches of %s: %w", user, err)
		}
		s.Created = time.Unix(0, created).UTC()
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: saved searches of %s: %w", user, err)
	}
	return out, nil
}

// SaveSearch stores s for s.User, replacing the user's search of the same
// name (keeping its ID), and returns it as stored. A user keeps at most max
// searches: a new name past that is an error of kind ECONFLICT. It returns
// an error of kind ENOTFOUND if the user does not exist.
func (db *DB) SaveSearch(ctx context.Context, s auth.SavedSearch, max int) (auth.SavedSearch, error) {
	s.User, s.Name, s.Query = text(s.User), text(s.Name), text(s.Query)
	err := db.inTx(ctx, "save search for "+s.User, func(tx pgx.Tx) error {
		// FOR UPDATE serialises the saves of one user, so the bound holds.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE name = $1 FOR UPDATE`, s.User).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no user %s", s.User)
		} else if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM saved_searches WHERE user_name = $1 AND name <> $2`,
			s.User, s.Name).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return spanrec.Errorf(spanrec.ECONFLICT, "%s has %d saved searches already, the most one may keep: delete one first", s.User, n)
		}
		return tx.QueryRow(ctx, `INSERT INTO saved_searches (user_name, name, query, created_ns) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_name, name) DO UPDATE SET query = excluded.query, created_ns = excluded.created_ns
			RETURNING id`, s.User, s.Name, s.Query, clampedNS(s.Created)).Scan(&s.ID)
	})
	return s, err
}

// DeleteSavedSearch deletes user's saved search id. It returns an error of
// kind ENOTFOUND if user has no such search (another user's is not theirs).
func (db *DB) DeleteSavedSearch(ctx context.Context, user string, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM saved_searches WHERE id = $1 AND user_name = $2`, id, text(user))
	if err != nil {
		return fmt.Errorf("postgres: delete saved search %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return spanrec.Errorf(spanrec.ENOTFOUND, "no saved search %d", id)
	}
	return nil
}
