-- 0003: how each stream's media was protected ('' plain, 'srtp', 'zrtp',
-- 'dtls-srtp', 'unknown') and how many of its SRTP packets no key
-- authenticated.
ALTER TABLE streams ADD COLUMN encryption TEXT NOT NULL DEFAULT '';
ALTER TABLE streams ADD COLUMN auth_failures INTEGER NOT NULL DEFAULT 0;
