-- 0014: what the central index received once and must not apply again,
-- by kind and a stable key: the deletions sensors told it of
-- ('sensor-deletion', applied once however often told), and the
-- accounts and annotations `spanrec migrate` moved ('migrate-tag',
-- 'migrate-note', …), so that a second run does not put back what was
-- removed here since. No sqlite counterpart: only a central index
-- receives.
CREATE TABLE received (
	kind  text   COLLATE "C" NOT NULL,
	key   text   COLLATE "C" NOT NULL,
	at_ns bigint NOT NULL,
	PRIMARY KEY (kind, key)
);
