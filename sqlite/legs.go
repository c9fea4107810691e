package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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
const (
	linkSlack = int64(10 * time.Second)
	// maxLegs bounds an interaction, so that a key shared by accident
	// (a constant correlation header) cannot chain the whole index.
	maxLegs = 32
)

// linkedCalls selects the calls that share a link key with a call (?1)
// and overlap it in time: within linkSlack (?2, ?3) for signalling keys,
// strictly for media keys (a port reused later is another conversation).
const linkedCalls = `SELECT DISTINCT l2.call_id, b.start_ns FROM call_links l1
	JOIN call_links l2 ON l2.key = l1.key AND l2.call_id <> l1.call_id
	JOIN calls a ON a.id = l1.call_id
	JOIN calls b ON b.id = l2.call_id
	WHERE l1.call_id = ?
	AND b.start_ns < coalesce(a.end_ns, a.start_ns) + CASE WHEN l1.key LIKE 'media:%' THEN 0 ELSE ? END
	AND a.start_ns < coalesce(b.end_ns, b.start_ns) + CASE WHEN l1.key LIKE 'media:%' THEN 0 ELSE ? END
	ORDER BY l2.call_id`

// linkCall stores c's link keys and sets the interaction of c and of the
// calls linked with it.
func (db *DB) linkCall(ctx context.Context, tx *sql.Tx, c *spanrec.Call) error {
	if err := db.exec(ctx, tx, deleteLinks, c.ID); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	for i, k := range c.LinkKeys {
		if i >= 64 || len(k) > 512 {
			break
		}
		if err := db.exec(ctx, tx, insertLink, c.ID, k); err != nil {
			return fmt.Errorf("links: %w", err)
		}
	}
	type member struct {
		id    spanrec.CallID
		start int64
	}
	members := []member{{c.ID, c.Start.UnixNano()}}
	seen := map[spanrec.CallID]bool{c.ID: true}
	for i := 0; i < len(members) && len(members) < maxLegs; i++ {
		st, err := db.txStmt(ctx, tx, linkedCalls)
		if err != nil {
			return fmt.Errorf("links: %w", err)
		}
		rows, err := st.QueryContext(ctx, members[i].id, linkSlack, linkSlack)
		if err != nil {
			return fmt.Errorf("links: %w", err)
		}
		for rows.Next() {
			var m member
			if err := rows.Scan(&m.id, &m.start); err != nil {
				rows.Close()
				return fmt.Errorf("links: %w", err)
			}
			if !seen[m.id] && len(members) < maxLegs {
				seen[m.id] = true
				members = append(members, m)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("links: %w", err)
		}
	}
	first := members[0]
	for _, m := range members[1:] {
		if m.start < first.start || m.start == first.start && m.id < first.id {
			first = m
		}
	}
	for _, m := range members {
		if err := db.exec(ctx, tx, setInteraction, first.id, m.id); err != nil {
			return fmt.Errorf("links: %w", err)
		}
	}
	return nil
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
