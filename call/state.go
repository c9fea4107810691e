package call

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/dialog"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/render"
	"github.com/spanrec/spanrec/sipmsg"
)

// state is one call in progress.
//
// The fields every media packet uses (flow.handle) come first, within 64
// bytes, so that a packet touches one or two of the state's cache lines.
type state struct {
	pcap     *capture.Writer
	media    int       // media packets of the call (see journalMedia)
	sdpGen   int       // SDP bodies seen, to invalidate payload caches
	last     time.Time // latest packet, SIP or media
	zrtp     bool      // a ZRTP packet was seen in the call's media
	hasMedia bool      // firstMedia is set
	noAudio  bool      // started while the disk was full: no pcapng, no tracks

	d     *dialog.Dialog
	id    spanrec.CallID
	rtp   map[spanrec.Side]map[uint8]sipmsg.RTPMap
	first time.Time // first packet

	finishedAt     time.Time // when the dialog ended in signalling
	answerNotified bool      // Config.Progress was told of the answer
	codecsTold     int       // codecs Config.Progress was told of
	firstMedia     time.Time

	base     string // recordings/YYYY/MM/DD/<id> (absolute, no extension)
	spool    string
	pcapFile *render.File
	pcapHash hash.Hash // SHA-256 of every byte written to pcapFile
	fileErr  error

	// secure is what each side's latest SDP says of the encryption of
	// its audio (index: sideIndex).
	secure [2]sideSecurity
	// keyGen counts the changes of the sides' a=crypto lines.
	keyGen int

	endpoints []netip.AddrPort
	// links are the call's link keys from its messages; mediaEP the
	// latest media endpoint each side's SDP announced (see links.go).
	links []string
	// headers are the first INVITE's header fields, ua each side's user
	// agent, headersCut what their bounds cut (see headers.go).
	headers    []spanrec.SIPHeader
	ua         map[spanrec.Side]string
	headersCut int
	mediaEP    map[spanrec.Side]netip.AddrPort
	flows      []*flow
	tracks     []*render.Track
	trackSeq   int
	notes      []string
	// key is the call's key in Assembler.calls: its Call-ID, or the
	// Orphan's key of a signalless call.
	key string
	// signalless: found as RTP alone (StartSignalless), no SIP.
	signalless bool
	dirty      bool // changed since the journal was last written
	// journalMedia is media when the journal was last written.
	journalMedia int
	// mem is the bytes of the budget the call holds (Config.Budget);
	// seriesMem those its streams' quality series hold (see series.go),
	// seriesStreams the streams that keep one, seriesStopped whether the
	// budget stopped one.
	mem           int64
	seriesMem     int64
	seriesStreams int
	seriesStopped bool
	// journalSize is the size of the journal file written so far; 0
	// before the first version.
	journalSize int
}

func (c *state) touch(t time.Time) {
	if t.After(c.last) {
		c.last = t
	}
}

func (c *state) writeFrames(a *Assembler, p *packet.Packet) {
	if c.pcap == nil {
		return
	}
	for _, fr := range p.Fragments {
		if err := c.pcap.WriteFrame(fr, uint32(p.Link), p.Time, len(fr)); err != nil {
			a.fileError(c, err)
			return
		}
	}
	if len(p.Fragments) > 0 {
		return
	}
	if err := c.pcap.WriteFrame(p.Frame, uint32(p.Link), p.Time, max(p.OrigLen, len(p.Frame))); err != nil {
		a.fileError(c, err)
	}
}

func (c *state) writeFrame(a *Assembler, f Frame) {
	if c.pcap == nil {
		return
	}
	if err := c.pcap.WriteFrame(f.Data, uint32(f.Link), f.Time, max(f.Orig, len(f.Data))); err != nil {
		a.fileError(c, err)
	}
}

// payloadType resolves a payload type sent by side: by the receiver's
// rtpmap (RFC 3264 §5.1: the answerer's map tells what it expects to
// receive), then the sender's, then the static table of RFC 3551. The
// name is codec.Canonical's spelling, so that "pcma" and "PCMA" are one
// codec in Call.Codecs and the streams.
func (c *state) payloadType(sender spanrec.Side, pt uint8) (name string, clock, channels int) {
	for _, s := range []spanrec.Side{other(sender), sender} {
		if m, ok := c.rtp[s][pt]; ok && m.Name != "" {
			return codec.Canonical(m.Name), m.ClockRate, m.Channels
		}
	}
	if name, clock, ch, ok := codec.Static(pt); ok {
		return name, clock, ch
	}
	return "", 0, 0
}

func (c *state) closeTrack(a *Assembler, tr *render.Track) {
	if err := tr.Close(); err != nil {
		a.fileError(c, err)
	}
	a.stats.BeyondAudio += tr.Beyond
}

// result closes the call's files and builds its record.
func (c *state) result(a *Assembler) *Finished {
	d := c.d
	call := c.snapshot(a)
	call.End = d.End
	if d.Status != spanrec.Answered {
		call.Answer = time.Time{}
	}
	if !call.Answer.IsZero() && call.End.After(call.Answer) {
		call.Duration = call.End.Sub(call.Answer)
	}
	fin := &Finished{Call: call, SpoolDir: c.spool}

	for _, f := range c.flows {
		if f.track != nil {
			c.closeTrack(a, f.track)
			f.track = nil
		}
	}
	// The noise guard: a track whose payloads turned to white noise is
	// cut where the noise began (render.Track); what is left is kept only
	// if it holds a second of audio or more.
	for _, f := range c.flows {
		for _, tr := range f.tracks {
			if !tr.Noise {
				continue
			}
			if tr.Samples() >= int64(tr.Rate()) {
				c.note("%s's stream (%s → %s) turned to white noise part way (encrypted media?): the recording stops there", f.side, f.key.src, f.key.dst)
				continue
			}
			tr.Frames = 0
			for _, s := range f.streams {
				s.noise = true
			}
		}
	}
	var tracks []*render.Track
	for _, tr := range c.tracks {
		if tr.Frames > 0 {
			tracks = append(tracks, tr)
		} else {
			_ = tr.Remove()
		}
	}
	fin.Tracks = tracks

	if c.pcap != nil {
		err := errors.Join(c.pcap.Flush(), c.pcapFile.Close())
		if err != nil {
			a.fileError(c, err)
		}
		fin.PCAPPath = c.base + ".pcapng"
		if c.fileErr == nil {
			fin.PCAPSHA256 = hex.EncodeToString(c.pcapHash.Sum(nil))
		}
	}

	sent := map[spanrec.Side]bool{}
	for _, f := range c.flows {
		// The flow's concealment goes to its stream with the most
		// packets: the tracks are the flow's (one per codec), not a
		// stream's; a flow has one stream but after an SSRC change.
		concealed, most := f.concealedMS(), -1
		for _, s := range f.streams {
			st := s.snapshot(f)
			if !s.noise && (most < 0 || st.Packets > call.Streams[most].Packets) {
				most = len(call.Streams)
			}
			st.Quality = s.quality(c.flows)
			call.Streams = append(call.Streams, st)
			if st.Encryption != spanrec.Plain && !st.Decoded {
				sec := &c.secure[sideIndex(f.side)]
				c.note("%s", encryptionNote(&st, f.sec != nil && f.sec.HasKeys(), sec.unsupported))
			}
			if st.Lost > 0 {
				call.CaptureLoss = true
			}
			if s.codec != "" && !strings.EqualFold(s.codec, "telephone-event") && !strings.EqualFold(s.codec, "CN") {
				if !slices.Contains(call.Codecs, s.codec) {
					call.Codecs = append(call.Codecs, s.codec)
				}
				sent[f.side] = true
			}
		}
		if most >= 0 {
			call.Streams[most].ConcealedMS = concealed
		}
	}
	slices.SortStableFunc(call.Streams, func(x, y spanrec.Stream) int { return x.First.Compare(y.First) })

	call.DTMF = append([]spanrec.DTMF(nil), d.DTMF...)
	for _, f := range c.flows {
		for _, k := range f.events.Digits() {
			call.DTMF = append(call.DTMF, spanrec.DTMF{
				Digit: k.Digit, At: k.At, DurationMS: int(k.Duration / time.Millisecond),
				Side: f.side, Source: "rfc4733",
			})
		}
	}
	slices.SortStableFunc(call.DTMF, func(x, y spanrec.DTMF) int { return x.At.Compare(y.At) })

	// The recording covers the talk time, plus early media before it.
	from := call.Answer
	if !c.firstMedia.IsZero() && (from.IsZero() || c.firstMedia.Before(from)) {
		from = c.firstMedia
	}
	to := call.End
	if limit := c.first.Add(a.cfg.MaxDuration); to.After(limit) {
		to = limit
	}
	if len(tracks) > 0 && !from.IsZero() && to.After(from) {
		fin.AudioPath = c.base + ".wav"
		fin.AudioFrom, fin.AudioTo = from, to
	}

	if call.Status == spanrec.Answered {
		call.Holds = d.HoldsWithin(call.Answer, call.End)
	}
	c.mediaNotes(call, sent)
	if c.fileErr != nil {
		c.note("file error while recording: %v", c.fileErr)
		fin.FileErr = c.fileErr
	}
	call.Notes = c.notes
	call.LinkKeys = c.linkKeys()
	call.CallerTag, call.CalleeTag = bounded(d.CallerTag), bounded(d.CalleeTag)
	call.SIPHeaders, call.HeadersCut = c.headers, c.headersCut
	call.CallerUA, call.CalleeUA = c.ua[spanrec.CallerSide], c.ua[spanrec.CalleeSide]
	if rel, err := filepath.Rel(a.cfg.DataDir, fin.PCAPPath); err == nil && fin.PCAPPath != "" {
		call.PCAP = filepath.ToSlash(rel)
	}
	return fin
}

// bounded returns the tag v as header text of at most
// spanrec.MaxHeaderValue bytes.
func bounded(v string) string {
	v, _ = headerText(v, spanrec.MaxHeaderValue)
	return v
}

// openPCAP makes the call's pcapng writer on f, hashing every byte as it
// goes to the file so that the file need not be read back for its SHA-256.
func (c *state) openPCAP(f *render.File) {
	c.pcapFile = f
	c.pcapHash = sha256.New()
	c.pcap = capture.NewWriter(io.MultiWriter(f, c.pcapHash))
}

// snapshot returns what is known of the call in progress.
func (c *state) snapshot(a *Assembler) *spanrec.Call {
	d := c.d
	return &spanrec.Call{
		ID:           c.id,
		SIPCallID:    d.CallID,
		Caller:       d.Caller,
		Callee:       d.Callee,
		Direction:    a.cfg.Networks.Direction(d.Caller, d.Callee),
		Status:       d.Status,
		StatusCode:   d.Code,
		StatusReason: d.Reason,
		HangupBy:     d.HangupBy,
		PDD:          d.PDD(),
		RingTime:     d.RingTime(),
		Start:        d.Start,
		Answer:       d.Answer,
		Codecs:       c.codecs(),
		Signalling:   c.signalling(),
		Sensor:       a.cfg.Sensor,
	}
}

// codecs returns the codecs of the call's media so far, in the order its
// streams came (telephone-event and comfort noise left out).
func (c *state) codecs() []string {
	var out []string
	for _, f := range c.flows {
		for _, s := range f.streams {
			if s.codec != "" && !strings.EqualFold(s.codec, "telephone-event") && !strings.EqualFold(s.codec, "CN") && !slices.Contains(out, s.codec) {
				out = append(out, s.codec)
			}
		}
	}
	return out
}

func (c *state) signalling() string {
	if c.signalless {
		return spanrec.SignallingNone
	}
	return spanrec.SignallingSIP
}

// mediaNotes says what the media of an answered call lacks, and why: the
// mirror is blamed only for a direction the SDP says should have flowed.
func (c *state) mediaNotes(call *spanrec.Call, sent map[spanrec.Side]bool) {
	// A signalless call is its media: StartSignalless said what it lacks.
	if call.Status != spanrec.Answered || c.signalless {
		return
	}
	expected := func(side spanrec.Side) bool {
		return dialog.Expected(call.Holds, side, call.Answer, call.End)
	}
	const mirror = "mirror both directions of the port (rx and tx), or check that no firewall on this host drops mirrored frames"
	// A direction the SDP kept silent is what the parties asked for: its
	// spans are in call.Holds, and no note blames the mirror for it.
	exCaller, exCallee := expected(spanrec.CallerSide), expected(spanrec.CalleeSide)
	switch {
	case len(call.Streams) == 0:
		if exCaller || exCallee {
			c.note("no RTP seen for this answered call: the media took a path that is not mirrored, or this host dropped it")
		}
	case sent[spanrec.CallerSide] && !sent[spanrec.CalleeSide] && exCallee:
		c.note("one-way audio: only caller→callee RTP seen; %s", mirror)
	case sent[spanrec.CalleeSide] && !sent[spanrec.CallerSide] && exCaller:
		c.note("one-way audio: only callee→caller RTP seen; %s", mirror)
	}
}
