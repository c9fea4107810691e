package rtpstream

import (
	"strconv"
	"time"

	"github.com/spanrec/spanrec"
)

// RFC 3550 A.1 limits on sequence number steps.
const (
	maxDropout  = 3000 // largest forward jump still taken as loss
	maxMisorder = 100  // largest backward step still taken as reordering
	seqMod      = 1 << 16
)

// Static payload types of comfort noise (RFC 3389, RFC 3551 §6): their
// packets come after silence, so the gap before them is not network delay.
const (
	ptCN    = 13
	ptCNOld = 19
)

// Kind is what [Stats.Update] makes of a packet's sequence number.
type Kind uint8

// Packet kinds.
const (
	// New: the packet advances the highest sequence number seen, possibly
	// past lost packets (a forward step below 3000, RFC 3550 A.1).
	New Kind = iota
	// Duplicate: this sequence number was already seen (within the last
	// 128 numbers).
	Duplicate
	// Late: reordered, older than the highest sequence number seen and not
	// seen before (a backward step of at most 100, RFC 3550 A.1).
	Late
	// Jump: a large jump of the sequence number that is not (yet) taken as
	// a restart (RFC 3550 A.1 "bad_seq"); the packet is counted in
	// Snapshot.Packets but left out of the loss figures.
	Jump
	// Restart: the packet follows a Jump in sequence, so the sender is
	// taken to have restarted its sequence (RFC 3550 A.1): the counting
	// starts over from the Jump packet, and the loss of the old run is
	// kept.
	Restart
)

func (k Kind) String() string {
	switch k {
	case New:
		return "new"
	case Duplicate:
		return "duplicate"
	case Late:
		return "late"
	case Jump:
		return "jump"
	case Restart:
		return "restart"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Stats accumulates the quality figures of one RTP stream (one SSRC of one
// flow). The zero value is ready to use. A Stats is not safe for concurrent
// use.
type Stats struct {
	// The fields every packet reads or writes come first, together (a
	// few cache lines rather than all of a Stats's: with thousands of
	// streams at once, a packet's cost is mostly its cache misses); the
	// others follow.

	// Interval, if set before the first packet, makes the Stats keep its
	// figures per interval of capture time (see Series), starting at the
	// first packet. At most MaxIntervals are kept.
	Interval time.Duration

	started    bool
	haveRef    bool
	prevCN     bool
	haveLastTS bool
	lastSeq    uint16
	badSeq     uint32 // A.1 bad_seq: seq expected after a Jump; > 0xffff when none
	refTS      uint32
	lastSeqTS  uint32
	packets    int // every packet given to Update

	// RFC 3550 A.1 sequence state, with extended (32-bit and up) numbers.
	maxExt   int64 // extended highest sequence number
	received int   // packets counted in this run (A.1 "received")
	seen     [2]uint64

	// RFC 3550 A.8 interarrival jitter. Times are Unix nanoseconds and
	// the jitter figures nanoseconds, in float64.
	refArrival int64
	rate       int     // clock rate of nsPerTick
	nsPerTick  float64 // 1e9 / rate
	jitter     float64
	prevTime   int64
	maxDelta   int64
	maxJitter  float64
	sumJitter  float64
	nJitter    int
	ptime      float64 // ns
	lastTime   time.Time

	series series

	// Codec is the stream's encoding name ("PCMA", "G722"...), used only to
	// pick the E-model parameters of Snapshot's MOS. The caller sets it when
	// it learns it; "" means unknown.
	Codec string

	baseExt   int64 // extended first sequence number of this run
	prevExp   int   // expected packets of runs ended by a restart
	prevRecv  int   // received packets of runs ended by a restart
	restarts  int
	dups      int
	late      int
	firstTime time.Time
}

// Update accounts one packet of the stream, with header h (from [Parse]),
// capture time t and clockRate, the RTP clock rate of its payload type in Hz.
// With clockRate 0 (unknown) the packet does not enter the jitter; callers
// should also pass 0 for RFC 4733 telephone-event packets, whose timestamp is
// the start of the event and not the time of the packet (RFC 4733 §2.2.1).
//
// It returns what the packet is in sequence (see [Kind]). Packets are
// expected in capture order; h.SSRC is not checked.
func (s *Stats) Update(h Header, t time.Time, clockRate int) Kind {
	s.roll(t)
	s.packets++
	s.lastTime = t
	if !s.started {
		s.started = true
		s.firstTime = t
		s.startRun(h.Seq, 0)
		s.badSeq = seqMod
		s.timing(h, t, clockRate, New, true)
		return New
	}
	kind := s.sequence(h.Seq)
	s.timing(h, t, clockRate, kind, false)
	return kind
}

// startRun begins a run of sequence numbers at seq, with back earlier
// packets (0 or 1) counted before it.
func (s *Stats) startRun(seq uint16, back int) {
	s.maxExt = int64(seq)
	s.baseExt = int64(seq) - int64(back)
	s.received = 1 + back
	s.seen = [2]uint64{1, 0}
	if back == 1 {
		s.seen[0] |= 2
	}
}

// sequence implements the sequence number rules of RFC 3550 A.1, with two
// changes suited to a passive observer: there is no probation (the first
// packet counts), and on a restart the Jump packet that announced it is
// counted in the new run.
func (s *Stats) sequence(seq uint16) Kind {
	maxSeq := uint16(s.maxExt)
	udelta := seq - maxSeq
	switch {
	case udelta == 0:
		s.received++
		s.dups++
		return Duplicate
	case udelta < maxDropout:
		// In order, with a permissible gap; a wrap adds a cycle.
		s.maxExt += int64(udelta)
		s.shift(int(udelta))
		s.badSeq = seqMod
		s.received++
		return New
	case int(udelta) <= seqMod-maxMisorder:
		// A very large jump (A.1): restart only when two packets in
		// sequence confirm it.
		if uint32(seq) == s.badSeq {
			s.prevExp += s.expectedRun()
			s.prevRecv += s.received
			s.restarts++
			s.startRun(seq, 1)
			s.badSeq = seqMod
			return Restart
		}
		s.badSeq = uint32(seq+1) & (seqMod - 1)
		return Jump
	default:
		// Duplicate or reordered; A.1 counts both as received.
		s.received++
		back := seqMod - int(udelta)
		if s.bit(back) {
			s.dups++
			return Duplicate
		}
		s.setBit(back)
		s.late++
		// A packet older than the first one seen extends the run
		// backwards, or it would make the loss negative.
		s.baseExt = min(s.baseExt, s.maxExt-int64(back))
		return Late
	}
}

// shift moves the seen window by n sequence numbers and marks the new
// highest one. Bit i of the window stands for maxExt−i.
func (s *Stats) shift(n int) {
	switch {
	case n >= 128:
		s.seen = [2]uint64{}
	case n >= 64:
		s.seen = [2]uint64{0, s.seen[0] << (n - 64)}
	default:
		s.seen[1] = s.seen[1]<<n | s.seen[0]>>(64-n)
		s.seen[0] <<= n
	}
	s.seen[0] |= 1
}

func (s *Stats) bit(i int) bool {
	if i >= 128 {
		return false
	}
	return s.seen[i/64]&(1<<(i%64)) != 0
}

func (s *Stats) setBit(i int) {
	if i < 128 {
		s.seen[i/64] |= 1 << (i % 64)
	}
}

func (s *Stats) expectedRun() int { return int(s.maxExt - s.baseExt + 1) }

// maxTransitStep bounds the change of transit time between two packets
// (|D| of RFC 3550 A.8) that is taken as network jitter. A larger one means
// the sender's RTP timestamp jumped (some gateways restart it, for example
// after a re-INVITE, without changing SSRC): the packet re-anchors the jitter
// computation instead of entering it.
const maxTransitStep = 3 * time.Second

// timing updates jitter, deltas and the packetisation estimate.
//
// The largest delta and the largest and mean jitter count only packets whose
// timing says something about the network: not the first one, not one that
// starts a talkspurt (marker bit, RFC 3551 §4.1), not comfort noise or the
// packet after it (RFC 3389: it follows or stands for silence), not one
// whose timestamp jumped, and not a late, restarting or duplicate one.
// tshark's RTP analysis applies much the same exclusions.
func (s *Stats) timing(h Header, t time.Time, clockRate int, kind Kind, first bool) {
	switch kind {
	case Duplicate, Jump:
		// A copy carries no new timing; a Jump may be another sender.
		return
	case Restart:
		s.haveRef, s.haveLastTS = false, false
	}
	now := t.UnixNano()
	cn := h.PayloadType == ptCN || h.PayloadType == ptCNOld
	regular := !first && !h.Marker && !cn && !s.prevCN && kind == New
	if clockRate > 0 {
		if clockRate != s.rate {
			s.rate, s.nsPerTick = clockRate, 1e9/float64(clockRate)
		}
		if s.haveRef {
			// RFC 3550 A.8: D(i−1,i) = (Ri − Ri−1) − (Si − Si−1), the
			// timestamp difference taken modulo 2^32 as a signed
			// number, and J += (|D| − J)/16. Kept in nanoseconds, not
			// timestamp units, so that a change of clock rate
			// mid-stream does not upset it.
			d := float64(now-s.refArrival) - float64(int32(h.Timestamp-s.refTS))*s.nsPerTick
			if d < 0 {
				d = -d
			}
			if d > float64(maxTransitStep) {
				regular = false
			} else {
				s.jitter += (d - s.jitter) / 16
				if regular {
					s.maxJitter = max(s.maxJitter, s.jitter)
					s.sumJitter += s.jitter
					s.nJitter++
					s.noteJitter(s.jitter)
				}
			}
		}
		s.haveRef = true
		s.refArrival = now
		s.refTS = h.Timestamp
		// Packetisation: the timestamp step between consecutive
		// sequence numbers of one talkspurt.
		if s.haveLastTS && regular && h.Seq == s.lastSeq+1 {
			if step := int32(h.Timestamp - s.lastSeqTS); step > 0 {
				s.ptime = float64(step) * s.nsPerTick
			}
		}
		s.lastSeq, s.lastSeqTS, s.haveLastTS = h.Seq, h.Timestamp, true
	}
	if regular && now-s.prevTime > s.maxDelta {
		s.maxDelta = now - s.prevTime
	}
	s.prevTime = now
	s.prevCN = cn
}

// Snapshot is the state of a [Stats] at one moment. Times in milliseconds
// are float64; jitter figures are 0 when no clock rate was known.
type Snapshot struct {
	// Packets counts every packet given to Update, duplicates included
	// (tshark's "Pkts").
	Packets int
	// Expected is the number of packets the sequence numbers call for:
	// extended highest − first + 1 (RFC 3550 A.3), summed over the runs
	// separated by restarts.
	Expected int
	// Lost is Expected minus the packets received in sequence, duplicates
	// and late packets included (RFC 3550 A.3 and §6.4.1), clamped at 0:
	// duplicates can hide losses. Jump packets are not received ones.
	Lost       int
	Duplicates int
	OutOfOrder int // late (reordered) packets
	Restarts   int // sequence restarts (RFC 3550 A.1)
	// JitterMS is the RFC 3550 A.8 interarrival jitter after the last
	// packet; MeanJitterMS and MaxJitterMS are its mean and largest value
	// over the packets that count (see Stats.Update).
	JitterMS     float64
	MeanJitterMS float64
	MaxJitterMS  float64
	// MaxDeltaMS is the largest gap between two consecutive packets
	// (duplicates are not arrivals), leaving out the gaps that open a
	// talkspurt or come before or after comfort noise.
	MaxDeltaMS float64
	// PacketisationMS is the media time per packet, from the timestamp
	// step of the last two consecutive packets; 0 if unknown.
	PacketisationMS float64
	First, Last     time.Time
	// MOS is [MOS] of Stats.Codec with this loss, mean jitter and
	// packetisation; 0 when no packet was seen.
	MOS float64
}

// Snapshot returns the stream's figures so far.
func (s *Stats) Snapshot() Snapshot {
	if !s.started {
		return Snapshot{}
	}
	sn := Snapshot{
		Packets:         s.packets,
		Expected:        s.prevExp + s.expectedRun(),
		Duplicates:      s.dups,
		OutOfOrder:      s.late,
		Restarts:        s.restarts,
		JitterMS:        s.jitter / 1e6,
		MaxJitterMS:     s.maxJitter / 1e6,
		MaxDeltaMS:      float64(s.maxDelta) / 1e6,
		PacketisationMS: s.ptime / 1e6,
		First:           s.firstTime,
		Last:            s.lastTime,
	}
	sn.Lost = max(0, sn.Expected-(s.prevRecv+s.received))
	if s.nJitter > 0 {
		sn.MeanJitterMS = s.sumJitter / float64(s.nJitter) / 1e6
	}
	var lossPct float64
	if sn.Expected > 0 {
		lossPct = 100 * float64(sn.Lost) / float64(sn.Expected)
	}
	sn.MOS = MOS(s.Codec, lossPct, sn.MeanJitterMS, sn.PacketisationMS)
	return sn
}

// Fill copies the figures into the quality fields of st (First, Last,
// Packets, Lost, Duplicates, OutOfOrder, JitterMS, MeanJitterMS, MaxJitterMS, MaxDeltaMS
// and MOS), leaving its identity fields alone.
func (sn Snapshot) Fill(st *spanrec.Stream) {
	st.First, st.Last = sn.First, sn.Last
	st.Packets = sn.Packets
	st.Lost = sn.Lost
	st.Duplicates = sn.Duplicates
	st.OutOfOrder = sn.OutOfOrder
	st.JitterMS = sn.JitterMS
	st.MeanJitterMS = sn.MeanJitterMS
	st.MaxJitterMS = sn.MaxJitterMS
	st.MaxDeltaMS = sn.MaxDeltaMS
	st.MOS = sn.MOS
}
