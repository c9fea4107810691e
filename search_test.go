package spanrec

import (
	"net/netip"
	"slices"
	"testing"
)

func TestEscapeLike(t *testing.T) {
	if got, want := EscapeLike(`1%2_3\4`), `1\%2\_3\\4`; got != want {
		t.Errorf("EscapeLike = %q, want %q", got, want)
	}
}

// TestCallAddrs: each address once, IPv4-mapped IPv6 as IPv4, the
// parties' first, zero addresses left out.
func TestCallAddrs(t *testing.T) {
	c := &Call{
		Caller: Party{Addr: netip.MustParseAddr("::ffff:10.0.0.1")},
		Callee: Party{Addr: netip.MustParseAddr("2001:db8::2")},
		Streams: []Stream{
			{Src: netip.MustParseAddrPort("10.0.0.1:4000"), Dst: netip.MustParseAddrPort("10.0.0.9:5000")},
			{Src: netip.MustParseAddrPort("10.0.0.9:5000"), Dst: netip.AddrPort{}},
		},
	}
	want := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("10.0.0.9")}
	if got := c.Addrs(); !slices.Equal(got, want) {
		t.Errorf("Addrs = %v, want %v", got, want)
	}
	if got := (&Call{}).Addrs(); len(got) != 0 {
		t.Errorf("Addrs of a call without addresses = %v", got)
	}
}
