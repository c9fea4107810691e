package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spanrec/spanrec/auth"
)

type eventJSON struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	User   string    `json:"user"`
	Action string    `json:"action"`
	CallID string    `json:"call_id,omitempty"`
	Remote string    `json:"remote"`
	Detail string    `json:"detail,omitempty"`
}

type auditResponse struct {
	Entries []eventJSON `json:"entries"`
	Total   int         `json:"total"`
	Limit   int         `json:"limit"`
	Offset  int         `json:"offset"`
}

// parseEventFilter reads the filters of GET /api/audit and /api/audit.csv;
// paged says whether limit and offset are allowed.
func parseEventFilter(q url.Values, paged bool) (auth.EventFilter, error) {
	f := auth.EventFilter{}
	if paged {
		f.Limit = defaultLimit
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return f, invalid("parameter %s given %d times", k, len(vs))
		}
		var err error
		switch v := vs[0]; {
		case k == "limit" && paged:
			f.Limit, err = parseInt(k, v, 1, maxLimit)
		case k == "offset" && paged:
			f.Offset, err = parseInt(k, v, 0, 1<<31-1)
		case k == "user":
			if len(v) > maxNameLen {
				err = invalid("user longer than %d characters", maxNameLen)
			}
			f.User = v
		case k == "action":
			if len(v) > 32 {
				err = invalid("action longer than 32 characters")
			}
			f.Action = v
		case k == "from":
			f.From, err = parseTime(k, v)
		case k == "to":
			f.To, err = parseTime(k, v)
		default:
			err = invalid("unknown parameter %q", k)
		}
		if err != nil {
			return f, err
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, invalid("from must be before to")
	}
	return f, nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := parseEventFilter(r.URL.Query(), true)
	if err != nil {
		return err
	}
	es, total, err := s.cfg.Accounts.Events(r.Context(), f)
	if err != nil {
		return err
	}
	res := auditResponse{Entries: []eventJSON{}, Total: total, Limit: f.Limit, Offset: f.Offset}
	for _, e := range es {
		res.Entries = append(res.Entries, eventJSON{ID: e.ID, At: e.At.UTC(), User: e.User, Action: e.Action,
			CallID: e.CallID, Remote: e.Remote, Detail: e.Detail})
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

type userJSON struct {
	Name       string    `json:"name"`
	Role       auth.Role `json:"role"`
	Extensions []string  `json:"extensions"`
	Created    time.Time `json:"created"`
	Disabled   bool      `json:"disabled"`
	// Password is set only in the answer to a POST without a password:
	// the generated one, shown this once.
	Password string `json:"password,omitempty"`
}

func userOf(u *auth.User) userJSON {
	return userJSON{Name: u.Name, Role: u.Role, Extensions: nonNil(u.Extensions), Created: u.Created.UTC(), Disabled: u.Disabled}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *principal) error {
	us, err := s.cfg.Accounts.Users(r.Context())
	if err != nil {
		return err
	}
	res := []userJSON{}
	for i := range us {
		res = append(res, userOf(&us[i]))
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

type addUserRequest struct {
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Extensions []string `json:"extensions"`
	Password   string   `json:"password"` // "": generate one
}

// maxExtensions bounds the extensions of one user.
const maxExtensions = 256

// MinPassword is the shortest password accepted for a user.
const MinPassword = 10

// ValidUserName reports whether name can name a user: 1 to 64 letters,
// digits and . _ @ -, starting with a letter or digit.
func ValidUserName(name string) bool {
	if name == "" || len(name) > maxNameLen {
		return false
	}
	for i, c := range name {
		ok := unicode.IsLetter(c) || unicode.IsDigit(c) || i > 0 && strings.ContainsRune("._@-", c)
		if !ok {
			return false
		}
	}
	return true
}

// ValidExtension reports whether ext can be an extension: 1 to 32
// characters of a dial string (digits, + * #) or letters.
func ValidExtension(ext string) bool {
	if ext == "" || len(ext) > 32 {
		return false
	}
	for _, c := range ext {
		if !(unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune("+*#._-", c)) {
			return false
		}
	}
	return true
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req addUserRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if !ValidUserName(req.Name) {
		return invalid("user name %q: use 1 to 64 letters, digits and . _ @ -", req.Name)
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		return invalid("role %q: want admin, supervisor or agent", req.Role)
	}
	if len(req.Extensions) > maxExtensions {
		return invalid("more than %d extensions", maxExtensions)
	}
	for _, e := range req.Extensions {
		if !ValidExtension(e) {
			return invalid("extension %q: use up to 32 digits, letters and + * # . _ -", e)
		}
	}
	// An agent sees only the calls of its extensions: one without any
	// would be an account that can see nothing.
	if role == auth.Agent && len(req.Extensions) == 0 {
		return invalid("an agent needs at least one extension")
	}
	hash, generated, err := s.passwordHash(&req.Password)
	if err != nil {
		return err
	}
	u := auth.User{Name: req.Name, Role: role, Extensions: nonNil(req.Extensions), PasswordHash: hash, Created: s.cfg.Now().UTC()}
	if err := s.cfg.Accounts.AddUser(r.Context(), u); err != nil {
		return err
	}
	// No account without its audit entry: undone if it cannot be written.
	if err := s.auditStrict(r, p.user.Name, auth.ActionUserAdd, "", u.Name+" ("+string(u.Role)+")"); err != nil {
		if derr := s.cfg.Accounts.DeleteUser(context.WithoutCancel(r.Context()), u.Name); derr != nil {
			s.log.Error("api: removing an unaudited user", "user", u.Name, "err", derr)
		}
		return err
	}
	res := userOf(&u)
	if generated {
		res.Password = req.Password
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// passwordHash checks *password (generating one if it is empty) and
// returns its hash, and whether it was generated.
func (s *Server) passwordHash(password *string) (string, bool, error) {
	generated := *password == ""
	if generated {
		*password = auth.GeneratePassword()
	} else if len(*password) < MinPassword || len(*password) > maxPassword {
		return "", false, invalid("the password must have %d to %d characters", MinPassword, maxPassword)
	}
	hash, err := auth.HashPassword(*password, s.cfg.PasswordParams)
	return hash, generated, err
}

type setPasswordRequest struct {
	Password string `json:"password"` // "": generate one
}

type setPasswordResponse struct {
	// Password is the generated password, shown this once; "" when the
	// request gave one.
	Password string `json:"password,omitempty"`
}

// setPassword sets a user's password (ending the user's sessions).
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, p *principal) error {
	name := r.PathValue("name")
	var req setPasswordRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	hash, generated, err := s.passwordHash(&req.Password)
	if err != nil {
		return err
	}
	if err := s.cfg.Accounts.SetPassword(r.Context(), name, hash); err != nil {
		return err
	}
	s.audit(r, p.user.Name, auth.ActionUserPassword, "", name)
	res := setPasswordResponse{}
	if generated {
		res.Password = req.Password
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

type patchUserRequest struct {
	Disabled *bool `json:"disabled"`
}

// patchUser disables or enables a user.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, p *principal) error {
	name := r.PathValue("name")
	var req patchUserRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Disabled == nil {
		return invalid("nothing to change: send {\"disabled\": true} or false")
	}
	if *req.Disabled && name == p.user.Name {
		return invalid("you cannot disable yourself")
	}
	action := auth.ActionUserEnable
	if *req.Disabled {
		action = auth.ActionUserDisable
	}
	if err := s.cfg.Accounts.SetDisabled(r.Context(), name, *req.Disabled); err != nil {
		return err
	}
	s.audit(r, p.user.Name, action, "", name)
	u, err := s.cfg.Accounts.User(r.Context(), name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userOf(u))
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, p *principal) error {
	name := r.PathValue("name")
	if err := s.cfg.Accounts.DeleteUser(r.Context(), name); err != nil {
		return err
	}
	s.audit(r, p.user.Name, auth.ActionUserDelete, "", name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type tokenJSON struct {
	ID       int64      `json:"id"`
	User     string     `json:"user"`
	Name     string     `json:"name"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used"`
	// Token is set only in the answer to POST /api/tokens: shown once.
	Token string `json:"token,omitempty"`
}

func tokenOf(t *auth.Token) tokenJSON {
	j := tokenJSON{ID: t.ID, User: t.User, Name: t.Name, Created: t.Created.UTC()}
	if !t.LastUsed.IsZero() {
		lu := t.LastUsed.UTC()
		j.LastUsed = &lu
	}
	return j
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p *principal) error {
	user := r.URL.Query().Get("user")
	if len(user) > maxNameLen {
		return invalid("user longer than %d characters", maxNameLen)
	}
	ts, err := s.cfg.Accounts.Tokens(r.Context(), user)
	if err != nil {
		return err
	}
	res := []tokenJSON{}
	for i := range ts {
		res = append(res, tokenOf(&ts[i]))
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

type createTokenRequest struct {
	User string `json:"user"`
	Name string `json:"name"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req createTokenRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.User == "" || len(req.User) > maxNameLen {
		return invalid("user is required, up to %d characters", maxNameLen)
	}
	if len(req.Name) > 100 {
		return invalid("token name longer than 100 characters")
	}
	tok, hash := auth.NewToken()
	t := auth.Token{User: req.User, Name: req.Name, Hash: hash, Created: s.cfg.Now().UTC()}
	id, err := s.cfg.Accounts.AddToken(r.Context(), t)
	if err != nil {
		return err
	}
	t.ID = id
	// No token without its audit entry: revoked if it cannot be written.
	if err := s.auditStrict(r, p.user.Name, auth.ActionTokenCreate, "", "token "+strconv.FormatInt(id, 10)+" for "+t.User); err != nil {
		if derr := s.cfg.Accounts.DeleteToken(context.WithoutCancel(r.Context()), id); derr != nil {
			s.log.Error("api: revoking an unaudited token", "token", id, "err", derr)
		}
		return err
	}
	res := tokenOf(&t)
	res.Token = tok
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return invalid("%q is not a token ID", r.PathValue("id"))
	}
	if err := s.cfg.Accounts.DeleteToken(r.Context(), id); err != nil {
		return err
	}
	s.audit(r, p.user.Name, auth.ActionTokenRevoke, "", "token "+strconv.FormatInt(id, 10))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
