-- 0006: what searches by SIP header, user agent, Call-ID and address read
-- (sqlite 0013): each side's user agent and the count of what the header
-- bounds cut; the first INVITE's header fields (names in lower case); every
-- address a call used, signalling and media, filled here from the calls
-- and streams indexed before.
ALTER TABLE calls ADD COLUMN caller_ua text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN callee_ua text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN headers_cut integer NOT NULL DEFAULT 0;
CREATE INDEX calls_sip_call_id ON calls (sip_call_id);
CREATE TABLE call_headers (
	call_id text    COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	seq     integer NOT NULL,
	name    text    COLLATE "C" NOT NULL,
	value   text    COLLATE "C" NOT NULL,
	PRIMARY KEY (call_id, seq)
);
CREATE INDEX call_headers_name_value ON call_headers (name, value);
CREATE TABLE call_addrs (
	call_id text COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	addr    text COLLATE "C" NOT NULL,
	PRIMARY KEY (call_id, addr)
);
CREATE INDEX call_addrs_addr ON call_addrs (addr, call_id);
-- "1.2.3.4:5060" and "[2001:db8::1]:5060" without the port (and brackets).
INSERT INTO call_addrs (call_id, addr)
	SELECT id, caller_addr FROM calls WHERE caller_addr <> ''
	UNION SELECT id, callee_addr FROM calls WHERE callee_addr <> ''
	UNION SELECT call_id, btrim(rtrim(rtrim(src, '0123456789'), ':'), '[]') FROM streams WHERE src <> ''
	UNION SELECT call_id, btrim(rtrim(rtrim(dst, '0123456789'), ':'), '[]') FROM streams WHERE dst <> ''
	ON CONFLICT DO NOTHING;
