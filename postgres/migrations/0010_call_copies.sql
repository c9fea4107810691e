-- 0010 (sqlite 0016): the SIP dialog's tags of each call, which with its
-- Call-ID tell the same call recorded by two sensors (spanrec.SameCall): the
-- central index names such rows as copies of one call (calls_sip_call_id
-- finds them).
ALTER TABLE calls ADD COLUMN caller_tag text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN callee_tag text COLLATE "C" NOT NULL DEFAULT '';
