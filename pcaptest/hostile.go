package pcaptest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Hostile captures: what a recorder on a mirror port must survive. Each
// generator writes a classic pcap (Ethernet, microsecond timestamps) and
// depends only on its arguments.

// BadTimestamp writes the capture of o with the capture time of its nth
// RTP frame (0-based, in capture order) moved by shift, as a corrupt
// record or a capture merged from a host with a wrong clock gives.
func BadTimestamp(w io.Writer, o Options, nth int, shift time.Duration) error {
	var buf bytes.Buffer
	if err := Write(&buf, o); err != nil {
		return err
	}
	r, err := pcapgo.NewReader(&buf)
	if err != nil {
		return fmt.Errorf("pcaptest: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	pw := pcapgo.NewWriter(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return fmt.Errorf("pcaptest: write header: %w", err)
	}
	n := 0
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("pcaptest: %w", err)
		}
		if isRTPFrame(data) {
			if n == nth {
				ci.Timestamp = ci.Timestamp.Add(shift)
			}
			n++
		}
		if err := pw.WritePacket(ci, data); err != nil {
			return fmt.Errorf("pcaptest: write packet: %w", err)
		}
	}
	if n <= nth {
		return fmt.Errorf("pcaptest: the capture has %d RTP frames, not %d", n, nth+1)
	}
	return bw.Flush()
}

// isRTPFrame reports whether an Ethernet frame that Write made carries RTP
// (UDP, not the SIP port, version 2).
func isRTPFrame(b []byte) bool {
	p := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.NoCopy)
	u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if !ok || u.SrcPort == 5060 || u.DstPort == 5060 || len(u.Payload) < 12 {
		return false
	}
	return u.Payload[0]>>6 == 2 && u.Payload[1]&0x7f < 72
}

// hostileWriter frames packets of no call for the generators below.
type hostileWriter struct {
	bw    *bufio.Writer
	pw    *pcapgo.Writer
	f     *framer
	start time.Time
	none  callPlan
}

func newHostileWriter(w io.Writer) (*hostileWriter, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	pw := pcapgo.NewWriter(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return nil, fmt.Errorf("pcaptest: write header: %w", err)
	}
	return &hostileWriter{bw: bw, pw: pw, f: newFramer(), start: defaultStart()}, nil
}

func (h *hostileWriter) send(p *packet) error {
	p.call = &h.none
	return h.f.frames(p, false, func(b []byte) error {
		ci := gopacket.CaptureInfo{Timestamp: h.start.Add(p.at), CaptureLength: len(b), Length: len(b)}
		if err := h.pw.WritePacket(ci, b); err != nil {
			return fmt.Errorf("pcaptest: write packet: %w", err)
		}
		return nil
	})
}

func (h *hostileWriter) close() error {
	if err := h.bw.Flush(); err != nil {
		return fmt.Errorf("pcaptest: %w", err)
	}
	return nil
}

// Flood says where the flood generators' traffic comes from and goes to.
// The zero Flood is hosts of 10.200.0.0/11 flooding 10.0.0.10; a test that
// sends the frames (the SPAN lab) gives addresses of its own network.
type Flood struct {
	From netip.Prefix // IPv4 prefix the flooding hosts are drawn from, in turn
	To   netip.Addr   // the SIP server flooded (IPv4)
}

// src returns the address of flooding host i.
func (f Flood) src(i int) netip.Addr {
	if !f.From.IsValid() || !f.From.Addr().Is4() || f.From.Bits() > 30 {
		return netip.AddrFrom4([4]byte{10, 200 + byte(i>>16&0x1f), byte(i >> 8), byte(i)})
	}
	hosts := uint32(1)<<(32-f.From.Bits()) - 2 // neither the network nor the broadcast address
	b := f.From.Masked().Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n += 1 + uint32(i)%hosts
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func (f Flood) dst() netip.Addr {
	if f.To.Is4() {
		return f.To
	}
	return netip.MustParseAddr("10.0.0.10")
}

// TCPFlood writes flows SIP-over-TCP connections to port 5060 that each
// send an INVITE whose Content-Length announces announce bytes of body,
// then the body less its last byte in full-size segments, and never the
// rest: every flow holds a message the framer waits for. The flows
// interleave (each sends one segment in turn), as a flood from many
// hosts does, 10 µs apart.
func TCPFlood(w io.Writer, flows, announce int) error {
	return Flood{}.TCPFlood(w, flows, announce)
}

// TCPFlood is the package's TCPFlood between f's addresses.
func (f Flood) TCPFlood(w io.Writer, flows, announce int) error {
	h, err := newHostileWriter(w)
	if err != nil {
		return err
	}
	to := f.dst()
	const seg = 1400
	type flow struct {
		src       netip.AddrPort
		seq       uint32
		msg       []byte
		off, stop int
	}
	fl := make([]flow, flows)
	body := bytes.Repeat([]byte("v=0\r\n"), announce/5+1)[:announce]
	var at time.Duration
	for i := range fl {
		src := netip.AddrPortFrom(f.src(i), uint16(20000+i%40000))
		hdr := inviteHeaders(fmt.Sprintf("tcpflood-%d", i), src, to, "TCP", announce, 0)
		fl[i] = flow{src: src, seq: 1000, msg: append([]byte(hdr), body...)}
		fl[i].stop = len(fl[i].msg) - 1
		at += 10 * time.Microsecond
		if err := h.send(&packet{at: at, src: src, dst: netip.AddrPortFrom(to, 5060), tcp: true, flags: tcpSYN, seq: 999}); err != nil {
			return err
		}
	}
	for active := flows; active > 0; {
		active = 0
		for i := range fl {
			f := &fl[i]
			if f.off >= f.stop {
				continue
			}
			n := min(seg, f.stop-f.off)
			at += 10 * time.Microsecond
			p := packet{at: at, src: f.src, dst: netip.AddrPortFrom(to, 5060), tcp: true,
				flags: tcpACK | tcpPSH, seq: f.seq, payload: f.msg[f.off : f.off+n]}
			if err := h.send(&p); err != nil {
				return err
			}
			f.seq += uint32(n)
			f.off += n
			if f.off < f.stop {
				active++
			}
		}
	}
	return h.close()
}

// InviteFlood writes n INVITEs over UDP, each with its own Call-ID and an
// SDP offer, none ever answered: n calls that stay open until the end of
// the capture (or until the recorder's timeouts). They come 100 µs apart.
func InviteFlood(w io.Writer, n int) error {
	return Flood{}.InviteFlood(w, n)
}

// InviteFlood is the package's InviteFlood between f's addresses.
func (f Flood) InviteFlood(w io.Writer, n int) error {
	h, err := newHostileWriter(w)
	if err != nil {
		return err
	}
	for i := range n {
		src := netip.AddrPortFrom(f.src(i), 5060)
		sdp := fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
			i, src.Addr(), src.Addr(), 16384+2*(i%16000))
		msg := inviteHeaders(fmt.Sprintf("inviteflood-%d", i), src, f.dst(), "UDP", len(sdp), 0) + sdp
		p := packet{at: time.Duration(i) * 100 * time.Microsecond, src: src, dst: netip.AddrPortFrom(f.dst(), 5060), payload: []byte(msg), fragment: true}
		if err := h.send(&p); err != nil {
			return err
		}
	}
	return h.close()
}

// GiantSIP writes n INVITEs over UDP (IPv4 fragments), each about size
// bytes: a header section of many long headers and an SDP offer of many
// m= lines, as a fuzzer or a broken PBX sends. They come 1 ms apart.
func GiantSIP(w io.Writer, n, size int) error {
	h, err := newHostileWriter(w)
	if err != nil {
		return err
	}
	for i := range n {
		src := netip.AddrPortFrom(Flood{}.src(i), 5060)
		var sdp strings.Builder
		fmt.Fprintf(&sdp, "v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", i, src.Addr(), src.Addr())
		for k := 0; sdp.Len() < size/2; k++ {
			fmt.Fprintf(&sdp, "m=audio %d RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n", 10000+2*(k%20000))
		}
		msg := inviteHeaders(fmt.Sprintf("giant-%d", i), src, Flood{}.dst(), "UDP", sdp.Len(), size/2) + sdp.String()
		p := packet{at: time.Duration(i) * time.Millisecond, src: src, dst: netip.AddrPortFrom(Flood{}.dst(), 5060), payload: []byte(msg), fragment: true}
		if err := h.send(&p); err != nil {
			return err
		}
	}
	return h.close()
}

// inviteHeaders returns the start line and headers of an INVITE from src
// with a body of bodyLen bytes, padded with X-Pad headers to about pad
// bytes.
func inviteHeaders(callID string, src netip.AddrPort, dst netip.Addr, transport string, bodyLen, pad int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:2000@%s SIP/2.0\r\n", dst)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK-%s\r\n", transport, src, callID)
	fmt.Fprintf(&b, "From: <sip:1000@%s>;tag=%s\r\n", src.Addr(), callID)
	fmt.Fprintf(&b, "To: <sip:2000@%s>\r\n", dst)
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: 1 INVITE\r\n", callID)
	fmt.Fprintf(&b, "Contact: <sip:1000@%s>\r\nMax-Forwards: 70\r\n", src)
	for k := 0; b.Len() < pad; k++ {
		fmt.Fprintf(&b, "X-Pad-%d: %s\r\n", k, strings.Repeat("x", 200))
	}
	fmt.Fprintf(&b, "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n", bodyLen)
	return b.String()
}
