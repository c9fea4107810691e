-- 0016: the SIP dialog's tags of each call, which with its Call-ID tell the
-- same call recorded by two sensors (spanrec.SameCall): a central index
-- names such rows as copies of one call (calls_sip_call_id finds them).
ALTER TABLE calls ADD COLUMN caller_tag TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN callee_tag TEXT NOT NULL DEFAULT '';
