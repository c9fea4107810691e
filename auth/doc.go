// Package auth owns the accounts of the spanrec web UI and API: users and
// their roles, password hashing, sessions, API tokens and the audit trail's
// entries. It sits beside the pipeline, not in it: the sqlite package stores
// these values and the api package enforces them on every request.
//
// # Passwords
//
// HashPassword derives an Argon2id key (RFC 9106) from the password and a
// random per-user salt and returns it as a PHC string, which carries the
// parameters, so that they can be raised later without invalidating stored
// hashes:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64>$<key, base64>
//
// # Secrets
//
// Session identifiers, CSRF tokens, API tokens and generated passwords come
// from crypto/rand. Stores keep only the SHA-256 of a session identifier or
// an API token (HashSecret), so a copy of the database does not let anyone
// in.
package auth
