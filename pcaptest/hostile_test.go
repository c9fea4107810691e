package pcaptest

import (
	"net/netip"
	"testing"
)

// TestFloodAddrs: a Flood's hosts stay inside its prefix (never its
// network or broadcast address) and flood its server; the zero Flood
// keeps the generators' own addresses.
func TestFloodAddrs(t *testing.T) {
	f := Flood{From: netip.MustParsePrefix("10.77.0.128/25"), To: netip.MustParseAddr("10.77.0.12")}
	seen := map[netip.Addr]bool{}
	for i := range 1000 {
		a := f.src(i)
		if !f.From.Contains(a) || a == f.From.Addr() || a == netip.MustParseAddr("10.77.0.255") {
			t.Fatalf("host %d: %s outside %s or not a host address", i, a, f.From)
		}
		seen[a] = true
	}
	if len(seen) != 126 || f.dst() != f.To {
		t.Errorf("%d hosts (want 126), server %s", len(seen), f.dst())
	}
	if z := (Flood{}); z.src(0) != netip.MustParseAddr("10.200.0.0") || z.dst() != netip.MustParseAddr("10.0.0.10") {
		t.Errorf("zero Flood: %s → %s", z.src(0), z.dst())
	}
}
