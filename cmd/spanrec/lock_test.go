package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDataDirLockRefusesSecondWriter: while one writer holds the data
// directory, an import into it is refused and names the holder; serve
// (read-only) is not concerned.
func TestDataDirLockRefusesSecondWriter(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	l, err := lockDataDir(data, "spanrec record")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, nil, "import", demo, "--data", data)
	if code != 1 {
		t.Fatalf("second writer: exit %d, want 1\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"locked", "pid " + strconv.Itoa(os.Getpid()), "spanrec record", "since"} {
		if !strings.Contains(errs, want) {
			t.Errorf("refusal %q does not say %q", errs, want)
		}
	}
	if _, err := os.Stat(indexPath(data)); err == nil {
		t.Error("the refused import opened the index")
	}
	l.Close()
	// The lock file outlives the process and may be read by others: it
	// names the command, never its flags (an --index URL's password).
	if code, out, errs := runCLI(t, nil, "import", demo, "--data", data, "--sensor", "flag-value-not-kept"); code != 0 {
		t.Fatalf("import after the lock was released: exit %d\n%s\n%s", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(data, LockFile)); err != nil || !strings.Contains(string(b), `"spanrec import"`) || strings.Contains(string(b), "flag-value") {
		t.Errorf("lock file after import: %q, %v; want the command without its flags", b, err)
	}
	// The lock went with the import that held it.
	l, err = lockDataDir(data, "spanrec import")
	if err != nil {
		t.Fatalf("lock after import: %v", err)
	}
	l.Close()
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "512MiB": 512 << 20, "2 GiB": 2 << 30, "500MB": 500e6, "64k": 64 << 10, "none": -1} {
		if got, err := parseByteSize(in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "12 parsecs", "1.5G", "0", "99999999999999 TiB"} {
		if _, err := parseByteSize(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
