// Package sipmsg finds SIP messages and their SDP in UDP datagrams and TCP byte streams. It sits between packet
// decoding and the dialog tracker: the recorder hands it the transport payloads that Looks like SIP (on any port,
// not only 5060), TCP streams go through a Framer first, and each parsed Message is routed to a dialog shard by
// its Call-ID.
//
// # What it keeps
//
// A Message holds the start line, Call-ID, topmost Via branch, From/To/P-Asserted-Identity with their tags and
// user parts, CSeq, Content-Type, the body with its parsed SDP (also inside multipart bodies) and SIP INFO DTMF,
// and the raw bytes. Everything a Message refers to is its own copy.
//
// # Why its own parser
//
// The SIP and SDP parsers here are written for passive capture, where a message is evidence to be read as well as
// possible, never a request to be refused. Both emiago/sipgo (v1.7.2) and pion/sdp/v3 were tried on the project's
// third-party captures and the RFC 4475 torture messages first:
//
//   - sipgo rejects messages whose lines end in LF alone, and fails the whole message on one malformed header
//     (an unclosed '<' in From, a CSeq without number), where tshark still shows the message. It also builds every
//     header as an object: about 34 allocations per INVITE, against 9 here with the SDP parsed too, and about
//     half the speed of this parser.
//   - pion/sdp enforces RFC 8866's line order and rejects "m=image" (T.38 fax re-INVITEs, as in the nDPI FAX
//     capture), so a recorder would lose the fax leg's address.
//
// This parser reads only the headers the recorder needs, skips what it does not understand, and is fuzzed
// (FuzzParse, FuzzFramer, FuzzParseSDP). It does no validation beyond what finding those fields takes.
//
// # Errors
//
// Parse returns ErrNotSIP or ErrNoCallID; a malformed packet is data, so callers count these per reason and move
// on. ParseSDP returns ErrNotSDP. Nothing here panics on any input.
package sipmsg
