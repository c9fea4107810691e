package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/sqlite"
)

// env is what every command sets up from the common flags.
type env struct {
	cfg     *fileConfig
	dataDir string
	log     *slog.Logger
	// keys is the running recorder's key store (record), which
	// POST /api/keys adds to; nil elsewhere.
	keys *keys.Store
	// sweep is the retention loop of the data directory when this
	// process runs it (record, serve): the API deletes through its
	// Deleter and serves its metrics. nil elsewhere.
	sweep *retention.Sweeper
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
	log, err := c.logger(stderr)
	if err != nil {
		return nil, err
	}
	return &env{cfg: cfg, dataDir: dir, log: log}, nil
}

// openIndex opens the call index of the data directory, creating the
// directory (mode 0750: recordings are personal data) when create is set.
func (e *env) openIndex(ctx context.Context, create bool) (*sqlite.DB, error) {
	if create {
		if err := os.MkdirAll(e.dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	} else if _, err := os.Stat(e.dataDir); err != nil {
		return nil, fmt.Errorf("data directory %s: %w (record something first with '%s import')", e.dataDir, err, prog)
	}
	db, err := sqlite.Open(ctx, indexPath(e.dataDir))
	if err != nil {
		return nil, err // "index: open PATH: …"
	}
	return db, nil
}

// lockWriter creates the data directory (as openIndex does) and takes its
// writer's lock for the command line args (see lockDataDir).
func (e *env) lockWriter(args []string) (*dataLock, error) {
	if err := os.MkdirAll(e.dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return lockDataDir(e.dataDir, args)
}

func indexPath(dataDir string) string { return dataDir + string(os.PathSeparator) + "index.db" }
