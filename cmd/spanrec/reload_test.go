package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// TestReloaderKeepsFlags: a SIGHUP reloads the configuration file, and
// --rtp-without-signalling given on the command line still wins over it,
// as at start; without the flag the file's new value takes effect.
func TestReloaderKeepsFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spanrec.yaml")
	write := func(v string) {
		if err := os.WriteFile(path, []byte("calls:\n  rtp_without_signalling: "+v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		args []string
		file string
		want bool // IgnoreSignalless
	}{
		{[]string{"--rtp-without-signalling", "ignore"}, "record", true},
		{[]string{"--rtp-without-signalling", "record"}, "ignore", false},
		{nil, "ignore", true},
		{nil, "record", false},
	} {
		fs := flag.NewFlagSet("record", flag.ContinueOnError)
		signallessFlag(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		write("record")
		load := reloader(path, fs)
		write(tt.file) // changed before the SIGHUP
		cfg, p, err := load()
		if err != nil || p != path {
			t.Fatalf("%v: %v (%s)", tt.args, err, p)
		}
		if got := cfg.callConfig(t.TempDir()).IgnoreSignalless; got != tt.want {
			t.Errorf("flags %q, file %s: IgnoreSignalless %v after reload, want %v", tt.args, tt.file, got, tt.want)
		}
	}
	write("sometimes")
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	signallessFlag(fs)
	if _, _, err := reloader(path, fs)(); err == nil {
		t.Error("a bad value in the file reloaded without error")
	}
}
