-- 0021 (sqlite 0028): the user agents of each side in B-tree indexes, so
-- that a search by user agent can read the distinct values first (a skip
-- from one value to the next: one probe each) and test each once with the
-- same ILIKE, then find the calls of those like it by equality (uaMatches
-- in search.go). The trigram indexes (0016) cannot narrow a text whose
-- trigrams every user agent has ("PBX 18.7.0" against "Asterisk PBX 18.x.0"):
-- the capped total of such a search tested both user agents of some
-- 200,000 calls, 350 ms on 10 M calls (docs/PERFORMANCE.md, "Fourteenth
-- session"). Without the start time in the key, equal values share one
-- index entry (B-tree deduplication, a row pointer each): 69 MB a side on
-- 10 M calls of 100 and 20 user agents, against 312 MB for a side's
-- trigram index. A B-tree entry holds at most about 2.7 kB: PutCall keeps
-- each user agent within spanrec.MaxHeaderValue (256 bytes, what capture
-- keeps).
CREATE INDEX calls_caller_ua ON calls (caller_ua);
CREATE INDEX calls_callee_ua ON calls (callee_ua);
