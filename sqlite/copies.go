package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/spanrec/spanrec"
)

// maxCopies bounds the other sensors' copies of one call that are looked
// at (a Call-ID and tag that many sensors share by accident).
const maxCopies = 16

// copyCandidates selects, for the calls of a JSON list of IDs (?1), the
// calls of other sensors with the same Call-ID and caller's tag whose
// spans come within spanrec.CopySlack (?2, ?3): spanrec.SameCall decides
// on the callee's tag.
const copyCandidates = `SELECT c.id, o.id, o.sensor, o.sip_call_id, o.caller_tag, o.callee_tag, o.start_ns, o.end_ns
	FROM calls c JOIN calls o ON o.sip_call_id = c.sip_call_id AND o.id <> c.id
	WHERE c.id IN (SELECT value FROM json_each(?)) AND c.sip_call_id <> '' AND c.caller_tag <> ''
	AND o.caller_tag = c.caller_tag AND o.sensor <> c.sensor
	AND o.start_ns < coalesce(c.end_ns, c.start_ns) + ?
	AND c.start_ns < coalesce(o.end_ns, o.start_ns) + ?
	ORDER BY c.id, o.id`

// loadCopies sets the Copies and AudioFrom of the calls of idList (in
// byID, their streams loaded) that other sensors recorded too.
func loadCopies(ctx context.Context, tx *sql.Tx, idList string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.QueryContext(ctx, copyCandidates, idList, int64(spanrec.CopySlack), int64(spanrec.CopySlack))
	if err != nil {
		return fmt.Errorf("copies: %w", err)
	}
	defer rows.Close()
	cands := map[spanrec.CallID][]*spanrec.Call{}
	others := map[spanrec.CallID]*spanrec.Call{}
	var need []spanrec.CallID
	for rows.Next() {
		var (
			id         spanrec.CallID
			o          spanrec.Call
			start, end sql.NullInt64
		)
		if err := rows.Scan(&id, &o.ID, &o.Sensor, &o.SIPCallID, &o.CallerTag, &o.CalleeTag, &start, &end); err != nil {
			return fmt.Errorf("copies: %w", err)
		}
		if len(cands[id]) >= maxCopies {
			continue
		}
		o.Start, o.End = timeOf(start), timeOf(end)
		oc := others[o.ID]
		if oc == nil {
			oc = &o
			if loaded := byID[o.ID]; loaded != nil {
				oc.Streams = loaded.Streams
			} else {
				need = append(need, o.ID)
			}
			others[o.ID] = oc
		}
		cands[id] = append(cands[id], oc)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("copies: %w", err)
	}
	rows.Close()
	if len(cands) == 0 {
		return nil
	}
	if len(need) > 0 {
		list, err := json.Marshal(need)
		if err != nil {
			return fmt.Errorf("copies: %w", err)
		}
		srows, err := tx.QueryContext(ctx, `SELECT call_id, side, decoded, packets FROM streams
			WHERE call_id IN (SELECT value FROM json_each(?)) ORDER BY call_id, seq`, string(list))
		if err != nil {
			return fmt.Errorf("copies: %w", err)
		}
		defer srows.Close()
		for srows.Next() {
			var (
				id spanrec.CallID
				s  spanrec.Stream
			)
			if err := srows.Scan(&id, &s.Side, &s.Decoded, &s.Packets); err != nil {
				return fmt.Errorf("copies: %w", err)
			}
			if o := others[id]; o != nil {
				o.Streams = append(o.Streams, s)
			}
		}
		if err := srows.Err(); err != nil {
			return fmt.Errorf("copies: %w", err)
		}
	}
	for id, cs := range cands {
		if c := byID[id]; c != nil {
			spanrec.SetCopies(c, cs)
		}
	}
	return nil
}
