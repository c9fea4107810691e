package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec/codec"
)

func TestConfigAudioMaxRate(t *testing.T) {
	for _, tt := range []struct {
		yaml string
		ok   bool
		want int
	}{
		{"audio:\n  max_rate: 16000\n", true, 16000},
		{"data: x\n", true, 0},
		{"audio:\n  max_rate: 44100\n", false, 0},
		{"audio:\n  aliases: {x-test-g726-32: AAL2-G726-32}\n", true, 0},
		{"audio:\n  aliases: {x-test-bad: G.999}\n", false, 0},
	} {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(tt.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		fc, err := loadConfig(p)
		if (err == nil) != tt.ok {
			t.Errorf("%q: %v", tt.yaml, err)
			continue
		}
		if err == nil && fc.callConfig("d").AudioMaxRate != tt.want {
			t.Errorf("%q: AudioMaxRate %d, want %d", tt.yaml, fc.callConfig("d").AudioMaxRate, tt.want)
		}
	}
	if c, ok := codec.Lookup("X-TEST-G726-32", 8000, 1); !ok || c.Name != "AAL2-G726-32" {
		t.Errorf("audio.aliases not applied: %+v, %v", c, ok)
	}
	fc, err := loadConfig("../../docs/spanrec.yaml")
	if err != nil || fc.Audio.MaxRate != 48000 {
		t.Errorf("docs/spanrec.yaml: %v, max_rate %d", err, fc.Audio.MaxRate)
	}
}
