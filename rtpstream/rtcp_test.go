package rtpstream

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseRTCPCapture reads the RTCP of nDPI's
// rtcp_multiple_pkts_in_the_same_datagram.pcap (SR and RR with SDES in
// each datagram) and of Wireshark's aaa.pcap (SR, SDES, BYE): the report
// blocks are those tshark shows.
func TestParseRTCPCapture(t *testing.T) {
	dir := capturesDir(t)
	var got []string
	for _, name := range []string{"ndpi/rtcp_multiple_pkts_in_the_same_datagram.pcap", "wireshark-samples/aaa.pcap"} {
		for _, p := range readUDP(t, filepath.Join(dir, filepath.FromSlash(name))) {
			if !IsRTCP(p.payload) {
				continue
			}
			reps, err := ParseRTCP(p.payload, nil)
			if err != nil {
				t.Errorf("%s frame %d: %v", name, p.frame, err)
			}
			line := fmt.Sprintf("%d:", p.frame)
			for _, r := range reps {
				b := r.Block
				line += fmt.Sprintf(" %s %#x→%#x frac=%.4f cum=%d high=%d jitter=%d", r.Kind, r.Reporter, r.Source, b.FractionLost, b.CumulativeLost, b.HighestSeq, b.Jitter)
			}
			got = append(got, line)
		}
	}
	// tshark -o rtcp.heuristic_rtcp:TRUE -Y rtcp -T fields -e rtcp.senderssrc
	// -e rtcp.ssrc.identifier -e rtcp.ssrc.fraction -e rtcp.ssrc.cum_nr
	// -e rtcp.ssrc.ext_high -e rtcp.ssrc.jitter (fraction in 1/256).
	want := []string{
		"1: sr 0x5d931534→0x0 frac=0.0000 cum=1 high=0 jitter=0",
		"2: rr 0x1932db4→0x0 frac=0.0039 cum=1 high=48834 jitter=1",
		"3: sr 0x5d931534→0x1932db4 frac=0.0000 cum=1 high=0 jitter=0",
		"4: rr 0x1932db4→0x5d931534 frac=0.0000 cum=1 high=49035 jitter=6",
		"5: sr 0x5d931534→0x1932db4 frac=0.0000 cum=1 high=0 jitter=0",
		"633:", // aaa.pcap: a sender report without report blocks
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("reports:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// xrVoIP builds an RTCP XR packet (RFC 3611 §2) from reporter with one
// VoIP metrics block (§4.7) about source, laid out field by field.
func xrVoIP(reporter, source uint32, f [28]byte) []byte {
	b := []byte{0x80, rtcpXR, 0, 10} // 11 words: header, SSRC, 9-word block
	b = binary.BigEndian.AppendUint32(b, reporter)
	b = append(b, xrVoIPMetrics, 0, 0, 8)
	b = binary.BigEndian.AppendUint32(b, source)
	return append(b, f[:]...)
}

// TestParseRTCPVoIPMetrics decodes a VoIP metrics block built from the
// layout of RFC 3611 §4.7, behind a receiver report in one compound.
func TestParseRTCPVoIPMetrics(t *testing.T) {
	var f [28]byte
	f[0], f[1], f[2], f[3] = 13, 3, 64, 2  // loss 13/256, discard 3/256, burst and gap density
	binary.BigEndian.PutUint16(f[4:], 120) // burst duration ms
	binary.BigEndian.PutUint16(f[6:], 4500)
	binary.BigEndian.PutUint16(f[8:], 86) // round trip ms
	binary.BigEndian.PutUint16(f[10:], 0) // end system delay: not measured
	f[12] = byte(0xe8)                    // signal −24 dBm0
	f[13] = 127                           // noise: unavailable
	f[14] = 35                            // RERL dB
	f[15] = 16                            // Gmin
	f[16], f[17] = 82, 127                // R factor 82, external R unavailable
	f[18], f[19] = 41, 39                 // MOS-LQ 4.1, MOS-CQ 3.9
	binary.BigEndian.PutUint16(f[22:], 40)
	binary.BigEndian.PutUint16(f[24:], 80)
	rr := []byte{0x80, rtcpRR, 0, 1, 0, 0, 0, 7} // RR from SSRC 7, no blocks
	reps, err := ParseRTCP(append(rr, xrVoIP(7, 0xabcdef01, f)...), nil)
	if err != nil || len(reps) != 1 {
		t.Fatalf("%d reports, %v", len(reps), err)
	}
	r := reps[0]
	m := r.VoIP
	if r.Kind != "xr-voip" || r.Reporter != 7 || r.Source != 0xabcdef01 || m == nil {
		t.Fatalf("report %+v", r)
	}
	check := func(name string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	deref := func(p any) any {
		switch v := p.(type) {
		case *int:
			if v != nil {
				return *v
			}
		case *float64:
			if v != nil {
				return *v
			}
		}
		return "nil"
	}
	check("loss rate", m.LossRate, 13.0/256)
	check("discard rate", m.DiscardRate, 3.0/256)
	check("burst density", m.BurstDensity, 0.25)
	check("burst ms", m.BurstMS, 120)
	check("gap ms", m.GapMS, 4500)
	check("round trip", deref(m.RoundTripMS), 86)
	check("end system delay", deref(m.EndSystemMS), "nil")
	check("signal", deref(m.SignalDBm), -24)
	check("noise", deref(m.NoiseDBm), "nil")
	check("RERL", deref(m.RERLDB), 35)
	check("R", deref(m.RFactor), 82)
	check("external R", deref(m.ExtRFactor), "nil")
	check("MOS-LQ", deref(m.MOSLQ), 4.1)
	check("MOS-CQ", deref(m.MOSCQ), 3.9)
	check("JB nominal", m.JitterBufferMS, 40)
	check("JB max", m.JitterBufMaxMS, 80)
}

// TestParseRTCPMalformed: lengths that overrun, a block count the packet
// cannot hold, a short VoIP block and bad padding are errors, and the
// reports before the fault are kept.
func TestParseRTCPMalformed(t *testing.T) {
	rrBlock := []byte{0x81, rtcpRR, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 5, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0}
	for _, tc := range []struct {
		name string
		b    []byte
		n    int
	}{
		{"overrun", []byte{0x80, rtcpRR, 0, 9, 0, 0, 0, 1}, 0},
		{"count too big", []byte{0x83, rtcpRR, 0, 1, 0, 0, 0, 1}, 0},
		{"short SR", []byte{0x80, rtcpSR, 0, 1, 0, 0, 0, 1}, 0},
		{"version", []byte{0x40, rtcpRR, 0, 1, 0, 0, 0, 1}, 0},
		{"short XR block", []byte{0x80, rtcpXR, 0, 3, 0, 0, 0, 1, 7, 0, 0, 1, 0, 0, 0, 2}, 0},
		{"padding not last", append([]byte{0xa0, rtcpRR, 0, 1, 0, 0, 0, 1}, rrBlock...), 0},
		{"good then bad", append(append([]byte{}, rrBlock...), 0x80, rtcpRR, 0, 5), 1},
	} {
		reps, err := ParseRTCP(tc.b, nil)
		if err == nil || len(reps) != tc.n {
			t.Errorf("%s: %d reports, error %v; want %d and an error", tc.name, len(reps), err, tc.n)
		}
	}
	reps, err := ParseRTCP(rrBlock, nil)
	if err != nil || len(reps) != 1 || reps[0].Block.CumulativeLost != 1 || reps[0].Block.FractionLost != 5.0/256 {
		t.Errorf("good RR: %+v %v", reps, err)
	}
}

// FuzzParseRTCP: any bytes parse without panic or reading outside the
// input, within MaxRTCPReports.
func FuzzParseRTCP(f *testing.F) {
	var m [28]byte
	f.Add(xrVoIP(1, 2, m))
	f.Add([]byte{0x81, rtcpRR, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 5, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x80, rtcpSR, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		reps, err := ParseRTCP(b, nil)
		if len(reps) > MaxRTCPReports {
			t.Fatalf("%d reports", len(reps))
		}
		for _, r := range reps {
			if (r.Block == nil) == (r.VoIP == nil) {
				t.Fatalf("report %+v has neither or both", r)
			}
		}
		if err == nil && len(b) > 0 && !IsRTCP(b) && b[0]&0x20 == 0 {
			t.Fatalf("accepted what IsRTCP refuses: %x", b)
		}
	})
}
