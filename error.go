package spanrec

import (
	"errors"
	"fmt"
)

// Error kinds, for callers that map errors to exit codes or HTTP statuses.
const (
	ENOTFOUND = "not_found"
	EINVALID  = "invalid"
	ECONFLICT = "conflict"
	EINTERNAL = "internal"
)

// Error is an error with a kind and a message fit to show a user.
type Error struct {
	Kind    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error of the given kind.
func Errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of err, or EINTERNAL if it carries none.
func ErrorKind(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EINTERNAL
}
