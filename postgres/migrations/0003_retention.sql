-- 0003 (sqlite 0010): legal holds (a held call is never deleted) and
-- deletion intents. A deletion is written to deletions before the call's
-- files are removed; the call's row, its intent and the audit entry go in
-- one transaction once the files are gone, and an intent left by a crash
-- is carried out at the next start. files is a JSON array of paths
-- relative to the data directory.
CREATE TABLE legal_holds (
	call_id text   COLLATE "C" NOT NULL PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
	actor   text   COLLATE "C" NOT NULL,
	at_ns   bigint NOT NULL,
	reason  text   COLLATE "C" NOT NULL
);

CREATE TABLE deletions (
	call_id text   COLLATE "C" NOT NULL PRIMARY KEY,
	at_ns   bigint NOT NULL,
	actor   text   COLLATE "C" NOT NULL,
	remote  text   COLLATE "C" NOT NULL,
	reason  text   COLLATE "C" NOT NULL,
	files   text   COLLATE "C" NOT NULL
);
