package rtpstream_test

import (
	"math"
	"testing"

	"github.com/spanrec/spanrec/rtpstream"
)

func TestMOS(t *testing.T) {
	// Expected values worked out from the G.107 formulas in MOS's doc
	// comment: R, then MOS = 1 + 0.035R + R(R−60)(100−R)·7e-6.
	tests := []struct {
		name                   string
		codec                  string
		loss, jitter, ptime, r float64
		want                   float64
	}{
		{"G.711 clean: R = 93.2", "PCMU", 0, 0, 20, 93.2, 4.409285824},
		{"lower-case name", "pcma", 0, 0, 20, 93.2, 4.409285824},
		{"G.722 scored like G.711", "G722", 0, 0, 20, 93.2, 4.409285824},
		{"G.729: Ie 11", "G729", 0, 0, 20, 82.2, 4.104375064},
		{"unknown codec: Ie 11, Bpl 19", "speex", 2, 0, 20, 74.2, 3.787287384},
		{"G.711, 5% loss: Ie,eff = 95·5/(5+25.1)", "PCMA", 5, 0, 20, 77.41926910299003, 3.9228389925748117},
		{"G.729, 2% loss: Ie,eff = 11 + 84·2/(2+19)", "G729", 2, 0, 20, 74.2, 3.787287384},
		{"G.726-16: Ie 50", "G726-16", 0, 0, 20, 43.2, 2.223437824},
		{"Ta = 20+2·80+20 = 200 ms: Idd = 3.044", "PCMA", 0, 80, 20, 90.15558577648125, 4.34279318582095},
		{"Ta ≤ 100 ms: no delay impairment", "PCMA", 0, 25, 30, 93.2, 4.409285824},
		{"unknown packetisation taken as 20 ms", "PCMA", 0, 80, 0, 90.15558577648125, 4.34279318582095},
		{"all lost: Ie,eff = 95·100/125.1", "PCMA", 100, 0, 20, 17.2607513988809, 1.1768624064914488},
		{"huge delay: clamped at 1", "G726-16", 50, 5000, 20, -1, 1},
		{"negative inputs are taken as 0", "PCMA", -3, -5, 20, 93.2, 4.409285824},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rtpstream.MOS(tt.codec, tt.loss, tt.jitter, tt.ptime)
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("MOS = %.10f, want %.10f (R %.4f)", got, tt.want, tt.r)
			}
		})
	}
}

func TestMOSMonotonic(t *testing.T) {
	prev := 5.0
	for loss := 0.0; loss <= 100; loss += 0.5 {
		m := rtpstream.MOS("PCMA", loss, 10, 20)
		if m > prev || m < 1 || m > 4.5 {
			t.Fatalf("MOS at %v%% loss = %v after %v", loss, m, prev)
		}
		prev = m
	}
	prev = 5.0
	for j := 0.0; j <= 2000; j += 5 {
		m := rtpstream.MOS("PCMA", 0, j, 20)
		if m > prev || m < 1 {
			t.Fatalf("MOS at %v ms jitter = %v after %v", j, m, prev)
		}
		prev = m
	}
}
