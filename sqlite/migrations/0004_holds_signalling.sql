-- 0004: hold spans (JSON array of {side, start_ns, end_ns}) and how the call
-- was found: 'sip', or 'none' for RTP without readable signalling.
ALTER TABLE calls ADD COLUMN holds TEXT NOT NULL DEFAULT '[]';
ALTER TABLE calls ADD COLUMN signalling TEXT NOT NULL DEFAULT 'sip';
CREATE INDEX calls_signalling_start ON calls (signalling, start_ns);
