package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/pcaptest"
)

// TestImportKeys imports a SIP over TLS call (crypto/tls, TLS 1.3) with
// --keys and without: with the key log the call is recorded and the
// summary says so; without, the connection is reported as lacking keys. A
// key file others may read is used with a warning.
func TestImportKeys(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	o := pcaptest.Options{Seed: 3, Calls: []pcaptest.Call{{Transport: "tls", TLS: &pcaptest.TLS{KeyLog: &log}}}}
	var pcap bytes.Buffer
	if err := pcaptest.Write(&pcap, o); err != nil {
		t.Fatal(err)
	}
	capFile, keyFile := filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "keys.log")
	if err := os.WriteFile(capFile, pcap.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errs := runCLI(t, nil, "import", capFile, "--data", filepath.Join(dir, "nokeys"), "--no-progress")
	// Without keys no SIP call is followed; the RTP is a signalless call.
	if code != 0 || !strings.Contains(out, "1 TLS connections on 5061 without keys") || !strings.Contains(out, "calls found         0") ||
		!strings.Contains(out, "signalless calls    1") {
		t.Errorf("without keys: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, nil, "import", capFile, "--keys", keyFile, "--data", filepath.Join(dir, "keys"), "--no-progress")
	if code != 0 || !strings.Contains(out, "SIP over TLS        1 connections, 1 decrypted with the key log") ||
		!strings.Contains(out, "calls recorded      1 (1 with audio") {
		t.Errorf("with keys: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "readable by group or others") {
		t.Errorf("no warning for a key file of mode 0644:\n%s", errs)
	}
	if strings.Contains(errs, strings.Fields(log.String())[2]) {
		t.Errorf("the log shows a secret:\n%s", errs)
	}
	os.WriteFile(keyFile, []byte("CLIENT_RANDOM zz\n"), 0o600)
	code, _, errs = runCLI(t, nil, "import", capFile, "--keys", keyFile, "--data", filepath.Join(dir, "bad"), "--no-progress")
	if code == 0 || !strings.Contains(errs, "line 1") {
		t.Errorf("bad key file: exit %d\n%s", code, errs)
	}
}

// TestReloadKeys checks the SIGHUP path: the store takes the file's new
// keys, and keeps its old ones when the file turned bad.
func TestReloadKeys(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keys.log")
	line := func(b string) string {
		return "CLIENT_RANDOM " + strings.Repeat(b, 32) + " " + strings.Repeat("01", 48) + "\n"
	}
	if err := os.WriteFile(p, []byte(line("ab")), 0o600); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := loadKeys(p, log)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte(line("cd")+line("ef")), 0o600)
	reloadKeys(p, st, log)
	if n, _ := st.Len(); n != 2 {
		t.Errorf("after reload: %d connections, want 2", n)
	}
	os.WriteFile(p, []byte("garbage\n"), 0o600)
	reloadKeys(p, st, log)
	if n, _ := st.Len(); n != 2 {
		t.Errorf("after a bad reload: %d connections, want the 2 kept", n)
	}
}
