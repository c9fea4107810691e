package pcaptest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
)

// A sipMsg is one SIP message of a call's signaling, in time order.
type sipMsg struct {
	at         time.Duration
	fromCaller bool
	text       []byte
	method     string // request method; "" for a response
	code       int    // response status code; 0 for a request
	// fragment marks the padded INVITE that goes out as IPv4 fragments.
	fragment bool
	// split sends the message over two TCP segments, the second 500µs later.
	split bool
	// coalesce sends the message in the same TCP segment as the previous one.
	coalesce bool
}

// sipDialog builds the messages of one call. Its fields are the dialog state
// of RFC 3261 §12: Call-ID, local and remote tags, CSeq, remote targets.
type sipDialog struct {
	c          *Call
	codec      codecInfo
	rng        *rand.Rand
	transport  string         // "UDP", "TCP" or "TLS", as in Via
	callerNAT  netip.AddrPort // public address of the caller's signaling, or invalid
	callerTag  string
	calleeTag  string
	callerURI  string // sip:number@host
	calleeURI  string
	callerCont string // Contact URIs, the remote targets of in-dialog requests
	calleeCont string
	sessCaller uint64 // SDP o= session ids
	sessCallee uint64
	plan       *callPlan
}

func newSIPDialog(c *Call, codec codecInfo, rng *rand.Rand) *sipDialog {
	d := &sipDialog{
		c:         c,
		codec:     codec,
		rng:       rng,
		transport: strings.ToUpper(c.Transport),
	}
	if c.CallerNAT.IsValid() {
		d.callerNAT = netip.AddrPortFrom(c.CallerNAT.Addr(), uint16(c.SIPPort))
	}
	d.callerTag = d.hex(10)
	d.calleeTag = d.hex(10)
	if c.CallID == "" {
		c.CallID = d.hex(24) + "@" + uriHost(c.Caller.SIP)
	}
	d.callerURI = "sip:" + c.Caller.Number + "@" + uriHost(c.Caller.SIP)
	d.calleeURI = "sip:" + c.Callee.Number + "@" + uriHost(c.Callee.SIP)
	tp := ""
	if d.transport != "UDP" {
		tp = ";transport=" + c.Transport
	}
	d.callerCont = "sip:" + c.Caller.Number + "@" + hostPort(c.Caller.SIP, c.SIPPort) + tp
	d.calleeCont = "sip:" + c.Callee.Number + "@" + hostPort(c.Callee.SIP, c.SIPPort) + tp
	d.sessCaller = uint64(rng.Uint32())
	d.sessCallee = uint64(rng.Uint32())
	return d
}

func (d *sipDialog) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[d.rng.IntN(16)]
	}
	return string(b)
}

// uriHost formats a for the host part of a SIP URI (RFC 3261 §25.1: IPv6
// references are bracketed).
func uriHost(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

func hostPort(a netip.Addr, port int) string { return uriHost(a) + ":" + strconv.Itoa(port) }

func nameAddr(name, uri string) string {
	if name == "" {
		return "<" + uri + ">"
	}
	return strconv.Quote(name) + " <" + uri + ">"
}

// request is a SIP request before serialization.
type request struct {
	method   string
	ruri     string
	branch   string
	cseq     int
	byCaller bool
	toTag    bool // the request is in-dialog (or a non-2xx ACK): To carries the tag
	contact  bool
	headers  []string // extra "Name: value" lines
	ctype    string
	body     string
}

func (d *sipDialog) newBranch() string { return "z9hG4bK" + d.hex(16) }

// via returns the Via of a request sent by the caller or callee; in a
// response to a request from behind the NAT it carries received and rport
// (RFC 3261 §18.2.1, RFC 3581 §4).
func (d *sipDialog) via(byCaller, response bool, branch string) string {
	host := d.c.Callee.SIP
	if byCaller {
		host = d.c.Caller.SIP
	}
	v := "SIP/2.0/" + d.transport + " " + hostPort(host, d.c.SIPPort) + ";branch=" + branch
	switch {
	case !byCaller || !d.callerNAT.IsValid():
	case response:
		v += ";received=" + d.callerNAT.Addr().String() + ";rport=" + strconv.Itoa(int(d.callerNAT.Port()))
	default:
		v += ";rport"
	}
	return v
}

// fromTo returns the From and To of a message in a request sent by the
// caller (byCaller) or the callee; the callee's tag is included when toTag
// is set (all in-dialog messages, and responses other than 100).
func (d *sipDialog) fromTo(byCaller, calleeTag bool) (from, to string) {
	caller := nameAddr(d.c.Caller.Name, d.callerURI) + ";tag=" + d.callerTag
	callee := nameAddr(d.c.Callee.Name, d.calleeURI)
	if calleeTag {
		callee += ";tag=" + d.calleeTag
	}
	if byCaller {
		return caller, callee
	}
	return callee, caller
}

func (d *sipDialog) encodeRequest(r *request) []byte {
	var b strings.Builder
	from, to := d.fromTo(r.byCaller, r.toTag || !r.byCaller)
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", r.method, r.ruri)
	fmt.Fprintf(&b, "Via: %s\r\n", d.via(r.byCaller, false, r.branch))
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", from, to)
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\n", d.c.CallID, r.cseq, r.method)
	if r.contact {
		fmt.Fprintf(&b, "Contact: %s\r\n", d.contact(r.byCaller))
	}
	d.finish(&b, r.headers, r.ctype, r.body)
	return []byte(b.String())
}

func (d *sipDialog) contact(byCaller bool) string {
	if byCaller {
		return "<" + d.callerCont + ">"
	}
	return "<" + d.calleeCont + ">"
}

func (d *sipDialog) finish(b *strings.Builder, headers []string, ctype, body string) {
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	if body != "" {
		fmt.Fprintf(b, "Content-Type: %s\r\n", ctype)
	}
	// RFC 3261 §20.14: Content-Length is mandatory over TCP; we always send it.
	fmt.Fprintf(b, "Content-Length: %d\r\n\r\n%s", len(body), body)
}

var reasons = map[int]string{
	100: "Trying",
	180: "Ringing",
	183: "Session Progress",
	200: "OK",
	202: "Accepted",
	480: "Temporarily Unavailable",
	486: "Busy Here",
	487: "Request Terminated",
	503: "Service Unavailable",
}

// encodeResponse answers r (RFC 3261 §8.2.6): Via, From, To, Call-ID and
// CSeq copied, the To tag added except on 100 Trying.
func (d *sipDialog) encodeResponse(r *request, code int, sdp string) []byte {
	var b strings.Builder
	from, to := d.fromTo(r.byCaller, r.toTag || !r.byCaller || code > 100)
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reasons[code])
	fmt.Fprintf(&b, "Via: %s\r\n", d.via(r.byCaller, true, r.branch))
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", from, to)
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\n", d.c.CallID, r.cseq, r.method)
	if r.method == "INVITE" && code > 100 && code < 300 {
		fmt.Fprintf(&b, "Contact: %s\r\n", d.contact(!r.byCaller))
	}
	var hdr []string
	if code == 180 || code == 183 || code == 200 && r.method == "INVITE" {
		hdr = append(hdr, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE")
	}
	d.finish(&b, hdr, "application/sdp", sdp)
	return []byte(b.String())
}

// sdp returns a session description (RFC 4566 §5) for one audio stream with
// telephone events (RFC 4733 §7.1.1).
func (d *sipDialog) sdp(byCaller bool, version int, media netip.AddrPort, dir string) string {
	sess, user := d.sessCallee, d.c.Callee.Number
	if byCaller {
		sess, user = d.sessCaller, d.c.Caller.Number
	}
	ipv := "IP4"
	if media.Addr().Is6() {
		ipv = "IP6"
	}
	k := d.codec
	ms := int(d.c.PTime / time.Millisecond)
	proto, crypto := "RTP/AVP", ""
	if d.c.SRTP != nil && d.c.SRTP.ZRTP {
		crypto = "a=zrtp-hash:1.10 " + strings.Repeat("fe30efd0", 8) + "\r\n"
	} else if d.c.SRTP != nil && !d.c.SRTP.Unannounced {
		side := spanrec.CalleeSide
		if byCaller {
			side = spanrec.CallerSide
		}
		proto, crypto = "RTP/SAVP", d.plan.cryptoLines(side, version)
	}
	fmtp := ""
	if k.name == "G729" {
		fmtp = fmt.Sprintf("a=fmtp:%d annexb=no\r\n", k.pt)
		if d.c.G729AnnexB {
			fmtp = fmt.Sprintf("a=fmtp:%d annexb=yes\r\n", k.pt)
		}
	}
	channels := ""
	if e := d.c.Encoded; e != nil && e.Channels > 0 {
		channels = fmt.Sprintf("/%d", e.Channels)
	}
	return fmt.Sprintf("v=0\r\n"+
		"o=%s %d %d IN %s %s\r\n"+
		"s=pcaptest\r\n"+
		"c=IN %s %s\r\n"+
		"t=0 0\r\n"+
		"m=audio %d %s %d %d\r\n"+
		"a=rtpmap:%d %s/%d%s\r\n%s"+
		"a=rtpmap:%d telephone-event/8000\r\n"+
		"a=fmtp:%d 0-16\r\n"+
		"a=ptime:%d\r\n"+
		"a=%s\r\n%s",
		user, sess, version, ipv, media.Addr(),
		ipv, media.Addr(),
		media.Port(), proto, k.pt, dtmfPT,
		k.pt, d.c.Codec, k.clock, channels, fmtp,
		dtmfPT, dtmfPT, ms, dir, crypto)
}

// padHeaders returns extra INVITE headers that make an INVITE of n bytes
// at least size bytes long, the way a big INVITE with many proxy traces
// looks.
func (d *sipDialog) padHeaders(n, size int) []string {
	var hs []string
	for i := 0; n < size; i++ {
		h := fmt.Sprintf("X-Trace-Hop-%02d: node=%s;ts=%d;cid=%s", i, d.hex(12), 1700000000+i, d.hex(48))
		hs = append(hs, h)
		n += len(h) + 2
	}
	return hs
}
