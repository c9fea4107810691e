package doctor

import (
	"net/netip"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	sipdialog "github.com/spanrec/spanrec/dialog"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/rtpstream"
	"github.com/spanrec/spanrec/sipmsg"
)

// Config tunes an Analyzer. The zero value means defaults.
type Config struct {
	// Packet configures the decoder HandleFrame uses (deduplication window,
	// fragments).
	Packet packet.Config
	// MaxDialogs and MaxStreams bound the state kept, so that a long run
	// on a busy port stays small; 0 means 100,000 each. What comes beyond
	// is counted but not followed.
	MaxDialogs int
	MaxStreams int
}

const defaultMax = 100_000

// ethOverhead is what an Ethernet frame costs on the wire beyond the bytes a
// capture shows: preamble and start delimiter (8), FCS (4) and the minimum
// inter-frame gap (12), IEEE 802.3 §4.4.2.
const ethOverhead = 24

// Analyzer watches the traffic of a mirror port and gathers what Report
// needs. Feed it frames in capture order with HandleFrame (or decoded
// packets with Handle). It is not safe for concurrent use.
type Analyzer struct {
	cfg Config
	dec *packet.Decoder

	// Frame level (HandleFrame).
	frames      uint64
	wireBytes   uint64
	first, last time.Time
	sec         int64  // current one-second bucket (unix seconds of packet time)
	secBytes    uint64 // wire bytes in it
	peakBytes   uint64 // most wire bytes in one whole second
	fullSecs    int    // buckets closed so far

	// Packet level (Handle).
	packets  uint64
	vlans    map[uint16]uint64
	tunnels  map[string]uint64
	sipMsgs  uint64
	sipErrs  uint64
	sipPorts map[sipPort]uint64
	tlsFlows map[flowKey]struct{}
	tcpSIP   map[flowKey]*sipmsg.Framer

	dialogs     map[string]*dialog
	dialogOrder []*dialog
	dialogsOver uint64
	bindings    map[netip.AddrPort]binding
	streams     map[streamKey]*stream
	streamsOver uint64
	rtcp        uint64
	unbound     map[flowKey]uint64 // RTP-looking flows no SDP announced
	unboundPkts uint64
	// orphans judges the unbound flows as the recorder does: which would
	// become signalless calls (call.Orphans, shapes only).
	orphans *call.Orphans
	// sipOversize counts SIP messages over TCP the framers dropped for
	// size.
	sipOversize uint64
}

type sipPort struct {
	transport string // "UDP", "TCP"
	port      uint16
}

type flowKey struct{ src, dst netip.AddrPort }

type streamKey struct {
	src, dst netip.AddrPort
	ssrc     uint32
}

// side of a call: 0 the caller, 1 the callee.
const (
	callerSide = 0
	calleeSide = 1
)

type binding struct {
	d    *dialog
	side int // the party that announced this address (receives there)
}

type dialog struct {
	callID         string
	caller, callee string
	transport      string
	start          time.Time
	// d is the call's signalling state as the recorder's import follows
	// it (package dialog): answered or not, the final code, the SDP
	// direction of each side over time. The doctor and the import agree
	// because they share it.
	d       *sipdialog.Dialog
	ended   bool
	msgs    [2]uint64 // SIP messages sent by each side
	sdp     [2]bool
	srtp    bool
	sent    [2]uint64 // RTP packets sent by each side
	streams []*stream
}

type stream struct {
	d     *dialog
	side  int
	stats rtpstream.Stats
}

// New returns an Analyzer configured by cfg.
func New(cfg Config) *Analyzer {
	if cfg.MaxDialogs <= 0 {
		cfg.MaxDialogs = defaultMax
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = defaultMax
	}
	orphans := call.NewOrphans()
	orphans.ShapeOnly = true
	return &Analyzer{
		cfg:      cfg,
		dec:      packet.NewDecoder(cfg.Packet),
		vlans:    make(map[uint16]uint64),
		tunnels:  make(map[string]uint64),
		sipPorts: make(map[sipPort]uint64),
		tlsFlows: make(map[flowKey]struct{}),
		tcpSIP:   make(map[flowKey]*sipmsg.Framer),
		dialogs:  make(map[string]*dialog),
		bindings: make(map[netip.AddrPort]binding),
		streams:  make(map[streamKey]*stream),
		unbound:  make(map[flowKey]uint64),
		orphans:  orphans,
	}
}

// HandleFrame decodes one captured frame and analyses the packet in it.
// f.Data is not retained.
func (a *Analyzer) HandleFrame(f capture.Frame) {
	a.frames++
	orig := f.Orig
	if orig < len(f.Data) {
		orig = len(f.Data)
	}
	n := uint64(orig)
	if packet.LinkType(f.Link) == packet.LinkEthernet {
		n += ethOverhead
	}
	a.wireBytes += n
	a.tick(f.Time, n)
	p, ok := a.dec.Decode(f.Data, packet.LinkType(f.Link), f.Time, f.Orig)
	if ok {
		a.Handle(&p)
	}
}

// tick accounts n wire bytes in the one-second bucket of t, for the peak
// rate.
func (a *Analyzer) tick(t time.Time, n uint64) {
	if a.first.IsZero() || t.Before(a.first) {
		a.first = t
	}
	if t.After(a.last) {
		a.last = t
	}
	s := t.Unix()
	if s != a.sec {
		if a.secBytes > 0 && s > a.sec {
			a.fullSecs++
			a.peakBytes = max(a.peakBytes, a.secBytes)
		}
		if s > a.sec {
			a.sec, a.secBytes = s, 0
		}
	}
	a.secBytes += n
}

// Handle analyses one decoded packet. Callers that decode frames themselves
// use it instead of HandleFrame; the frame counters (rate, duplicates) then
// stay at zero. p and its buffers are not retained.
func (a *Analyzer) Handle(p *packet.Packet) {
	a.packets++
	for i := range min(p.NVLAN, len(p.VLANs)) {
		a.vlans[p.VLANs[i]]++
	}
	if p.Tunnel != "" {
		a.tunnels[p.Tunnel]++
	}
	switch p.Proto {
	case packet.ProtoUDP:
		if sipmsg.Looks(p.Payload) {
			a.sip(p.Payload, p, "UDP")
			return
		}
		a.orphans.Hints.Observe(p)
		a.media(p)
	case packet.ProtoTCP:
		a.orphans.Hints.Observe(p)
		a.tcp(p)
	}
}

// tlsPort is the SIP-over-TLS port (RFC 3261 §26.2.2, §19.1.2 "sips").
const tlsPort = 5061

func (a *Analyzer) tcp(p *packet.Packet) {
	k := flowKey{p.Src, p.Dst}
	fr := a.tcpSIP[k]
	if fr == nil {
		if len(p.Payload) == 0 {
			return
		}
		if !sipmsg.Looks(p.Payload) {
			if (p.Src.Port() == tlsPort || p.Dst.Port() == tlsPort) && looksTLS(p.Payload) && len(a.tlsFlows) < a.cfg.MaxStreams {
				a.tlsFlows[canonical(k)] = struct{}{}
			}
			return
		}
		if len(a.tcpSIP) >= a.cfg.MaxStreams {
			return
		}
		fr = &sipmsg.Framer{}
		a.tcpSIP[k] = fr
	}
	// Segments are taken in arrival order: good enough to count messages
	// and read their SDP; the recorder reorders them.
	over := fr.Stats().Overflows
	fr.Write(p.Payload, func(msg []byte) { a.sip(msg, p, "TCP") })
	a.sipOversize += fr.Stats().Overflows - over
	if p.TCPFlags&(packet.TCPFin|packet.TCPRst) != 0 {
		delete(a.tcpSIP, k)
	}
}

// looksTLS reports whether b starts with a TLS record header (RFC 8446
// §5.1): content type 20–23, legacy version 3.x.
func looksTLS(b []byte) bool {
	return len(b) >= 5 && b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4
}

// canonical orders a flow's endpoints so that both directions share a key.
func canonical(k flowKey) flowKey {
	if k.dst.Addr().Less(k.src.Addr()) || (k.dst.Addr() == k.src.Addr() && k.dst.Port() < k.src.Port()) {
		return flowKey{k.dst, k.src}
	}
	return k
}

func (a *Analyzer) sip(b []byte, p *packet.Packet, transport string) {
	m, err := sipmsg.Parse(b)
	if err != nil {
		a.sipErrs++
		return
	}
	a.sipMsgs++
	// The server's port: where requests go, where responses come from.
	port := p.Dst.Port()
	if !m.Request {
		port = p.Src.Port()
	}
	a.sipPorts[sipPort{transport, port}]++

	d := a.dialogs[m.CallID]
	if d == nil {
		if !m.Request || m.Method != "INVITE" || m.ToTag != "" {
			return // not a call, or a call begun before we listened
		}
		if len(a.dialogs) >= a.cfg.MaxDialogs {
			a.dialogsOver++
			return
		}
		d = &dialog{
			callID:    m.CallID,
			caller:    party(m.PAI, m.From),
			callee:    party(sipmsg.Addr{}, m.To),
			transport: transport,
			start:     p.Time,
			d:         sipdialog.New(m, p.Time, p.Src, p.Dst),
		}
		a.dialogs[m.CallID] = d
		a.dialogOrder = append(a.dialogOrder, d)
	}
	// The sender by the dialog's tags (RFC 3261 §12), and the status by
	// the import's rules: a BYE means answered even if the 2xx was lost,
	// a challenged INVITE (401/407) retried with credentials can still be
	// answered.
	sender := d.d.Sender(m)
	side := callerSide
	if sender == spanrec.CalleeSide {
		side = calleeSide
	}
	d.msgs[side]++
	d.d.Apply(m, p.Time, p.Src)
	if m.Request && (m.Method == "BYE" || m.Method == "CANCEL") {
		d.ended = true
	}
	if m.SDP != nil {
		d.sdp[side] = true
		for _, md := range m.SDP.Media {
			if md.Proto != "" && (containsFold(md.Proto, "SAVP") || md.Crypto) {
				d.srtp = true
			}
			if md.Addr.Port() == 0 || !md.Addr.Addr().IsValid() || md.Addr.Addr().IsUnspecified() {
				continue
			}
			a.bindings[md.Addr] = binding{d: d, side: side}
		}
	}
}

func party(pai, a sipmsg.Addr) string {
	if pai.User != "" {
		return pai.User
	}
	if a.User != "" {
		return a.User
	}
	if a.Host != "" {
		return a.Host
	}
	return a.URI
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		match := true
		for j := range len(sub) {
			c := s[i+j]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			if c != sub[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

func (a *Analyzer) media(p *packet.Packet) {
	if rtpstream.IsRTCP(p.Payload) {
		a.rtcp++
		return
	}
	// The receiver's SDP address is the reliable one: some equipment
	// (SIPp among them) sends every stream from one port (asymmetric RTP).
	// The source counts too, for symmetric RTP through NAT.
	side := -1
	var d *dialog
	if b, ok := a.bindings[p.Dst]; ok {
		d, side = b.d, 1-b.side
	} else if b, ok := a.bindings[p.Src]; ok {
		d, side = b.d, b.side
	}
	if d == nil {
		if rtpstream.LooksRTP(p.Payload) {
			a.unboundPkts++
			k := flowKey{p.Src, p.Dst}
			if _, ok := a.unbound[k]; ok || len(a.unbound) < a.cfg.MaxStreams {
				a.unbound[k]++
				a.orphans.Hold(p)
			}
		}
		return
	}
	h, _, err := rtpstream.Parse(p.Payload)
	if err != nil {
		return
	}
	d.sent[side]++
	k := streamKey{p.Src, p.Dst, h.SSRC}
	s := a.streams[k]
	if s == nil {
		if len(a.streams) >= a.cfg.MaxStreams {
			a.streamsOver++
			return
		}
		s = &stream{d: d, side: side}
		a.streams[k] = s
		d.streams = append(d.streams, s)
	}
	s.stats.Update(h, p.Time, 0)
}
