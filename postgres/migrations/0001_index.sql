-- 0001: the call index and the accounts of the web UI, as sqlite's
-- migrations 0001-0008 build them. Times are Unix nanoseconds (UTC); NULL
-- is the zero time. Every text column compares byte by byte (COLLATE "C"),
-- as SQLite's BINARY does, whatever the database's locale. seq is a call's
-- position in indexing order (CallsAfter); replacing a call keeps it.
CREATE TABLE calls (
	seq            bigint  GENERATED ALWAYS AS IDENTITY UNIQUE,
	id             text    COLLATE "C" NOT NULL PRIMARY KEY,
	sip_call_id    text    COLLATE "C" NOT NULL,
	caller_number  text    COLLATE "C" NOT NULL,
	caller_name    text    COLLATE "C" NOT NULL,
	caller_addr    text    COLLATE "C" NOT NULL,
	callee_number  text    COLLATE "C" NOT NULL,
	callee_name    text    COLLATE "C" NOT NULL,
	callee_addr    text    COLLATE "C" NOT NULL,
	direction      text    COLLATE "C" NOT NULL,
	status         text    COLLATE "C" NOT NULL,
	status_code    integer NOT NULL,
	start_ns       bigint,
	answer_ns      bigint,
	end_ns         bigint,
	duration_ns    bigint  NOT NULL,
	codecs         jsonb,  -- array of strings; NULL for none
	audio_start_ns bigint,
	audio_ms       bigint  NOT NULL,
	audio          text    COLLATE "C" NOT NULL,
	audio_sha256   text    COLLATE "C" NOT NULL,
	pcap           text    COLLATE "C" NOT NULL,
	pcap_sha256    text    COLLATE "C" NOT NULL,
	capture_loss   boolean NOT NULL,
	notes          text    COLLATE "C" NOT NULL, -- JSON array, or null
	holds          text    COLLATE "C" NOT NULL DEFAULT '[]', -- JSON array of {side, start_ns, end_ns}
	signalling     text    COLLATE "C" NOT NULL DEFAULT 'sip',
	interaction    text    COLLATE "C" NOT NULL DEFAULT '',
	-- How the call ended and was set up (sqlite 0006): the final answer's
	-- reason phrase, who hung up ('caller', 'callee', 'system', '' not
	-- known), post-dial delay and ring time (NULL: not measured), and the
	-- worst MOS of its streams (NULL: none has one).
	status_reason  text    COLLATE "C" NOT NULL DEFAULT '',
	hangup_by      text    COLLATE "C" NOT NULL DEFAULT '',
	pdd_ns         bigint,
	ring_ns        bigint,
	mos            double precision
);

-- The default order (newest first, ties by ID) and the oldest-first one.
CREATE INDEX calls_start_desc ON calls (start_ns DESC NULLS LAST, id);
CREATE INDEX calls_start ON calls (start_ns NULLS LAST, id);
CREATE INDEX calls_direction_start ON calls (direction, start_ns);
CREATE INDEX calls_status_start ON calls (status, start_ns);
CREATE INDEX calls_caller_number ON calls (caller_number);
CREATE INDEX calls_callee_number ON calls (callee_number);
CREATE INDEX calls_duration ON calls (duration_ns, id);
CREATE INDEX calls_signalling_start ON calls (signalling, start_ns);
CREATE INDEX calls_interaction ON calls (interaction, start_ns);
CREATE INDEX calls_hangup_by_start ON calls (hangup_by, start_ns);
CREATE INDEX calls_pdd ON calls (pdd_ns, id);
CREATE INDEX calls_ring ON calls (ring_ns, id);
CREATE INDEX calls_mos ON calls (mos, id);

CREATE TABLE streams (
	call_id       text    COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	seq           integer NOT NULL,
	ssrc          bigint  NOT NULL,
	src           text    COLLATE "C" NOT NULL,
	dst           text    COLLATE "C" NOT NULL,
	side          text    COLLATE "C" NOT NULL,
	payload_type  integer NOT NULL,
	codec         text    COLLATE "C" NOT NULL,
	clock_rate    integer NOT NULL,
	decoded       boolean NOT NULL,
	first_ns      bigint,
	last_ns       bigint,
	packets       bigint  NOT NULL,
	lost          bigint  NOT NULL,
	duplicates    bigint  NOT NULL,
	out_of_order  bigint  NOT NULL,
	jitter_ms     double precision, -- NULL is NaN
	max_jitter_ms double precision,
	max_delta_ms  double precision,
	mos           double precision,
	encryption    text    COLLATE "C" NOT NULL DEFAULT '',
	auth_failures bigint  NOT NULL DEFAULT 0,
	mean_jitter_ms double precision DEFAULT 0,
	PRIMARY KEY (call_id, seq)
);

CREATE TABLE dtmf (
	call_id     text    COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	seq         integer NOT NULL,
	digit       text    COLLATE "C" NOT NULL,
	at_ns       bigint,
	duration_ms bigint  NOT NULL,
	side        text    COLLATE "C" NOT NULL,
	source      text    COLLATE "C" NOT NULL,
	PRIMARY KEY (call_id, seq)
);

CREATE TABLE call_links (
	call_id text COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	key     text COLLATE "C" NOT NULL,
	PRIMARY KEY (call_id, key)
);
CREATE INDEX call_links_key ON call_links (key);

-- What people add to a call (sqlite 0008): tags and notes, each with who
-- and when. PutCall's upsert keeps them; deleting the call deletes them.
CREATE TABLE call_tags (
	call_id text   COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	tag     text   COLLATE "C" NOT NULL,
	author  text   COLLATE "C" NOT NULL,
	at_ns   bigint,
	PRIMARY KEY (call_id, tag)
);
CREATE INDEX call_tags_tag ON call_tags (tag, call_id);
CREATE TABLE call_notes (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	call_id text   COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	author  text   COLLATE "C" NOT NULL,
	at_ns   bigint,
	text    text   COLLATE "C" NOT NULL
);
CREATE INDEX call_notes_call ON call_notes (call_id, id);

CREATE TABLE users (
	name          text   COLLATE "C" NOT NULL PRIMARY KEY,
	role          text   COLLATE "C" NOT NULL,
	extensions    text   COLLATE "C" NOT NULL, -- JSON array
	password_hash text   COLLATE "C" NOT NULL, -- argon2id PHC string; '' = no password login
	created_ns    bigint NOT NULL,
	-- A disabled user cannot log in, and its sessions and API tokens are
	-- refused, until an admin enables it again (sqlite 0007).
	disabled      boolean NOT NULL DEFAULT false
);

CREATE TABLE sessions (
	id_hash    text   COLLATE "C" NOT NULL PRIMARY KEY,
	user_name  text   COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	csrf       text   COLLATE "C" NOT NULL,
	created_ns bigint NOT NULL,
	expires_ns bigint NOT NULL,
	remote     text   COLLATE "C" NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expires ON sessions (expires_ns);

CREATE TABLE tokens (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_name    text   COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	name         text   COLLATE "C" NOT NULL,
	hash         text   COLLATE "C" NOT NULL UNIQUE,
	created_ns   bigint NOT NULL,
	last_used_ns bigint
);
CREATE INDEX tokens_user ON tokens (user_name);

-- The audit trail outlives users: user_name is a name, not a reference.
CREATE TABLE audit (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at_ns     bigint NOT NULL,
	user_name text   COLLATE "C" NOT NULL,
	action    text   COLLATE "C" NOT NULL,
	call_id   text   COLLATE "C" NOT NULL,
	remote    text   COLLATE "C" NOT NULL,
	detail    text   COLLATE "C" NOT NULL
);
CREATE INDEX audit_at ON audit (at_ns);
CREATE INDEX audit_user ON audit (user_name, id);
CREATE INDEX audit_action ON audit (action, id);
