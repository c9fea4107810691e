package pcaptest

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Endpoint is one party of a generated call.
type Endpoint struct {
	Number string         // user part of the SIP URI; default 1000+i (caller), 2000+i (callee)
	Name   string         // display name, may be empty
	SIP    netip.Addr     // signaling address; default 10.0.1.1 (caller), 10.0.2.1 (callee)
	RTP    netip.AddrPort // media address announced in SDP; default SIP address, port 16384+4i (+2 callee)
	Tone   int            // Hz, frequency of the sine the party sends; default 440 (caller), 1000 (callee)
	// Voice, if not 0, makes the party speak instead of sending its tone:
	// synthetic vowels in syllables and turns with pauses (the caller
	// talks first, then the callee), at this fundamental frequency in Hz
	// (60–400; about 110 for a low voice, 200 for a high one).
	Voice int
}

// Outcome is how a generated call ends.
type Outcome int

// Call outcomes and the final answer the callee gives to the INVITE.
const (
	Answered  Outcome = iota // 200 OK, talk, BYE
	Busy                     // 486 Busy Here
	Cancelled                // the caller sends CANCEL, 487 Request Terminated
	NoAnswer                 // 480 Temporarily Unavailable
	Failed                   // 503 Service Unavailable
)

func (o Outcome) String() string {
	switch o {
	case Answered:
		return "answered"
	case Busy:
		return "busy"
	case Cancelled:
		return "cancelled"
	case NoAnswer:
		return "no-answer"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Hold puts an answered call on hold and takes it off again (RFC 3264 §8.4).
// The caller sends a re-INVITE with a=sendonly and the callee answers
// a=recvonly: the caller keeps sending (music on hold, here its tone) and the
// callee stops. A second re-INVITE from the caller restores a=sendrecv and the
// callee resumes sending. Style chooses other ways to hold.
type Hold struct {
	At     time.Duration // offset of the first re-INVITE from the answer
	Length time.Duration // from the first re-INVITE to the second; default 2s
	Style  HoldStyle
	// NewCallerRTP, if valid, is the caller's media address announced in the
	// resuming re-INVITE; from its ACK on the caller sends from it and the
	// callee sends to it. It must have the caller's address family.
	NewCallerRTP netip.AddrPort
}

// HoldStyle is how a Hold is signalled.
type HoldStyle int

// Hold styles.
const (
	// HoldSendonly: offer a=sendonly, answer a=recvonly; the callee stops.
	HoldSendonly HoldStyle = iota
	// HoldInactive: offer and answer a=inactive; both parties stop.
	HoldInactive
	// HoldZeroAddr: the RFC 2543 way, an offer with c=0.0.0.0 (:: for
	// IPv6) and a=sendrecv; the callee stops, the caller goes on.
	HoldZeroAddr
)

// Call describes one generated call. Zero fields take the documented
// defaults. The address family (IPv4 or IPv6) is the one of the addresses;
// all addresses of a call must share it.
type Call struct {
	CallID         string // default: derived from the seed and the caller address
	Caller, Callee Endpoint
	Start          time.Duration // INVITE, offset from the capture start
	Ring           time.Duration // INVITE → final answer (200, 486, 480, 503) or CANCEL; default 1s
	Talk           time.Duration // 200 OK → BYE; default 3s
	Outcome        Outcome
	// Codec is "PCMU" (default), "PCMA", "G722" or "G729" (or any name
	// with Encoded), in any case: the rtpmap spells it as given (encoding
	// names are case-insensitive, RFC 4855 §3), the expectations in upper
	// case. G729 needs G729Frames.
	Codec string
	// G729Frames is the audio of a G729 call: pcaptest has no G.729
	// encoder, so the frames come from the test (cut from a real capture,
	// say). Each party sends them in order, one per 10 ms, cycling (the
	// callee from the middle of the list): a 10-byte speech frame, a
	// 2-byte Annex B SID frame, or an empty one (nothing sent, the
	// discontinuous transmission after a SID frame). A packet carries the
	// frames of its packet time and ends after a SID frame (RFC 3551
	// §4.5.6); a packet with no frame is not sent (the next sent packet
	// has the next sequence number, its timestamp has moved on). The tones
	// of the expectations are 0: the audio is whatever the frames hold.
	G729Frames [][]byte
	// G729AnnexB announces a=fmtp:18 annexb=yes (default annexb=no).
	G729AnnexB bool
	PTime      time.Duration // RTP packetization time, a multiple of 5ms; default 20ms
	// EarlyMedia makes the callee answer 183 Session Progress with SDP and
	// send a ringback (425 Hz, 1s on, 4s off) on its RTP stream until the
	// 200 OK, after which the same stream carries its tone.
	EarlyMedia bool
	Hold       *Hold
	// OneWay negotiates one direction on purpose, as SIPp playing a file
	// does: the INVITE offers a=sendonly and the 200 answers a=recvonly;
	// only the caller sends.
	OneWay bool
	// CallerNAT, if valid, is the public address of a NAT in front of the
	// caller: its SIP (from port SIPPort) and RTP packets come from this
	// address while its Via, Contact and SDP keep the private ones, and the
	// callee sends its media back to where the caller's media comes from.
	CallerNAT netip.AddrPort
	DTMF      string  // digits the caller sends as RFC 4733 events during talk
	DTMFInfo  string  // digits the caller sends as SIP INFO application/dtmf-relay
	Loss      float64 // fraction of RTP packets dropped, both directions
	Reorder   float64 // fraction of RTP packets swapped with the next one
	// Transport is "udp" (default), "tcp" or "tls": with "tcp" the call's
	// signaling uses one TCP connection from an ephemeral caller port to
	// the callee's SIPPort, with the 100 and 180 in one segment and the
	// INVITE split over two segments. "tls" is the same connection
	// carrying TLS (RFC 3261 §26.2; SIPPort 5061 by default): a real
	// crypto/tls handshake and records, see TLS.
	Transport string
	// TLS configures the TLS of a "tls" call; nil: TLS 1.3.
	TLS  *TLS
	VLAN []uint16 // 802.1Q tags, outermost first; two tags are QinQ (outer TPID 0x88a8)
	// Duplicate writes every frame twice, the copy 100µs later with the TTL
	// one lower and the innermost VLAN tag plus one, as two mirror ports do.
	Duplicate bool
	// FragmentInvite pads the INVITE with extra headers so that, over UDP
	// and IPv4, it is sent as three IPv4 fragments (MTU 1500).
	FragmentInvite bool
	SIPPort        int // UDP or TCP port of both parties' SIP; default 5060
	// SRTP, if set, encrypts the call's media (see SRTP).
	SRTP *SRTP
	// SilentCopy, if valid, is a media relay that sends the caller a second
	// copy of the callee's audio, from this address to the caller's media
	// address, from the answer to the BYE: all silence, at half the packet
	// time (so twice the packets of the callee's own stream), as a relay
	// that forwards nothing but comfort noise does. A recorder must keep
	// the copy that carries the callee's tone. Needs an answered call and a
	// packet time that is a multiple of 10ms.
	SilentCopy netip.AddrPort
	// Encoded carries audio pcaptest does not encode itself: with it,
	// Codec may name any 8000 Hz codec (GSM, G726-32, ...), announced
	// with Encoded.PT, and each party's packets carry its stream. Not
	// with EarlyMedia or SilentCopy (no ringback or silence to encode).
	Encoded *Encoded
	// Headers are extra header lines of the INVITE, as "Name: value"
	// (correlation headers such as X-Orig-Call-ID or P-Charging-Vector,
	// Replaces, Referred-By).
	Headers []string
	// SignalOnly sends the call's SIP and no RTP: a leg of a conversation
	// whose media another leg's capture carries (a B2BUA with direct
	// media, see B2BUA). Its Expectation has no streams.
	SignalOnly bool
	// Refer makes the caller send a REFER (RFC 3515) during the talk,
	// answered 202 Accepted: a transfer.
	Refer *Refer
}

// Refer is a REFER the caller of an answered call sends.
type Refer struct {
	At time.Duration // offset from the answer
	// To is the Refer-To value, e.g. "<sip:3000@10.0.3.1?Replaces=...>"
	// (RFC 3891 §7: an attended transfer names the call to replace).
	To string
}

// Encoded is each party's audio already encoded for a codec pcaptest has
// no encoder for, for example by ffmpeg from the party's tone (Endpoint.Tone
// says which).
type Encoded struct {
	PT          uint8 // payload type in SDP and RTP: a static one (GSM: 3) or 96–127
	PacketBytes int   // octets per packet of one ptime: 33 for 20 ms of GSM, 80 for G726-32
	// ClockRate is the codec's RTP clock and sample rate in the rtpmap
	// (speex/16000, say); 0 means 8000.
	ClockRate int
	// Channels, if not 0, is the rtpmap's channel count (opus/48000/2).
	Channels int
	// Caller and Callee are whole packets, back to back: the party's
	// packet sent at media time t carries piece t/ptime, looping.
	Caller, Callee []byte
}

// Options configures a generated capture.
type Options struct {
	Seed  int64
	Start time.Time // wall-clock time of offset 0; default 2026-11-01T09:00:00Z
	Calls []Call
}

// defaultStart returns the capture start used when Options.Start is zero.
func defaultStart() time.Time { return time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC) }

type codecInfo struct {
	name       string
	pt         uint8
	clock      int // RTP clock rate, Hz
	sampleRate int // audio sample rate, Hz
}

var codecs = []codecInfo{
	{"PCMU", 0, 8000, 8000},
	{"PCMA", 8, 8000, 8000},
	{"G729", 18, 8000, 8000}, // RFC 3551 §4.5.6
	// RFC 3551 §4.5.2: G.722 samples at 16 kHz but its RTP clock is 8000 Hz.
	{"G722", 9, 8000, 16000},
}

// dtmfPT is the payload type of RFC 4733 telephone events in the generated SDP.
const dtmfPT = 101

// withDefaults returns c with defaults applied for call number i, or an error
// naming the first invalid field.
func withDefaults(c Call, i int) (Call, codecInfo, error) {
	var ci codecInfo
	if c.Caller.Number == "" {
		c.Caller.Number = fmt.Sprint(1000 + i)
	}
	if c.Callee.Number == "" {
		c.Callee.Number = fmt.Sprint(2000 + i)
	}
	if !c.Caller.SIP.IsValid() {
		c.Caller.SIP = netip.AddrFrom4([4]byte{10, 0, 1, 1})
	}
	if !c.Callee.SIP.IsValid() {
		c.Callee.SIP = netip.AddrFrom4([4]byte{10, 0, 2, 1})
	}
	if !c.Caller.RTP.IsValid() {
		c.Caller.RTP = netip.AddrPortFrom(c.Caller.SIP, uint16(16384+4*(i%10000)))
	}
	if !c.Callee.RTP.IsValid() {
		c.Callee.RTP = netip.AddrPortFrom(c.Callee.SIP, uint16(16386+4*(i%10000)))
	}
	if c.Caller.Tone == 0 {
		c.Caller.Tone = 440
	}
	if c.Callee.Tone == 0 {
		c.Callee.Tone = 1000
	}
	if c.Ring == 0 {
		c.Ring = time.Second
	}
	if c.Talk == 0 {
		c.Talk = 3 * time.Second
	}
	if c.Codec == "" {
		c.Codec = "PCMU"
	}
	if c.PTime == 0 {
		c.PTime = 20 * time.Millisecond
	}
	if c.Transport == "" {
		c.Transport = "udp"
	}
	if c.SIPPort == 0 {
		c.SIPPort = 5060
		if c.Transport == "tls" {
			c.SIPPort = 5061
		}
	}
	if c.Hold != nil && c.Hold.Length == 0 {
		h := *c.Hold
		h.Length = 2 * time.Second
		c.Hold = &h
	}

	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	found := false
	for _, k := range codecs {
		if strings.EqualFold(k.name, c.Codec) {
			ci, found = k, true
		}
	}
	if e := c.Encoded; e != nil {
		rate := e.ClockRate
		if rate == 0 {
			rate = 8000
		}
		ci, found = codecInfo{name: strings.ToUpper(c.Codec), pt: e.PT, clock: rate, sampleRate: rate}, true
		if e.PT >= 128 || e.PT == dtmfPT || e.PacketBytes <= 0 || e.PacketBytes > 1400 || rate < 0 {
			bad("Encoded: payload type %d or packet size %d out of range", e.PT, e.PacketBytes)
		} else if len(e.Caller) < e.PacketBytes || len(e.Callee) < e.PacketBytes ||
			len(e.Caller)%e.PacketBytes != 0 || len(e.Callee)%e.PacketBytes != 0 {
			bad("Encoded: streams of %d and %d octets are not whole packets of %d", len(e.Caller), len(e.Callee), e.PacketBytes)
		}
		if c.EarlyMedia || c.SilentCopy.IsValid() {
			bad("Encoded: no early media or silent copy (pcaptest cannot encode ringback or silence)")
		}
	}
	if !found {
		bad("codec %q is not PCMU, PCMA, G722 or G729 (others need Encoded)", c.Codec)
	}
	if found && ci.name == "G729" && c.Encoded == nil {
		n := 0
		for _, f := range c.G729Frames {
			switch len(f) {
			case 0, 2:
			case 10:
				n++
			default:
				bad("G729Frames: a frame of %d bytes (10, 2 or 0)", len(f))
			}
		}
		if n == 0 {
			bad("codec G729 needs G729Frames with speech frames")
		}
		if c.PTime%(10*time.Millisecond) != 0 {
			bad("codec G729: packet time %v is not a multiple of 10ms", c.PTime)
		}
		if c.SilentCopy.IsValid() {
			bad("codec G729 with SilentCopy: the relay's copy has no G.729 silence to send")
		}
		c.Caller.Tone, c.Callee.Tone = 0, 0
	}
	if c.SRTP != nil {
		if _, ok := srtpSuiteOf(c.SRTP.Suite); !ok {
			bad("SRTP suite %q is not one pion/srtp encrypts", c.SRTP.Suite)
		}
		if c.SRTP.MKILen < 0 || c.SRTP.MKILen > 8 {
			bad("SRTP MKI length %d is not 0..8", c.SRTP.MKILen)
		}
	}
	is6 := c.Caller.SIP.Is6()
	addrs := []netip.Addr{c.Caller.SIP, c.Callee.SIP, c.Caller.RTP.Addr(), c.Callee.RTP.Addr()}
	if c.CallerNAT.IsValid() {
		addrs = append(addrs, c.CallerNAT.Addr())
	}
	if c.Hold != nil && c.Hold.NewCallerRTP.IsValid() {
		addrs = append(addrs, c.Hold.NewCallerRTP.Addr())
	}
	if c.SilentCopy.IsValid() {
		addrs = append(addrs, c.SilentCopy.Addr())
		if c.Outcome != Answered || c.PTime%(10*time.Millisecond) != 0 {
			bad("SilentCopy needs an answered call and a ptime that is a multiple of 10ms")
		}
	}
	for _, a := range addrs {
		if a.Is6() != is6 || a.Is4In6() {
			bad("addresses mix IPv4 and IPv6")
			break
		}
	}
	for _, t := range []int{c.Caller.Tone, c.Callee.Tone} {
		if t < 0 || t > 3900 {
			bad("tone %d Hz outside 1–3900 Hz", t)
		}
	}
	for _, v := range []int{c.Caller.Voice, c.Callee.Voice} {
		if v != 0 && (v < 60 || v > 400) {
			bad("voice %d Hz outside 60–400 Hz", v)
		}
	}
	if c.PTime < 5*time.Millisecond || c.PTime > 100*time.Millisecond || c.PTime%(5*time.Millisecond) != 0 {
		bad("ptime %v is not a multiple of 5ms in 5ms–100ms", c.PTime)
	}
	if c.Start < 0 || c.Ring < 0 || c.Talk < 0 {
		bad("negative start, ring or talk")
	}
	if c.Ring < 100*time.Millisecond {
		bad("ring %v shorter than 100ms", c.Ring)
	}
	if c.Outcome < Answered || c.Outcome > Failed {
		bad("unknown outcome %d", int(c.Outcome))
	}
	if c.Transport != "udp" && c.Transport != "tcp" && c.Transport != "tls" {
		bad("transport %q is not udp, tcp or tls", c.Transport)
	}
	if c.FragmentInvite && (c.Transport != "udp" || is6) {
		bad("FragmentInvite needs UDP over IPv4")
	}
	if len(c.VLAN) > 2 {
		bad("more than two VLAN tags")
	}
	for _, v := range c.VLAN {
		if v == 0 || v >= 4095 {
			bad("VLAN id %d outside 1–4094", v)
		}
	}
	if c.Loss < 0 || c.Loss >= 1 || c.Reorder < 0 || c.Reorder >= 1 {
		bad("loss and reorder must be fractions in [0, 1)")
	}
	if c.SIPPort < 1 || c.SIPPort > 65535 {
		bad("SIP port %d", c.SIPPort)
	}
	for _, d := range c.DTMF + c.DTMFInfo {
		if dtmfEvent(byte(d)) < 0 {
			bad("DTMF digit %q is not 0-9, *, #, A-D", d)
		}
	}
	if c.Refer != nil && (c.Outcome != Answered || c.Refer.At < 100*time.Millisecond || c.Refer.At > c.Talk-200*time.Millisecond || c.Refer.To == "") {
		bad("REFER needs an answered call, a Refer-To and a time within the talk")
	}
	if c.SignalOnly && (c.DTMF != "" || c.SilentCopy.IsValid() || c.EarlyMedia) {
		bad("SignalOnly sends no RTP: no DTMF events, silent copy or early media")
	}
	for _, h := range c.Headers {
		if !strings.Contains(h, ":") || strings.ContainsAny(h, "\r\n") {
			bad("header %q is not one Name: value line", h)
		}
	}
	if c.Outcome != Answered && (c.Hold != nil || c.DTMF != "" || c.DTMFInfo != "") {
		bad("hold and DTMF need an answered call")
	}
	if c.OneWay && (c.Outcome != Answered || c.EarlyMedia || c.Hold != nil) {
		bad("a one-way call must be answered, without early media or hold")
	}
	if c.Hold != nil && (c.Hold.Style < HoldSendonly || c.Hold.Style > HoldZeroAddr) {
		bad("hold style %d", c.Hold.Style)
	}
	if c.Hold != nil && (c.Hold.At < 200*time.Millisecond || c.Hold.At+c.Hold.Length > c.Talk-200*time.Millisecond) {
		bad("hold %v+%v does not fit in talk %v", c.Hold.At, c.Hold.Length, c.Talk)
	}
	if err := errors.Join(errs...); err != nil {
		return c, ci, fmt.Errorf("pcaptest: call %d: %w", i, err)
	}
	return c, ci, nil
}

// dtmfEvent returns the RFC 4733 §3.2 event code of a DTMF digit, or -1.
func dtmfEvent(d byte) int {
	switch {
	case d >= '0' && d <= '9':
		return int(d - '0')
	case d == '*':
		return 10
	case d == '#':
		return 11
	case d >= 'A' && d <= 'D':
		return int(d-'A') + 12
	}
	return -1
}
