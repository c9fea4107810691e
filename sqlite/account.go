package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
	if _, err := auth.ParseRole(string(u.Role)); err != nil {
		return spanrec.Errorf(spanrec.EINVALID, "user %s: %v", u.Name, err)
	}
	if !timeValue(u.Created).fits() {
		return spanrec.Errorf(spanrec.EINVALID, "user %s: creation time out of range", u.Name)
	}
	ext, err := json.Marshal(nonNil(u.Extensions))
	if err != nil {
		return fmt.Errorf("index: user %s: %w", u.Name, err)
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO users (name, role, extensions, password_hash, created_ns, disabled)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		u.Name, u.Role, string(ext), u.PasswordHash, u.Created.UnixNano(), u.Disabled)
	if err != nil {
		return fmt.Errorf("index: add user %s: %w", u.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("index: add user %s: %w", u.Name, err)
	} else if n == 0 {
		return spanrec.Errorf(spanrec.ECONFLICT, "user %s exists", u.Name)
	}
	return nil
}

const userColumns = `name, role, extensions, password_hash, created_ns, disabled`

// User returns the user called name, or an error of kind ENOTFOUND.
func (db *DB) User(ctx context.Context, name string) (*auth.User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name)
	if err != nil {
		return nil, fmt.Errorf("index: user %s: %w", name, err)
	}
	us, err := scanUsers(rows)
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
	rows, err := db.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("index: users: %w", err)
	}
	us, err := scanUsers(rows)
	if err != nil {
		return nil, fmt.Errorf("index: users: %w", err)
	}
	return us, nil
}

func scanUsers(rows *sql.Rows) ([]auth.User, error) {
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
	return db.inTx(ctx, "set password of "+name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ?`, hash, name)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "no user "+name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user = ?`, name)
		return err
	})
}

// SetDisabled disables or enables the user called name; disabling ends the
// user's sessions (its API tokens stay, refused while it is disabled). It
// returns an error of kind ENOTFOUND if there is no such user, and of kind
// ECONFLICT if disabling would leave no enabled admin.
func (db *DB) SetDisabled(ctx context.Context, name string, disabled bool) error {
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	return db.inTx(ctx, verb+" user "+name, func(tx *sql.Tx) error {
		var role auth.Role
		err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE name = ?`, name).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no user %s", name)
		} else if err != nil {
			return err
		}
		if disabled && role == auth.Admin {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = ? AND disabled = 0 AND name <> ?`,
				auth.Admin, name).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				return spanrec.Errorf(spanrec.ECONFLICT, "%s is the last enabled admin; add or enable another admin first", name)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE name = ?`, disabled, name); err != nil {
			return err
		}
		if disabled {
			_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user = ?`, name)
		}
		return err
	})
}

// DeleteUser deletes the user called name with the user's sessions and
// tokens. It returns an error of kind ENOTFOUND if there is no such user,
// and of kind ECONFLICT if the user is the last admin.
func (db *DB) DeleteUser(ctx context.Context, name string) error {
	return db.inTx(ctx, "delete user "+name, func(tx *sql.Tx) error {
		var role auth.Role
		err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE name = ?`, name).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no user %s", name)
		} else if err != nil {
			return err
		}
		if role == auth.Admin {
			var admins int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = ?`, auth.Admin).Scan(&admins); err != nil {
				return err
			}
			if admins == 1 {
				return spanrec.Errorf(spanrec.ECONFLICT, "%s is the last admin; add another admin first", name)
			}
			var enabled int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = ? AND disabled = 0 AND name <> ?`,
				auth.Admin, name).Scan(&enabled); err != nil {
				return err
			}
			if enabled == 0 {
				return spanrec.Errorf(spanrec.ECONFLICT, "%s is the last enabled admin; enable another admin first", name)
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
		return err
	})
}

// PutSession stores s. The user must exist.
func (db *DB) PutSession(ctx context.Context, s auth.Session) error {
	if s.IDHash == "" {
		return spanrec.Errorf(spanrec.EINVALID, "session without an id")
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO sessions (id_hash, user, csrf, created_ns, expires_ns, remote)
		VALUES (?, ?, ?, ?, ?, ?)`,
		s.IDHash, s.User, s.CSRF, timeValue(s.Created).clampedNS(), timeValue(s.Expires).clampedNS(), s.Remote)
	if err != nil {
		return fmt.Errorf("index: put session of %s: %w", s.User, err)
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
	err := db.r.QueryRowContext(ctx, `SELECT id_hash, user, csrf, created_ns, expires_ns, remote
		FROM sessions WHERE id_hash = ?`, idHash).Scan(&s.IDHash, &s.User, &s.CSRF, &created, &expires, &s.Remote)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, fmt.Errorf("index: session: %w", err)
	}
	s.Created, s.Expires = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	return &s, nil
}

// DeleteSession deletes the session stored under idHash, if any.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("index: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions that expired before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_ns < ?`, timeValue(now).clampedNS()); err != nil {
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
	var id int64
	err := db.inTx(ctx, "add token for "+t.User, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, t.User).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no user %s", t.User)
		} else if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO tokens (user, name, hash, created_ns) VALUES (?, ?, ?, ?) RETURNING id`,
			t.User, t.Name, t.Hash, timeValue(t.Created).clampedNS()).Scan(&id)
	})
	return id, err
}

const tokenColumns = `id, user, name, hash, created_ns, last_used_ns`

// TokenByHash returns the token whose hash is hash, or an error of kind
// ENOTFOUND.
func (db *DB) TokenByHash(ctx context.Context, hash string) (*auth.Token, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash)
	if err != nil {
		return nil, fmt.Errorf("index: token: %w", err)
	}
	ts, err := scanTokens(rows)
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
		q, args = `SELECT `+tokenColumns+` FROM tokens WHERE user = ? ORDER BY id`, []any{user}
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("index: tokens: %w", err)
	}
	ts, err := scanTokens(rows)
	if err != nil {
		return nil, fmt.Errorf("index: tokens: %w", err)
	}
	return ts, nil
}

func scanTokens(rows *sql.Rows) ([]auth.Token, error) {
	defer rows.Close()
	ts := []auth.Token{}
	for rows.Next() {
		var (
			t        auth.Token
			created  int64
			lastUsed sql.NullInt64
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
	if _, err := db.w.ExecContext(ctx, `UPDATE tokens SET last_used_ns = ? WHERE id = ?`, timeValue(now).clampedNS(), id); err != nil {
		return fmt.Errorf("index: touch token %d: %w", id, err)
	}
	return nil
}

// DeleteToken revokes the token with the given ID. It returns an error of
// kind ENOTFOUND if there is no such token.
func (db *DB) DeleteToken(ctx context.Context, id int64) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("index: delete token %d: %w", id, err)
	}
	return mustAffect(res, fmt.Sprintf("no token %d", id))
}

// AddEvent appends e to the audit trail; e.ID is ignored.
func (db *DB) AddEvent(ctx context.Context, e auth.Event) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO audit (at_ns, user, action, call_id, remote, detail)
		VALUES (?, ?, ?, ?, ?, ?)`, timeValue(e.At).clampedNS(), e.User, e.Action, e.CallID, e.Remote, e.Detail)
	if err != nil {
		return fmt.Errorf("index: audit %s by %s: %w", e.Action, e.User, err)
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
	where, args := ` WHERE 1`, []any{}
	if f.User != "" {
		where += ` AND user = ?`
		args = append(args, f.User)
	}
	if f.Action != "" {
		where += ` AND action = ?`
		args = append(args, f.Action)
	}
	if !f.From.IsZero() {
		where += ` AND at_ns >= ?`
		args = append(args, timeValue(f.From).clampedNS())
	}
	if !f.To.IsZero() {
		where += ` AND at_ns < ?`
		args = append(args, timeValue(f.To).clampedNS())
	}
	if f.BeforeID > 0 {
		where += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("index: audit: %w", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("index: audit: %w", err)
	}
	limit := -1
	if f.Limit > 0 {
		limit = f.Limit
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, at_ns, user, action, call_id, remote, detail FROM audit`+where+
		` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("index: audit: %w", err)
	}
	defer rows.Close()
	es := []auth.Event{}
	for rows.Next() {
		var (
			e  auth.Event
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Action, &e.CallID, &e.Remote, &e.Detail); err != nil {
			return nil, 0, fmt.Errorf("index: audit: %w", err)
		}
		e.At = time.Unix(0, at).UTC()
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("index: audit: %w", err)
	}
	return es, total, nil
}

// inTx runs fn in a write transaction; errors other than spanrec errors
// are wrapped with what.
func (db *DB) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		var e *spanrec.Error
		if errors.As(err, &e) {
			return err
		}
		return fmt.Errorf("index: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index: %s: commit: %w", what, err)
	}
	return nil
}

// mustAffect returns an ENOTFOUND error with message msg if res changed no
// row.
func mustAffect(res sql.Result, msg string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return spanrec.Errorf(spanrec.ENOTFOUND, "%s", msg)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
