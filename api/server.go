package api

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/retention"
)

// Index is what the API needs of the call index; sqlite.DB has it.
type Index interface {
	spanrec.CallIndex
	// Count returns the number of calls that match f, ignoring its limit
	// and offset.
	Count(ctx context.Context, f spanrec.CallFilter) (int, error)
	// CountUpTo returns the number of calls that match f when it is at
	// most max (more false), else max and more true, counting no more
	// than max+1 of them; a backend that keeps a total exactly may
	// return it whatever max is, with more false.
	CountUpTo(ctx context.Context, f spanrec.CallFilter, max int) (n int, more bool, err error)
	// SearchStop says whether the search f, bounded by f.ScanLimit,
	// stops before it has examined every call of its time range (a
	// search no index serves), nil if not; Calls and CountUpTo then
	// answer from the calls examined.
	SearchStop(ctx context.Context, f spanrec.CallFilter) (*spanrec.SearchStop, error)
	// BeginDeletion, FinishDeletion and PendingDeletions delete a call
	// with its files (see package retention).
	retention.Index
	// SetLegalHold puts the call with exactly this ID under legal hold,
	// or with h nil releases it (ENOTFOUND if no such call, ECONFLICT if
	// its deletion has begun).
	SetLegalHold(ctx context.Context, id spanrec.CallID, h *spanrec.LegalHold) error
}

// Accounts stores users, sessions, API tokens and the audit trail;
// sqlite.DB has it. Lookups return errors of kind ENOTFOUND for what does
// not exist.
type Accounts interface {
	AddUser(ctx context.Context, u auth.User) error
	User(ctx context.Context, name string) (*auth.User, error)
	Users(ctx context.Context) ([]auth.User, error)
	DeleteUser(ctx context.Context, name string) error
	// SetPassword replaces a user's password hash and ends its sessions.
	SetPassword(ctx context.Context, name, hash string) error
	// SetDisabled disables (ending its sessions) or enables a user; it
	// refuses (ECONFLICT) to disable the last enabled admin.
	SetDisabled(ctx context.Context, name string, disabled bool) error

	PutSession(ctx context.Context, s auth.Session) error
	Session(ctx context.Context, idHash string) (*auth.Session, error)
	DeleteSession(ctx context.Context, idHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error

	AddToken(ctx context.Context, t auth.Token) (int64, error)
	TokenByHash(ctx context.Context, hash string) (*auth.Token, error)
	Tokens(ctx context.Context, user string) ([]auth.Token, error)
	TouchToken(ctx context.Context, id int64, now time.Time) error
	DeleteToken(ctx context.Context, id int64) error

	AddEvent(ctx context.Context, e auth.Event) error
	Events(ctx context.Context, f auth.EventFilter) ([]auth.Event, int, error)
}

// Config configures a Server. DataDir, Index and Accounts are required;
// the zero value of every other field means its default.
type Config struct {
	// DataDir is the data directory the paths of Call.Audio and Call.PCAP
	// are relative to.
	DataDir string
	// Blobs is where the recordings' files are read from: nil means the
	// data directory (Dir(DataDir)); a central archive's server gives its
	// object store.
	Blobs Blobs
	// Deleter deletes calls with their files (DELETE /api/calls/{id}):
	// nil means one over DataDir; a central archive's server gives the
	// one that deletes from its store too (retention.Deleter.Store).
	Deleter  *retention.Deleter
	Index    Index
	Accounts Accounts
	// Events is the broker of live call events; nil means a new one,
	// available from Server.Events.
	Events *Events
	Logger *slog.Logger
	// Secure says the server is reached over TLS: cookies get the Secure
	// attribute (and the __Host- name prefix) and responses carry HSTS.
	Secure bool
	// SessionTTL is how long a login lasts. Default 12 h.
	SessionTTL time.Duration
	// PasswordParams are the Argon2id costs of passwords set through the
	// API. Zero means auth.DefaultParams.
	PasswordParams auth.Params
	// LoginFailures failed logins per user name and client address within
	// LoginWindow block further attempts until the window has passed.
	// Defaults 5 and 5 min.
	LoginFailures int
	LoginWindow   time.Duration
	// PasswordChecks bounds the password checks (Argon2id, 19 MiB each at
	// the default cost) that run at once. Default runtime.GOMAXPROCS.
	PasswordChecks int
	// PasswordWait is how long a login waits for a free check before it
	// is answered 503. Default 1 s.
	PasswordWait time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Real-IP headers name the client. Empty: the headers are ignored.
	TrustedProxies []netip.Prefix
	// LiveRecheck is how often an /api/live stream checks that its session
	// or token is still valid. Default 10 s.
	LiveRecheck time.Duration
	// AuditTimeout is how long a write to the audit trail is retried
	// before the action it records is refused. Default 10 s.
	AuditTimeout time.Duration
	// WriteIdle is how long one write of a response may block (a client
	// that does not read) before the connection is closed. Default 1 min.
	WriteIdle time.Duration
	// Heartbeat is the interval of the comment lines that keep an idle
	// /api/live stream open through proxies. Default 15 s.
	Heartbeat time.Duration
	// LiveAudio, if set, opens the audio of calls in progress for
	// GET /api/live/calls/{id}/audio; nil: the route answers 404.
	LiveAudio LiveAudio
	// Keys, if set, takes the keys POST /api/keys gives to the running
	// recorder; nil: the route answers 404.
	Keys KeyStore
	// Zone is the time zone of the start times in the names of downloaded
	// files (2026-11-01_0900_205-to-201_ID.wav); nil means time.Local.
	Zone *time.Location
	// UI holds the web UI's files; nil means the embedded ui/ directory.
	UI fs.FS
	// Metrics, if set, writes more metrics at the end of /metrics (the
	// retention loop's, when this process runs one).
	Metrics func(io.Writer) error
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
	// SearchScan is how many calls of its time range a search of the
	// call list that no index serves examines before it stops
	// (spanrec.CallFilter.ScanLimit); 0 means spanrec.MaxUnindexedScan.
	// For tests.
	SearchScan int
}

// Server is the HTTP API and web UI. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	events  *Events
	limiter *limiter
	gate    *checkGate
	seen    auditSeen // content audits of the last auditWindow

	conns *limitListener // nil unless LimitListener was called

	liveMu    sync.Mutex
	liveTotal int
	liveUsers map[string]int // open live streams by user
	metrics   *metrics
	mux       *http.ServeMux
	blobs     Blobs
	ui        http.Handler
	uiFS      fs.FS
	dummy     string // a password hash to verify against for unknown users
	// patterns are the routes, for the test that holds the OpenAPI
	// document to them.
	patterns []string

	// listenTotal and listenUsers count the listening streams (under
	// liveMu).
	listenTotal int
	listenUsers map[string]int
}

// New returns a Server for cfg, or an error if a required field is missing.
func New(cfg Config) (*Server, error) {
	var errs []error
	if cfg.DataDir == "" {
		errs = append(errs, errors.New("api: no data directory"))
	}
	if cfg.Index == nil {
		errs = append(errs, errors.New("api: no call index"))
	}
	if cfg.Accounts == nil {
		errs = append(errs, errors.New("api: no account store"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Events == nil {
		cfg.Events = NewEvents()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.LoginFailures <= 0 {
		cfg.LoginFailures = 5
	}
	if cfg.LoginWindow <= 0 {
		cfg.LoginWindow = 5 * time.Minute
	}
	if cfg.PasswordChecks <= 0 {
		cfg.PasswordChecks = runtime.GOMAXPROCS(0)
	}
	if cfg.PasswordWait <= 0 {
		cfg.PasswordWait = time.Second
	}
	if cfg.LiveRecheck <= 0 {
		cfg.LiveRecheck = 10 * time.Second
	}
	if cfg.WriteIdle <= 0 {
		cfg.WriteIdle = time.Minute
	}
	if cfg.AuditTimeout <= 0 {
		cfg.AuditTimeout = 10 * time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UI == nil {
		sub, err := fs.Sub(uiFiles, "ui")
		if err != nil {
			return nil, err
		}
		cfg.UI = sub
	}
	dummy, err := auth.HashPassword(auth.NewSecret(), cfg.PasswordParams)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		events:    cfg.Events,
		limiter:   newLimiter(cfg.LoginFailures, cfg.LoginWindow),
		gate:      newCheckGate(cfg.PasswordChecks, cfg.PasswordWait),
		liveUsers: map[string]int{},
		metrics:   newMetrics(),
		mux:       http.NewServeMux(),
		blobs:     cfg.Blobs,
		uiFS:      cfg.UI,
		ui:        http.FileServerFS(cfg.UI),
		dummy:     dummy,
	}
	if s.blobs == nil {
		s.blobs = Dir(cfg.DataDir)
	}
	s.routes()
	return s, nil
}

// Events returns the broker that feeds GET /api/live.
func (s *Server) Events() *Events { return s.events }

func (s *Server) routes() {
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /metrics", s.serveMetrics)
	s.handle("GET /api/openapi.json", s.openAPI)

	s.handle("POST /api/login", s.public(s.login))
	s.handle("POST /api/logout", s.user(s.logout))
	s.handle("GET /api/me", s.user(s.me))

	s.handle("GET /api/calls", s.user(s.listCalls))
	s.handle("GET /api/calls.csv", s.user(s.exportCalls))
	s.handle("POST /api/calls/download.zip", s.user(s.downloadZip))
	s.handle("GET /api/searches", s.user(s.listSearches))
	s.handle("POST /api/searches", s.user(s.saveSearch))
	s.handle("DELETE /api/searches/{id}", s.user(s.deleteSearch))
	s.handle("GET /api/calls/{id}", s.user(s.getCall))
	s.handle("DELETE /api/calls/{id}", s.admin(s.deleteCall))
	s.handle("POST /api/calls/{id}/legal-hold", s.admin(s.holdCall))
	s.handle("DELETE /api/calls/{id}/legal-hold", s.admin(s.releaseCall))
	s.handle("GET /api/calls/{id}/audio", s.user(s.content("audio", s.audio)))
	s.handle("GET /api/calls/{id}/pcap", s.user(s.content("pcap", s.pcap)))
	s.handle("GET /api/calls/{id}/ladder", s.user(s.ladder))
	s.handle("GET /api/calls/{id}/waveform", s.user(s.content("waveform", s.waveform)))
	s.handle("GET /api/calls/{id}/quality", s.user(s.quality))
	s.handle("GET /api/calls/{id}/spectrogram", s.user(s.content("spectrogram", s.spectrogram)))
	s.handle("PUT /api/calls/{id}/tags/{tag}", s.user(s.putTag))
	s.handle("DELETE /api/calls/{id}/tags/{tag}", s.user(s.deleteTag))
	s.handle("GET /api/calls/{id}/notes", s.user(s.listNotes))
	s.handle("POST /api/calls/{id}/notes", s.user(s.addNote))
	s.handle("DELETE /api/calls/{id}/notes/{note}", s.user(s.deleteNote))
	s.handle("GET /api/live", s.user(s.live))
	s.handle("GET /api/live/calls/{id}/audio", s.user(s.content("listen", s.listen)))
	s.handle("GET /api/dashboard", s.supervisor(s.dashboard))

	s.handle("GET /api/audit", s.admin(s.listAudit))
	s.handle("GET /api/audit.csv", s.admin(s.exportAudit))
	s.handle("GET /api/users", s.admin(s.listUsers))
	s.handle("POST /api/users", s.admin(s.addUser))
	s.handle("PATCH /api/users/{name}", s.admin(s.patchUser))
	s.handle("PUT /api/users/{name}/password", s.admin(s.setPassword))
	s.handle("DELETE /api/users/{name}", s.admin(s.deleteUser))
	s.handle("GET /api/tokens", s.admin(s.listTokens))
	s.handle("POST /api/tokens", s.admin(s.createToken))
	s.handle("DELETE /api/tokens/{id}", s.admin(s.revokeToken))
	s.handle("POST /api/keys", s.admin(s.addKeys))
}

func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, h)
	s.patterns = append(s.patterns, pattern)
}

// Handler returns the HTTP handler of the whole server: API, UI, health
// and metrics.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// cspPolicy allows only the server's own scripts, styles and media: no
// inline script can run, whatever a page shows.
const cspPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.cfg.Now()
	r = s.withClient(r)
	sw := &statusWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: s.cfg.WriteIdle}
	// A response must make progress: a client that stops reading loses
	// the connection after WriteIdle, whatever the response's length.
	sw.extend()
	h := w.Header()
	h.Set("Content-Security-Policy", cspPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.cfg.Secure {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	api := strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz" || r.URL.Path == "/metrics"
	if api {
		h.Set("Cache-Control", "no-store")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	// Handler only finds the route; ServeHTTP also sets the request's
	// path values.
	handler, pattern := s.mux.Handler(r)
	var qerr error
	if api && pattern != "" {
		qerr = checkQuery(r)
	}
	switch {
	case qerr != nil:
		s.metrics.limitHit("query")
		s.writeError(sw, r, qerr)
	case pattern != "":
		s.mux.ServeHTTP(sw, r)
	case !api && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.serveUI(sw, r)
	default:
		s.notRouted(sw, r, handler)
	}
	s.metrics.request(sw.code())
	s.log.Debug("api: request", "method", r.Method, "path", r.URL.Path, "status", sw.code(),
		"elapsed", s.cfg.Now().Sub(start), "remote", remoteIP(r))
}

// notRouted answers a request no pattern matched with a JSON 404 or 405
// (with its Allow header), or passes on the mux's redirect.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch {
	case rec.status == http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.writeError(w, r, spanrec.Errorf(eMethod, "method %s not allowed on %s", r.Method, r.URL.Path))
	case rec.status >= 300 && rec.status < 400:
		w.Header().Set("Location", rec.header.Get("Location"))
		w.WriteHeader(rec.status)
	default:
		s.writeError(w, r, spanrec.Errorf(spanrec.ENOTFOUND, "no such resource: %s", r.URL.Path))
	}
}

// serveUI serves the web UI's files. A path that names no file and has no
// extension gets index.html, so that the UI's own routes can be reloaded.
func (s *Server) serveUI(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name != "" {
		if _, err := fs.Stat(s.uiFS, name); err != nil && !strings.Contains(name[strings.LastIndex(name, "/")+1:], ".") {
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			s.ui.ServeHTTP(w, r2)
			return
		}
	}
	s.ui.ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.cfg.Index.Count(r.Context(), spanrec.CallFilter{Limit: 1}); err != nil {
		s.log.Error("api: health check", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Bounds of a query string: its length, its parameters, each one's length.
const (
	maxQuery      = 4096
	maxParams     = 32
	maxParamBytes = 512
)

// checkQuery refuses a query string that is too long, has too many or too
// long parameters, or does not parse: before any handler reads it.
func checkQuery(r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	if len(r.URL.RawQuery) > maxQuery {
		return invalid("query string longer than %d bytes", maxQuery)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalid("bad query string: %v", err)
	}
	n := 0
	for k, vs := range q {
		n += len(vs)
		if len(k) > maxParamBytes {
			return invalid("query parameter name longer than %d bytes", maxParamBytes)
		}
		for _, v := range vs {
			if len(v) > maxParamBytes {
				return invalid("query parameter %s longer than %d bytes", truncate(k, 40), maxParamBytes)
			}
		}
	}
	if n > maxParams {
		return invalid("more than %d query parameters", maxParams)
	}
	return nil
}

// statusWriter records the status code of a response and extends the
// write deadline before each write. Unwrap lets http.ResponseController
// reach the connection (Flush, deadlines).
type statusWriter struct {
	http.ResponseWriter
	rc     *http.ResponseController
	idle   time.Duration
	status int
}

// extend moves the write deadline idle ahead (where the connection
// supports deadlines).
func (w *statusWriter) extend() {
	w.rc.SetWriteDeadline(time.Now().Add(w.idle))
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.extend()
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// recorder catches what the mux's own 404/405/redirect handlers write.
type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return len(b), nil
}
