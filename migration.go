package spanrec

import (
	"log/slog"
	"time"
)

// LogMigration logs the start of the index's schema migration name
// (backend "sqlite" or "postgres") when upgrade is true (an existing
// index, which may hold millions of calls: a migration that builds an
// index or fills a table from the calls can then take minutes, during
// which Open says nothing else), and returns the function that logs its
// end and how long it took. A new, empty index is not logged.
func LogMigration(backend, name string, upgrade bool) func() {
	if !upgrade {
		return func() {}
	}
	start := time.Now()
	slog.Info("index: upgrading the schema (on a large index this can take minutes; an interruption rolls the step back)", "backend", backend, "migration", name)
	return func() {
		slog.Info("index: schema step ended", "backend", backend, "migration", name, "took", time.Since(start).Round(time.Millisecond))
	}
}
