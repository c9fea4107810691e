package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec"
)

// Linking the legs of one conversation, as package sqlite does it.
//
// Each call's link keys (spanrec.Call.LinkKeys) go to call_links. PutCall
// then walks the calls that share a key with the call, transitively, and
// gives them all one interaction: the ID of the earliest. Two calls share
// a key only if their times overlap: strictly for a media key (the next
// call may reuse a port pair at once), within linkSlack for a header key
// (a transfer's new call starts as the old one ends).
//
// Several recorders may put the legs of one conversation at the same
// time, each in its own transaction, which would not see the other's
// uncommitted keys. So PutCall first takes a transaction-level advisory
// lock per link key: the second leg's transaction waits for the first's
// commit and then sees its keys, as in SQLite, whose writers are
// serialised.
//
// Lock order. Every path (PutCall, DeleteCall, retention's
// FinishDeletion) takes the link keys' locks first, all at once and
// sorted by lock key (a call put again: its stored keys and its new ones
// together, lockLegs), then its interaction's lock, then calls rows
// (PutCall's upsert of its own row comes after these, which the reviewer's
// race needed: a re-put that held its row while waiting for a key's lock
// deadlocked with a new leg holding that lock and waiting for the row).
// group then locks further interactions (sorted) and the rows it relinks
// (by ID). This order is not total: an interaction found only once rows
// are read (group's "more", a call regrouped meanwhile) is locked after
// them, and a walk that reaches a call through other calls' keys holds
// none of that call's key locks. So a deadlock remains possible in such
// rare interleavings; PostgreSQL then aborts one transaction (40P01) and
// PutCall and the deletions run it again (beginRetry, counted in
// DB.retries and logged).
//
// Each calls row also holds the number of its interaction's calls (legs,
// migration 0019: 0 for a call without an interaction), which the call
// list sorts by from an index. Wherever calls join or leave an
// interaction (group, deleteLinked) every interaction they left or
// joined is counted again (recountLegs). The count is a statement's
// snapshot, which would miss another transaction's calls joining or
// leaving the same interaction at the same time: so a transaction first
// takes an advisory lock per interaction it changes (legsLockSpace, in
// one order), and counts once the other has committed.
const (
	linkSlack = int64(10 * time.Second)
	// maxLegs bounds an interaction, so that a key shared by accident
	// (a constant correlation header) cannot chain the whole index.
	maxLegs = 32
	// maxKeys and maxKeyLen bound the keys of one call.
	maxKeys   = 64
	maxKeyLen = 512
)

// linkLockSpace and legsLockSpace are the upper halves of the advisory
// lock keys of link keys and of interactions, apart from migrationLock.
const (
	linkLockSpace = int64(0x6c696e6b) << 32 // "link"
	legsLockSpace = int64(0x6c656773) << 32 // "legs"
)

// recountLegs sets the legs of the calls of each interaction of a text
// array ($1) to their number, where it differs (the empty interaction is none:
// its calls' legs stay 0).
const recountLegs = `UPDATE calls SET legs = g.n
	FROM (SELECT i.v COLLATE "C" AS interaction,
		(SELECT count(*) FROM calls AS leg WHERE leg.interaction = i.v COLLATE "C") AS n
		FROM unnest($1::text[]) AS i (v) WHERE i.v <> '') AS g
	WHERE calls.interaction = g.interaction AND calls.legs <> g.n`

// linkKeys returns the link keys of c that PutCall stores: at most
// maxKeys, each at most maxKeyLen bytes long.
func linkKeys(c *spanrec.Call) []string {
	var keys []string
	for i, k := range c.LinkKeys {
		if i >= maxKeys || len(k) > maxKeyLen {
			break
		}
		keys = append(keys, text(k))
	}
	return keys
}

// lockLegs takes, before PutCall writes the calls row id, the locks a
// transaction that links or unlinks the call would take before that row:
// the advisory locks of the call's stored link keys and of its new ones
// keys (all in one order), then that of its stored interaction. Taken
// after the row (by the upsert), they would deadlock with a new leg
// linking to the call, which holds them and waits for the row in group.
func lockLegs(ctx context.Context, tx pgx.Tx, id string, keys []string) error {
	rows, err := tx.Query(ctx, `SELECT key FROM call_links WHERE call_id = $1`, id)
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	b := &pgx.Batch{}
	queueLinkLocks(b, append(stored, keys...))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	var inter string
	err = tx.QueryRow(ctx, `SELECT interaction FROM calls WHERE id = $1`, id).Scan(&inter)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && inter == "" {
		return nil // a new call, or one without an interaction
	}
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	b = &pgx.Batch{}
	queueLocks(b, legsLockSpace, []string{inter})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	return nil
}

// linkCall stores c's link keys (keys, whose locks lockLegs took) and
// sets the interaction of c and of the calls linked with it.
func linkCall(ctx context.Context, tx pgx.Tx, c *spanrec.Call, id string, keys []string) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM call_links WHERE call_id = $1`, id)
	for _, k := range keys {
		b.Queue(`INSERT INTO call_links (call_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, k)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	_, err := group(ctx, tx, id, c.Start.UnixNano())
	return err
}

// queueLinkLocks queues the advisory locks of the link keys keys on b, in
// one order (sorted by lock key, as every path takes them).
func queueLinkLocks(b *pgx.Batch, keys []string) {
	queueLocks(b, linkLockSpace, keys)
}

// queueLocks queues the advisory locks of the strings keys (their hashes
// in the lock space space) on b, in one order.
func queueLocks(b *pgx.Batch, space int64, keys []string) {
	locks := make([]int64, 0, len(keys))
	for _, k := range keys {
		h := fnv.New32a()
		h.Write([]byte(k))
		locks = append(locks, space|int64(h.Sum32()))
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	for _, l := range locks {
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, l)
	}
}

// group walks the calls linked with the call id (which started at start)
// through shared keys, transitively, gives them all one interaction (the
// ID of the earliest), counts the legs of the interactions they had and
// of the one they have now (recountLegs), and returns them.
func group(ctx context.Context, tx pgx.Tx, id string, start int64) ([]string, error) {
	type member struct {
		id    string
		start int64
		inter string // the interaction before the grouping, as the walk read it
	}
	members := []member{{id: id, start: start}}
	seen := map[string]bool{id: true}
	for i := 0; i < len(members) && len(members) < maxLegs; i++ {
		rows, err := tx.Query(ctx, `SELECT DISTINCT l2.call_id, b.start_ns, b.interaction FROM call_links l1
			JOIN call_links l2 ON l2.key = l1.key AND l2.call_id <> l1.call_id
			JOIN calls a ON a.id = l1.call_id
			JOIN calls b ON b.id = l2.call_id
			WHERE l1.call_id = $1
			AND b.start_ns < coalesce(a.end_ns, a.start_ns) + CASE WHEN l1.key LIKE 'media:%' THEN 0 ELSE $2::bigint END
			AND a.start_ns < coalesce(b.end_ns, b.start_ns) + CASE WHEN l1.key LIKE 'media:%' THEN 0 ELSE $2::bigint END
			ORDER BY l2.call_id`, members[i].id, linkSlack)
		if err != nil {
			return nil, fmt.Errorf("links: %w", err)
		}
		for rows.Next() {
			var (
				m     member
				start *int64
			)
			if err := rows.Scan(&m.id, &start, &m.inter); err != nil {
				rows.Close()
				return nil, fmt.Errorf("links: %w", err)
			}
			if start != nil {
				m.start = *start
			}
			if !seen[m.id] && len(members) < maxLegs {
				seen[m.id] = true
				members = append(members, m)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("links: %w", err)
		}
	}
	first := members[0]
	for _, m := range members[1:] {
		if m.start < first.start || m.start == first.start && m.id < first.id {
			first = m
		}
	}
	// Lock the interactions the calls leave and join (those the walk
	// read), then the rows in ID order, so that two transactions
	// relinking overlapping calls take them in one order. The rows'
	// locked interactions may name one the walk did not read (a call
	// another transaction regrouped meanwhile): its lock comes after, out
	// of that order (a deadlock PostgreSQL breaks, and beginRetry runs
	// the aborted transaction again).
	ids := make([]string, 0, len(members))
	inters := []string{first.id}
	for _, m := range members {
		ids = append(ids, m.id)
		if m.inter != "" && !slices.Contains(inters, m.inter) {
			inters = append(inters, m.inter)
		}
	}
	var (
		more   []string
		locked int // the members' rows locked: all, unless one was deleted meanwhile
	)
	b := &pgx.Batch{}
	queueLocks(b, legsLockSpace, inters)
	b.Queue(`SELECT interaction FROM calls WHERE id = ANY ($1) ORDER BY id FOR UPDATE`, ids).Query(func(rows pgx.Rows) error {
		old, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, i := range old {
			if i != "" && !slices.Contains(inters, i) && !slices.Contains(more, i) {
				more = append(more, i)
			}
		}
		locked = len(old)
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	b = &pgx.Batch{}
	queueLocks(b, legsLockSpace, more)
	// The members' interaction and legs in one new version of each row
	// (every index of calls has an entry per version): the interaction's
	// calls after the update are its other calls now and the members.
	// Rows that hold both already are left alone.
	b.Queue(`UPDATE calls SET interaction = $1, legs = g.n
		FROM (SELECT $3::integer + (SELECT count(*) FROM calls AS leg WHERE leg.interaction = $1 AND leg.id <> ALL ($2)) AS n) AS g
		WHERE calls.id = ANY ($2) AND (calls.interaction <> $1 OR calls.legs <> g.n)`, first.id, ids, locked)
	// The other calls of the interactions left and joined.
	b.Queue(recountLegs, append(inters, more...))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	return ids, nil
}

// deleteLinked deletes the row of the call id (its streams, DTMF, link
// keys and legal hold go with it) and regroups the other legs of its
// interaction, as package sqlite does: the interaction may have been named
// after it, and it may have been the only link between the others. It
// takes the advisory locks of the call's link keys first, as PutCall
// does, so that a leg put meanwhile is linked against what is left. It
// reports whether the call existed.
func deleteLinked(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
	rows, err := tx.Query(ctx, `SELECT key FROM call_links WHERE call_id = $1`, id)
	if err != nil {
		return false, fmt.Errorf("legs: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false, fmt.Errorf("legs: %w", err)
	}
	b := &pgx.Batch{}
	queueLinkLocks(b, keys)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return false, fmt.Errorf("legs: %w", err)
	}
	// The interaction's lock (see recountLegs) before its rows'.
	var inter string
	err = tx.QueryRow(ctx, `SELECT interaction FROM calls WHERE id = $1`, id).Scan(&inter)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	locked := inter
	if locked != "" {
		b = &pgx.Batch{}
		queueLocks(b, legsLockSpace, []string{locked})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return false, fmt.Errorf("legs: %w", err)
		}
	}
	err = tx.QueryRow(ctx, `SELECT interaction FROM calls WHERE id = $1 FOR UPDATE`, id).Scan(&inter)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if inter != locked && inter != "" {
		b = &pgx.Batch{}
		queueLocks(b, legsLockSpace, []string{inter})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return false, fmt.Errorf("legs: %w", err)
		}
	}
	type leg struct {
		id    string
		start int64
	}
	var legs []leg
	if inter != "" {
		rows, err := tx.Query(ctx, `SELECT id, coalesce(start_ns, 0) FROM calls
			WHERE interaction = $1 AND id <> $2 ORDER BY id FOR UPDATE`, inter, id)
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
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, fmt.Errorf("legs: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM calls WHERE id = $1`, id); err != nil {
		return false, err
	}
	slices.SortFunc(legs, func(x, y leg) int {
		if x.start != y.start {
			return cmp.Compare(x.start, y.start)
		}
		return strings.Compare(x.id, y.id)
	})
	for _, l := range legs {
		if _, err := tx.Exec(ctx, `UPDATE calls SET interaction = id WHERE id = $1`, l.id); err != nil {
			return false, fmt.Errorf("legs: %w", err)
		}
	}
	done := map[string]bool{}
	for _, l := range legs {
		if done[l.id] {
			continue
		}
		ids, err := group(ctx, tx, l.id, l.start)
		if err != nil {
			return false, err
		}
		for _, g := range ids {
			done[g] = true
		}
	}
	// Each group counted what its legs left and joined; the deleted
	// call's interaction has lost it (and, regrouped, all its calls).
	if _, err := tx.Exec(ctx, recountLegs, []string{inter}); err != nil {
		return false, fmt.Errorf("legs: %w", err)
	}
	return true, nil
}

// loadLegs sets the Interaction, Legs and LinkKeys (in key order) of the
// calls of ids.
func loadLegs(ctx context.Context, tx pgx.Tx, ids []string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.Query(ctx, `SELECT c.id, c.interaction, l.id FROM calls c
		LEFT JOIN calls l ON l.interaction = c.interaction AND l.id <> c.id AND c.interaction <> ''
		WHERE c.id = ANY ($1) ORDER BY c.id, l.start_ns NULLS FIRST, l.id`, ids)
	if err != nil {
		return fmt.Errorf("legs: %w", err)
	}
	for rows.Next() {
		var (
			id, inter spanrec.CallID
			leg       *string
		)
		if err := rows.Scan(&id, &inter, &leg); err != nil {
			rows.Close()
			return fmt.Errorf("legs: %w", err)
		}
		c := byID[id]
		if c == nil {
			continue
		}
		c.Interaction = inter
		if leg != nil {
			c.Legs = append(c.Legs, spanrec.CallID(*leg))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("legs: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT call_id, key FROM call_links
		WHERE call_id = ANY ($1) ORDER BY call_id, key`, ids)
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
