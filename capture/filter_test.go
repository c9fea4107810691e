package capture_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
)

func TestParsePortRanges(t *testing.T) {
	tests := []struct {
		in   string
		want []capture.PortRange
		err  bool
	}{
		{"5060", []capture.PortRange{{5060, 5060}}, false},
		{"5060, 10000-20000", []capture.PortRange{{5060, 5060}, {10000, 20000}}, false},
		{"", nil, false},
		{"70000", nil, true},
		{"20-10", nil, true},
		{"a-b", nil, true},
	}
	for _, tt := range tests {
		got, err := capture.ParsePortRanges(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParsePortRanges(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParsePortRanges(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParsePortRanges(%q) = %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}

// frame builds an Ethernet frame: optional VLAN tag, then an IPv4 or IPv6
// header with protocol proto and, for UDP/TCP, ports.
type frameSpec struct {
	vlan     uint16 // 0: untagged
	src, dst netip.Addr
	proto    uint8
	sport    uint16
	dport    uint16
	fragOff  uint16 // IPv4 fragment offset in 8-byte units
	ext      uint8  // IPv6: a next-header value put before the transport (44 = fragment)
}

func buildFrame(s frameSpec) []byte {
	b := make([]byte, 12, 128) // MAC addresses
	if s.vlan != 0 {
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, s.vlan)
	}
	l4 := make([]byte, 20)
	binary.BigEndian.PutUint16(l4[0:], s.sport)
	binary.BigEndian.PutUint16(l4[2:], s.dport)
	if s.src.Is4() {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ip := make([]byte, 20)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
		binary.BigEndian.PutUint16(ip[6:], s.fragOff)
		ip[8] = 64
		ip[9] = s.proto
		a, d := s.src.As4(), s.dst.As4()
		copy(ip[12:], a[:])
		copy(ip[16:], d[:])
		b = append(b, ip...)
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x86dd)
		ip := make([]byte, 40)
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
		ip[6] = s.proto
		if s.ext != 0 {
			ip[6] = s.ext
		}
		ip[7] = 64
		a, d := s.src.As16(), s.dst.As16()
		copy(ip[8:], a[:])
		copy(ip[24:], d[:])
		b = append(b, ip...)
	}
	return append(b, l4...)
}

func runFilter(t *testing.T, f *capture.Filter, frame []byte) bool {
	t.Helper()
	raw, err := f.Assemble(1500)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(disassemble(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 && n != 1500 {
		t.Fatalf("filter returned %d, want 0 or the snap length", n)
	}
	return n > 0
}

func disassemble(t *testing.T, raw []bpf.RawInstruction) []bpf.Instruction {
	t.Helper()
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("program does not disassemble")
	}
	return ins
}

func TestFilterFrames(t *testing.T) {
	v4a, v4b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("198.51.100.7")
	v6a, v6b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:1::2")
	sip := &capture.Filter{UDPPorts: []capture.PortRange{{5060, 5060}, {10000, 20000}}, TCPPorts: []capture.PortRange{{5060, 5061}}, VLAN: true}
	noVLAN := &capture.Filter{UDPPorts: sip.UDPPorts}
	hosts := &capture.Filter{Hosts: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8:1::/48")}, VLAN: true}
	both := &capture.Filter{UDPPorts: []capture.PortRange{{5060, 5060}}, Hosts: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, VLAN: true}
	tests := []struct {
		name string
		f    *capture.Filter
		s    frameSpec
		want bool
	}{
		{"udp sip dst", sip, frameSpec{src: v4a, dst: v4b, proto: 17, sport: 40000, dport: 5060}, true},
		{"udp sip src", sip, frameSpec{src: v4a, dst: v4b, proto: 17, sport: 5060, dport: 40000}, true},
		{"udp rtp range low end", sip, frameSpec{src: v4a, dst: v4b, proto: 17, sport: 9999, dport: 10000}, true},
		{"udp rtp range high end", sip, frameSpec{src: v4a, dst: v4b, proto: 17, sport: 20000, dport: 20001}, true},
		{"udp outside ranges", sip, frameSpec{src: v4a, dst: v4b, proto: 17, sport: 53, dport: 9999}, false},
		{"udp just above", sip, frameSpec{src: v4a, dst: v4b, proto: 17, sport: 20001, dport: 20002}, false},
		{"tcp sip tls port", sip, frameSpec{src: v4a, dst: v4b, proto: 6, sport: 33000, dport: 5061}, true},
		{"tcp other", sip, frameSpec{src: v4a, dst: v4b, proto: 6, sport: 33000, dport: 443}, false},
		{"udp port only in tcp list", &capture.Filter{TCPPorts: []capture.PortRange{{5060, 5060}}}, frameSpec{src: v4a, dst: v4b, proto: 17, sport: 1, dport: 5060}, false},
		{"icmp", sip, frameSpec{src: v4a, dst: v4b, proto: 1}, false},
		{"gre passes", sip, frameSpec{src: v4a, dst: v4b, proto: 47}, true},
		{"later fragment passes", sip, frameSpec{src: v4a, dst: v4b, proto: 17, fragOff: 185}, true},
		{"vlan tagged sip", sip, frameSpec{vlan: 42, src: v4a, dst: v4b, proto: 17, sport: 5060, dport: 5060}, true},
		{"vlan tagged other", sip, frameSpec{vlan: 42, src: v4a, dst: v4b, proto: 17, sport: 53, dport: 53}, false},
		{"vlan tagged, VLAN off", noVLAN, frameSpec{vlan: 42, src: v4a, dst: v4b, proto: 17, sport: 5060, dport: 5060}, false},
		{"ipv6 sip", sip, frameSpec{src: v6a, dst: v6b, proto: 17, sport: 5060, dport: 5060}, true},
		{"ipv6 other", sip, frameSpec{src: v6a, dst: v6b, proto: 17, sport: 53, dport: 53}, false},
		{"ipv6 tagged rtp", sip, frameSpec{vlan: 7, src: v6a, dst: v6b, proto: 17, sport: 16000, dport: 16002}, true},
		{"ipv6 fragment header passes", sip, frameSpec{src: v6a, dst: v6b, proto: 17, ext: 44}, true},
		{"host v4 dst", hosts, frameSpec{src: v4a, dst: v4b, proto: 17, sport: 1, dport: 2}, true},
		{"host v4 none", hosts, frameSpec{src: v4a, dst: v4a, proto: 17, sport: 1, dport: 2}, false},
		{"host v6 src", hosts, frameSpec{src: v6b, dst: v6a, proto: 6, sport: 1, dport: 2}, true},
		{"host v6 none", hosts, frameSpec{src: v6a, dst: v6a, proto: 6, sport: 1, dport: 2}, false},
		{"host and port", both, frameSpec{src: v4b, dst: v4a, proto: 17, sport: 5060, dport: 5060}, true},
		{"host, wrong port", both, frameSpec{src: v4b, dst: v4a, proto: 17, sport: 5061, dport: 5062}, false},
		{"port, wrong host", both, frameSpec{src: v4b, dst: v4b, proto: 17, sport: 5060, dport: 5060}, false},
		{"ipv6 against v4-only hosts", both, frameSpec{src: v6a, dst: v6b, proto: 17, sport: 5060, dport: 5060}, false},
		{"zero filter keeps all", &capture.Filter{}, frameSpec{src: v4a, dst: v4b, proto: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runFilter(t, tt.f, buildFrame(tt.s)); got != tt.want {
				t.Errorf("kept = %v, want %v", got, tt.want)
			}
		})
	}
	arp := make([]byte, 42)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)
	if runFilter(t, sip, arp) {
		t.Error("ARP frame kept by a port filter")
	}
}

// refKeep is an independent reading of the Filter rules for Ethernet
// frames, to check the BPF program against.
func refKeep(f *capture.Filter, b []byte) bool {
	if len(b) < 14 {
		return false
	}
	et := binary.BigEndian.Uint16(b[12:])
	off := 14
	if f.VLAN && (et == 0x8100 || et == 0x88a8) && len(b) >= 18 {
		et = binary.BigEndian.Uint16(b[16:])
		off = 18
	}
	ports := len(f.UDPPorts) > 0 || len(f.TCPPorts) > 0
	in := func(rs []capture.PortRange, p uint16) bool {
		for _, r := range rs {
			if p >= r.Lo && p <= r.Hi {
				return true
			}
		}
		return false
	}
	hostOK := func(src, dst netip.Addr) bool {
		if len(f.Hosts) == 0 {
			return true
		}
		for _, h := range f.Hosts {
			if h.Contains(src) || h.Contains(dst) {
				return true
			}
		}
		return false
	}
	l4 := func(proto uint8, l []byte) bool {
		if !ports {
			return true
		}
		switch proto {
		case 17, 6:
			if len(l) < 4 {
				return false
			}
			rs := f.UDPPorts
			if proto == 6 {
				rs = f.TCPPorts
			}
			return in(rs, binary.BigEndian.Uint16(l)) || in(rs, binary.BigEndian.Uint16(l[2:]))
		case 47, 4, 41:
			return true
		}
		return false
	}
	ip := b[off:]
	switch et {
	case 0x0800:
		if len(ip) < 20 {
			return false
		}
		if !hostOK(netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))) {
			return false
		}
		if !ports {
			return true
		}
		if binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 {
			return true
		}
		ihl := int(ip[0]&0xf) * 4
		if len(ip) < ihl {
			return false
		}
		return l4(ip[9], ip[ihl:])
	case 0x86dd:
		if len(ip) < 40 {
			return false
		}
		if !hostOK(netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))) {
			return false
		}
		if !ports {
			return true
		}
		switch ip[6] {
		case 0, 43, 44, 60:
			return true
		}
		return l4(ip[6], ip[40:])
	}
	return false
}

// TestFilterCaptures runs the programs over every Ethernet frame of the
// demo capture and of the third-party captures, and compares each verdict
// with refKeep.
func TestFilterCaptures(t *testing.T) {
	files := []string{filepath.Join("..", "testdata", "demo.pcap")}
	corpus := false
	if d, err := findCaptures(); err == nil {
		corpus = true
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
				files = append(files, p)
			}
			return nil
		})
	} else {
		t.Logf("third-party captures not available (%v): demo capture only", err)
	}
	filters := map[string]*capture.Filter{
		"sip":      {UDPPorts: []capture.PortRange{{5060, 5060}}, TCPPorts: []capture.PortRange{{5060, 5061}}, VLAN: true},
		"rtp":      {UDPPorts: []capture.PortRange{{5060, 5060}, {10000, 65535}}, VLAN: true},
		"hosts":    {Hosts: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001::/16")}, VLAN: true},
		"novlan":   {UDPPorts: []capture.PortRange{{1024, 65535}}},
		"combined": {UDPPorts: []capture.PortRange{{5060, 5060}}, Hosts: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, VLAN: true},
	}
	vms := map[string]*bpf.VM{}
	for name, f := range filters {
		raw, err := f.Assemble(65535)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := bpf.NewVM(disassemble(t, raw))
		if err != nil {
			t.Fatal(err)
		}
		vms[name] = vm
	}
	kept := map[string]int{}
	total := 0
	for _, path := range files {
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for {
			fr, err := src.ReadFrame()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if fr.Link != 1 {
				continue
			}
			total++
			for name, vm := range vms {
				n, err := vm.Run(fr.Data)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if got, want := n > 0, refKeep(filters[name], fr.Data); got != want {
					t.Errorf("%s frame %d, filter %s: kept %v, want %v", filepath.Base(path), total, name, got, want)
				}
				if n > 0 {
					kept[name]++
				}
			}
		}
		src.Close()
	}
	t.Logf("%d Ethernet frames in %d files; kept: %v", total, len(files), kept)
	for name, n := range kept {
		// The demo capture alone is too uniform to exercise every filter.
		if corpus && (n == 0 || n == total && name != "hosts") {
			t.Errorf("filter %s kept %d of %d frames: the test data does not exercise it", name, n, total)
		}
	}
}

func BenchmarkFilter(b *testing.B) {
	f := &capture.Filter{UDPPorts: []capture.PortRange{{5060, 5060}, {10000, 20000}}, VLAN: true}
	raw, err := f.Assemble(65535)
	if err != nil {
		b.Fatal(err)
	}
	ins, _ := bpf.Disassemble(raw)
	vm, err := bpf.NewVM(ins)
	if err != nil {
		b.Fatal(err)
	}
	frame := buildFrame(frameSpec{vlan: 5, src: netip.MustParseAddr("10.0.0.1"), dst: netip.MustParseAddr("10.0.0.2"), proto: 17, sport: 30000, dport: 16000})
	b.ReportAllocs()
	for b.Loop() {
		vm.Run(frame)
	}
	b.ReportMetric(float64(len(raw)), "instructions")
}

// findCaptures returns $SPANREC_CAPTURES, or ../shared/captures beside the
// directory holding go.mod.
func findCaptures() (string, error) {
	return pcaptest.FindCaptures()
}
