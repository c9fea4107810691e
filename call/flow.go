package call

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/render"
	"github.com/spanrec/spanrec/rtpstream"
	"github.com/spanrec/spanrec/srtp"
)

// flow is one direction of a media session (src → dst) and what it carried.
//
// The fields every media packet uses (flow.handle) come first, so that
// they share as few cache lines as they can: with a thousand calls in
// progress each packet finds its flow, call and stream out of cache.
type flow struct {
	c       *state
	cur     *stream // the stream of the latest RTP packet
	track   *render.Track
	ptGen   int
	pt      payloadInfo // cache of the last payload type
	encKey  encCache
	enc     spanrec.Encryption // cached by encryption
	rtcp    bool
	trackPT uint8
	// direct: the flow is the only one of its flowSet, which is current
	// (see flowRef).
	direct bool
	// first is the flow's first stream (streams[0]), held in the flow's
	// own memory after its hot fields: a packet reads the flow and its
	// stream from one allocation.
	first stream

	side    spanrec.Side // the party who sent it
	key     flowKey
	streams []*stream       // one per SSRC, in order of appearance
	tracks  []*render.Track // every track the flow made, to judge noise
	zrtp    int             // ZRTP packets (RFC 6189)

	// sec decrypts the flow's SRTP with the keys its sender announced
	// (keyGen: the call's key generation it has) and the operator's
	// (opGen).
	sec           *srtp.Stream
	keyGen, opGen int
	events        rtpstream.Events

	rtcpPackets int
	// reports are the RTCP reports the flow's sender sent (about the
	// streams it receives), at most maxRTCPReports; reportsDropped
	// counts the rest.
	reports        []rtpstream.RTCPReport
	reportsDropped int
}

// stream is the quality state of one SSRC in a flow.
type stream struct {
	ssrc      uint32
	pt        uint8
	codec     string // encoding name, "" if the payload type is unknown
	clock     int
	decodable bool
	stats     rtpstream.Stats
	enc       spanrec.Encryption
	// undecrypted counts the packets of an encrypted stream that were
	// not decrypted (no key, or no key authenticated them).
	undecrypted  int
	decrypted    int
	authFailures int
	noise        bool // its audio decoded to white noise (render noise guard)
	// seriesCap is the intervals of its quality series that the memory
	// budget was asked for (see series.go).
	seriesCap int
}

func looksMedia(b []byte) bool {
	return rtpstream.LooksRTP(b) || rtpstream.IsRTCP(b)
}

func (f *flow) handle(a *Assembler, p *packet.Packet) {
	c := f.c
	c.touch(p.Time)
	c.writeFrames(a, p)
	a.stats.MediaPackets++
	c.media++
	if srtp.IsZRTP(p.Payload) {
		f.zrtp++
		c.zrtp = true
		return
	}
	if f.rtcp || rtpstream.IsRTCP(p.Payload) {
		f.rtcpPackets++
		switch f.encryption(a, c) {
		case spanrec.SRTP:
			// SRTCP (RFC 3711 §3.4): authenticated, counted and, once
			// decrypted, read.
			f.refreshKeys(a, c)
			plain, st := f.sec.DecryptRTCP(p.Payload)
			if st == srtp.Decrypted {
				a.stats.SRTCPDecrypted++
				f.readRTCP(a, plain, p.Time)
			} else if st == srtp.AuthFailed {
				a.stats.SRTCPAuthFailures++
			}
		case spanrec.Plain:
			f.readRTCP(a, p.Payload, p.Time)
		}
		return
	}
	h, payload, err := rtpstream.Parse(p.Payload)
	if err != nil {
		a.stats.MalformedRTP++
		return
	}
	if !c.hasMedia {
		c.hasMedia, c.firstMedia = true, p.Time
	}
	pt := f.payloadType(c, h.PayloadType)
	s := f.stream(a, h.SSRC)
	// RFC 4733 §2.1 / RFC 3389: events and comfort noise share the
	// stream's sequence numbers but not its sampling clock, so they count
	// for loss and not for jitter.
	clock := pt.clock
	if pt.kind != audioPayload {
		clock = 0
	}
	s.stats.Update(h, p.Time, clock)
	if s.stats.Interval > 0 && s.stats.SeriesLen() >= s.seriesCap {
		a.growSeries(c, s, p.Time)
	}
	if enc := f.encryption(a, c); enc != spanrec.Plain {
		// Never decode ciphertext as if it were audio or events: only
		// what a key authenticated goes on, decrypted.
		s.enc = enc
		if s.codec == "" {
			s.codec, s.pt, s.clock = pt.name, h.PayloadType, pt.clock
			s.stats.Codec = pt.name
		}
		if enc != spanrec.SRTP {
			s.undecrypted++
			return
		}
		f.refreshKeys(a, c)
		plain, st := f.sec.DecryptRTP(p.Payload)
		switch st {
		case srtp.Decrypted:
		case srtp.AuthFailed:
			s.authFailures++
			a.stats.SRTPAuthFailures++
			return
		case srtp.Replayed:
			return // a copy of a packet decrypted already
		default:
			s.undecrypted++
			return
		}
		if h, payload, err = rtpstream.Parse(plain); err != nil {
			a.stats.MalformedRTP++
			return
		}
		s.decrypted++
		a.stats.SRTPDecrypted++
	}
	switch pt.kind {
	case eventPayload:
		// The digits, with their final durations, are read at the end
		// (state.result).
		f.events.Update(h, payload, p.Time, pt.clock)
		return
	case cnPayload:
		return // the gap stays silence
	}
	if s.codec == "" {
		s.codec, s.pt, s.clock = pt.name, h.PayloadType, pt.clock
		s.stats.Codec = pt.name
	}
	if pt.decodable {
		s.decodable = true
	}
	if !pt.decodable || len(payload) == 0 {
		return
	}
	if f.track == nil || f.trackPT != h.PayloadType {
		if f.track != nil {
			c.closeTrack(a, f.track)
		}
		f.track = f.newTrack(a, c, pt.codec, p.Time)
		f.trackPT = h.PayloadType
		if f.track == nil {
			return
		}
	}
	f.track.Add(h.SSRC, h.Seq, h.Timestamp, p.Time, payload)
}

type payloadKind uint8

const (
	audioPayload payloadKind = iota
	eventPayload
	cnPayload
)

// payloadInfo is what a payload type of a flow means.
type payloadInfo struct {
	pt        uint8
	valid     bool
	name      string
	clock     int
	kind      payloadKind
	decodable bool
	codec     codec.Codec
}

// payloadType resolves pt for the flow, caching the last answer (a flow
// rarely changes payload type). The cache is cleared when SDP changes.
func (f *flow) payloadType(c *state, pt uint8) payloadInfo {
	if f.pt.valid && f.pt.pt == pt && f.ptGen == c.sdpGen {
		return f.pt
	}
	name, clock, ch := c.payloadType(f.side, pt)
	info := payloadInfo{pt: pt, valid: true, name: name, clock: clock}
	switch {
	case strings.EqualFold(name, "telephone-event"):
		info.kind = eventPayload
	case strings.EqualFold(name, "CN") || pt == 13 || pt == 19:
		info.kind = cnPayload
	case name == "":
		c.note("payload type %d: unknown (no rtpmap seen), not decoded", pt)
	default:
		info.codec, info.decodable = codec.Lookup(name, clock, ch)
		if !info.decodable {
			c.note("codec %s: not decodable yet (its packets are kept in the call's pcap)", name)
		}
	}
	f.pt, f.ptGen = info, c.sdpGen
	return info
}

// Quality over time: the interval of a stream's series, and the RTCP
// reports kept per flow.
const (
	qualityInterval = 5 * time.Second
	maxRTCPReports  = 400
)

// readRTCP keeps the reports of the compound RTCP packet b, sent at t.
func (f *flow) readRTCP(a *Assembler, b []byte, t time.Time) {
	n := len(f.reports)
	reps, err := rtpstream.ParseRTCP(b, f.reports)
	if err != nil {
		a.stats.MalformedRTCP++
	}
	for i := n; i < len(reps); i++ {
		reps[i].At = t
	}
	if len(reps) > maxRTCPReports {
		f.reportsDropped += len(reps) - maxRTCPReports
		reps = reps[:maxRTCPReports]
	}
	f.reports = reps
}

func (f *flow) stream(a *Assembler, ssrc uint32) *stream {
	if s := f.cur; s != nil && s.ssrc == ssrc {
		return s
	}
	for i := len(f.streams) - 1; i >= 0; i-- {
		if s := f.streams[i]; s.ssrc == ssrc {
			f.cur = s
			return s
		}
	}
	s := &f.first
	if len(f.streams) > 0 {
		s = new(stream)
	}
	s.ssrc = ssrc
	a.startSeries(f.c, s)
	f.streams = append(f.streams, s)
	f.cur = s
	return s
}

func (f *flow) newTrack(a *Assembler, c *state, cd codec.Codec, t time.Time) *render.Track {
	if c.noAudio {
		return nil
	}
	if !a.takeCallMemory(c, trackCost) {
		c.note("an audio track was not recorded: the recorder's memory limit (limits.memory) was reached")
		return nil
	}
	c.mem += trackCost
	if err := a.cfg.Spool.MkdirAll(c.spool); err != nil {
		a.fileError(c, err)
		return nil
	}
	c.trackSeq++
	path := filepath.Join(c.spool, strconv.Itoa(c.trackSeq)+render.SpoolExt(cd))
	tr, err := render.NewTrackIn(a.cfg.Spool, a.files, path, f.side, cd, t)
	if err != nil {
		a.fileError(c, err)
		return nil
	}
	tr.Until = c.first.Add(a.cfg.MaxDuration)
	c.tracks = append(c.tracks, tr)
	f.tracks = append(f.tracks, tr)
	c.dirty = true
	return tr
}

// concealedMS returns how much audio the decoders of f's tracks made up
// for lost packets, in milliseconds.
func (f *flow) concealedMS() int {
	var ms int64
	for _, tr := range f.tracks {
		if tr.Rate() > 0 && !tr.Noise {
			ms += tr.Concealed * 1000 / int64(tr.Rate())
		}
	}
	return int(ms)
}

// snapshot returns the spanrec.Stream view of s.
func (s *stream) snapshot(f *flow) spanrec.Stream {
	st := spanrec.Stream{
		SSRC:         s.ssrc,
		Src:          f.key.src,
		Dst:          f.key.dst,
		Side:         f.side,
		PayloadType:  s.pt,
		Codec:        s.codec,
		ClockRate:    s.clock,
		Decoded:      s.decodable && (s.enc == spanrec.Plain || s.decrypted > 0) && !s.noise,
		Encryption:   s.enc,
		AuthFailures: s.authFailures,
	}
	if s.noise && st.Encryption == spanrec.Plain {
		st.Encryption = spanrec.Encrypted
	}
	s.stats.Snapshot().Fill(&st)
	return st
}

// quality returns the stream's figures over time and the RTCP reports
// about it that the call's flows carried (the receiver reports on it).
func (s *stream) quality(flows []*flow) *spanrec.StreamQuality {
	ivs, width := s.stats.Series()
	q := &spanrec.StreamQuality{IntervalMS: width.Milliseconds(), Intervals: ivs, RTCP: []spanrec.RTCPReport{}}
	for _, f := range flows {
		for _, r := range f.reports {
			if r.Source != s.ssrc {
				continue
			}
			rep := r.RTCPReport
			if b := rep.Block; b != nil && s.clock > 0 {
				blk := *b
				ms := float64(blk.Jitter) * 1000 / float64(s.clock)
				blk.JitterMS = &ms
				rep.Block = &blk
			}
			q.RTCP = append(q.RTCP, rep)
		}
		q.RTCPDropped += f.reportsDropped
	}
	slices.SortStableFunc(q.RTCP, func(x, y spanrec.RTCPReport) int { return x.At.Compare(y.At) })
	return q
}
