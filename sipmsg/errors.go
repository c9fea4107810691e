package sipmsg

import "errors"

// Errors returned by Parse and ParseSDP. Callers that count malformed input per reason compare with errors.Is.
var (
	// ErrNotSIP means the data does not start with a SIP request or status line.
	ErrNotSIP = errors.New("sipmsg: not a SIP start line")
	// ErrNoCallID means the message has no Call-ID header, so it cannot be tied to a dialog.
	ErrNoCallID = errors.New("sipmsg: no Call-ID")
	// ErrNotSDP means the body has no SDP line ("v=", "o=" or "m=").
	ErrNotSDP = errors.New("sipmsg: not an SDP body")
)
