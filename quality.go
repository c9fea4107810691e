package spanrec

import "time"

// StreamQuality is how one stream of a call fared over time: its figures
// per interval of capture time, measured by the recorder, and what the
// endpoints themselves reported in RTCP about it. The index keeps it apart
// from the call (it is not part of the call's JSON form); the API serves it
// at /api/calls/{id}/quality.
type StreamQuality struct {
	// IntervalMS is the length of each interval; it doubles (neighbours
	// merged) when a long call would have more than a bounded number.
	IntervalMS int64             `json:"interval_ms"`
	Intervals  []QualityInterval `json:"intervals"`
	// RTCP are the reports about the stream, in capture order: report
	// blocks of RTCP SR and RR packets (RFC 3550 §6.4) whose source is
	// the stream's SSRC, and RTCP XR VoIP metrics (RFC 3611 §4.7).
	RTCP []RTCPReport `json:"rtcp"`
	// RTCPDropped counts the reports not kept because the stream had the
	// most a stream keeps.
	RTCPDropped int `json:"rtcp_dropped,omitempty"`
}

// QualityInterval is one stream's figures over one interval.
type QualityInterval struct {
	Start time.Time `json:"start"`
	// Packets counts the packets that arrived, duplicates included;
	// Expected is what the sequence numbers call for in the interval, and
	// Lost the shortfall (RFC 3550 A.3, per interval, never negative).
	Packets  int `json:"packets"`
	Expected int `json:"expected"`
	Lost     int `json:"lost"`
	// MeanJitterMS and MaxJitterMS are the mean and largest RFC 3550
	// interarrival jitter over the interval's packets; JitterSamples is
	// how many packets they are over (0: no figure).
	MeanJitterMS  float64 `json:"mean_jitter_ms"`
	MaxJitterMS   float64 `json:"max_jitter_ms"`
	JitterSamples int     `json:"jitter_samples"`
	// MOS is the E-model estimate for the interval's loss and jitter
	// (see rtpstream.MOS); 0 when no packet arrived.
	MOS float64 `json:"mos"`
}

// RTCPReport is one RTCP report about a stream, as the receiving endpoint
// sent it: a report block or VoIP metrics.
type RTCPReport struct {
	At time.Time `json:"at"` // capture time of the RTCP packet
	// Kind is "sr" or "rr" (a report block of a sender or receiver
	// report; Block is set) or "xr-voip" (an RTCP XR VoIP metrics block;
	// VoIP is set).
	Kind     string       `json:"kind"`
	Reporter uint32       `json:"reporter"` // SSRC of the endpoint that sent it
	Block    *ReportBlock `json:"block,omitempty"`
	VoIP     *VoIPMetrics `json:"voip,omitempty"`
}

// ReportBlock is an RTCP reception report block (RFC 3550 §6.4.1).
type ReportBlock struct {
	FractionLost   float64 `json:"fraction_lost"`   // 0..1, since the reporter's previous report
	CumulativeLost int32   `json:"cumulative_lost"` // may be negative (duplicates)
	HighestSeq     uint32  `json:"highest_seq"`     // extended highest sequence number received
	Jitter         uint32  `json:"jitter"`          // interarrival jitter, timestamp units
	// JitterMS is Jitter converted with the stream's clock rate; absent
	// when the clock rate is unknown.
	JitterMS *float64 `json:"jitter_ms,omitempty"`
}

// VoIPMetrics is an RTCP XR VoIP metrics report block (RFC 3611 §4.7).
// Rates are 0..1, delays ms, levels dBm0. Fields the wire marks as
// unavailable (127 for levels and RERL, 127 for R factors, 127 for MOS,
// 0 for delays) are nil.
type VoIPMetrics struct {
	LossRate       float64  `json:"loss_rate"`
	DiscardRate    float64  `json:"discard_rate"`
	BurstDensity   float64  `json:"burst_density"`
	GapDensity     float64  `json:"gap_density"`
	BurstMS        int      `json:"burst_ms"`
	GapMS          int      `json:"gap_ms"`
	RoundTripMS    *int     `json:"round_trip_ms,omitempty"`
	EndSystemMS    *int     `json:"end_system_ms,omitempty"`
	SignalDBm      *int     `json:"signal_dbm,omitempty"`
	NoiseDBm       *int     `json:"noise_dbm,omitempty"`
	RERLDB         *int     `json:"rerl_db,omitempty"`
	RFactor        *int     `json:"r_factor,omitempty"`
	ExtRFactor     *int     `json:"ext_r_factor,omitempty"`
	MOSLQ          *float64 `json:"mos_lq,omitempty"`
	MOSCQ          *float64 `json:"mos_cq,omitempty"`
	JitterBufferMS int      `json:"jitter_buffer_ms"`     // nominal delay
	JitterBufMaxMS int      `json:"jitter_buffer_max_ms"` // maximum delay
}
