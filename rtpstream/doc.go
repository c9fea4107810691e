// Package rtpstream recognises RTP and RTCP in UDP payloads and measures the
// quality of each RTP stream; it sits between the packet decoder and the call
// assembler in the recorder's pipeline.
//
// It owns four things:
//
//   - [Parse]: the fixed RTP header, CSRC list, header extension and padding
//     of RFC 3550 §5, without allocating;
//   - [IsRTCP] and [LooksRTP]: telling RTCP from RTP on a multiplexed port
//     (RFC 5761 §4) and recognising RTP on flows no SDP announced;
//   - [Stats]: one stream's sequence accounting (RFC 3550 A.1 and A.3),
//     interarrival jitter (A.8), largest gap between packets and an E-model
//     [MOS] (ITU-T G.107);
//   - [Events]: RFC 4733 telephone-event payloads turned into key presses.
//
// # Time
//
// Nothing here reads the clock: every time comes from the capture time of a
// packet, so a pcap import and a live capture give the same figures.
//
// # Concurrency
//
// The package starts no goroutines and holds no global mutable state. A
// [Stats] or an [Events] belongs to one stream and is not safe for concurrent
// use; the recorder gives each shard its own.
//
// # Comparing with Wireshark
//
// The statistics follow RFC 3550; they agree with tshark's "-z rtp,streams"
// table except where tshark departs from the RFC: tshark reports negative
// loss when packets are duplicated (here loss is clamped at 0), and it
// truncates the RTP clock rate to whole kHz (11025 Hz becomes 11000 Hz), and
// it lets packets without a clock rate (telephone events) disturb the jitter
// of the audio packet after them, where here they are left out of it.
package rtpstream
