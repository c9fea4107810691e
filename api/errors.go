package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/spanrec/spanrec"
)

// Error kinds of this package, beside spanrec's.
const (
	eUnauthenticated = "unauthenticated"
	eForbidden       = "forbidden"
	eTooMany         = "too_many_requests"
	eMethod          = "method_not_allowed"
	eTooLarge        = "too_large"
	eRange           = "range_not_satisfiable"
)

// statusOf maps an error kind to its HTTP status: the one place where
// that happens.
func statusOf(kind string) int {
	switch kind {
	case spanrec.ENOTFOUND:
		return http.StatusNotFound
	case spanrec.EINVALID:
		return http.StatusBadRequest
	case spanrec.ECONFLICT:
		return http.StatusConflict
	case eUnauthenticated:
		return http.StatusUnauthorized
	case eForbidden:
		return http.StatusForbidden
	case eTooMany:
		return http.StatusTooManyRequests
	case eMethod:
		return http.StatusMethodNotAllowed
	case eTooLarge:
		return http.StatusRequestEntityTooLarge
	case eRange:
		return http.StatusRequestedRangeNotSatisfiable
	case eUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON form of every error answer.
type errorBody struct {
	Error  string `json:"error"` // a message fit to show a user
	Kind   string `json:"kind"`
	Status int    `json:"status"`
}

// retryError is an error that tells the client when to try again.
type retryError struct {
	err   *spanrec.Error
	after int // seconds
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// rangeError is a 416: it carries the size for Content-Range (RFC 9110
// §15.5.17).
type rangeError struct {
	err  *spanrec.Error
	size int64
}

func (e *rangeError) Error() string { return e.err.Error() }
func (e *rangeError) Unwrap() error { return e.err }

// writeError answers with err as JSON. Errors without a kind are internal:
// they are logged and the client gets a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := spanrec.ErrorKind(err)
	status := statusOf(kind)
	msg := "internal error"
	if status == http.StatusInternalServerError {
		s.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		var e *spanrec.Error
		errors.As(err, &e)
		msg = e.Message
	}
	var re *retryError
	if errors.As(err, &re) {
		w.Header().Set("Retry-After", strconv.Itoa(re.after))
	}
	var rge *rangeError
	if errors.As(err, &rge) {
		w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(rge.size, 10))
	}
	writeJSON(w, status, errorBody{Error: msg, Kind: kind, Status: status})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal error","kind":"internal","status":500}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func invalid(format string, args ...any) error {
	return spanrec.Errorf(spanrec.EINVALID, format, args...)
}

func forbidden(format string, args ...any) error {
	return spanrec.Errorf(eForbidden, format, args...)
}
