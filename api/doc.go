// Package api serves the recorded calls over HTTP: a JSON API described by
// an OpenAPI 3 document (/api/openapi.json), the embedded web UI (ui/), a
// Server-Sent Events feed of live calls, /healthz and /metrics. It sits at
// the read end of the pipeline, over the call index and the data
// directory's files, and adds what only people need: accounts, roles and
// the audit trail.
//
// # Security
//
// Every /api/ route but login and the OpenAPI document needs a user: a
// session cookie from POST /api/login (HttpOnly, SameSite=Strict, Secure
// when Config.Secure) or an API token in "Authorization: Bearer". Roles are
// enforced here, not only hidden in the UI: an agent sees only the calls
// where one of the agent's extensions is the caller or callee number, a
// supervisor sees every call, an admin also deletes calls, manages users and
// tokens and reads the audit trail. A cookie-authenticated request that
// changes state must carry the session's CSRF token in X-CSRF-Token, and a
// cross-origin Origin header is refused. An agent asking for a call not
// theirs gets 404, as for a call that does not exist.
//
// # Hostile clients
//
// Login attempts are counted before their password is checked, per user
// name and address, per address and per name (limit.go), and at most
// Config.PasswordChecks Argon2id checks run at once, which bounds their
// memory. Every answer that carries bytes of a recording (audio, pcap,
// waveform peaks) is audited on what it serves, not on the Range header
// that asked, once per session, call and action in 30 minutes; refusals
// are audited too, and an answer whose entry cannot be written is not
// given (503) (audit.go). Range headers are parsed and put in canonical
// form before net/http serves them (ranges.go). Query strings, bodies, live
// streams, connections (LimitListener) and stalled writes are bounded, and
// client addresses come from X-Forwarded-For only through
// Config.TrustedProxies (client.go). /api/live streams check their session
// every Config.LiveRecheck. docs/SECURITY.md lists every bound and its
// metric; hostile_test.go is their suite.
//
// Every response carries a strict Content-Security-Policy (no inline
// scripts), nosniff, no-referrer and frame-denial headers, HSTS when served
// over TLS, and Cache-Control: no-store on API answers.
//
// # Live calls
//
// Events is a broker: a recorder in the same process publishes calls
// starting, answered and ending, and GET /api/live streams them to each
// subscriber (agents only get their own calls). When the server runs apart
// from the recorder (spanrec serve), WatchIndex polls the index and
// publishes an "end" event for each call newly indexed.
//
// # Concurrency
//
// A Server and an Events are safe for concurrent use. The package starts no
// goroutines of its own; net/http runs the handlers, and the caller runs WatchIndex.
package api
