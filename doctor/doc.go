// Package doctor tells an administrator whether a mirror (SPAN) port is fit
// to record from, and what to fix when it is not.
//
// It sits beside the recording pipeline, not in it: an Analyzer is fed the
// same frames the recorder would get (from a live interface for a while, or
// from a capture file), decodes them with package packet, recognises SIP
// with sipmsg and RTP with rtpstream the way the recorder does, and keeps
// only counters and a small state per SIP dialog and RTP stream. Report
// then turns what it saw, plus facts about the capture interface (link
// speed, kernel drops, whether the port is receive-only: see Link), into
// Findings in plain words, each with a fix, and a verdict: Report.Fit.
//
// What it looks for:
//   - SIP: messages, dialogs, the ports and transports (UDP, TCP, TLS) it
//     runs on; SIP over TLS (port 5061) that cannot be followed without the
//     keys; encrypted media (SRTP) whose keys travel in encrypted signalling;
//   - RTP: streams matched to calls by their SDP, and whether both
//     directions of every answered call arrive (one-way audio is the most
//     common mirror mistake: only rx or only tx of a port mirrored);
//   - loss of RTP packets in sequence, kernel drops, and the frame rate
//     against the link speed (an oversubscribed mirror drops copies);
//   - VLAN tags (RSPAN) and tunnels (ERSPAN, VXLAN), which the recorder
//     unwraps; duplicate copies (the same traffic mirrored from two ports);
//   - a capture interface that is not receive-only (it has an address,
//     answers ARP), which a mirror port should not do.
//
// An Analyzer is a synchronous, single-goroutine value. Time comes from the
// packets: a capture file gives the same report on every run.
package doctor
