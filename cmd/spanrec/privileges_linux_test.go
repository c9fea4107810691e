package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecordWithoutPrivilegesSaysWhich: record run without CAP_NET_RAW
// (as nobody, every capability dropped) fails with an error that names
// the capabilities it needs and the systemd unit that grants them.
func TestRecordWithoutPrivilegesSaysWhich(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child without privileges")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(data, 0o777); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(data); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(data, 0o777); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
		exe, "record", "-i", "lo", "--data", data)
	cmd.Env = append(os.Environ(), "SPANREC_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("record without privileges succeeded:\n%s", out)
	}
	for _, want := range []string{"CAP_NET_RAW", "CAP_NET_ADMIN", "deploy/spanrec.service"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("error does not name %s:\n%s", want, out)
		}
	}
}
