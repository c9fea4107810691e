-- 0005: the legs of one conversation. interaction is the ID of the earliest
-- leg (the call's own ID when it has no other); call_links holds each call's
-- link keys (media endpoints, correlation header values, transfer targets),
-- which PutCall joins to find the legs.
ALTER TABLE calls ADD COLUMN interaction TEXT NOT NULL DEFAULT '';
UPDATE calls SET interaction = id;
CREATE INDEX calls_interaction ON calls (interaction, start_ns);
CREATE TABLE call_links (
	call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	key     TEXT NOT NULL,
	PRIMARY KEY (call_id, key)
) WITHOUT ROWID;
CREATE INDEX call_links_key ON call_links (key);
