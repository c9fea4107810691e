-- 0022: where a sensor's Shipper last sent each call's files (package
-- ship): 'store' (the central store holds them: the central row names
-- objects), 'row' (no store: only the row was shipped, and it names this
-- sensor's own files), NULL (never shipped, or shipped before this
-- column). The deletion of a call tells the central index (outbox_
-- deletions, 0021) to clear the files of its row only for 'row': a sensor
-- that shipped with --store and ships without it later does not take the
-- references to the central copies away. Adding a nullable column without
-- a CHECK rewrites and reads no row (a CHECK would be tested against every
-- existing row): instant on an index of millions of calls; the values are
-- checked by sqlite.DB.MarkShippedTo, their only writer.
ALTER TABLE calls ADD COLUMN shipped_files TEXT;
ALTER TABLE outbox_deletions ADD COLUMN shipped_files TEXT;
