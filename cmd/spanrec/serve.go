package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/retention"
)

// httpConfig is the http section of the configuration file.
type httpConfig struct {
	Listen  string `yaml:"listen"`   // address of spanrec serve; default 127.0.0.1:8080
	TLSCert string `yaml:"tls_cert"` // PEM certificate chain; with tls_key, serve HTTPS
	TLSKey  string `yaml:"tls_key"`
	// TrustedProxies are the reverse proxies (CIDR prefixes or addresses)
	// whose X-Forwarded-For / X-Real-IP name the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// PasswordChecks bounds the concurrent Argon2id checks; 0: one per CPU.
	PasswordChecks int `yaml:"password_checks"`
	// LoginFailures per name and address within LoginWindow block logins.
	LoginFailures int           `yaml:"login_failures"`
	LoginWindow   time.Duration `yaml:"login_window"`
	// MaxConnections bounds the open connections; 0: 1024.
	MaxConnections int `yaml:"max_connections"`
	// TimeZone names the zone of the start times in download file names;
	// "": the local zone.
	TimeZone string `yaml:"time_zone"`
}

const defaultMaxConnections = 1024

// maxPasswordChecks bounds http.password_checks: each check holds 19 MiB.
const maxPasswordChecks = 64

// trustedProxies parses http.trusted_proxies.
func (hc *httpConfig) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, s := range hc.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				errs = append(errs, fmt.Errorf("http.trusted_proxies: %q is not a CIDR prefix or an address", s))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	if hc.PasswordChecks < 0 || hc.PasswordChecks > maxPasswordChecks {
		errs = append(errs, fmt.Errorf("http.password_checks must be 0 (one per CPU) to %d", maxPasswordChecks))
	}
	if hc.MaxConnections < 0 {
		errs = append(errs, errors.New("http.max_connections must not be negative"))
	}
	if hc.LoginFailures < 0 || hc.LoginWindow < 0 {
		errs = append(errs, errors.New("http.login_failures and http.login_window must not be negative"))
	}
	return out, errors.Join(errs...)
}

const defaultListen = "127.0.0.1:8080"

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	listen := fs.String("listen", "", "address to listen on (default: config http.listen, else "+defaultListen+")")
	cert := fs.String("tls-cert", "", "TLS certificate file, PEM (default: config http.tls_cert)")
	key := fs.String("tls-key", "", "TLS private key file, PEM (default: config http.tls_key)")
	firstAdmin := fs.String("first-admin", "", "when no account exists, create this admin with a generated password (printed once)")
	poll := fs.Duration("poll", 2*time.Second, "how often the live view looks for newly indexed calls")
	store := storeFlag(fs, "read the recordings from this object store (the central archive's) instead of the data directory")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: serve takes no arguments (got %q)", errUsage, pos[0])
	}
	if *poll <= 0 {
		return fmt.Errorf("%w: --poll must be positive", errUsage)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	hc := e.cfg.HTTP
	if *listen != "" {
		hc.Listen = *listen
	}
	if hc.Listen == "" {
		hc.Listen = defaultListen
	}
	if *cert != "" || *key != "" {
		hc.TLSCert, hc.TLSKey = *cert, *key
	}
	if u := e.storeURL(fs, *store); u != "" {
		st, err := e.openStore(ctx, u)
		if err != nil {
			return err
		}
		e.store = st
	}
	db, err := e.openIndex(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if *firstAdmin != "" {
		if err := ensureFirstAdmin(ctx, db, *firstAdmin, e.dataDir, stdout); err != nil {
			return err
		}
	}
	// The retention rules and the disk guard run here too (a recorder
	// over the same data directory runs them as well: a call deleted by
	// one is found gone by the other).
	sw, err := e.sweeper(ctx, db, nil)
	if err != nil {
		return err
	}
	e.sweep = sw
	w, err := newWeb(ctx, e, db, hc, stdout)
	if err != nil {
		return err
	}
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		_ = sw.Run(sweepCtx)
	}()
	err = w.runWatching(ctx, db, *poll)
	stopSweep()
	<-swept
	return err
}

// runWatching serves until ctx is done, as run does, while watching the
// index every poll for calls another process (record, import) indexes and
// publishing them to the live view: the server of serve and import --serve,
// which records nothing itself.
func (w *web) runWatching(ctx context.Context, db index, poll time.Duration) error {
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watched := make(chan error, 1)
	go func() {
		watched <- api.WatchIndex(watchCtx, db, w.srv.Events(), poll, func(err error) {
			w.log.Warn("serve: live view: reading the index", "err", err)
		})
	}()
	// The calls in progress of a recorder writing this data directory,
	// from its journals: serve's snapshots and start/answer events.
	progressed := make(chan struct{})
	journals := recorder.NewJournals(w.dataDir)
	go func() {
		defer close(progressed)
		api.WatchProgress(watchCtx, func() ([]*spanrec.Call, error) {
			calls, more, err := journals.Calls(0)
			if more > 0 {
				w.log.Warn("serve: live view: too many calls in progress to show", "left_out", more)
			}
			return calls, err
		}, db, w.srv.Events(), poll, func(err error) {
			w.log.Warn("serve: live view: reading the calls in progress", "err", err)
		})
	}()
	err := w.run(ctx)
	stopWatch()
	<-progressed
	if werr := <-watched; werr != nil {
		err = errors.Join(err, fmt.Errorf("live view: %w", werr))
	}
	return err
}

// web is the HTTP server of the API and the web UI over a data directory.
type web struct {
	dataDir string
	srv     *api.Server
	hs      *http.Server
	ln      net.Listener
	log     *slog.Logger
}

// newWeb listens on hc.Listen (TLS when hc has a certificate) and prints
// the URL, and how to create the first user when there is none.
func newWeb(ctx context.Context, e *env, db index, hc httpConfig, stdout io.Writer) (*web, error) {
	if (hc.TLSCert == "") != (hc.TLSKey == "") {
		return nil, fmt.Errorf("%w: TLS needs both a certificate and a key (--tls-cert and --tls-key, or http.tls_cert and http.tls_key)", errUsage)
	}
	var tlsConfig *tls.Config
	if hc.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(hc.TLSCert, hc.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	proxies, err := hc.trustedProxies()
	if err != nil {
		return nil, err
	}
	var zone *time.Location
	if hc.TimeZone != "" {
		if zone, err = time.LoadLocation(hc.TimeZone); err != nil {
			return nil, fmt.Errorf("http.time_zone: %w", err)
		}
	}
	var ks api.KeyStore // nil unless a recorder runs: no typed nil
	if e.keys != nil {
		ks = e.keys
	}
	var more func(io.Writer) error
	if e.sweep != nil || e.shipper != nil {
		more = func(w io.Writer) error {
			var err error
			if e.sweep != nil {
				err = e.sweep.WriteMetrics(w)
			}
			if e.shipper != nil {
				err = errors.Join(err, e.shipper.WriteMetrics(w))
			}
			return err
		}
	}
	var blobs api.Blobs // nil: the data directory
	where := e.dataDir
	if e.store != nil {
		blobs = api.Opener("the store", e.store.Open)
		where += " with the recordings of " + e.store.String()
	}
	var del *retention.Deleter // nil: the API's own, over the data directory
	if e.sweep != nil {
		del = e.sweep.Deleter()
	}
	srv, err := api.New(api.Config{
		DataDir: e.dataDir, Blobs: blobs, Deleter: del, Index: db, Accounts: db, Logger: e.log, Secure: tlsConfig != nil,
		TrustedProxies: proxies, PasswordChecks: hc.PasswordChecks,
		LoginFailures: hc.LoginFailures, LoginWindow: hc.LoginWindow, Keys: ks, Zone: zone,
		Metrics:   more,
		LiveAudio: liveAudio{dataDir: e.dataDir, maxRate: e.cfg.Audio.MaxRate},
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", hc.Listen)
	if err != nil {
		return nil, err
	}
	maxConns := hc.MaxConnections
	if maxConns == 0 {
		maxConns = defaultMaxConnections
	}
	ln = srv.LimitListener(ln, maxConns)
	scheme := "http"
	if tlsConfig != nil {
		ln, scheme = tls.NewListener(ln, tlsConfig), "https"
	}
	users, err := db.Users(ctx)
	if err != nil {
		ln.Close()
		return nil, err
	}
	// One write, so that whoever waits for the URL line gets the hint too.
	msg := fmt.Sprintf("Serving %s on %s://%s/\n", where, scheme, ln.Addr())
	if len(users) == 0 {
		msg += fmt.Sprintf("No user exists yet. Create the first one with:\n  %s user add NAME --role admin --data %s\n", prog, e.dataDir)
	} else {
		msg += fmt.Sprintf("Log in with one of the %d accounts (%s user list --data %s).\n", len(users), prog, e.dataDir)
	}
	fmt.Fprint(stdout, msg)
	return &web{srv: srv, ln: ln, log: e.log, dataDir: e.dataDir, hs: &http.Server{
		Handler: srv.Handler(),
		// Slow clients: the headers must arrive within 10 s and the whole
		// request (bodies are at most 64 KiB) within 30 s; each write of
		// the answer may block at most a minute (api.Config.WriteIdle), which
		// lets long downloads and live streams go on while they move.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelWarn),
	}}, nil
}

// run serves until ctx is done, then shuts the server down.
func (w *web) run(ctx context.Context) error {
	// Request contexts end when shutdown starts, so that /api/live streams
	// return and Shutdown does not wait for them.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	w.hs.BaseContext = func(net.Listener) context.Context { return base }
	w.hs.RegisterOnShutdown(cancelBase)
	served := make(chan error, 1)
	go func() { served <- w.hs.Serve(w.ln) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
		w.log.Info("http: shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = w.hs.Shutdown(sctx)
		cancel()
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	return err
}

// liveAudio lets the API play calls in progress from the spool a live
// recorder writes in the data directory (this process's, with record
// --listen, or another's beside serve).
type liveAudio struct {
	dataDir string
	maxRate int
}

func (a liveAudio) Listen(id spanrec.CallID) (api.AudioStream, error) {
	l, err := recorder.Listen(a.dataDir, id, recorder.ListenConfig{MaxRate: a.maxRate})
	if err != nil {
		return nil, err
	}
	return l, nil
}
