package rtpstream

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// tsharkDivergence records where tshark 4.0.17's "-z rtp,streams" figures
// for a stream are not the right answer, and why; keyed by SSRC.
type tsharkDivergence struct {
	// rtpBefore: tshark decodes the flow's packets from this frame on as
	// something else, so the comparison stops there.
	rtpBefore int
	// timingBefore: tshark leaves the packets from this frame on out of its
	// delta and jitter figures; those are compared on the packets before.
	timingBefore int
	why          string
}

var tsharkDivergences = map[uint32]tsharkDivergence{
	0x0EAF0EAF: {rtpBefore: 1436, why: "from frame 1436 on, tshark decodes this flow as T.38 because a MEGACO SDP " +
		"moved the port to image/t38, but the packets are still RTP (same SSRC, sequence 1844 onwards)"},
	0x17D90134: {timingBefore: 1437, why: "at frame 1437 the sender restarts its RTP timestamp at 0 (same SSRC, " +
		"sequence continuous): tshark marks every later packet 'wrong timestamp' and leaves it out of delta and " +
		"jitter; we re-anchor the jitter at the jump and go on measuring"},
}

// TestStatsMatchTshark runs every RTP stream of tshark's "-z rtp,streams"
// table through a Stats and compares the figures.
//
// Tolerances: tshark prints milliseconds with 3 decimals, and where its
// computation is the RFC's our figures agree to the printed digit, so packets
// and loss must be equal and deltas and jitter within 0.0015 ms (rounding
// plus float noise). Known departures, each asserted in its own way:
//   - duplicates (skinny.pcap, a SPAN port seeing both legs): tshark's Lost is
//     negative where ours is clamped to 0 (we check Duplicates instead), and
//     it runs the copies through its delta and jitter figures, which we skip;
//     its max delta is then measured from a later copy, so ours is at least
//     its and within 0.05 ms, and jitter agrees within 0.005 ms;
//   - streams that mix in packets without a clock rate (telephone-event,
//     an unknown dynamic payload type): tshark moves its arrival reference to
//     such a packet but keeps the timestamp reference of the audio packet
//     before it, so the next audio packet shows the whole event as jitter
//     (15.8 ms in SIP_DTMF2.pcap). We leave them out of RFC 3550 A.8
//     altogether, so our jitter is at most tshark's and equals the jitter of
//     the same stream without those packets;
//   - tshark truncates clock rates to whole kHz (11025 → 11000); the test
//     passes the truncated rate so that the comparison holds, and logs the
//     figure with the true rate (sip-rtp-l16.pcap's L16/11025 stream, whose
//     sender in fact paces its timestamps at 8000 Hz: 8.419 ms, not 8.369).
func TestStatsMatchTshark(t *testing.T) {
	dir := capturesDir(t)
	files := []string{
		"wireshark-samples/sip-rtp-g722.pcap",
		"wireshark-samples/sip-rtp-g726.pcap",
		"wireshark-samples/sip-rtp-l16.pcap",
		"wireshark-samples/sip-rtp-speex.pcap",
		"wireshark-samples/SIP_DTMF2.pcap",
		"wireshark-samples/nb6-telephone.pcap",
		"ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
		"ndpi/skinny.pcap",
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			path := filepath.Join(dir, name)
			want := readExpectStreams(t, path+".expect.txt")
			pkts := readUDP(t, path)
			maps := sdpMaps(pkts)
			for _, ts := range want {
				div := tsharkDivergences[ts.ssrc]
				if div.why != "" {
					t.Logf("%08x: tshark differs: %s", ts.ssrc, div.why)
				}
				// all: the stream as tshark counts it; timed: the
				// packets tshark times; audio: those with a clock.
				var all, timed, audio, trueRate Stats
				clockless := false
				for _, p := range pkts {
					if p.src != ts.src || p.dst != ts.dst || (div.rtpBefore > 0 && p.frame >= div.rtpBefore) {
						continue
					}
					h, _, err := Parse(p.payload)
					if err != nil || h.SSRC != ts.ssrc {
						continue
					}
					m, _ := lookupPT(maps, p.src, p.dst, h.PayloadType)
					rate := m.rate
					if strings.EqualFold(m.name, "telephone-event") {
						rate = 0 // as Stats.Update asks
					}
					trueRate.Update(h, p.time, rate)
					rate = rate / 1000 * 1000 // tshark's whole-kHz clock
					all.Update(h, p.time, rate)
					if div.timingBefore == 0 || p.frame < div.timingBefore {
						timed.Update(h, p.time, rate)
						if rate > 0 {
							audio.Update(h, p.time, rate)
						} else {
							clockless = true
						}
					}
				}
				got, tim, aud := all.Snapshot(), timed.Snapshot(), audio.Snapshot()
				t.Logf("%08x %-24q pkts %d/%d lost %d/%d dups %d maxΔ %.3f/%.3f meanJ %.3f/%.3f maxJ %.3f/%.3f (ours/tshark)",
					ts.ssrc, ts.payload, got.Packets, ts.pkts, got.Lost, ts.lost, got.Duplicates,
					tim.MaxDeltaMS, ts.maxDelta, tim.MeanJitterMS, ts.meanJitter, tim.MaxJitterMS, ts.maxJitter)

				if got.Packets != ts.pkts {
					t.Errorf("%08x: packets %d, tshark %d", ts.ssrc, got.Packets, ts.pkts)
				}
				if ts.lost < 0 {
					if got.Lost != 0 || got.Duplicates != -ts.lost {
						t.Errorf("%08x: lost %d duplicates %d, tshark lost %d", ts.ssrc, got.Lost, got.Duplicates, ts.lost)
					}
				} else if got.Lost != ts.lost {
					t.Errorf("%08x: lost %d, tshark %d", ts.ssrc, got.Lost, ts.lost)
				}

				const tol = 0.0015
				near := func(what string, ours, theirs, tol float64) {
					t.Helper()
					if math.Abs(ours-theirs) > tol {
						t.Errorf("%08x: %s %.4f ms, tshark %.3f ms (tolerance %.4f)", ts.ssrc, what, ours, theirs, tol)
					}
				}
				switch {
				case got.Duplicates > 0:
					if tim.MaxDeltaMS < ts.maxDelta-tol || tim.MaxDeltaMS > ts.maxDelta+0.05 {
						t.Errorf("%08x: max delta %.4f ms, tshark %.3f ms: want [tshark, tshark+0.05]", ts.ssrc, tim.MaxDeltaMS, ts.maxDelta)
					}
					near("mean jitter", tim.MeanJitterMS, ts.meanJitter, 0.005)
					near("max jitter", tim.MaxJitterMS, ts.maxJitter, 0.005)
				case clockless:
					near("max delta", tim.MaxDeltaMS, ts.maxDelta, tol)
					if tim.MeanJitterMS > ts.meanJitter+tol || tim.MaxJitterMS > ts.maxJitter+tol {
						t.Errorf("%08x: jitter mean %.4f max %.4f ms above tshark's %.3f %.3f", ts.ssrc,
							tim.MeanJitterMS, tim.MaxJitterMS, ts.meanJitter, ts.maxJitter)
					}
					near("mean jitter vs audio only", tim.MeanJitterMS, aud.MeanJitterMS, 1e-9)
					near("max jitter vs audio only", tim.MaxJitterMS, aud.MaxJitterMS, 1e-9)
				default:
					near("max delta", tim.MaxDeltaMS, ts.maxDelta, tol)
					near("mean jitter", tim.MeanJitterMS, ts.meanJitter, tol)
					near("max jitter", tim.MaxJitterMS, ts.maxJitter, tol)
				}
				if tr := trueRate.Snapshot(); math.Abs(tr.MeanJitterMS-got.MeanJitterMS) > tol {
					t.Logf("%08x: with the true clock rate the mean jitter is %.3f ms, not %.3f", ts.ssrc, tr.MeanJitterMS, got.MeanJitterMS)
				}
			}
		})
	}
}
