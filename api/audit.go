package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// auditWindow is how long a session (or token) that has been audited for
// an action on a call is not audited again for it: the seeks of one
// playback are one entry, a playback half an hour later another.
const auditWindow = 30 * time.Minute

// maxAuditSeen bounds the memory of the recent audits (about 200 bytes
// each). Past it the expired ones are dropped and then all: the price is
// more entries in the trail, never fewer.
const maxAuditSeen = 100_000

// eUnavailable is the kind of the error of an action refused because its
// audit entry could not be written.
const eUnavailable = "unavailable"

// errAudit is the answer to an action that could not be audited.
var errAudit = &retryError{spanrec.Errorf(eUnavailable, "the audit trail cannot be written; try again later"), 5}

// auditKey is what one audit entry of content covers.
type auditKey struct {
	who    string // "s" + session hash, or "t" + token ID
	call   spanrec.CallID
	action string
}

// auditSeen remembers the content audits of the last auditWindow.
type auditSeen struct {
	mu   sync.Mutex
	seen map[auditKey]time.Time
}

func (a *auditSeen) recent(k auditKey, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	at, ok := a.seen[k]
	return ok && now.Sub(at) < auditWindow
}

func (a *auditSeen) mark(k auditKey, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[auditKey]time.Time{}
	}
	if len(a.seen) >= maxAuditSeen {
		for k, at := range a.seen {
			if now.Sub(at) >= auditWindow {
				delete(a.seen, k)
			}
		}
		if len(a.seen) >= maxAuditSeen {
			clear(a.seen)
		}
	}
	a.seen[k] = now
}

// who names the session or token of p for the audit's memory.
func (p *principal) who() string {
	if p.session != nil {
		return "s" + p.session.IDHash
	}
	if p.token != nil {
		return "t" + strconv.FormatInt(p.token.ID, 10)
	}
	return "u" + p.user.Name
}

// auditContent writes the audit entry of action on call c by p, unless p's
// session or token has one for it within auditWindow. It returns errAudit
// if the entry could not be written: the content must not be served.
func (s *Server) auditContent(r *http.Request, p *principal, action string, id spanrec.CallID, detail string) error {
	k := auditKey{who: p.who(), call: id, action: action}
	if action == auth.ActionDenied {
		k.action += " " + detail
	}
	if s.seen.recent(k, s.cfg.Now()) {
		return nil
	}
	if err := s.auditStrict(r, p.user.Name, action, id, detail); err != nil {
		return err
	}
	s.seen.mark(k, s.cfg.Now())
	return nil
}

// auditStrict writes an entry to the audit trail, retrying for up to
// AuditTimeout (a busy database, another process's write). It returns
// errAudit if the entry could not be written; the failure is logged and
// counted, and the caller must not do what the entry records.
func (s *Server) auditStrict(r *http.Request, user, action string, id spanrec.CallID, detail string) error {
	e := auth.Event{At: s.cfg.Now(), User: user, Action: action, CallID: string(id), Remote: remoteIP(r), Detail: detail}
	// The request's context may end with the client; the entry must not.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.AuditTimeout)
	defer cancel()
	backoff := 20 * time.Millisecond
	for {
		err := s.cfg.Accounts.AddEvent(ctx, e)
		if err == nil {
			s.metrics.audited(action)
			return nil
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			s.metrics.auditFailed(action)
			s.log.Error("api: audit trail", "action", action, "user", user, "call_id", id, "err", err)
			return errAudit
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// audit writes an entry for an action that has happened (an account
// change, a deletion): it is retried like auditStrict, and a failure is
// logged and counted but does not fail the request.
func (s *Server) audit(r *http.Request, user, action string, id spanrec.CallID, detail string) {
	s.auditStrict(r, user, action, id, detail)
}

// auditedWriter holds back the header of a response that would carry a
// recording's bytes (200 or 206 to a GET, with a body) until its audit
// entry is written; if it cannot be, the client gets 503 and no byte.
type auditedWriter struct {
	http.ResponseWriter
	r       *http.Request
	s       *Server
	audit   func() error
	decided bool
	failed  bool
}

// errNotAudited is returned by Write after the audit failed.
var errNotAudited = errors.New("api: response withheld: the audit entry could not be written")

func (w *auditedWriter) WriteHeader(code int) {
	if !w.decided {
		w.decided = true
		h := w.Header()
		if (code == http.StatusOK || code == http.StatusPartialContent) && w.r.Method != http.MethodHead &&
			h.Get("Content-Length") != "0" {
			if err := w.audit(); err != nil {
				w.failed = true
				for _, k := range []string{"Content-Length", "Content-Range", "Content-Disposition", "ETag", "Last-Modified", "Accept-Ranges"} {
					h.Del(k)
				}
				w.s.writeError(w.ResponseWriter, w.r, err)
				return
			}
		}
	}
	if !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *auditedWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return 0, errNotAudited
	}
	return w.ResponseWriter.Write(b)
}

func (w *auditedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
