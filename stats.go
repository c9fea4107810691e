package spanrec

import "time"

// CallStats are the aggregates of the calls that started in [From, To),
// computed by the index for the dashboard.
type CallStats struct {
	From, To time.Time
	// Bucket is the width of Buckets, which start at From and cover
	// [From, To) with no gaps (the last may reach past To).
	Bucket   time.Duration
	Buckets  []StatsBucket
	Calls    int
	Answered int
	// MOS counts the streams that have a MOS (MOS > 0) in MOSBins bins of
	// width 0.5 from 1.0: MOS[i] counts MOS in [1+i/2, 1.5+i/2), the last
	// bin also 5.0. NoMOS counts the streams without one.
	MOS   [MOSBins]int
	NoMOS int
	// Loss is the packet loss by the host that sent the streams, most
	// packets lost first; at most the limit asked for.
	Loss []HostLoss
	// LossBySensor is the packet loss by the recorder (Call.Sensor) that
	// recorded the streams, most packets lost first; at most the limit
	// asked for. Host is the sensor's name there ("" for calls recorded
	// without one).
	LossBySensor []HostLoss
	// Talkers are the numbers in the most calls (as caller or callee),
	// most first; at most the limit asked for.
	Talkers []Talker
	// First and Last are the start times of the index's first and last
	// calls, whatever the range (zero if there are none).
	First, Last time.Time
}

// MOSBins is the number of bins of CallStats.MOS.
const MOSBins = 8

// StatsBucket counts the calls that started in [Start, Start+Bucket).
type StatsBucket struct {
	Start    time.Time
	Calls    int
	Answered int
}

// HostLoss is the RTP loss of the streams one host sent.
type HostLoss struct {
	Host    string // the address, without the port
	Streams int
	Packets int // received
	Lost    int // expected − received
}

// Talker is a number and the calls it took part in.
type Talker struct {
	Number   string
	Calls    int
	Answered int
	Talk     time.Duration // the sum of the calls' durations (answer to end)
}

// StatsQuery asks for the CallStats of the calls that started in
// [From, To), in buckets of Bucket, with up to Top hosts and talkers.
type StatsQuery struct {
	From, To time.Time
	Bucket   time.Duration
	Top      int
}
