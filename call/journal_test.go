package call

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadJournalLastWholeVersion: the journal is the last line that
// parses; a version torn by a crash leaves the one before it, and a file
// from before journals were appended (one document) still reads.
func TestReadJournalLastWholeVersion(t *testing.T) {
	line := func(id string) string {
		b, err := json.Marshal(Journal{Version: 1, SIPCallID: id})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	whole := line("v3")
	for _, tt := range []struct {
		name, content, want string
	}{
		{"one document, no newline", line("v1"), "v1"},
		{"appended versions", line("v1") + "\n" + line("v2") + "\n" + whole + "\n", "v3"},
		{"last version torn", line("v1") + "\n" + line("v2") + "\n" + whole[:len(whole)/2], "v2"},
		{"torn then rewritten", line("v1") + "\n" + whole[:10] + line("v2") + "\n", "v1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			j, err := ReadJournal(dir)
			if err != nil {
				t.Fatal(err)
			}
			if j.SIPCallID != tt.want {
				t.Errorf("read version %q, want %q", j.SIPCallID, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "\n\n", "{not json", whole[:20]} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, JournalFile), []byte(bad), 0o600)
		if j, err := ReadJournal(dir); err == nil {
			t.Errorf("ReadJournal(%q) = %+v, want an error", bad, j)
		}
	}
}

// TestJournalAppendsAndCompacts: each version is appended to one file,
// which is rewritten with the last version alone past maxJournal.
func TestJournalAppendsAndCompacts(t *testing.T) {
	data := t.TempDir()
	a := NewAssembler(Config{DataDir: data, Journal: true}, func(*Finished) {})
	c := &state{d: nil}
	c.spool = filepath.Join(data, "spool", "x")
	path := filepath.Join(c.spool, JournalFile)
	versions := 0
	var lines int
	for size := 0; ; versions++ {
		c.notes = []string{strings.Repeat("n", versions)} // each version differs
		a.writeJournalOf(c, Journal{Version: 1, Notes: c.notes})
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines = strings.Count(string(b), "\n")
		if len(b) < size {
			break // compacted
		}
		size = len(b)
		if lines != versions+1 {
			t.Fatalf("after %d versions the file has %d lines", versions+1, lines)
		}
	}
	if lines != 1 {
		t.Errorf("compacted file has %d lines, want 1", lines)
	}
	j, err := ReadJournal(c.spool)
	if err != nil || len(j.Notes) != 1 || len(j.Notes[0]) != versions {
		t.Errorf("after compaction: %v, %v; want the last version", j, err)
	}
	if versions < 10 {
		t.Errorf("compacted after %d versions", versions)
	}
}
