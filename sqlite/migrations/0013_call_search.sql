-- 0013: what searches by SIP header, user agent, Call-ID and address read:
-- each side's user agent and the count of what the header bounds cut; the
-- first INVITE's header fields (call_headers, names in lower case); every
-- address a call used, signalling and media (call_addrs), filled here from
-- the calls and streams indexed before.
ALTER TABLE calls ADD COLUMN caller_ua TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN callee_ua TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN headers_cut INTEGER NOT NULL DEFAULT 0;
CREATE INDEX calls_sip_call_id ON calls (sip_call_id);
CREATE TABLE call_headers (
	call_id TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	name    TEXT    NOT NULL,
	value   TEXT    NOT NULL,
	PRIMARY KEY (call_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX call_headers_name_value ON call_headers (name, value);
CREATE TABLE call_addrs (
	call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	addr    TEXT NOT NULL,
	PRIMARY KEY (call_id, addr)
) STRICT, WITHOUT ROWID;
CREATE INDEX call_addrs_addr ON call_addrs (addr, call_id);
-- "1.2.3.4:5060" and "[2001:db8::1]:5060" without the port (and brackets).
INSERT OR IGNORE INTO call_addrs (call_id, addr)
	SELECT id, caller_addr FROM calls WHERE caller_addr <> ''
	UNION SELECT id, callee_addr FROM calls WHERE callee_addr <> ''
	UNION SELECT call_id, trim(rtrim(rtrim(src, '0123456789'), ':'), '[]') FROM streams WHERE src <> ''
	UNION SELECT call_id, trim(rtrim(rtrim(dst, '0123456789'), ':'), '[]') FROM streams WHERE dst <> '';
