package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// index is what the commands use of the call index: sqlite.DB and
// postgres.DB have it (and what the API finds by type assertion: Stats,
// annotations, legal holds).
type index interface {
	api.Index
	api.Accounts
	api.Feed
	retention.Index
	Close() error
}

var (
	_ index = (*sqlite.DB)(nil)
	_ index = (*postgres.DB)(nil)
)

// env is what every command sets up from the common flags.
type env struct {
	cfg     *fileConfig
	dataDir string
	// index is the --index URL: "" (the data directory's index.db),
	// sqlite:PATH or postgres://….
	index string
	log   *slog.Logger
	// keys is the running recorder's key store (record), which
	// POST /api/keys adds to; nil elsewhere.
	keys *keys.Store
	// sweep is the retention loop of the data directory when this
	// process runs it (record, serve): the API deletes through its
	// Deleter and serves its metrics. nil elsewhere.
	sweep *retention.Sweeper
	// store is the object store serve reads recordings from (--store);
	// nil: the data directory.
	store *s3.Store
	// archive is the central side the data directory's calls are shipped
	// to (record, import with --index postgres://…): retention deletes a
	// call only once its central copy is verified. nil elsewhere.
	archive retention.Archive
	// shipper is the recorder's Shipper (record with a central side),
	// whose metrics /metrics serves. nil elsewhere.
	shipper *ship.Shipper
}

func (c *common) setup(fs *flag.FlagSet, stderr io.Writer) (*env, error) {
	cfg, err := loadConfig(c.config)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	dir := c.data
	if !set["data"] && os.Getenv("SPANREC_DATA") == "" && cfg.Data != "" {
		dir = cfg.Data
	}
	if !set["log-level"] && cfg.LogLevel != "" {
		c.logLevel = cfg.LogLevel
	}
	idx := c.index
	if !set["index"] && os.Getenv("SPANREC_INDEX") == "" && cfg.Index != "" {
		idx = cfg.Index
	}
	log, err := c.logger(stderr)
	if err != nil {
		return nil, err
	}
	return &env{cfg: cfg, dataDir: dir, index: idx, log: log}, nil
}

// indexKind returns what the --index URL u names: "sqlite" with the
// database file's path (the data directory's index.db for ""), or
// "postgres".
func indexKind(u, dataDir string) (kind, path string, err error) {
	switch {
	case u == "":
		return "sqlite", indexPath(dataDir), nil
	case strings.HasPrefix(u, "sqlite:"):
		p := strings.TrimPrefix(u, "sqlite:")
		if p == "" {
			return "", "", fmt.Errorf("%w: --index sqlite: needs a path (sqlite:/var/lib/spanrec/index.db)", errUsage)
		}
		return "sqlite", p, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return "postgres", "", nil
	}
	// Never echo the value: it may be a URL with a password in it.
	return "", "", fmt.Errorf("%w: --index takes sqlite:PATH or postgres://USER:PASSWORD@HOST/DB (got a value of neither form)", errUsage)
}

// indexName returns the index URL as it may be shown: without a password.
func (e *env) indexName() string {
	kind, path, err := indexKind(e.index, e.dataDir)
	switch {
	case err != nil:
		return "(invalid --index)"
	case kind == "postgres":
		return postgres.Redact(e.index)
	}
	return "sqlite:" + path
}

// openIndex opens the call index --index names: by default the data
// directory's SQLite index.db, creating the directory (mode 0750:
// recordings are personal data) when create is set. A PostgreSQL index
// needs no data directory to open (serve reads recordings from it only
// when asked for one).
func (e *env) openIndex(ctx context.Context, create bool) (index, error) {
	kind, path, err := indexKind(e.index, e.dataDir)
	if err != nil {
		return nil, err
	}
	if create {
		if err := os.MkdirAll(e.dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	} else if _, err := os.Stat(e.dataDir); err != nil && kind == "sqlite" && e.index == "" {
		return nil, fmt.Errorf("data directory %s: %w (record something first with '%s import')", e.dataDir, err, prog)
	}
	if kind == "postgres" {
		// postgres.Open's errors never carry the password.
		db, err := postgres.Open(ctx, e.index)
		if err != nil {
			return nil, fmt.Errorf("open index: %w", err)
		}
		e.log.Debug("index opened", "index", e.indexName())
		return db, nil
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err // "index: open PATH: …"
	}
	return db, nil
}

// lockWriter creates the data directory (as openIndex does) and takes its
// writer's lock for command (see lockDataDir).
func (e *env) lockWriter(command string) (*dataLock, error) {
	if err := os.MkdirAll(e.dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return lockDataDir(e.dataDir, command)
}

func indexPath(dataDir string) string { return dataDir + string(os.PathSeparator) + "index.db" }
