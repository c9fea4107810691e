-- 0006: how each call ended and how it was set up, for the call list's
-- columns, filters and sort: the final answer's reason phrase, who hung up
-- ('caller', 'callee', 'system', '' not known), the post-dial delay and the
-- ring time (NULL: not measured), and the worst MOS of its streams (NULL:
-- no stream has one), kept on the call so that the list sorts by it.
ALTER TABLE calls ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN hangup_by TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN pdd_ns INTEGER;
ALTER TABLE calls ADD COLUMN ring_ns INTEGER;
ALTER TABLE calls ADD COLUMN mos REAL;
UPDATE calls SET mos = (SELECT min(s.mos) FROM streams AS s WHERE s.call_id = calls.id AND s.mos > 0);
CREATE INDEX calls_hangup_by_start ON calls (hangup_by, start_ns);
CREATE INDEX calls_pdd ON calls (pdd_ns, id);
CREATE INDEX calls_ring ON calls (ring_ns, id);
CREATE INDEX calls_mos ON calls (mos, id);
