package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// principal is who makes a request: a user, by session cookie or by token.
type principal struct {
	user    *auth.User
	session *auth.Session // nil when authenticated by token
	token   *auth.Token   // nil when authenticated by session
}

// handler is an API handler; an error it returns is written as JSON, so it
// must return one only before it writes the response.
type handler func(w http.ResponseWriter, r *http.Request, p *principal) error

// public wraps a handler that needs no user (login).
func (s *Server) public(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := crossOrigin(r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	}
}

// user wraps a handler that needs a user of any role.
func (s *Server) user(h handler) http.HandlerFunc { return s.withRole(auth.Agent, h) }

// supervisor wraps a handler that needs a supervisor or an admin.
func (s *Server) supervisor(h handler) http.HandlerFunc { return s.withRole(auth.Supervisor, h) }

// admin wraps a handler that needs an admin.
func (s *Server) admin(h handler) http.HandlerFunc { return s.withRole(auth.Admin, h) }

var roleRank = map[auth.Role]int{auth.Agent: 1, auth.Supervisor: 2, auth.Admin: 3}

func (s *Server) withRole(min auth.Role, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err == nil {
			err = s.checkUnsafe(r, p)
		}
		if err == nil && roleRank[p.user.Role] < roleRank[min] {
			err = forbidden("this needs the %s role", min)
		}
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	}
}

// safeMethod reports whether m does not change state (RFC 9110 §9.2.1).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

var originCheck = http.NewCrossOriginProtection()

// crossOrigin refuses a state-changing request that a browser says comes
// from another site (Sec-Fetch-Site, or an Origin that is not this host).
func crossOrigin(r *http.Request) error {
	if err := originCheck.Check(r); err != nil {
		return forbidden("cross-origin request refused")
	}
	return nil
}

// checkUnsafe applies the CSRF defences to a state-changing request: no
// cross-origin requests, and with a session cookie the session's token in
// X-CSRF-Token. Bearer tokens are not sent by browsers on their own, so
// requests that carry one need no CSRF token.
func (s *Server) checkUnsafe(r *http.Request, p *principal) error {
	if safeMethod(r.Method) {
		return nil
	}
	if err := crossOrigin(r); err != nil {
		return err
	}
	if p.session == nil {
		return nil
	}
	got := r.Header.Get("X-CSRF-Token")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); got == "" && mt == "application/x-www-form-urlencoded" {
		// A form the web UI submits for a download the browser streams
		// to disk (POST /api/calls/download.zip) carries it as a field.
		if err := parseForm(r); err != nil {
			return err
		}
		got = r.PostForm.Get("csrf_token")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.session.CSRF)) != 1 {
		return forbidden("missing or wrong X-CSRF-Token header")
	}
	return nil
}

func (s *Server) cookieName() string {
	// RFC 6265bis §4.1.3.2: a __Host- cookie is Secure, host-only, Path=/.
	if s.cfg.Secure {
		return "__Host-spanrec_session"
	}
	return "spanrec_session"
}

func unauthenticated(msg string) error { return spanrec.Errorf(eUnauthenticated, "%s", msg) }

// authenticate finds who makes r: a Bearer token, else a session cookie.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	ctx := r.Context()
	now := s.cfg.Now()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return nil, unauthenticated("the Authorization header must be \"Bearer TOKEN\"")
		}
		t, err := s.cfg.Accounts.TokenByHash(ctx, auth.HashSecret(strings.TrimSpace(tok)))
		if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
			return nil, unauthenticated("invalid or revoked API token")
		} else if err != nil {
			return nil, err
		}
		u, err := s.userNamed(ctx, t.User)
		if err != nil {
			return nil, err
		}
		if now.Sub(t.LastUsed) > time.Minute {
			if err := s.cfg.Accounts.TouchToken(ctx, t.ID, now); err != nil {
				s.log.Warn("api: token last use", "err", err)
			}
		}
		return &principal{user: u, token: t}, nil
	}
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		return nil, unauthenticated("log in first")
	}
	sess, err := s.cfg.Accounts.Session(ctx, auth.HashSecret(c.Value))
	if spanrec.ErrorKind(err) == spanrec.ENOTFOUND || err == nil && !now.Before(sess.Expires) {
		return nil, unauthenticated("the session has ended; log in again")
	} else if err != nil {
		return nil, err
	}
	u, err := s.userNamed(ctx, sess.User)
	if err != nil {
		return nil, err
	}
	return &principal{user: u, session: sess}, nil
}

// userNamed returns the user a session or token belongs to; a user deleted
// meanwhile is an authentication failure.
func (s *Server) userNamed(ctx context.Context, name string) (*auth.User, error) {
	u, err := s.cfg.Accounts.User(ctx, name)
	if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
		return nil, unauthenticated("the user no longer exists")
	}
	if err == nil && u.Disabled {
		return nil, unauthenticated("the user is disabled")
	}
	return u, err
}

// maxBody bounds the JSON request bodies the API reads.
const maxBody = 64 << 10

// readJSON decodes the JSON body of r into v, refusing other content types
// (which a cross-site HTML form could send without a CORS preflight).
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return invalid("send a JSON body with Content-Type: application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return spanrec.Errorf(eTooLarge, "request body larger than %d bytes", maxBody)
		}
		return invalid("bad JSON body: %v", err)
	}
	// One value and nothing after it but white space.
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return spanrec.Errorf(eTooLarge, "request body larger than %d bytes", maxBody)
		}
		return invalid("bad JSON body: data after the JSON value")
	}
	return nil
}

type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

type meResponse struct {
	User       string    `json:"user"`
	Role       auth.Role `json:"role"`
	Extensions []string  `json:"extensions"`
	CSRF       string    `json:"csrf"`
}

// maxNameLen bounds user names (and the failed names the audit keeps).
const maxNameLen = 64

// maxPassword bounds the passwords a login checks; no account has a longer
// one (the API's and the CLI's passwords are typed or generated).
const maxPassword = 1024

// login checks a user name and password. The attempt is counted against
// the limits before the password is checked (limiter.reserve), and the
// check itself waits for one of the gate's slots, so that neither parallel
// guesses nor a flood of names can run more Argon2id checks, or hold more
// of their memory, than the limits allow.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.User == "" || req.Password == "" {
		return invalid("user and password are required")
	}
	if len(req.Password) > maxPassword {
		return invalid("password longer than %d bytes", maxPassword)
	}
	if len(req.User) > maxNameLen {
		req.User = req.User[:maxNameLen]
	}
	ctx, now, ip := r.Context(), s.cfg.Now(), remoteIP(r)
	tk, wait, scope, ok := s.limiter.reserve(req.User, limitAddr(ip), now)
	if !ok {
		s.metrics.throttled(scope)
		secs := int(wait/time.Second) + 1
		return &retryError{spanrec.Errorf(eTooMany, "too many failed logins; try again in %d s", secs), secs}
	}
	u, ok, err := s.checkPassword(ctx, req.User, req.Password)
	if err != nil {
		s.limiter.release(tk)
		return err
	}
	if !ok {
		if err := s.auditStrict(r, req.User, auth.ActionLoginFailed, "", ""); err != nil {
			return err
		}
		// One entry when a block begins; the attempts it refuses are
		// only counted (spanrec_login_throttled_total), so that a flood
		// cannot flood the trail.
		for _, scope := range tk.fills {
			s.log.Warn("api: logins blocked", "scope", scope, "user", req.User, "remote", ip)
			s.audit(r, req.User, auth.ActionLoginBlocked, "", "blocked for "+s.cfg.LoginWindow.String()+": "+blockDetail(scope, req.User, ip))
		}
		return unauthenticated("wrong user name or password")
	}
	s.limiter.succeed(tk, now)
	if old, err := r.Cookie(s.cookieName()); err == nil {
		s.cfg.Accounts.DeleteSession(ctx, auth.HashSecret(old.Value))
	}
	if err := s.cfg.Accounts.DeleteExpiredSessions(ctx, now); err != nil {
		s.log.Warn("api: expired sessions", "err", err)
	}
	id := auth.NewSecret()
	sess := auth.Session{
		IDHash: auth.HashSecret(id), User: u.Name, CSRF: auth.NewSecret(),
		Created: now, Expires: now.Add(s.cfg.SessionTTL), Remote: ip,
	}
	if err := s.cfg.Accounts.PutSession(ctx, sess); err != nil {
		return err
	}
	// No login without its audit entry.
	if err := s.auditStrict(r, u.Name, auth.ActionLogin, "", ""); err != nil {
		if derr := s.cfg.Accounts.DeleteSession(context.WithoutCancel(ctx), sess.IDHash); derr != nil {
			s.log.Error("api: removing an unaudited session", "user", u.Name, "err", derr)
		}
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: id, Path: "/",
		MaxAge:   int(s.cfg.SessionTTL / time.Second),
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode,
	})
	writeJSON(w, http.StatusOK, meResponse{User: u.Name, Role: u.Role, Extensions: nonNil(u.Extensions), CSRF: sess.CSRF})
	return nil
}

// blockDetail says what a login block covers.
func blockDetail(scope, name, ip string) string {
	switch scope {
	case scopeAddress:
		return "every name from " + limitAddr(ip)
	case scopeName:
		return "user name " + name + " from addresses it has not logged in from"
	}
	return "user name " + name + " from " + limitAddr(ip)
}

// errOverloaded answers a login that found no free password-check slot.
var errOverloaded = &retryError{spanrec.Errorf(eUnavailable, "too many logins at once; try again in a second"), 1}

// checkPassword looks the user up and checks the password in one of the
// gate's slots. An unknown name, or one without a password, is checked
// against a dummy hash, so that response times do not tell which names
// exist. It returns errOverloaded if no slot came free in time.
func (s *Server) checkPassword(ctx context.Context, name, password string) (*auth.User, bool, error) {
	if !s.gate.acquire(ctx) {
		s.log.Warn("api: login shed: all password-check slots busy", "slots", cap(s.gate.slots))
		return nil, false, errOverloaded
	}
	defer s.gate.done()
	u, err := s.cfg.Accounts.User(ctx, name)
	if err != nil && spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		return nil, false, err
	}
	if u == nil || u.PasswordHash == "" || u.Disabled {
		// A disabled user is refused like a wrong password, after the
		// same work, so that the answer does not tell which names exist.
		auth.VerifyPassword(s.dummy, password)
		return nil, false, nil
	}
	ok, err := auth.VerifyPassword(u.PasswordHash, password)
	if err != nil {
		s.log.Error("api: stored password hash", "user", u.Name, "err", err)
	}
	return u, ok, nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.session != nil {
		if err := s.cfg.Accounts.DeleteSession(r.Context(), p.session.IDHash); err != nil {
			return err
		}
		s.audit(r, p.user.Name, auth.ActionLogout, "", "")
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode,
	})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p *principal) error {
	res := meResponse{User: p.user.Name, Role: p.user.Role, Extensions: nonNil(p.user.Extensions)}
	if p.session != nil {
		res.CSRF = p.session.CSRF
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
