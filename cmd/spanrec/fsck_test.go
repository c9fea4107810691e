package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sqlite"
)

// TestFsck: after damage of every kind (a WAV deleted, a pcap changed, a
// recording no row points to, a spool leftover), fsck reports each and
// exits 1; --repair fixes what can be fixed, and notes the changed pcap.
func TestFsck(t *testing.T) {
	data := importDemo(t)
	if code, out, errs := runCLI(t, nil, "fsck", "--data", data); code != 0 {
		t.Fatalf("fsck of a fresh import: exit %d\n%s\n%s", code, out, errs)
	}
	calls := callsJSON(t, "--data", data)
	var withAudio map[string]any
	for _, c := range calls {
		if c["audio"] != "" {
			withAudio = c
			break
		}
	}
	if err := os.Remove(filepath.Join(data, withAudio["audio"].(string))); err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(data, calls[0]["pcap"].(string))
	f, err := os.OpenFile(pcap, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	stray := filepath.Join(filepath.Dir(pcap), "00000000000000000000.pcapng")
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(data, "spool", "11111111111111111111"), 0o700); err != nil {
		t.Fatal(err)
	}
	count := func(out, label string) string {
		m := regexp.MustCompile(regexp.QuoteMeta(label) + `\s+(\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %q in\n%s", label, out)
		}
		return m[1]
	}
	code, out, errs := runCLI(t, nil, "fsck", "--data", data)
	if code != 1 {
		t.Fatalf("fsck of a damaged directory: exit %d\n%s\n%s", code, out, errs)
	}
	for _, label := range []string{"calls whose file is missing", "files whose SHA-256 differs", "recordings no call points to", "spool leftovers"} {
		if n := count(out, label); n != "1" {
			t.Errorf("%s: %s, want 1\n%s", label, n, out)
		}
	}
	if code, out, errs := runCLI(t, nil, "fsck", "--repair", "--data", data); code != 0 {
		t.Fatalf("fsck --repair: exit %d\n%s\n%s", code, out, errs)
	}
	_, out, _ = runCLI(t, nil, "fsck", "--data", data)
	for label, want := range map[string]string{"calls whose file is missing": "0", "files whose SHA-256 differs": "1",
		"recordings no call points to": "0", "spool leftovers": "0"} {
		if n := count(out, label); n != want {
			t.Errorf("after repair, %s: %s, want %s\n%s", label, n, want, out)
		}
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Error("the unindexed recording is still there")
	}
	for _, c := range callsJSON(t, "--data", data) {
		if c["id"] == withAudio["id"] && c["audio"] != "" {
			t.Errorf("the call whose WAV is gone still points to %v", c["audio"])
		}
	}
}

// TestFsckInterruptedDeletion: a deletion begun and cut after its first
// file (a crash) is reported as such, not as a missing file, and
// --repair finishes it: the row and the other file go, with the audit
// entry.
func TestFsckInterruptedDeletion(t *testing.T) {
	data := importDemo(t)
	ctx := context.Background()
	var victim map[string]any
	for _, c := range callsJSON(t, "--data", data) {
		if c["audio"] != "" && c["pcap"] != "" {
			victim = c
			break
		}
	}
	id := spanrec.CallID(victim["id"].(string))
	audio, pcap := victim["audio"].(string), victim["pcap"].(string)
	db, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = db.BeginDeletion(ctx, spanrec.Deletion{Call: id, By: "ada", Reason: "deleted by an admin", Files: []string{audio, pcap}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(data, audio)); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, nil, "fsck", "--data", data)
	if code != 1 || !strings.Contains(out, "1 deletions were interrupted by a crash") || !strings.Contains(out, string(id)+"  by ada") {
		t.Errorf("fsck: exit %d\n%s", code, out)
	}
	if !regexp.MustCompile(`calls whose file is missing\s+0`).MatchString(out) {
		t.Errorf("the half-deleted call is reported as missing a file:\n%s", out)
	}
	code, out, errs := runCLI(t, nil, "fsck", "--repair", "--data", data)
	if code != 0 || !strings.Contains(out, "Finished 1 deletions interrupted by a crash") {
		t.Fatalf("fsck --repair: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(data, pcap)); !os.IsNotExist(err) {
		t.Errorf("the pcap of the deleted call: %v", err)
	}
	for _, c := range callsJSON(t, "--data", data) {
		if c["id"] == string(id) {
			t.Error("the call is still indexed")
		}
	}
	if code, out, _ := runCLI(t, nil, "fsck", "--data", data); code != 0 {
		t.Errorf("fsck after repair: exit %d\n%s", code, out)
	}
}

// TestFsckNumberSearch: where the calls of an imported index are no
// longer those the number-search table names (two calls exchanged their
// rowids, which Open's check of the table's ends cannot see), fsck says
// which calls a search by number would miss and exits 1; --repair
// rebuilds the table, and a search by each call's number finds it again.
func TestFsckNumberSearch(t *testing.T) {
	data := importDemo(t)
	calls := callsJSON(t, "--data", data)
	var a, b map[string]any
	for _, c := range calls {
		n, _ := c["caller"].(string)
		switch {
		case len(n) < 3:
		case a == nil:
			a = c
		case n != a["caller"]:
			b = c
		}
	}
	if b == nil {
		t.Fatalf("the demo has no two calls with different caller numbers: %d calls", len(calls))
	}
	number := func(c map[string]any) string { return c["caller"].(string) }
	found := func(c map[string]any) bool {
		t.Helper()
		for _, got := range callsJSON(t, "--data", data, "--number", number(c)) {
			if got["id"] == c["id"] {
				return true
			}
		}
		return false
	}
	if !found(a) || !found(b) {
		t.Fatal("a search by number misses a call of a fresh import")
	}
	raw, err := sql.Open("sqlite", filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	var ra, rb int64
	err = raw.QueryRow(`SELECT (SELECT rowid FROM calls WHERE id = ?), (SELECT rowid FROM calls WHERE id = ?)`, a["id"], b["id"]).Scan(&ra, &rb)
	if err == nil {
		_, err = raw.Exec(`UPDATE calls SET rowid = -?1 WHERE rowid = ?1;
			UPDATE calls SET rowid = ?1 WHERE rowid = ?2;
			UPDATE calls SET rowid = ?2 WHERE rowid = -?1`, ra, rb)
	}
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	if found(a) && found(b) {
		t.Fatal("a search by number still finds both calls after they exchanged rowids")
	}
	code, out, errs := runCLI(t, nil, "fsck", "--data", data)
	if code != 1 || !strings.Contains(out, fmt.Sprintf("search by number: 2 of %d calls would be missed", len(calls))) ||
		!strings.Contains(out, "      "+a["id"].(string)+"\n") || !strings.Contains(out, "      "+b["id"].(string)+"\n") {
		t.Fatalf("fsck: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI(t, nil, "fsck", "--repair", "--data", data)
	if code != 0 || !strings.Contains(out, "rebuilt the number-search table") {
		t.Fatalf("fsck --repair: exit %d\n%s%s", code, out, errs)
	}
	if !found(a) || !found(b) {
		t.Error("a search by number misses a call after fsck --repair")
	}
	code, out, _ = runCLI(t, nil, "fsck", "--data", data)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("search by number: the number-search table finds every one of the %d calls", len(calls))) {
		t.Errorf("fsck after repair: exit %d\n%s", code, out)
	}
}
