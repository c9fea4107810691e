package spanrec

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLogMigration: an upgrade of an existing index logs each step's start
// and end with its name and time; a new index logs nothing.
func TestLogMigration(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)

	LogMigration("sqlite", "0001_init.sql", false)()
	if buf.Len() != 0 {
		t.Fatalf("a new index's migration logged %q", buf.String())
	}
	LogMigration("postgres", "0017_sort_indexes_rest.sql", true)()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("upgrade logged %d lines, want 2: %q", len(lines), buf.String())
	}
	for i, want := range []string{"upgrading the schema", "schema step ended"} {
		if l := lines[i]; !strings.Contains(l, want) || !strings.Contains(l, "migration=0017_sort_indexes_rest.sql") || !strings.Contains(l, "backend=postgres") {
			t.Errorf("line %d %q: want %q with the migration and backend", i, l, want)
		}
	}
	if !strings.Contains(lines[1], "took=") {
		t.Errorf("end line %q does not say how long it took", lines[1])
	}
}
