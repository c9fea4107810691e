package capture

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// PortRange is an inclusive range of UDP or TCP ports.
type PortRange struct{ Lo, Hi uint16 }

// ParsePortRanges parses a comma-separated list of ports and ranges, such
// as "5060,5080-5090,10000-20000".
func ParsePortRanges(s string) ([]PortRange, error) {
	var out []PortRange
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("capture: port %q: want a number from 0 to 65535", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 16); err != nil {
				return nil, fmt.Errorf("capture: port %q: want a number from 0 to 65535", hi)
			}
		}
		if b < a {
			return nil, fmt.Errorf("capture: port range %q ends before it starts", part)
		}
		out = append(out, PortRange{uint16(a), uint16(b)})
	}
	return out, nil
}

// Filter selects the frames a live capture keeps, in the kernel, before
// they reach the ring. The zero Filter keeps every frame.
//
// A frame is kept when it carries IPv4 or IPv6 (directly on Ethernet, or
// behind one 802.1Q/802.1ad tag when VLAN is set) and:
//   - Hosts is empty, or its source or destination address is inside one
//     of the prefixes; and
//   - UDPPorts and TCPPorts are both empty, or it is UDP with a source or
//     destination port in UDPPorts, or TCP with one in TCPPorts.
//
// So that the recorder still sees everything it can use, IP fragments
// other than the first (they carry no ports), IPv6 packets with extension
// headers before the transport, and tunnels (GRE and ERSPAN, IP-in-IP) pass
// the port test; add VXLAN's port (4789) or TZSP's (37008) to UDPPorts to
// keep those. The program only matches Ethernet frames: other link types
// (tun) are captured unfiltered.
type Filter struct {
	UDPPorts []PortRange
	TCPPorts []PortRange
	Hosts    []netip.Prefix
	// VLAN also matches frames with one VLAN tag (the tag the mirror port
	// adds, or the one a trunk port carries). Frames whose tag the NIC
	// stripped (VLAN offload) match either way.
	VLAN bool
}

// IsZero reports whether f keeps every frame.
func (f *Filter) IsZero() bool {
	return f == nil || len(f.UDPPorts) == 0 && len(f.TCPPorts) == 0 && len(f.Hosts) == 0
}

// Assemble returns f as a classic BPF program for Ethernet frames that
// returns snaplen (the bytes to keep) for the frames f keeps and 0 for the
// others. A nil or zero Filter gives a program that keeps every frame.
func (f *Filter) Assemble(snaplen int) ([]bpf.RawInstruction, error) {
	if snaplen <= 0 {
		snaplen = DefaultSnaplen
	}
	if f.IsZero() {
		return bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: uint32(snaplen)}})
	}
	for _, p := range f.Hosts {
		if !p.IsValid() {
			return nil, errors.New("capture: filter: invalid host prefix")
		}
	}
	a := &asm{keep: uint32(snaplen)}
	const (
		etherIPv4   = 0x0800
		etherIPv6   = 0x86dd
		ether8021Q  = 0x8100
		ether8021AD = 0x88a8
	)
	a.ins(bpf.LoadAbsolute{Off: 12, Size: 2})
	a.jeqFar(etherIPv4, "v4_14")
	a.jeqFar(etherIPv6, "v6_14")
	if f.VLAN {
		a.jeq(ether8021Q, "tag", "")
		a.jeq(ether8021AD, "tag", "reject")
		a.label("tag")
		a.ins(bpf.LoadAbsolute{Off: 16, Size: 2})
		a.jeqFar(etherIPv4, "v4_18")
		a.jeqFar(etherIPv6, "v6_18")
	}
	a.ja("reject")
	a.rets("")
	offs := []uint32{14}
	if f.VLAN {
		offs = append(offs, 18)
	}
	for _, o := range offs {
		a.label(fmt.Sprintf("v4_%d", o))
		f.ipv4(a, o)
		a.label(fmt.Sprintf("v6_%d", o))
		f.ipv6(a, o)
	}
	return a.assemble()
}

// ipv4 emits the test of an IPv4 packet at offset o (RFC 791 §3.1).
func (f *Filter) ipv4(a *asm, o uint32) {
	p := a.fresh()
	var v4 []netip.Prefix
	for _, h := range f.Hosts {
		if h.Addr().Is4() || h.Addr().Is4In6() {
			v4 = append(v4, h)
		}
	}
	if len(f.Hosts) > 0 {
		for _, field := range []uint32{12, 16} { // source, destination
			for _, h := range v4 {
				addr := h.Addr().Unmap().As4()
				bits := h.Bits()
				if h.Addr().Is4In6() {
					bits -= 96
				}
				mask := uint32(0)
				if bits > 0 {
					mask = ^uint32(0) << (32 - bits)
				}
				net := (uint32(addr[0])<<24 | uint32(addr[1])<<16 | uint32(addr[2])<<8 | uint32(addr[3])) & mask
				a.ins(bpf.LoadAbsolute{Off: o + field, Size: 4})
				a.ins(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
				a.jeq(net, p+"host", "")
			}
		}
		a.ja(p + "reject")
		a.label(p + "host")
	}
	if len(f.UDPPorts) == 0 && len(f.TCPPorts) == 0 {
		a.ja(p + "keep")
		a.rets(p)
		return
	}
	// A fragment other than the first has no transport header.
	a.ins(bpf.LoadAbsolute{Off: o + 6, Size: 2})
	a.jset(0x1fff, p+"keep", "")
	a.ins(bpf.LoadAbsolute{Off: o + 9, Size: 1})
	a.jeq(17, p+"udp", "")
	a.jeq(6, p+"tcp", "")
	a.jeq(47, p+"keep", "") // GRE, ERSPAN
	a.jeq(4, p+"keep", "")  // IPv4 in IP
	a.jeq(41, p+"keep", p+"reject")
	for _, l4 := range []struct {
		name  string
		ports []PortRange
	}{{"udp", f.UDPPorts}, {"tcp", f.TCPPorts}} {
		a.label(p + l4.name)
		if len(l4.ports) == 0 {
			a.ja(p + "reject")
			continue
		}
		for _, field := range []uint32{0, 2} {
			a.ins(bpf.LoadMemShift{Off: o}) // X = IHL × 4
			a.ins(bpf.LoadIndirect{Off: o + field, Size: 2})
			a.ports(l4.ports, p+"keep")
		}
		a.ja(p + "reject")
	}
	a.rets(p)
}

// ipv6 emits the test of an IPv6 packet at offset o (RFC 8200 §3).
func (f *Filter) ipv6(a *asm, o uint32) {
	p := a.fresh()
	if len(f.Hosts) > 0 {
		for _, field := range []uint32{8, 24} { // source, destination
			for _, h := range f.Hosts {
				if !h.Addr().Is6() || h.Addr().Is4In6() {
					continue
				}
				next := a.fresh() + "next"
				addr := h.Addr().As16()
				bits := h.Bits()
				for w := range 4 {
					wb := min(max(bits-32*w, 0), 32)
					if wb == 0 {
						break
					}
					mask := ^uint32(0) << (32 - wb)
					word := (uint32(addr[4*w])<<24 | uint32(addr[4*w+1])<<16 | uint32(addr[4*w+2])<<8 | uint32(addr[4*w+3])) & mask
					a.ins(bpf.LoadAbsolute{Off: o + field + uint32(4*w), Size: 4})
					a.ins(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
					a.jeq(word, "", next)
				}
				a.ja(p + "host")
				a.label(next)
			}
		}
		a.ja(p + "reject")
		a.label(p + "host")
	}
	if len(f.UDPPorts) == 0 && len(f.TCPPorts) == 0 {
		a.ja(p + "keep")
		a.rets(p)
		return
	}
	a.ins(bpf.LoadAbsolute{Off: o + 6, Size: 1}) // next header
	a.jeq(17, p+"udp", "")
	a.jeq(6, p+"tcp", "")
	// Extension headers (hop-by-hop, routing, fragment, destination
	// options) and tunnels: let the decoder look.
	for _, nh := range []uint32{0, 43, 44, 60, 47, 4} {
		a.jeq(nh, p+"keep", "")
	}
	a.jeq(41, p+"keep", p+"reject")
	for _, l4 := range []struct {
		name  string
		ports []PortRange
	}{{"udp", f.UDPPorts}, {"tcp", f.TCPPorts}} {
		a.label(p + l4.name)
		if len(l4.ports) == 0 {
			a.ja(p + "reject")
			continue
		}
		for _, field := range []uint32{40, 42} {
			a.ins(bpf.LoadAbsolute{Off: o + field, Size: 2})
			a.ports(l4.ports, p+"keep")
		}
		a.ja(p + "reject")
	}
	a.rets(p)
}

// asm is a small assembler with symbolic jump targets. Each test block
// ends with its own return instructions, so that conditional jumps stay
// within the 255 instructions they can skip.
type asm struct {
	keep   uint32
	prog   []asmIns
	labels map[string]int
	n      int
}

type asmIns struct {
	ins    bpf.Instruction
	jt, jf string // JumpIf targets; "" = next instruction
	ja     string // Jump target
}

func (a *asm) fresh() string {
	a.n++
	return fmt.Sprintf("b%d_", a.n)
}

func (a *asm) ins(i bpf.Instruction) { a.prog = append(a.prog, asmIns{ins: i}) }

func (a *asm) label(l string) {
	if a.labels == nil {
		a.labels = make(map[string]int)
	}
	a.labels[l] = len(a.prog)
}

func (a *asm) ja(l string) { a.prog = append(a.prog, asmIns{ins: bpf.Jump{}, ja: l}) }

func (a *asm) jeq(v uint32, jt, jf string) {
	a.prog = append(a.prog, asmIns{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: v}, jt: jt, jf: jf})
}

// jeqFar jumps to l, however far, when A equals v.
func (a *asm) jeqFar(v uint32, l string) {
	a.prog = append(a.prog, asmIns{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipFalse: 1}})
	a.ja(l)
}

func (a *asm) jset(v uint32, jt, jf string) {
	a.prog = append(a.prog, asmIns{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: v}, jt: jt, jf: jf})
}

// ports jumps to keep when A is inside one of the ranges, and falls
// through otherwise.
func (a *asm) ports(rs []PortRange, keep string) {
	for _, r := range rs {
		next := a.fresh() + "port"
		if r.Lo == r.Hi {
			a.jeq(uint32(r.Lo), keep, "")
			continue
		}
		a.prog = append(a.prog, asmIns{ins: bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(r.Lo)}, jf: next})
		a.prog = append(a.prog, asmIns{ins: bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: uint32(r.Hi)}, jf: keep})
		a.label(next)
	}
}

// rets emits the block's keep and reject returns (labels prefix+"keep",
// prefix+"reject").
func (a *asm) rets(prefix string) {
	a.label(prefix + "keep")
	a.ins(bpf.RetConstant{Val: a.keep})
	a.label(prefix + "reject")
	a.ins(bpf.RetConstant{Val: 0})
}

func (a *asm) assemble() ([]bpf.RawInstruction, error) {
	out := make([]bpf.Instruction, len(a.prog))
	target := func(i int, l string) (uint32, error) {
		if l == "" {
			return 0, nil
		}
		t, ok := a.labels[l]
		if !ok || t <= i {
			return 0, fmt.Errorf("capture: filter: bad jump to %q", l)
		}
		return uint32(t - i - 1), nil
	}
	for i, in := range a.prog {
		switch ins := in.ins.(type) {
		case bpf.Jump:
			k, err := target(i, in.ja)
			if err != nil {
				return nil, err
			}
			ins.Skip = k
			out[i] = ins
		case bpf.JumpIf:
			if in.jt == "" && in.jf == "" {
				out[i] = ins // fixed skips (jeqFar)
				continue
			}
			t, err := target(i, in.jt)
			if err != nil {
				return nil, err
			}
			f, err := target(i, in.jf)
			if err != nil {
				return nil, err
			}
			if t > 255 || f > 255 {
				return nil, errors.New("capture: filter too large (use fewer hosts or port ranges)")
			}
			ins.SkipTrue, ins.SkipFalse = uint8(t), uint8(f)
			out[i] = ins
		default:
			out[i] = in.ins
		}
	}
	if len(out) > 4096 { // BPF_MAXINSNS
		return nil, errors.New("capture: filter too large (use fewer hosts or port ranges)")
	}
	return bpf.Assemble(out)
}
