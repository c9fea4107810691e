-- 0007: a disabled user cannot log in, and its sessions and API tokens are
-- refused, until an admin enables it again (nothing of it is deleted).
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
