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
	"time"

	"github.com/spanrec/spanrec/api"
)

// httpConfig is the http section of the configuration file.
type httpConfig struct {
	Listen  string `yaml:"listen"`   // address of spanrec serve; default 127.0.0.1:8080
	TLSCert string `yaml:"tls_cert"` // PEM certificate chain; with tls_key, serve HTTPS
	TLSKey  string `yaml:"tls_key"`
}

const defaultListen = "127.0.0.1:8080"

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	listen := fs.String("listen", "", "address to listen on (default: config http.listen, else "+defaultListen+")")
	cert := fs.String("tls-cert", "", "TLS certificate file, PEM (default: config http.tls_cert)")
	key := fs.String("tls-key", "", "TLS private key file, PEM (default: config http.tls_key)")
	poll := fs.Duration("poll", 2*time.Second, "how often the live view looks for newly indexed calls")
	pos, err := parse(fs, args)
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
	if (hc.TLSCert == "") != (hc.TLSKey == "") {
		return fmt.Errorf("%w: TLS needs both a certificate and a key (--tls-cert and --tls-key, or http.tls_cert and http.tls_key)", errUsage)
	}
	var tlsConfig *tls.Config
	if hc.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(hc.TLSCert, hc.TLSKey)
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}

	db, err := e.openIndex(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	srv, err := api.New(api.Config{
		DataDir: e.dataDir, Index: db, Accounts: db, Logger: e.log, Secure: tlsConfig != nil,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", hc.Listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if tlsConfig != nil {
		ln, scheme = tls.NewListener(ln, tlsConfig), "https"
	}
	// Request contexts end when shutdown starts, so that /api/live streams
	// return and Shutdown does not wait for them.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	hs.RegisterOnShutdown(cancelBase)

	fmt.Fprintf(stdout, "Serving %s on %s://%s/\n", e.dataDir, scheme, ln.Addr())
	if users, err := db.Users(ctx); err != nil {
		return err
	} else if len(users) == 0 {
		fmt.Fprintf(stdout, "No user exists yet. Create the first one with:\n  spanrec user add NAME --role admin --data %s\n", e.dataDir)
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watched := make(chan error, 1)
	go func() {
		watched <- api.WatchIndex(watchCtx, db, srv.Events(), *poll, func(err error) {
			e.log.Warn("serve: live view: reading the index", "err", err)
		})
	}()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	select {
	case err = <-served:
	case <-ctx.Done():
		e.log.Info("serve: shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	stopWatch()
	if werr := <-watched; werr != nil {
		err = errors.Join(err, fmt.Errorf("live view: %w", werr))
	}
	return err
}
