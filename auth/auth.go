package auth

import (
	"fmt"
	"slices"
	"time"
)

// Role is what a user may do.
type Role string

// The roles, from most to least powerful.
const (
	// Admin manages users and tokens, deletes calls and reads the audit
	// trail, besides everything a Supervisor does.
	Admin Role = "admin"
	// Supervisor sees and plays every call.
	Supervisor Role = "supervisor"
	// Agent sees and plays only the calls where one of the user's own
	// extensions is the caller or the callee.
	Agent Role = "agent"
)

// ParseRole returns the Role named s, or an error if there is none.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Admin, Supervisor, Agent:
		return r, nil
	}
	return "", fmt.Errorf("auth: unknown role %q (want admin, supervisor or agent)", s)
}

// User is an account of the web UI and API.
type User struct {
	Name string
	Role Role
	// Extensions are the user's own phone numbers; an Agent sees the
	// calls where one of them is the caller or callee number, exactly.
	Extensions []string
	// PasswordHash is the PHC string of HashPassword; "" means the user
	// cannot log in with a password (API tokens only).
	PasswordHash string
	Created      time.Time
	// Disabled users cannot log in, and their sessions and API tokens are
	// refused, until an admin enables them again.
	Disabled bool
}

// Session is a browser login. Stores keep it under the SHA-256 of its
// identifier (HashSecret), never the identifier itself.
type Session struct {
	IDHash  string // HashSecret of the session cookie's value
	User    string
	CSRF    string // the token state-changing requests must echo
	Created time.Time
	Expires time.Time
	Remote  string // client address at login
}

// Token is an API token for machines. Stores keep the SHA-256 of the token
// (HashSecret), never the token itself, which NewToken shows once.
type Token struct {
	ID       int64
	User     string
	Name     string // a label, e.g. "crm-export"
	Hash     string
	Created  time.Time
	LastUsed time.Time // zero if never used
}

// SavedSearch is a search of the call list a user saved under a name:
// the query string of GET /api/calls.
type SavedSearch struct {
	ID      int64
	User    string
	Name    string
	Query   string
	Created time.Time
}

// Audit actions.
const (
	ActionPlay         = "play"          // bytes of the audio served for playback (once per session and call in 30 min)
	ActionDownload     = "download"      // audio downloaded as a file
	ActionDownloadPCAP = "download_pcap" // per-call capture downloaded
	ActionWaveform     = "waveform"      // peaks of the audio fetched (derived from the recording)
	ActionListen       = "listen"        // a call in progress listened to (every listen)
	ActionSpectrogram  = "spectrogram"   // spectrogram of the audio fetched (derived from the recording)
	ActionDenied       = "access_denied" // a call's content asked for and refused (403/404)
	ActionDelete       = "delete"        // call and its files deleted
	ActionLogin        = "login"
	ActionLoginFailed  = "login_failed"
	ActionLoginBlocked = "login_blocked" // failed logins reached a limit: further attempts are refused for a while
	ActionLogout       = "logout"
	ActionUserAdd      = "user_add"
	ActionUserDelete   = "user_delete"
	ActionTokenCreate  = "token_create"
	ActionTokenRevoke  = "token_revoke"
	ActionUserPassword = "user_password" // an admin set a user's password (never the password)
	ActionUserDisable  = "user_disable"
	ActionUserEnable   = "user_enable"
	ActionAuditExport  = "audit_export" // the audit trail downloaded as CSV (the filter in the detail)
	ActionKeysAdd      = "keys_add"     // key lines given to the running recorder (POST /api/keys); never the keys
	ActionTagAdd       = "tag_add"      // a tag put on a call (Detail: the tag)
	ActionTagRemove    = "tag_remove"   // a tag taken off a call (Detail: the tag)
	ActionNoteAdd      = "note_add"     // a note written on a call (Detail: its ID and text)
	ActionNoteDelete   = "note_delete"  // a note deleted (Detail: its ID, author and text)
	ActionExport       = "export"       // the call list exported as CSV (GET /api/calls.csv); detail: the query
	// A call put under legal hold (no deletion until released), and
	// released.
	ActionLegalHold        = "legal_hold"
	ActionLegalHoldRelease = "legal_hold_release"
	// A call deleted on the sensor that recorded it, as the sensor told
	// the central index when it shipped (package ship): the central copy
	// stays, but for files that were only on the sensor (Detail: the
	// sensor, who deleted it and why, what the central row lost).
	ActionSensorDelete = "sensor_delete"
)

// Event is one entry of the audit trail: who did what, when, from where.
type Event struct {
	ID     int64
	At     time.Time
	User   string // the acting user; for login_failed, the name tried
	Action string // one of the Action constants
	CallID string // the call concerned, if any
	Remote string // client address (IP)
	Detail string // free text: a file name, a user added, a token label
}

// EventFilter selects audit events. Zero fields do not filter.
type EventFilter struct {
	User   string
	Action string
	// From and To bound the events' times: From ≤ At < To.
	From, To time.Time
	// BeforeID selects the events with an ID below it (0: any), so that a
	// long trail can be read in pages that rows added meanwhile do not move.
	BeforeID int64
	Limit    int // 0: no limit
	Offset   int
}

// HasExtension reports whether number is one of u's extensions.
func (u *User) HasExtension(number string) bool {
	return number != "" && slices.Contains(u.Extensions, number)
}
