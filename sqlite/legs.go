package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spanrec/spanrec"
)

// Linking the legs of one conversation.
//
// Each call's link keys (spanrec.Call.LinkKeys) go to call_links. PutCall
// then walks the calls that share a key with the call, transitively, and
// gives them all one interaction: the ID of the earliest. Two calls share
// a key only if their times overlap: strictly for a media key (the next
// call may reuse a port pair at once), within linkSlack for a header key
// (a transfer's new call starts as the old one ends).
//
// Each calls row also holds the number of its interaction's calls (legs,
// migration 0026: 0 for a call without an interaction), which the call
// list sorts by from an index. Wherever calls join or leave an
// interaction (group, deleteLinked) every interaction they left or
// joined is counted again (recountLegs), so the column stays what
// counting the interaction's calls would give.
const (
	linkSlack = int64(10 * time.Second)
	// maxLegs bounds an interaction, so that a key shared by accident
	// (a constant correlation header) cannot chain the whole index.
	maxLegs = 32
)

// linkedCalls selects the calls that share a link key with a call (?1)
// and overlap it in time: within linkSlack (?2, ?3) for signalling keys,
// strictly for media keys (a port reused later is another conversation).
const linkedCalls = `SELECT DISTINCT l2.call_id, b.start_ns, b.interaction FROM call_links l1
	JOIN call_links l2 ON l2.key = l1.key AND l2.call_id <> l1.call_id
	JOIN calls a ON a.id = l1.call_id
	JOIN calls b ON b.id = l2.call_id
	WHERE l1.call_id = ?
	AND b.start_ns < coalesce(a.end_ns, a.start_ns) + CASE WHEN l1.key LIKE 'media:%' THEN 0 ELSE ? END
	AND a.start_ns < coalesce(b.end_ns, b.start_ns) + CASE WHEN l1.key LIKE 'media:%' THEN 0 ELSE ? END
	ORDER BY l2.call_id`

// linkCall stores c's link keys and sets the interaction of c and of the
// calls linked with it. A new call has no keys to delete. id is c.ID as a
// statement's value.
func (db *DB) linkCall(ctx context.Context, tx *wtx, c *spanrec.Call, id any, isNew bool) error {
	if !isNew {
		if err := db.exec(ctx, tx, deleteLinks, id); err != nil {
			return fmt.Errorf("links: %w", err)
		}
	}
	rows := tx.rows()
	for i, k := range c.LinkKeys {
		if i >= 64 || len(k) > 512 {
			break
		}
		rows = append(rows, id, k)
	}
	if err := insertLinks.exec(ctx, db, tx, rows); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	_, err := db.group(ctx, tx, c.ID, c.Start.UnixNano())
	return err
}

// group walks the calls linked with the call id (which started at start)
// through shared keys, transitively, gives them all one interaction (the
// ID of the earliest), counts the legs of the interactions they had and
// of the one they have now (recountLegs), and returns them.
func (db *DB) group(ctx context.Context, tx *wtx, id spanrec.CallID, start int64) ([]spanrec.CallID, error) {
	type member struct {
		id    spanrec.CallID
		start int64
		inter string // the interaction before the grouping
	}
	var inter string
	if err := db.queryRow(ctx, tx, callInteraction, string(id)).Scan(&inter); err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	members := []member{{id, start, inter}}
	seen := map[spanrec.CallID]bool{id: true}
	for i := 0; i < len(members) && len(members) < maxLegs; i++ {
		st, err := db.txStmt(ctx, tx, linkedCalls)
		if err != nil {
			return nil, fmt.Errorf("links: %w", err)
		}
		rows, err := st.QueryContext(ctx, string(members[i].id), linkSlack, linkSlack)
		if err != nil {
			return nil, fmt.Errorf("links: %w", err)
		}
		for rows.Next() {
			var m member
			if err := rows.Scan(&m.id, &m.start, &m.inter); err != nil {
				rows.Close()
				return nil, fmt.Errorf("links: %w", err)
			}
			if !seen[m.id] && len(members) < maxLegs {
				seen[m.id] = true
				members = append(members, m)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("links: %w", err)
		}
	}
	first := members[0]
	for _, m := range members[1:] {
		if m.start < first.start || m.start == first.start && m.id < first.id {
			first = m
		}
	}
	ids := make([]spanrec.CallID, 0, len(members))
	inters := []string{string(first.id)}
	for _, m := range members {
		if err := db.exec(ctx, tx, setInteraction, string(first.id), string(m.id)); err != nil {
			return nil, fmt.Errorf("links: %w", err)
		}
		ids = append(ids, m.id)
		if !slices.Contains(inters, m.inter) {
			inters = append(inters, m.inter)
		}
	}
	if err := db.recountLegs(ctx, tx, inters...); err != nil {
		return nil, err
	}
	return ids, nil
}

// recountLegs sets the legs of the calls of each of the interactions
// inters to their number, where it differs ("" is no interaction: its
// calls' legs stay 0).
func (db *DB) recountLegs(ctx context.Context, tx *wtx, inters ...string) error {
	for _, inter := range inters {
		if inter == "" {
			continue
		}
		if err := db.exec(ctx, tx, recountLegs, inter); err != nil {
			return fmt.Errorf("legs: %w", err)
		}
	}
	return nil
}

// deleteLinked deletes the row of the call id (its streams, DTMF, link
// keys and legal hold go with it) and regroups the other legs of its
// interaction: the interaction may have been named after it (the earliest
// leg), and it may have been the only link between the others, which then
// become conversations of their own. It reports whether the call existed.
func (db *DB) deleteLinked(ctx context.Context, tx *wtx, id spanrec.CallID) (bool, error) {
	var inter spanrec.CallID
	err := tx.QueryRowContext(ctx, `SELECT interaction FROM calls WHERE id = ?`, id).Scan(&inter)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	type leg struct {
		id    spanrec.CallID
		start int64
	}
	var legs []leg
	if inter != "" {
		rows, err := tx.QueryContext(ctx, `SELECT id, coalesce(start_ns, 0) FROM calls
			WHERE interaction = ? AND id <> ? ORDER BY start_ns, id`, inter, id)
		if err != nil {
			return false, fmt.Errorf("legs: %w", err)
		}
		for rows.Next() {
			var l leg
			if err := rows.Scan(&l.id, &l.start); err != nil {
				rows.Close()
				return false, fmt.Errorf("legs: %w", err)
			}
			legs = append(legs, l)
		}
		if err := rows.Close(); err != nil {
			return false, fmt.Errorf("legs: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM calls WHERE id = ?`, id); err != nil {
		return false, err
	}
	for _, l := range legs {
		if _, err := tx.ExecContext(ctx, `UPDATE calls SET interaction = id WHERE id = ?`, l.id); err != nil {
			return false, fmt.Errorf("legs: %w", err)
		}
	}
	done := map[spanrec.CallID]bool{}
	for _, l := range legs {
		if done[l.id] {
			continue
		}
		ids, err := db.group(ctx, tx, l.id, l.start)
		if err != nil {
			return false, err
		}
		for _, g := range ids {
			done[g] = true
		}
	}
	// Each group counted what its legs left and joined; the deleted
	// call's interaction has lost it (and, regrouped, all its calls).
	return true, db.recountLegs(ctx, tx, string(inter))
}

// loadLegs sets the Interaction, Legs and LinkKeys (in key order) of the
// calls of idList.
func loadLegs(ctx context.Context, tx *sql.Tx, idList string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.interaction, l.id FROM calls c
		LEFT JOIN calls l ON l.interaction = c.interaction AND l.id <> c.id AND c.interaction <> ''
		WHERE c.id IN (SELECT value FROM json_each(?)) ORDER BY c.id, l.start_ns, l.id`, idList)
	if err != nil {
		return fmt.Errorf("legs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, inter spanrec.CallID
			leg       sql.NullString
		)
		if err := rows.Scan(&id, &inter, &leg); err != nil {
			return fmt.Errorf("legs: %w", err)
		}
		c := byID[id]
		if c == nil {
			continue
		}
		c.Interaction = inter
		if leg.Valid {
			c.Legs = append(c.Legs, spanrec.CallID(leg.String))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("legs: %w", err)
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, `SELECT call_id, key FROM call_links
		WHERE call_id IN (SELECT value FROM json_each(?)) ORDER BY call_id, key`, idList)
	if err != nil {
		return fmt.Errorf("link keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  spanrec.CallID
			key string
		)
		if err := rows.Scan(&id, &key); err != nil {
			return fmt.Errorf("link keys: %w", err)
		}
		if c := byID[id]; c != nil {
			c.LinkKeys = append(c.LinkKeys, key)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("link keys: %w", err)
	}
	return nil
}
