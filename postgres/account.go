package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// AddUser stores the new user u. It returns an error of kind ECONFLICT if a
// user of that name exists, and of kind EINVALID if u has no name or an
// unknown role.
func (db *DB) AddUser(ctx context.Context, u auth.User) error {
	if u.Name == "" {
		return spanrec.Errorf(spanrec.EINVALID, "user without a name")
	}
	name := text(u.Name)
	if _, err := auth.ParseRole(string(u.Role)); err != nil {
		return spanrec.Errorf(spanrec.EINVALID, "user %s: %v", name, err)
	}
	if !fits(u.Created) {
		return spanrec.Errorf(spanrec.EINVALID, "user %s: creation time out of range", name)
	}
	ext := u.Extensions
	if ext == nil {
		ext = []string{}
	}
	extJSON, err := json.Marshal(texts(ext))
	if err != nil {
		return fmt.Errorf("index: user %s: %w", name, err)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO users (name, role, extensions, password_hash, created_ns, disabled)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`,
		name, string(u.Role), string(extJSON), text(u.PasswordHash), u.Created.UnixNano(), u.Disabled)
	if err != nil {
		return fmt.Errorf("index: add user %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return spanrec.Errorf(spanrec.ECONFLICT, "user %s exists", name)
	}
	return nil
}

const userColumns = `name, role, extensions, password_hash, created_ns, disabled`

// User returns the user called name, or an error of kind ENOTFOUND.
func (db *DB) User(ctx context.Context, name string) (*auth.User, error) {
	name = text(name)
	us, err := db.users(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("index: user %s: %w", name, err)
	}
	if len(us) == 0 {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "no user %s", name)
	}
	return &us[0], nil
}

// Users returns every user, by name.
func (db *DB) Users(ctx context.Context) ([]auth.User, error) {
	us, err := db.users(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("index: users: %w", err)
	}
	return us, nil
}

func (db *DB) users(ctx context.Context, q string, args ...any) ([]auth.User, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	us := []auth.User{}
	for rows.Next() {
		var (
			u       auth.User
			ext     string
			created int64
		)
		if err := rows.Scan(&u.Name, &u.Role, &ext, &u.PasswordHash, &created, &u.Disabled); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(ext), &u.Extensions); err != nil {
			return nil, fmt.Errorf("user %s: extensions: %w", u.Name, err)
		}
		u.Created = time.Unix(0, created).UTC()
		us = append(us, u)
	}
	return us, rows.Err()
}

// SetPassword replaces the password hash of the user called name and ends
// the user's sessions. It returns an error of kind ENOTFOUND if there is no
// such user.
func (db *DB) SetPassword(ctx context.Context, name, hash string) error {
	name = text(name)
	return db.inTx(ctx, "set password of "+name, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE name = $2`, text(hash), name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no user %s", name)
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_name = $1`, name)
		return err
	})
}

// lockAdmins locks the rows of the admins and of the user called name, so
// that two processes removing or disabling the last two admins at once
// cannot both succeed.
func lockAdmins(ctx context.Context, tx pgx.Tx, name string) error {
	rows, err := tx.Query(ctx, `SELECT name FROM users WHERE role = $1 OR name = $2 ORDER BY name FOR UPDATE`, string(auth.Admin), name)
	if err != nil {
		return err
	}
	_, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return err
}

// SetDisabled disables or enables the user called name; disabling ends the
// user's sessions (its API tokens stay, refused while it is disabled). It
// returns an error of kind ENOTFOUND if there is no such user, and of kind
// ECONFLICT if disabling would leave no enabled admin.
func (db *DB) SetDisabled(ctx context.Context, name string, disabled bool) error {
	name = text(name)
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	return db.inTx(ctx, verb+" user "+name, func(tx pgx.Tx) error {
		if err := lockAdmins(ctx, tx, name); err != nil {
			return err
		}
		var role auth.Role
		err := tx.QueryRow(ctx, `SELECT role FROM users WHERE name = $1`, name).Scan(&role)
		if errors.Is(err, pgx.ErrNoRows) {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no user %s", name)
		} else if err != nil {
			return err
		}
		if disabled && role == auth.Admin {
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = $1 AND NOT disabled AND name <> $2`,
				string(auth.Admin), name).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				return spanrec.Errorf(spanrec.ECONFLICT, "%s is the last enabled admin; add or enable another admin first", name)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET disabled = $1 WHERE name = $2`, disabled, name); err != nil {
			return err
		}
		if disabled {
			_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_name = $1`, name)
		}
		return err
	})
}

// DeleteUser deletes the user called name with the user's sessions and
// tokens. It returns an error of kind ENOTFOUND if there is no such user,
// and of kind ECONFLICT if the user is the last admin.
func (db *DB) DeleteUser(ctx context.Context, name string) error {
	name = text(name)
	return db.inTx(ctx, "delete user "+name, func(tx pgx.Tx) error {
		if err := lockAdmins(ctx, tx, name); err != nil {
			return err
		}
		var role auth.Role
		err := tx.QueryRow(ctx, `SELECT role FROM users WHERE name = $1`, name).Scan(&role)
		if errors.Is(err, pgx.ErrNoRows) {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no user %s", name)
		} else if err != nil {
			return err
		}
		if role == auth.Admin {
			var admins int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = $1`, string(auth.Admin)).Scan(&admins); err != nil {
				return err
			}
			if admins == 1 {
				return spanrec.Errorf(spanrec.ECONFLICT, "%s is the last admin; add another admin first", name)
			}
			var enabled int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = $1 AND NOT disabled AND name <> $2`,
				string(auth.Admin), name).Scan(&enabled); err != nil {
				return err
			}
			if enabled == 0 {
				return spanrec.Errorf(spanrec.ECONFLICT, "%s is the last enabled admin; enable another admin first", name)
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM users WHERE name = $1`, name)
		return err
	})
}

// PutSession stores s. The user must exist.
func (db *DB) PutSession(ctx context.Context, s auth.Session) error {
	if s.IDHash == "" {
		return spanrec.Errorf(spanrec.EINVALID, "session without an id")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (id_hash, user_name, csrf, created_ns, expires_ns, remote)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		text(s.IDHash), text(s.User), text(s.CSRF), clampedNS(s.Created), clampedNS(s.Expires), text(s.Remote))
	if err != nil {
		return fmt.Errorf("index: put session of %s: %w", text(s.User), err)
	}
	return nil
}

// Session returns the session stored under idHash, expired or not, or an
// error of kind ENOTFOUND.
func (db *DB) Session(ctx context.Context, idHash string) (*auth.Session, error) {
	var (
		s                auth.Session
		created, expires int64
	)
	err := db.pool.QueryRow(ctx, `SELECT id_hash, user_name, csrf, created_ns, expires_ns, remote
		FROM sessions WHERE id_hash = $1`, text(idHash)).Scan(&s.IDHash, &s.User, &s.CSRF, &created, &expires, &s.Remote)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, fmt.Errorf("index: session: %w", err)
	}
	s.Created, s.Expires = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	return &s, nil
}

// DeleteSession deletes the session stored under idHash, if any.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, text(idHash)); err != nil {
		return fmt.Errorf("index: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions that expired before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_ns < $1`, clampedNS(now)); err != nil {
		return fmt.Errorf("index: delete expired sessions: %w", err)
	}
	return nil
}

// AddToken stores the API token t (its Hash, never the token) and returns
// its ID. It returns an error of kind ENOTFOUND if t.User does not exist.
func (db *DB) AddToken(ctx context.Context, t auth.Token) (int64, error) {
	if t.Hash == "" {
		return 0, spanrec.Errorf(spanrec.EINVALID, "token without a hash")
	}
	user := text(t.User)
	var id int64
	err := db.inTx(ctx, "add token for "+user, func(tx pgx.Tx) error {
		// FOR KEY SHARE keeps the user until the token is in.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE name = $1 FOR KEY SHARE`, user).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no user %s", user)
		} else if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO tokens (user_name, name, hash, created_ns) VALUES ($1, $2, $3, $4) RETURNING id`,
			user, text(t.Name), text(t.Hash), clampedNS(t.Created)).Scan(&id)
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return 0, spanrec.Errorf(spanrec.ECONFLICT, "a token with this hash exists")
	}
	return id, err
}

const tokenColumns = `id, user_name, name, hash, created_ns, last_used_ns`

// TokenByHash returns the token whose hash is hash, or an error of kind
// ENOTFOUND.
func (db *DB) TokenByHash(ctx context.Context, hash string) (*auth.Token, error) {
	ts, err := db.tokens(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, text(hash))
	if err != nil {
		return nil, fmt.Errorf("index: token: %w", err)
	}
	if len(ts) == 0 {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "no such token")
	}
	return &ts[0], nil
}

// Tokens returns the tokens of the user called user, or of every user if
// user is "", by ID.
func (db *DB) Tokens(ctx context.Context, user string) ([]auth.Token, error) {
	q, args := `SELECT `+tokenColumns+` FROM tokens ORDER BY id`, []any(nil)
	if user != "" {
		q, args = `SELECT `+tokenColumns+` FROM tokens WHERE user_name = $1 ORDER BY id`, []any{text(user)}
	}
	ts, err := db.tokens(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("index: tokens: %w", err)
	}
	return ts, nil
}

func (db *DB) tokens(ctx context.Context, q string, args ...any) ([]auth.Token, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ts := []auth.Token{}
	for rows.Next() {
		var (
			t        auth.Token
			created  int64
			lastUsed *int64
		)
		if err := rows.Scan(&t.ID, &t.User, &t.Name, &t.Hash, &created, &lastUsed); err != nil {
			return nil, err
		}
		t.Created, t.LastUsed = time.Unix(0, created).UTC(), timeOf(lastUsed)
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// TouchToken records that the token with the given ID was used at now.
func (db *DB) TouchToken(ctx context.Context, id int64, now time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE tokens SET last_used_ns = $1 WHERE id = $2`, clampedNS(now), id); err != nil {
		return fmt.Errorf("index: touch token %d: %w", id, err)
	}
	return nil
}

// DeleteToken revokes the token with the given ID. It returns an error of
// kind ENOTFOUND if there is no such token.
func (db *DB) DeleteToken(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM tokens WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("index: delete token %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return spanrec.Errorf(spanrec.ENOTFOUND, "no token %d", id)
	}
	return nil
}

// AddEvent appends e to the audit trail; e.ID is ignored.
func (db *DB) AddEvent(ctx context.Context, e auth.Event) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO audit (at_ns, user_name, action, call_id, remote, detail)
		VALUES ($1, $2, $3, $4, $5, $6)`, clampedNS(e.At), text(e.User), text(e.Action), text(string(e.CallID)),
		text(e.Remote), text(e.Detail))
	if err != nil {
		return fmt.Errorf("index: audit %s by %s: %w", text(e.Action), text(e.User), err)
	}
	return nil
}

// Events returns the audit events f selects, newest first, and how many
// there are in all (ignoring f.Limit and f.Offset). It returns an error of
// kind EINVALID if f.Limit or f.Offset is negative.
func (db *DB) Events(ctx context.Context, f auth.EventFilter) ([]auth.Event, int, error) {
	if f.Limit < 0 || f.Offset < 0 {
		return nil, 0, spanrec.Errorf(spanrec.EINVALID, "negative limit or offset")
	}
	var a args
	where := ` WHERE true`
	if f.User != "" {
		where += ` AND user_name = ` + a.add(text(f.User))
	}
	if f.Action != "" {
		where += ` AND action = ` + a.add(text(f.Action))
	}
	if !f.From.IsZero() {
		where += ` AND at_ns >= ` + a.add(clampedNS(f.From))
	}
	if !f.To.IsZero() {
		where += ` AND at_ns < ` + a.add(clampedNS(f.To))
	}
	if f.BeforeID > 0 {
		where += ` AND id < ` + a.add(f.BeforeID)
	}
	var (
		total int
		es    = []auth.Event{}
	)
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit`+where, a...).Scan(&total); err != nil {
			return err
		}
		q := `SELECT id, at_ns, user_name, action, call_id, remote, detail FROM audit` + where + ` ORDER BY id DESC`
		if f.Limit > 0 {
			q += ` LIMIT ` + a.add(f.Limit)
		}
		if f.Offset > 0 {
			q += ` OFFSET ` + a.add(f.Offset)
		}
		rows, err := tx.Query(ctx, q, a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e  auth.Event
				at int64
			)
			if err := rows.Scan(&e.ID, &at, &e.User, &e.Action, &e.CallID, &e.Remote, &e.Detail); err != nil {
				return err
			}
			e.At = time.Unix(0, at).UTC()
			es = append(es, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("index: audit: %w", err)
	}
	return es, total, nil
}

// inTx runs fn in a write transaction; errors other than spanrec errors
// are wrapped with what.
func (db *DB) inTx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	return txErr(what, pgx.BeginFunc(ctx, db.pool, fn))
}

// inRetryTx is inTx that runs fn again if PostgreSQL aborts its
// transaction as a deadlock or serialization failure (beginRetry).
func (db *DB) inRetryTx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	return txErr(what, db.beginRetry(ctx, what, fn))
}

// txErr returns the error of the transaction what: err as it is if it is
// a spanrec.Error, else wrapped with what.
func txErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var e *spanrec.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("index: %s: %w", what, err)
}
