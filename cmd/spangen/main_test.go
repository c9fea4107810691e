package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec/pcaptest"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		args   []string
		frames int // minimum
	}{
		{"demo", []string{"-scenario", "demo"}, 2000},
		{"bench", []string{"-concurrent", "-calls", "3", "-talk", "1s", "-spread", "100ms"}, 3 * 2 * 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".pcap")
			var stderr bytes.Buffer
			if err := run(append(tc.args, "-o", out), &stderr); err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			frames := pcaptest.Frames(t, out)
			if len(frames) < tc.frames {
				t.Errorf("%d frames, want at least %d", len(frames), tc.frames)
			}
		})
	}
	for _, args := range [][]string{{}, {"-o", filepath.Join(dir, "x.pcap"), "-scenario", "nope"}, {"-o", filepath.Join(dir, "y.pcap"), "-concurrent", "-calls", "0"}} {
		if err := run(args, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.pcap")); err == nil {
		t.Error("failed run left a file")
	}
}

// TestDemoCheckedIn checks that testdata/demo.pcap at the repository root
// is what the generator writes today.
func TestDemoCheckedIn(t *testing.T) {
	want, err := os.ReadFile("../../testdata/demo.pcap")
	if err != nil {
		t.Skipf("no checked-in demo capture: %v", err)
	}
	out := filepath.Join(t.TempDir(), "demo.pcap")
	if err := run([]string{"-scenario", "demo", "-o", out}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want) {
		t.Error("testdata/demo.pcap is stale: run go run ./cmd/spangen -scenario demo -o testdata/demo.pcap")
	}
}
