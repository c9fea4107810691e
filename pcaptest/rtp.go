package pcaptest

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/codec/g722"
)

// A segment is a run of RTP packets one ptime apart, at from, from+ptime, …
// up to but excluding to.
type segment struct {
	from, to time.Duration
	src, dst netip.AddrPort
	// marker sets the marker bit on the first packet (RFC 3550 §5.1, RFC
	// 3551 §4.1: first packet of a talkspurt).
	marker bool
	// Packets before ringbackUntil carry the ringback tone, not the party's.
	ringbackUntil time.Duration
}

// A dtmfSend is one RFC 4733 event, starting on a packet slot.
type dtmfSend struct {
	at    time.Duration
	event int
}

// rtpSpec is everything one party sends as RTP in a call: one SSRC, one
// sequence number space.
type rtpSpec struct {
	side          spanrec.Side
	codec         codecInfo
	ptime         time.Duration
	ssrc          uint32
	seq0          uint16
	ts0           uint32
	tone          int
	voice         int // Endpoint.Voice: speech-like audio instead of the tone
	segs          []segment
	dtmf          []dtmfSend
	dtmfSlots     int // n: the event lasts n packets, the last of which is the first end packet
	loss, reorder float64
	seed          [2]uint64
	srtp          *srtpSender // encrypts the packets, with Call.SRTP
	silent        bool        // every packet carries silence (Call.SilentCopy)
	g729          [][]byte    // Call.G729Frames, for codec G729
	g729From      int         // index of the frame sent at the stream's origin
	encoded       []byte      // the party's Call.Encoded stream, if any
	packetBytes   int         // Call.Encoded.PacketBytes
}

// Audio parameters.
const (
	toneAmplitude = 8000 // about −12 dBFS
	ringbackHz    = 425  // ITU-T E.180 ringing tone
	dtmfVolume    = 10   // RFC 4733 §2.3.2: −10 dBm0
)

// rtpPkt is one generated RTP packet before loss and reordering.
type rtpPkt struct {
	at       time.Duration
	src, dst netip.AddrPort
	slot     int
	data     []byte // RTP header and payload; owned by the rtpSource
}

// rtpSource generates the packets of an rtpSpec lazily, in send order.
type rtpSource struct {
	spec   *rtpSpec
	stream int
	call   *callPlan
	rng    *rand.Rand
	origin time.Duration // time of RTP timestamp ts0 and of audio sample 0
	seg, j int           // the next slot is segs[seg] at from+j*ptime
	slot   int           // number of slots generated
	ev     int           // next dtmf index
	ipID   uint16

	samples int // audio samples per packet
	// G.711: one period of the encoded tones; G.722: one period of PCM.
	tone, ring       []byte
	silence          byte
	tonePCM, ringPCM []int16
	pcm              []int16
	enc              *g722.Encoder

	a, b rtpPkt
	held *rtpPkt // generated ahead, to be sent next
	zrtp bool    // the ZRTP Hello was sent (SRTP.ZRTP)
}

func newRTPSource(s *rtpSpec, stream int, call *callPlan) *rtpSource {
	r := &rtpSource{
		spec:   s,
		stream: stream,
		call:   call,
		rng:    rand.New(rand.NewPCG(s.seed[0], s.seed[1])),
		origin: s.segs[0].from,
	}
	r.ipID = uint16(r.rng.Uint32())
	rate := s.codec.sampleRate
	r.samples = int(int64(rate) * int64(s.ptime) / int64(time.Second))
	switch s.codec.name {
	case "G729":
	case "G722":
		r.tonePCM = s.pcm(rate)
		r.ringPCM = toneTable(ringbackHz, rate)
		r.pcm = make([]int16, r.samples)
		r.enc = g722.NewEncoder()
	default:
		enc := g711.EncodeUlaw
		if s.codec.name == "PCMA" {
			enc = g711.EncodeAlaw
		}
		r.tone = encodeTable(s.pcm(rate), enc)
		r.ring = encodeTable(toneTable(ringbackHz, rate), enc)
		r.silence = enc(0)
	}
	size := 12 + max(r.samples, s.packetBytes)
	if size < 12+4 {
		size = 12 + 4
	}
	r.a.data = make([]byte, 0, size)
	r.b.data = make([]byte, 0, size)
	return r
}

// next stores the next packet in p and reports whether there is one.
// p.payload is valid until the next call.
func (r *rtpSource) next(p *packet) bool {
	if c := r.call.c.SRTP; c != nil && c.ZRTP && !r.zrtp {
		r.zrtp = true
		sg := r.spec.segs[0]
		r.ipID++
		*p = packet{at: sg.from, call: r.call, src: sg.src, dst: sg.dst, ipID: r.ipID,
			payload: zrtpHello(r.spec.ssrc), stream: r.stream, slot: -1}
		return true
	}
	for {
		var q *rtpPkt
		if r.held != nil {
			q, r.held = r.held, nil
		} else {
			if !r.gen(&r.a) {
				return false
			}
			q = &r.a
			if r.spec.reorder > 0 && r.rng.Float64() < r.spec.reorder && r.gen(&r.b) {
				if r.b.at-r.a.at == r.spec.ptime {
					// Swap the send times: b goes first, a one ptime later.
					r.a.at, r.b.at = r.b.at, r.a.at
					q, r.held = &r.b, &r.a
				} else {
					r.held = &r.b // never reorder across a pause
				}
			}
		}
		if r.spec.loss > 0 && r.rng.Float64() < r.spec.loss {
			continue
		}
		r.ipID++
		payload := q.data
		if r.spec.srtp != nil {
			payload = r.spec.srtp.encrypt(q.data, q.at)
		}
		*p = packet{
			at:      q.at,
			call:    r.call,
			src:     q.src,
			dst:     q.dst,
			ipID:    r.ipID,
			payload: payload,
			stream:  r.stream,
			slot:    q.slot,
		}
		return true
	}
}

// gen builds the packet of the next slot into q and reports whether there
// is one.
func (r *rtpSource) gen(q *rtpPkt) bool {
	s := r.spec
	for r.seg < len(s.segs) {
		sg := &s.segs[r.seg]
		t := sg.from + time.Duration(r.j)*s.ptime
		if t >= sg.to {
			r.seg++
			r.j = 0
			continue
		}
		marker := sg.marker && r.j == 0
		r.j++
		q.at, q.src, q.dst, q.slot = t, sg.src, sg.dst, r.slot
		seq := s.seq0 + uint16(r.slot)
		r.slot++
		if r.event(q, t, seq) {
			return true
		}
		b := rtpHeader(q.data[:0], s.codec.pt, marker, seq, s.ts0+r.ts(t), s.ssrc)
		if s.g729 != nil {
			q.data = r.g729(b, t)
			if len(q.data) == len(b) {
				r.slot-- // discontinuous transmission: nothing sent
				continue
			}
			return true
		}
		q.data = r.audio(b, t, t < sg.ringbackUntil, t-sg.from)
		return true
	}
	return false
}

// ts returns the RTP timestamp offset of time t: the media clock runs with
// the capture clock, so pauses advance it too (RFC 3550 §5.1).
func (r *rtpSource) ts(t time.Duration) uint32 {
	return uint32(int64(t-r.origin) * int64(r.spec.codec.clock) / int64(time.Second))
}

// event builds an RFC 4733 event packet into q if slot t belongs to one.
func (r *rtpSource) event(q *rtpPkt, t time.Duration, seq uint16) bool {
	s := r.spec
	n := s.dtmfSlots
	for r.ev < len(s.dtmf) {
		e := s.dtmf[r.ev]
		if t < e.at {
			return false
		}
		k := int((t - e.at) / s.ptime)
		if k > n+1 {
			r.ev++
			continue
		}
		step := r.ts(e.at+s.ptime) - r.ts(e.at)
		// RFC 4733 §2.5.1: all packets of an event carry its start
		// timestamp; the duration grows with each update; the event ends
		// with three packets with the E bit and the final duration.
		dur, end := uint32(k+1)*step, k >= n-1
		if end {
			dur = uint32(n) * step
			if k == n+1 {
				r.ev++
			}
		}
		b := rtpHeader(q.data[:0], dtmfPT, k == 0, seq, s.ts0+r.ts(e.at), s.ssrc)
		flags := byte(dtmfVolume)
		if end {
			flags |= 0x80
		}
		q.data = append(b, byte(e.event), flags, byte(dur>>8), byte(dur))
		return true
	}
	return false
}

// audio appends the payload of the packet sent at t to b.
func (r *rtpSource) audio(b []byte, t time.Duration, ringback bool, sinceSeg time.Duration) []byte {
	rate := int64(r.spec.codec.sampleRate)
	n0 := int(int64(t-r.origin) * rate / int64(time.Second))
	// Ringback cadence: 1s on, 4s off.
	silent := r.spec.silent || ringback && (sinceSeg/time.Second)%5 != 0
	if e := r.spec.encoded; e != nil {
		pb := r.spec.packetBytes
		k := n0 / r.samples % (len(e) / pb)
		return append(b, e[k*pb:(k+1)*pb]...)
	}
	if r.enc != nil {
		tab := r.tonePCM
		if ringback {
			tab = r.ringPCM
		}
		for i := range r.pcm {
			if silent {
				r.pcm[i] = 0
			} else {
				r.pcm[i] = tab[(n0+i)%len(tab)]
			}
		}
		return r.enc.Encode(b, r.pcm)
	}
	if silent {
		for range r.samples {
			b = append(b, r.silence)
		}
		return b
	}
	tab := r.tone
	if ringback {
		tab = r.ring
	}
	pos := n0 % len(tab)
	for left := r.samples; left > 0; {
		k := min(left, len(tab)-pos)
		b = append(b, tab[pos:pos+k]...)
		left -= k
		pos = 0
	}
	return b
}

// g729 appends the G.729 frames of the packet sent at t to b: those of
// its packet time in Call.G729Frames, up to and including a SID frame.
func (r *rtpSource) g729(b []byte, t time.Duration) []byte {
	frames := r.spec.g729
	k := r.spec.g729From + int((t-r.origin)/(10*time.Millisecond))
	for i := range int(r.spec.ptime / (10 * time.Millisecond)) {
		f := frames[(k+i)%len(frames)]
		b = append(b, f...)
		if len(f) == 2 {
			break
		}
	}
	return b
}

// rtpHeader appends a 12-byte RTP fixed header (RFC 3550 §5.1) to b.
func rtpHeader(b []byte, pt uint8, marker bool, seq uint16, ts, ssrc uint32) []byte {
	m := pt & 0x7f
	if marker {
		m |= 0x80
	}
	b = append(b, 0x80, m)
	b = binary.BigEndian.AppendUint16(b, seq)
	b = binary.BigEndian.AppendUint32(b, ts)
	return binary.BigEndian.AppendUint32(b, ssrc)
}

// pcm returns the loop of audio the party sends at rate Hz: one period of
// its tone, or its speech (Endpoint.Voice).
func (s *rtpSpec) pcm(rate int) []int16 {
	if s.voice != 0 {
		return voiceTable(s.voice, rate, s.side)
	}
	return toneTable(s.tone, rate)
}

// toneTable returns one period of a freq Hz sine sampled at rate Hz.
func toneTable(freq, rate int) []int16 {
	g := gcd(freq, rate)
	t := make([]int16, rate/g)
	for i := range t {
		t[i] = int16(math.Round(toneAmplitude * math.Sin(2*math.Pi*float64(freq)*float64(i)/float64(rate))))
	}
	return t
}

func encodeTable(pcm []int16, enc func(int16) byte) []byte {
	b := make([]byte, len(pcm))
	for i, s := range pcm {
		b[i] = enc(s)
	}
	return b
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
