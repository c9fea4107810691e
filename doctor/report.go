package doctor

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	sipdialog "github.com/spanrec/spanrec/dialog"
)

// Severity says how much a Finding matters.
type Severity string

// Severities, from least to most serious. Any SeverityError finding makes
// the port unfit to record from.
const (
	SeverityInfo    Severity = "info"    // what was seen; nothing to fix
	SeverityWarning Severity = "warning" // recording works, but something is worth fixing
	SeverityError   Severity = "error"   // calls will be missed or recorded incompletely
)

// Finding codes: stable identifiers for machines (the JSON output).
const (
	CodeNoTraffic      = "no-traffic"
	CodeNoSIP          = "no-sip"
	CodeSIP            = "sip"
	CodeTLS            = "sip-tls"
	CodeSRTP           = "srtp"
	CodeRTP            = "rtp"
	CodeOneWay         = "one-way-audio"
	CodeOneWaySIP      = "one-way-sip"
	CodeNoMedia        = "no-media"
	CodeUnmatchedRTP   = "rtp-without-sip"
	CodeRTPLoss        = "rtp-loss"
	CodeKernelDrops    = "kernel-drops"
	CodeOversubscribed = "oversubscribed"
	CodeRate           = "rate"
	CodeVLAN           = "vlan"
	CodeTunnel         = "tunnel"
	CodeDuplicates     = "duplicates"
	CodeNotReceiveOnly = "not-receive-only"
	CodeLinkDown       = "link-down"
	CodeTruncated      = "truncated"
	CodeSignalless     = "signalless"
	CodeSIPOversize    = "sip-oversize"
)

// Finding is one thing the doctor has to say, in plain words.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
}

// Link holds what is known about the capture interface, from outside the
// frames: its speed, the kernel's counters and whether it is receive-only.
// A capture file has none (Report takes nil).
type Link struct {
	Name      string `json:"name"`
	SpeedMbit int    `json:"speed_mbit,omitempty"` // 0 when unknown (virtual interfaces, link down)
	Up        bool   `json:"up"`
	// Problems are the ways the interface is not receive-only (it has an
	// address, answers ARP, has IPv6 on), each with its fix, as
	// capture.CheckReceiveOnly finds them.
	Problems []Problem `json:"problems,omitempty"`
	// KernelPackets and KernelDrops are the capture socket's counters
	// (frames delivered, frames dropped for lack of buffer) when
	// KernelStats is true.
	KernelStats   bool   `json:"kernel_stats"`
	KernelPackets uint64 `json:"kernel_packets"`
	KernelDrops   uint64 `json:"kernel_drops"`
}

// Problem is one reason an interface is not fit as a receive-only mirror
// port, with the command that fixes it.
type Problem struct {
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// Counters are the figures behind the findings.
type Counters struct {
	Frames          uint64            `json:"frames"`
	Packets         uint64            `json:"packets"` // UDP/TCP packets after decoding and deduplication
	Duplicates      uint64            `json:"duplicates"`
	NonIP           uint64            `json:"non_ip"`
	Malformed       uint64            `json:"malformed"`
	VLANs           map[uint16]uint64 `json:"vlans,omitempty"`
	Tunnels         map[string]uint64 `json:"tunnels,omitempty"`
	Seconds         float64           `json:"seconds"` // from the first to the last frame
	AvgMbit         float64           `json:"avg_mbit"`
	PeakMbit        float64           `json:"peak_mbit"` // busiest whole second, 0 if under two seconds were seen
	SIPMessages     uint64            `json:"sip_messages"`
	SIPErrors       uint64            `json:"sip_errors"`
	SIPPorts        []string          `json:"sip_ports,omitempty"` // "UDP 5060", "TCP 5060"
	TLSConnections  int               `json:"tls_connections"`
	Dialogs         int               `json:"dialogs"`
	Answered        int               `json:"answered"`
	RTPStreams      int               `json:"rtp_streams"`
	RTPPackets      uint64            `json:"rtp_packets"`
	RTPExpected     uint64            `json:"rtp_expected"`
	RTPLost         uint64            `json:"rtp_lost"`
	RTCPPackets     uint64            `json:"rtcp_packets"`
	UnmatchedFlows  int               `json:"unmatched_rtp_flows"`
	UnmatchedPkts   uint64            `json:"unmatched_rtp_packets"`
	OneWayCalls     int               `json:"one_way_calls"`
	CallsNotTracked uint64            `json:"calls_not_tracked,omitempty"` // beyond Config.MaxDialogs

	// Signalless counts the calls the recorder would make of RTP no SDP
	// claims (paired by addresses, RTP by its shape), SignallessOneWay
	// those of them seen in one direction only.
	Signalless       int `json:"signalless_calls"`
	SignallessOneWay int `json:"signalless_one_way,omitempty"`
	// SIPOversize counts SIP messages over TCP dropped for exceeding the
	// framer's limit.
	SIPOversize uint64 `json:"sip_oversize,omitempty"`
}

// Call is what the doctor saw of one SIP dialog.
type Call struct {
	CallID    string    `json:"call_id"`
	Caller    string    `json:"caller"`
	Callee    string    `json:"callee"`
	Transport string    `json:"transport"`
	Start     time.Time `json:"start"`
	Status    int       `json:"status"` // final answer to the INVITE (the retried one after a 401/407), 0 if none seen
	Answered  bool      `json:"answered"`
	// Holds counts the spans when the SDP said a side sends no media
	// (hold, one-way by negotiation): silence there is not the mirror's.
	Holds int `json:"holds,omitempty"`
	// mediaExpected: the SDP let some side send while answered.
	mediaExpected bool
	// CallerToCallee and CalleeToCaller count the RTP packets seen each way.
	CallerToCallee uint64 `json:"caller_to_callee"`
	CalleeToCaller uint64 `json:"callee_to_caller"`
	Lost           uint64 `json:"lost"`
	OneWay         bool   `json:"one_way"`     // answered, RTP one way only
	OneWaySIP      bool   `json:"one_way_sip"` // SIP messages of one party only
	SRTP           bool   `json:"srtp"`
}

// Report is the doctor's verdict.
type Report struct {
	Source   string    `json:"source"` // the interface or file analysed
	Fit      bool      `json:"fit"`
	Findings []Finding `json:"findings"`
	Link     *Link     `json:"link,omitempty"`
	Counters Counters  `json:"counters"`
	Calls    []Call    `json:"calls"`
}

// Thresholds of the verdict.
const (
	// minOneWay is how many packets one direction of an answered call must
	// carry, with none the other way, to call it one-way audio.
	minOneWay = 10
	// lossError and lossWarn are the shares of RTP packets missing in
	// sequence that make an error and a warning.
	lossError = 0.01
	lossWarn  = 0.001
	// rateError and rateWarn are the shares of the link speed that make
	// the busiest second an oversubscription error and a warning.
	rateError = 0.9
	rateWarn  = 0.7
)

// Report returns the verdict on what the Analyzer saw so far. source names
// what was analysed; link is nil for a capture file. Report may be called
// more than once; it does not change the Analyzer.
func (a *Analyzer) Report(source string, link *Link) Report {
	r := Report{Source: source, Link: link, Calls: []Call{}, Findings: []Finding{}}
	c := &r.Counters
	st := a.dec.Stats()
	c.Frames = a.frames
	c.Packets = a.packets
	c.Duplicates = st.Duplicates
	c.NonIP = st.NonIP
	c.Malformed = st.Truncated
	if len(a.vlans) > 0 {
		c.VLANs = maps.Clone(a.vlans)
	}
	if len(a.tunnels) > 0 {
		c.Tunnels = maps.Clone(a.tunnels)
	}
	if a.frames > 1 {
		c.Seconds = a.last.Sub(a.first).Seconds()
	}
	if c.Seconds > 0 {
		c.AvgMbit = float64(a.wireBytes) * 8 / c.Seconds / 1e6
	}
	if a.fullSecs >= 1 {
		c.PeakMbit = float64(a.peakBytes) * 8 / 1e6
	}
	c.SIPMessages, c.SIPErrors = a.sipMsgs, a.sipErrs
	ports := slices.SortedFunc(maps.Keys(a.sipPorts), func(x, y sipPort) int {
		return cmp.Or(-cmp.Compare(a.sipPorts[x], a.sipPorts[y]), cmp.Compare(x.transport, y.transport), cmp.Compare(x.port, y.port))
	})
	for i, p := range ports {
		if i == 8 {
			break
		}
		c.SIPPorts = append(c.SIPPorts, fmt.Sprintf("%s %d", p.transport, p.port))
	}
	c.TLSConnections = len(a.tlsFlows)
	c.Dialogs = len(a.dialogs)
	c.CallsNotTracked = a.dialogsOver
	c.RTPStreams = len(a.streams)
	c.RTCPPackets = a.rtcp
	c.UnmatchedFlows = len(a.unbound)
	c.UnmatchedPkts = a.unboundPkts
	c.SIPOversize = a.sipOversize
	signalless := a.orphans.Preview()
	c.Signalless = len(signalless)
	for _, g := range signalless {
		if !g.Paired {
			c.SignallessOneWay++
		}
	}
	// Complete signalless calls are recorded, from their RTP alone: the
	// port is fit for them, though numbers and names are missing.
	signallessOK := c.Signalless > 0 && c.SignallessOneWay == 0
	var signallessWhy string
	if c.Signalless > 0 {
		_, signallessWhy, _ = strings.Cut(signalless[0].Reason, ": ")
	}

	var oneWay, oneWaySIP, noMedia []*Call
	srtp := 0
	for _, d := range a.dialogOrder {
		call := Call{
			CallID: d.callID, Caller: d.caller, Callee: d.callee, Transport: d.transport,
			Start: d.start, Status: d.d.Code, CallerToCallee: d.sent[callerSide],
			CalleeToCaller: d.sent[calleeSide], SRTP: d.srtp,
		}
		for _, s := range d.streams {
			sn := s.stats.Snapshot()
			c.RTPPackets += uint64(sn.Packets)
			c.RTPExpected += uint64(sn.Expected)
			call.Lost += uint64(sn.Lost)
		}
		c.RTPLost += call.Lost
		answered := d.d.Status == spanrec.Answered
		if answered {
			c.Answered++
		}
		if d.srtp {
			srtp++
		}
		// One SDP is enough to match both directions: the other side
		// sends to its address, and (symmetric RTP) from it. The silent
		// direction is the mirror's fault only if the SDP said it should
		// flow (the rule the import's notes follow).
		fwd, back := d.sent[callerSide], d.sent[calleeSide]
		from, to := d.d.Answer, d.d.End
		if to.IsZero() || to.Before(from) {
			to = a.last
		}
		holds := d.d.HoldsWithin(from, to)
		call.Holds = len(holds)
		silent := spanrec.CalleeSide
		if fwd == 0 {
			silent = spanrec.CallerSide
		}
		call.OneWay = answered && (d.sdp[callerSide] || d.sdp[calleeSide]) && (fwd == 0) != (back == 0) && max(fwd, back) >= minOneWay &&
			sipdialog.Expected(holds, silent, from, to)
		call.Answered = answered
		call.mediaExpected = sipdialog.Expected(holds, spanrec.CallerSide, from, to) || sipdialog.Expected(holds, spanrec.CalleeSide, from, to)
		call.OneWaySIP = (d.msgs[callerSide] == 0) != (d.msgs[calleeSide] == 0) && max(d.msgs[callerSide], d.msgs[calleeSide]) >= 2 && d.ended
		r.Calls = append(r.Calls, call)
	}
	for i := range r.Calls {
		call := &r.Calls[i]
		d := a.dialogOrder[i]
		if call.OneWaySIP {
			oneWaySIP = append(oneWaySIP, call)
		}
		switch {
		case call.OneWay:
			oneWay = append(oneWay, call)
		case call.Answered && d.sdp[callerSide] && d.sdp[calleeSide] && call.CallerToCallee+call.CalleeToCaller == 0 && !d.srtp &&
			call.mediaExpected:
			noMedia = append(noMedia, call)
		}
	}
	c.OneWayCalls = len(oneWay)

	add := func(s Severity, code, fix, format string, args ...any) {
		r.Findings = append(r.Findings, Finding{Severity: s, Code: code, Message: fmt.Sprintf(format, args...), Fix: fix})
	}

	// The interface itself.
	if link != nil {
		if !link.Up {
			add(SeverityError, CodeLinkDown, fmt.Sprintf("ip link set %s up; check the cable and the switch's mirror session", link.Name),
				"the interface %s is down", link.Name)
		}
		for _, p := range link.Problems {
			add(SeverityWarning, CodeNotReceiveOnly, p.Fix, "the capture interface is not receive-only: %s", p.Message)
		}
		if link.KernelStats && link.KernelDrops > 0 {
			total := link.KernelPackets + link.KernelDrops
			add(SeverityError, CodeKernelDrops,
				"give the capture more buffer and CPU: a faster disk, fewer other processes, or a capture NIC with more receive queues",
				"the kernel dropped %d of %d frames (%.2f%%) because spanrec did not read them fast enough: those calls lose audio",
				link.KernelDrops, total, pct(link.KernelDrops, total))
		}
	}

	// Traffic and rate.
	if a.frames == 0 {
		fix := "check that the switch's mirror session is active and points at this port, and that the cable is in"
		if link == nil {
			fix = "capture on the mirror port (tcpdump -i IF -w FILE) while calls are made"
		}
		add(SeverityError, CodeNoTraffic, fix, "no frames at all arrived")
	} else {
		rate := fmt.Sprintf("%d frames in %.1f s, %.2f Mbit/s on average", c.Frames, c.Seconds, c.AvgMbit)
		if c.PeakMbit > 0 {
			rate += fmt.Sprintf(", %.2f Mbit/s in the busiest second", c.PeakMbit)
		}
		if link != nil && link.SpeedMbit > 0 {
			rate += fmt.Sprintf(", on a %s port", speedWords(link.SpeedMbit))
		}
		add(SeverityInfo, CodeRate, "", "%s", rate)
		if link != nil && link.SpeedMbit > 0 {
			peak := max(c.PeakMbit, c.AvgMbit)
			share := peak / float64(link.SpeedMbit)
			switch {
			case share >= rateError:
				add(SeverityError, CodeOversubscribed,
					"mirror fewer ports or only the VoIP VLAN into this session, or use a faster mirror port (the switch silently drops the copies that do not fit)",
					"frames arrive at %.0f Mbit/s on a %s port: the mirror is oversubscribed and the switch is dropping copies",
					peak, speedWords(link.SpeedMbit))
			case share >= rateWarn:
				add(SeverityWarning, CodeOversubscribed,
					"mirror fewer ports or only the VoIP VLAN, or use a faster mirror port before traffic grows",
					"frames arrive at %.0f Mbit/s on a %s port (%.0f%%): close to the point where the switch drops copies",
					peak, speedWords(link.SpeedMbit), share*100)
			}
		}
	}
	if st.Truncated > 0 && st.Truncated*100 >= st.Frames {
		add(SeverityWarning, CodeTruncated, "capture whole frames (tcpdump -s 0; spanrec captures whole frames)",
			"%d frames (%.1f%%) were cut short or malformed", st.Truncated, pct(st.Truncated, st.Frames))
	}

	// Layer 2 and tunnels.
	if len(a.vlans) > 0 {
		ids := slices.Sorted(maps.Keys(a.vlans))
		add(SeverityInfo, CodeVLAN, "", "frames carry 802.1Q VLAN tags %s (an RSPAN or a trunk port mirrored): spanrec reads through them", joinIDs(ids))
	}
	if len(a.tunnels) > 0 {
		names := slices.Sorted(maps.Keys(a.tunnels))
		add(SeverityInfo, CodeTunnel, "", "traffic arrives encapsulated (%s): a remote mirror; spanrec unwraps it", strings.Join(names, ", "))
	}
	if st.Duplicates > 0 && st.Duplicates*100 >= max(st.Decoded, 1) {
		add(SeverityWarning, CodeDuplicates,
			"harmless for recording (spanrec keeps one copy); to halve the load on the mirror, mirror each port in one direction only, or leave out ports whose traffic another mirrored port already carries",
			"%d packets (%.0f%% of %d) arrived twice: the same traffic is mirrored from two ports, or both rx and tx of ports that talk to each other",
			st.Duplicates, pct(st.Duplicates, st.Decoded+st.Duplicates), st.Decoded+st.Duplicates)
	}

	// Signalling.
	switch {
	case a.sipMsgs == 0 && len(a.tlsFlows) > 0 && signallessOK:
		add(SeverityWarning, CodeTLS,
			"give spanrec the TLS key log of the PBX or phones (--keys; README \"Decrypting SIP over TLS\"), or use SIP over UDP or TCP on the mirrored legs, to get numbers and names",
			"only encrypted SIP (TLS, port 5061) seen on %d connections: %d %s recorded from their RTP alone (signalless: parties are addresses, no numbers)",
			len(a.tlsFlows), c.Signalless, plural(c.Signalless, "call is", "calls are"))
	case a.sipMsgs == 0 && signallessOK:
		add(SeverityWarning, CodeSignalless,
			"mirror the port of the PBX or the SIP trunk too, to get numbers and names",
			"no SIP seen, but %d %s recorded from their RTP alone (signalless: parties are addresses, no numbers): %s",
			c.Signalless, plural(c.Signalless, "call is", "calls are"), signallessWhy)
	case a.sipMsgs == 0 && len(a.tlsFlows) > 0:
		add(SeverityError, CodeTLS,
			"give spanrec the TLS key log of the PBX or phones (--keys; README \"Decrypting SIP over TLS\"), or use SIP over UDP or TCP on the mirrored legs: without the keys spanrec cannot read TLS",
			"only encrypted SIP (TLS, port 5061) seen on %d connections: calls cannot be followed, and the SRTP keys they carry cannot be read", len(a.tlsFlows))
	case a.sipMsgs == 0:
		fix := "mirror the port of the PBX or the SIP trunk (the signalling goes there), or make a call while the doctor listens"
		msg := "no SIP seen: without signalling no call can be recorded"
		if len(a.unbound) > 0 {
			msg = fmt.Sprintf("no SIP seen, but %d RTP flows: the media is mirrored, the signalling is not", len(a.unbound))
		}
		if c.SignallessOneWay > 0 {
			msg += fmt.Sprintf("; %d calls of RTP alone were seen in one direction only (mirror both rx and tx)", c.SignallessOneWay)
		}
		add(SeverityError, CodeNoSIP, fix, "%s", msg)
	default:
		add(SeverityInfo, CodeSIP, "", "SIP: %d messages, %d %s (%d answered) on %s",
			a.sipMsgs, c.Dialogs, plural(c.Dialogs, "call", "calls"), c.Answered, strings.Join(c.SIPPorts, ", "))
		if len(a.tlsFlows) > 0 {
			add(SeverityWarning, CodeTLS,
				"give spanrec their TLS key log (--keys; README \"Decrypting SIP over TLS\"), or use SIP over UDP or TCP on the mirrored legs",
				"also %d encrypted SIP connections (TLS, port 5061): calls on them cannot be recorded", len(a.tlsFlows))
		}
	}
	if srtp > 0 {
		add(SeverityWarning, CodeSRTP,
			"spanrec does not decrypt SRTP: use plain RTP on the mirrored legs (or record where the PBX terminates the encryption)",
			"%d calls negotiated encrypted media (SRTP): their audio cannot be recorded", srtp)
	}

	// Media.
	if c.RTPStreams > 0 || a.unboundPkts > 0 {
		add(SeverityInfo, CodeRTP, "", "RTP: %d %s matched to calls (%d packets), %d RTCP packets",
			c.RTPStreams, plural(c.RTPStreams, "stream", "streams"), c.RTPPackets, c.RTCPPackets)
	}
	if len(oneWay) > 0 {
		ex := oneWay[0]
		from, to := ex.Caller, ex.Callee
		if ex.CallerToCallee == 0 {
			from, to = to, from
		}
		add(SeverityError, CodeOneWay,
			"mirror both rx and tx (ingress and egress) of the port, or a firewall on this host drops mirrored frames",
			"one-way audio in %d of %d answered calls: e.g. call %s → %s, only %s→%s seen",
			len(oneWay), c.Answered, ex.Caller, ex.Callee, from, to)
	}
	if len(oneWaySIP) > 0 {
		ex := oneWaySIP[0]
		add(SeverityError, CodeOneWaySIP,
			"mirror both rx and tx (ingress and egress) of the port, or a firewall on this host drops mirrored frames",
			"SIP seen one way only in %d of %d calls: e.g. call %s → %s, only the messages %s sent arrive",
			len(oneWaySIP), c.Dialogs, ex.Caller, ex.Callee, a.sipSender(ex.CallID))
	}
	if len(noMedia) > 0 {
		add(SeverityWarning, CodeNoMedia,
			"mirror the ports the media flows through too (phones that talk directly to each other, a media gateway or SBC)",
			"%d answered calls carried no RTP this port sees: the audio takes a path that is not mirrored", len(noMedia))
	}
	if c.SIPOversize > 0 {
		add(SeverityWarning, CodeSIPOversize,
			"find which equipment sends SIP messages this large (huge SDP or headers) over TCP; spanrec drops any message over 64 KiB",
			"%d SIP messages over TCP were larger than 64 KiB and dropped: their calls may be missing or incomplete", c.SIPOversize)
	}
	if a.sipMsgs > 0 && c.Signalless > 0 {
		add(SeverityInfo, CodeSignalless, "",
			"%d %s recorded from RTP that no SIP seen claims (signalless: parties are addresses): %s",
			c.Signalless, plural(c.Signalless, "call is", "calls are"), signallessWhy)
	}
	if a.sipMsgs > 0 && len(a.unbound) > 0 {
		add(SeverityWarning, CodeUnmatchedRTP,
			"harmless if calls were in progress when listening started; otherwise mirror the port of the PBX or trunk that carries their signalling",
			"%d RTP flows (%d packets) matched no call seen in SIP", len(a.unbound), a.unboundPkts)
	}
	if c.RTPExpected > 0 && c.RTPLost > 0 {
		share := float64(c.RTPLost) / float64(c.RTPExpected)
		var calls int
		for _, call := range r.Calls {
			if call.Lost > 0 {
				calls++
			}
		}
		sev := SeverityInfo
		switch {
		case share >= lossError:
			sev = SeverityError
		case share >= lossWarn:
			sev = SeverityWarning
		}
		add(sev, CodeRTPLoss,
			"if the mirror port is busy, the switch drops copies: mirror less traffic or use a faster port; otherwise the network between the phones loses them",
			"%d of %d RTP packets (%.2f%%) are missing in sequence, in %d %s: the recordings will have gaps",
			c.RTPLost, c.RTPExpected, share*100, calls, plural(calls, "call", "calls"))
	}

	r.Fit = true
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			r.Fit = false
		}
	}
	// Most serious first, in the order found within a severity.
	slices.SortStableFunc(r.Findings, func(x, y Finding) int { return cmp.Compare(rank(y.Severity), rank(x.Severity)) })
	return r
}

// sipSender names the party of a one-way-signalling call whose messages
// were seen.
func (a *Analyzer) sipSender(callID string) string {
	d := a.dialogs[callID]
	if d.msgs[callerSide] > 0 {
		return d.caller
	}
	return d.callee
}

func rank(s Severity) int {
	switch s {
	case SeverityError:
		return 2
	case SeverityWarning:
		return 1
	}
	return 0
}

func pct(n, of uint64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) * 100 / float64(of)
}

func speedWords(mbit int) string {
	if mbit >= 1000 && mbit%1000 == 0 {
		return fmt.Sprintf("%d Gbit/s", mbit/1000)
	}
	return fmt.Sprintf("%d Mbit/s", mbit)
}

func joinIDs(ids []uint16) string {
	var b strings.Builder
	for i, id := range ids {
		if i == 12 {
			fmt.Fprintf(&b, " and %d more", len(ids)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, id)
	}
	return b.String()
}

// WriteJSON writes r as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("doctor: write report: %w", err)
	}
	return nil
}

// WriteText writes r for a person: the verdict, then every finding with
// its fix, then the calls that have a problem.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Fit {
		fmt.Fprintf(&b, "%s: FIT to record from\n", r.Source)
	} else {
		n := 0
		for _, f := range r.Findings {
			if f.Severity == SeverityError {
				n++
			}
		}
		fmt.Fprintf(&b, "%s: NOT FIT to record from (%d %s)\n", r.Source, n, plural(n, "problem", "problems"))
	}
	for _, f := range r.Findings {
		mark := map[Severity]string{SeverityError: "PROBLEM", SeverityWarning: "warning", SeverityInfo: "seen"}[f.Severity]
		fmt.Fprintf(&b, "\n  %-8s %s\n", mark+":", f.Message)
		if f.Fix != "" {
			fmt.Fprintf(&b, "  %-8s %s\n", "fix:", f.Fix)
		}
	}
	var bad []Call
	for _, c := range r.Calls {
		if c.OneWay || c.Lost > 0 {
			bad = append(bad, c)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(&b, "\nCalls with a problem (%d):\n", len(bad))
		for i, c := range bad {
			if i == 20 {
				fmt.Fprintf(&b, "  … and %d more (--json lists them all)\n", len(bad)-i)
				break
			}
			var what []string
			if c.OneWay {
				what = append(what, "one-way audio")
			}
			if c.Lost > 0 {
				what = append(what, fmt.Sprintf("%d RTP packets lost", c.Lost))
			}
			fmt.Fprintf(&b, "  %s %s → %s: %d packets caller→callee, %d callee→caller; %s\n",
				c.Start.UTC().Format("15:04:05"), c.Caller, c.Callee, c.CallerToCallee, c.CalleeToCaller, strings.Join(what, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
