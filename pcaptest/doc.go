// Package pcaptest generates synthetic SIP+RTP captures for tests and
// benchmarks, and loads capture files into frames for benchmarks.
//
// It sits beside the pipeline, not in it: tests of the packet, sipmsg,
// dialog, rtpstream and recorder packages feed its captures through the real
// code and compare the result with Expected. A generated capture is a
// classic pcap file (microsecond timestamps, Ethernet link type) holding
// complete calls: RFC 3261 signaling with RFC 4566 SDP over UDP or TCP, and
// RFC 3550 RTP in both directions carrying a distinct sine tone per party,
// encoded with the project's own G.711 and G.722 encoders, plus RFC 4733
// telephone events and SIP INFO digits. Options add what real networks do to
// packets: loss, reordering, NAT, 802.1Q/QinQ tags, IPv4 fragments and
// duplicate copies from two mirror ports.
//
// Output is a pure function of Options: there is no clock and no global
// random source, every random choice (tags, branches, SSRCs, initial sequence
// numbers, lost packets) comes from Options.Seed.
package pcaptest
