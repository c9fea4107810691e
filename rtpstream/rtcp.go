package rtpstream

import (
	"encoding/binary"
	"errors"

	"github.com/spanrec/spanrec"
)

// ErrRTCP is returned by ParseRTCP for a compound packet that is not
// valid RTCP (RFC 3550 A.2): the reports found before the fault are
// still returned.
var ErrRTCP = errors.New("rtpstream: malformed RTCP")

// RTCP packet types (RFC 3550 §12.1, RFC 3611 §2) and the XR block type
// of VoIP metrics (RFC 3611 §4.7).
const (
	rtcpSR        = 200
	rtcpRR        = 201
	rtcpXR        = 207
	xrVoIPMetrics = 7
)

// MaxRTCPReports bounds the reports ParseRTCP takes from one compound
// packet: a datagram cannot hold many more (31 report blocks per packet).
const MaxRTCPReports = 64

// RTCPReport is one report of an RTCP compound packet about the stream
// whose SSRC is Source. Its At is left zero for the caller to set, and a
// report block's JitterMS nil (the clock rate is the stream's).
type RTCPReport struct {
	Source uint32
	spanrec.RTCPReport
}

// ParseRTCP appends to dst the reception report blocks of the sender and
// receiver reports (RFC 3550 §6.4) and the VoIP metrics blocks of the
// extended reports (RFC 3611 §4.7) in the compound RTCP packet b, at most
// MaxRTCPReports, and returns it. Other packet and block types are
// skipped. It never reads outside b; on a malformed packet it returns what
// it found before with ErrRTCP. SRTCP must be decrypted first.
func ParseRTCP(b []byte, dst []RTCPReport) ([]RTCPReport, error) {
	found := 0
	for len(b) > 0 {
		if len(b) < 4 || b[0]>>6 != 2 || b[1] < 192 || b[1] > 223 {
			return dst, ErrRTCP
		}
		n := 4 * (int(binary.BigEndian.Uint16(b[2:4])) + 1)
		if n > len(b) {
			return dst, ErrRTCP
		}
		pkt := b[:n]
		b = b[n:]
		if pkt[0]&0x20 != 0 { // padding: only on the last packet, counted in its length
			pad := int(pkt[n-1])
			if pad == 0 || pad > n-8 || len(b) > 0 {
				return dst, ErrRTCP
			}
			pkt = pkt[:n-pad]
		}
		switch pkt[1] {
		case rtcpSR, rtcpRR, rtcpXR:
			if len(pkt) < 8 {
				return dst, ErrRTCP
			}
		default:
			continue
		}
		count := int(pkt[0] & 0x1f)
		reporter := binary.BigEndian.Uint32(pkt[4:8])
		var blocks []byte
		kind := ""
		switch pkt[1] {
		case rtcpSR:
			if len(pkt) < 28 {
				return dst, ErrRTCP
			}
			blocks, kind = pkt[28:], "sr"
		case rtcpRR:
			blocks, kind = pkt[8:], "rr"
		case rtcpXR:
			var err error
			dst, found, err = parseXR(pkt[8:], reporter, dst, found)
			if err != nil {
				return dst, err
			}
			continue
		}
		if len(blocks) < 24*count {
			return dst, ErrRTCP
		}
		for i := range count {
			if found >= MaxRTCPReports {
				return dst, nil
			}
			r := blocks[24*i : 24*i+24]
			lost := int32(binary.BigEndian.Uint32(r[4:8])<<8) >> 8 // 24-bit two's complement
			dst = append(dst, RTCPReport{
				Source: binary.BigEndian.Uint32(r[0:4]),
				RTCPReport: spanrec.RTCPReport{Kind: kind, Reporter: reporter, Block: &spanrec.ReportBlock{
					FractionLost:   float64(r[4]) / 256,
					CumulativeLost: lost,
					HighestSeq:     binary.BigEndian.Uint32(r[8:12]),
					Jitter:         binary.BigEndian.Uint32(r[12:16]),
				}},
			})
			found++
		}
	}
	return dst, nil
}

// parseXR reads the report blocks of an XR packet (after its SSRC).
func parseXR(b []byte, reporter uint32, dst []RTCPReport, found int) ([]RTCPReport, int, error) {
	for len(b) > 0 {
		if len(b) < 4 {
			return dst, found, ErrRTCP
		}
		n := 4 * (int(binary.BigEndian.Uint16(b[2:4])) + 1)
		if n > len(b) {
			return dst, found, ErrRTCP
		}
		blk := b[:n]
		b = b[n:]
		if blk[0] != xrVoIPMetrics {
			continue
		}
		if len(blk) < 36 {
			return dst, found, ErrRTCP
		}
		if found >= MaxRTCPReports {
			return dst, found, nil
		}
		dst = append(dst, RTCPReport{
			Source:     binary.BigEndian.Uint32(blk[4:8]),
			RTCPReport: spanrec.RTCPReport{Kind: "xr-voip", Reporter: reporter, VoIP: voipMetrics(blk)},
		})
		found++
	}
	return dst, found, nil
}

// voipMetrics decodes a VoIP metrics block (RFC 3611 §4.7.1–4.7.7).
func voipMetrics(b []byte) *spanrec.VoIPMetrics {
	u16 := func(i int) int { return int(binary.BigEndian.Uint16(b[i : i+2])) }
	m := &spanrec.VoIPMetrics{
		LossRate:       float64(b[8]) / 256,
		DiscardRate:    float64(b[9]) / 256,
		BurstDensity:   float64(b[10]) / 256,
		GapDensity:     float64(b[11]) / 256,
		BurstMS:        u16(12),
		GapMS:          u16(14),
		JitterBufferMS: u16(30),
		JitterBufMaxMS: u16(32),
	}
	// Delays of 0 are "not measured"; levels and R factors of 127 are
	// "unavailable"; MOS values of 127 likewise.
	if v := u16(16); v != 0 {
		m.RoundTripMS = &v
	}
	if v := u16(18); v != 0 {
		m.EndSystemMS = &v
	}
	level := func(v byte) *int {
		if v == 127 {
			return nil
		}
		x := int(int8(v))
		return &x
	}
	m.SignalDBm, m.NoiseDBm = level(b[20]), level(b[21])
	if b[22] != 127 {
		x := int(b[22])
		m.RERLDB = &x
	}
	factor := func(v byte) *int {
		if v == 127 || v > 120 {
			return nil
		}
		x := int(v)
		return &x
	}
	m.RFactor, m.ExtRFactor = factor(b[24]), factor(b[25])
	mos := func(v byte) *float64 {
		if v < 10 || v > 50 { // 127: unavailable; the scale is 1.0–5.0 in tenths
			return nil
		}
		x := float64(v) / 10
		return &x
	}
	m.MOSLQ, m.MOSCQ = mos(b[26]), mos(b[27])
	return m
}
