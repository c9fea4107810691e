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

// TestDataDirLockOldFile: a lock file written by an older spanrec holds
// the holder's whole command line, passwords included; a writer refused
// by it names the holder's pid and command with every URL's user
// information and every password= value left out. A lock file of junk
// larger than 4 KiB is not read past that bound: the refusal names no
// holder.
func TestDataDirLockOldFile(t *testing.T) {
	data := t.TempDir()
	path := filepath.Join(data, LockFile)
	old := `{"pid":4242,"command":"spanrec record --index postgres://spanrec:pg-s3cret@db.example:5432/calls?sslmode=disable --store s3://AKIDEXAMPLE:s3-s3cret@minio:9000/bucket --index=postgresql://u:p%40ss@h/d --dsn host=db PASSWORD=kv-s3cret","since":"2026-12-07T10:00:00Z"}`
	if err := os.WriteFile(path, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	holder, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if ok, err := tryLock(holder); !ok || err != nil {
		t.Fatalf("hold the lock: %v, %v", ok, err)
	}
	_, err = lockDataDir(data, "spanrec import")
	if err == nil {
		t.Fatal("a second writer took the held lock")
	}
	msg := err.Error()
	for _, secret := range []string{"pg-s3cret", "s3-s3cret", "AKIDEXAMPLE", "p%40ss", "kv-s3cret", "spanrec:"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the refusal shows %q: %s", secret, msg)
		}
	}
	for _, want := range []string{"pid 4242", "spanrec record --index postgres://…@db.example:5432/calls", "s3://…@minio:9000/bucket", "PASSWORD=…"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refusal does not say %q: %s", want, msg)
		}
	}

	// Junk past 4 KiB: not read whole, no holder named.
	big := append([]byte(`{"pid":77,"command":"`), []byte(strings.Repeat("x", 1<<20))...)
	big = append(big, `"}`...)
	if err := os.WriteFile(path, big, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = lockDataDir(data, "spanrec import")
	if err == nil || strings.Contains(err.Error(), "pid 77") || len(err.Error()) > 1024 {
		t.Errorf("refusal by a 1 MiB lock file: %v", err)
	}
}

func TestRedactCommand(t *testing.T) {
	for in, want := range map[string]string{
		"spanrec ship": "spanrec ship",
		"spanrec ship --index postgres://a:b@h/d": "spanrec ship --index postgres://…@h/d",
		"spanrec ship --index postgres://h/d":     "spanrec ship --index postgres://h/d",
		"x s3://k:s@c@r@e@t@host/b y":             "x s3://…@host/b y",
		"x --index=postgres://only-user@h":        "x --index=postgres://…@h",
		"x host=h password=secret user=u":         "x host=h password=… user=u",
		"":                                        "",
	} {
		if got := redactCommand(in); got != want {
			t.Errorf("redactCommand(%q) = %q, want %q", in, got, want)
		}
	}
}
