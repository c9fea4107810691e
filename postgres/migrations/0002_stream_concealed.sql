-- 0002 (sqlite 0009): how much of each stream's audio its decoder made up
-- for lost packets (Stream.ConcealedMS); 0 for streams indexed before.
ALTER TABLE streams ADD COLUMN concealed_ms bigint NOT NULL DEFAULT 0;
