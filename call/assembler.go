// Package call is the call assembler: it joins the SIP dialogs (package
// dialog) with the RTP streams that flow between the endpoints their SDP
// announced, follows media moves and NAT, writes each call's packets to its
// own pcapng and its audio to render tracks, and hands every finished call
// to the recorder for rendering and indexing.
//
// An Assembler is a synchronous, single-goroutine value: the recorder feeds
// it packets in capture order and calls Expire with packet time.
package call

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/dialog"
	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/render"
	"github.com/spanrec/spanrec/sipmsg"
)

// Config configures an Assembler. The zero value of a field means its
// default.
type Config struct {
	// DataDir is the data directory: pcaps go under recordings/, audio
	// spools under spool/.
	DataDir string
	// Networks decides the direction of calls.
	Networks Networks
	// MediaTimeout closes a call that has seen neither SIP nor media for
	// this long (packet time). Default 2 h.
	MediaTimeout time.Duration
	// MaxDuration is a sanity limit on a call's length: a call open this
	// long (packet time, from its first packet) is closed, with a note,
	// and no audio is spooled past it, whatever its signalling says.
	// Default 12 h (config calls.max_duration).
	MaxDuration time.Duration
	// EndLinger keeps an ended call open this long after its BYE or final
	// answer, to catch the last answers and packets. Default 2 s.
	EndLinger time.Duration
	// AuthLinger keeps a call whose INVITE met an authentication challenge
	// (401/407) open this long for the INVITE with credentials, which comes
	// only after a person typed a password (51 s in wireshark's aaa.pcap).
	// Default 3 min. The call's times do not depend on it: it only delays
	// when a failed attempt is written.
	AuthLinger time.Duration
	// Sensor names this recorder: every call gets it (Call.Sensor), so
	// that the calls of many recorders in one index can be told apart.
	Sensor string
	// Logger receives per-call debug lines and file errors.
	Logger *slog.Logger
	// Journal keeps a journal of every call in progress in its spool
	// directory, rewritten by Flush when the call changed (see Journal),
	// so that a recorder that dies can recover its calls at the next
	// start. Live capture sets it.
	Journal bool
	// Progress, if set, is called when a call starts and when it is
	// answered, from the goroutine that feeds the Assembler; it must not
	// block. Reconfigure keeps it.
	Progress func(ProgressEvent)
	// CorrelationHeaders are the SIP headers whose values link the legs
	// of one conversation (see DefaultCorrelationHeaders, the list nil
	// means); an empty list turns header linking off. A header not known
	// to carry something else gives its value as another leg's Call-ID
	// or a shared correlation id.
	CorrelationHeaders []string
	// IgnoreSignalless keeps RTP that no SDP claims from becoming
	// signalless calls (calls.rtp_without_signalling: ignore); it is only
	// counted, as unassigned.
	IgnoreSignalless bool
	// Spool, if set, recycles the spool directories, track files and
	// journals of calls (see render.Pool); Reconfigure keeps it.
	Spool *render.Pool
	// AudioMaxRate caps the sample rate of recordings (render.Rate: 8000,
	// 16000 or 48000; 0 is 48000). The recorder mixes with it.
	AudioMaxRate int
	// SDES, if set, returns the SRTP master keys the operator supplied
	// (key file, --keys), by Call-ID and side or by the RTP source
	// address they encrypt. They are tried for a stream besides the keys
	// its SDP announced, so that SRTP whose keys are not in the visible
	// signalling (SIP over TLS) is decrypted; a stream they match is taken
	// for SRTP even when its SDP says plain RTP. The Assembler calls it
	// at start and about once a second of packet time (Expire), and
	// reindexes the keys when the slice it returns is another one (a key
	// file read again on SIGHUP); the slice must not be changed.
	// Reconfigure keeps it.
	SDES func() []keys.SDES
	// OpenFiles bounds the files this Assembler's calls hold open at once
	// (pcapngs and audio spools; see render.Files); 0: no bound. The
	// recorder gives each shard its share of the process's limit.
	OpenFiles int
	// Budget, if set, bounds the memory of the media held for flows no
	// SDP claims yet and of the calls in progress, shared with the other
	// stages (see package limits); Reconfigure keeps it.
	Budget *limits.Budget
	// Disk, if set, is the disk guard's verdict (see limits.Disk): a call
	// that starts while it is full keeps no audio and no pcap, only its
	// metadata and the note NoteDiskFull. Reconfigure keeps it.
	Disk *limits.Disk
}

// NoteDiskFull is the note of a call started while the disk guard found
// the data directory's file system full (Config.Disk).
const NoteDiskFull = "audio not kept: disk full (the data directory's file system is below retention.min_free and nothing more may be deleted)"

func (c *Config) defaults() {
	if c.MediaTimeout <= 0 {
		c.MediaTimeout = 2 * time.Hour
	}
	if c.EndLinger <= 0 {
		c.EndLinger = 2 * time.Second
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = DefaultMaxDuration
	}
	if c.AuthLinger <= 0 {
		c.AuthLinger = 3 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// DefaultMaxDuration is Config.MaxDuration's default.
const DefaultMaxDuration = 12 * time.Hour

// ProgressEvent reports a call in progress: it started (its first INVITE
// was seen), with Answered it was answered, with Update its media brought
// a codec not told yet (Flush tells, at most once a flush). Call holds
// what is known so far: ID, Call-ID, parties, direction, status, start and
// answer times, and the codecs of its media.
type ProgressEvent struct {
	Answered bool
	Update   bool
	Call     *spanrec.Call
}

// Finished is a call that ended: its metadata and the audio tracks still
// to be mixed. The tracks are closed; their spool files are the caller's
// to remove once mixed.
type Finished struct {
	Call   *spanrec.Call
	Tracks []*render.Track
	// AudioPath is the absolute path the recording should be written to,
	// and AudioFrom/AudioTo the interval it covers. AudioPath is "" when
	// the call has no decodable audio.
	AudioPath          string
	AudioFrom, AudioTo time.Time
	// PCAPPath is the absolute path of the call's pcapng, and PCAPSHA256
	// the hex SHA-256 of its bytes, computed as they were written; it is
	// "" when a file error makes it unreliable (hash the file instead).
	PCAPPath   string
	PCAPSHA256 string
	// SpoolDir is the directory of the track spools.
	SpoolDir string
	// FileErr is the first error writing the call's files (pcapng, spools,
	// journal), if any: the call's record says so in a note, and the
	// recorder counts the call as not recorded whole.
	FileErr error
}

// Stats counts what an Assembler did.
type Stats struct {
	Calls          int // dialogs started by an INVITE
	CallsFinished  int
	MediaPackets   int // RTP/RTCP packets assigned to a call
	Unassigned     int // RTP-looking packets never assigned to a call
	MalformedRTP   int
	MalformedRTCP  int // RTCP compound packets whose reports could not all be read
	FileErrors     int
	PendingDropped int
	// SRTP and SRTCP packets decrypted, and those no key authenticated.
	SRTPDecrypted, SRTPAuthFailures   int
	SRTCPDecrypted, SRTCPAuthFailures int
	TooLong                           int // calls closed at Config.MaxDuration
	Evicted                           int // calls closed early for the memory budget
	BeyondAudio                       int // RTP payloads not spooled: placed past Config.MaxDuration
	// Signalless counts the calls found as RTP alone (no SDP claimed
	// it): spanrec.SignallingNone.
	Signalless int
	// DiskFull counts the calls started without audio because the disk
	// guard found the disk full (Config.Disk).
	DiskFull int
	// SeriesStopped counts the streams whose quality series stopped
	// early for the memory budget, SeriesSkipped those that kept none
	// past the maxSeriesStreams of their call (see series.go).
	SeriesStopped, SeriesSkipped int
}

// Add adds o's counters to s (the recorder sums its shards').
func (s *Stats) Add(o Stats) {
	s.Calls += o.Calls
	s.CallsFinished += o.CallsFinished
	s.MediaPackets += o.MediaPackets
	s.Unassigned += o.Unassigned
	s.MalformedRTP += o.MalformedRTP
	s.MalformedRTCP += o.MalformedRTCP
	s.FileErrors += o.FileErrors
	s.PendingDropped += o.PendingDropped
	s.SRTPDecrypted += o.SRTPDecrypted
	s.SRTPAuthFailures += o.SRTPAuthFailures
	s.SRTCPDecrypted += o.SRTCPDecrypted
	s.SRTCPAuthFailures += o.SRTCPAuthFailures
	s.TooLong += o.TooLong
	s.Evicted += o.Evicted
	s.BeyondAudio += o.BeyondAudio
	s.Signalless += o.Signalless
	s.DiskFull += o.DiskFull
	s.SeriesStopped += o.SeriesStopped
	s.SeriesSkipped += o.SeriesSkipped
}

// Assembler joins signalling and media into calls. It is not safe for
// concurrent use.
type Assembler struct {
	cfg   Config
	done  func(*Finished)
	calls map[string]*state // by SIP Call-ID
	// media is the directory of SDP (and learned) endpoints: the calls
	// that claim each (see claims).
	media map[netip.AddrPort]*claims
	flows map[flowKey]flowRef // directional media flows
	files *render.Files       // nil: no bound
	// scratch is match's list of flows being built.
	scratch []*flow
	keys    operatorKeys
	// orphans holds the media no SDP claims yet, and makes signalless
	// calls of it.
	orphans *Orphans
	stats   Stats
}

// maxClaims bounds the calls that claim one endpoint: the legs of one
// conversation through B2BUAs, and stale calls whose port was reused.
const maxClaims = 8

// claims are the calls that claim one media endpoint, the latest binder
// (the owner) last. changed is called whenever the list changes, a
// claimant stops sharing (ends in signalling) or the entry leaves the
// directory, so that the flowSets through the endpoint look their calls
// up again.
type claims struct {
	bs []binding
	// sets are the flowSets that looked their calls up through this
	// endpoint (match) and are still in Assembler.flows.
	sets []*flowSet
}

// changed marks the flowSets through the endpoint stale: their next
// packet looks their calls up again (match).
func (cs *claims) changed() {
	for _, fs := range cs.sets {
		fs.stale = true
		for _, f := range fs.flows {
			f.direct = false
		}
	}
	clear(cs.sets)
	cs.sets = cs.sets[:0]
}

// register notes that fs looked its calls up through cs.
func (cs *claims) register(fs *flowSet) {
	if !slices.Contains(cs.sets, fs) {
		cs.sets = append(cs.sets, fs)
	}
}

// unregister forgets fs, which left Assembler.flows.
func (cs *claims) unregister(fs *flowSet) {
	if i := slices.Index(cs.sets, fs); i >= 0 {
		cs.sets = slices.Delete(cs.sets, i, i+1)
	}
}

// flowSet is one directional flow (src → dst) and the flows of the calls
// that get its packets: usually one; several when the legs of one
// conversation (B2BUA, direct media) all name both of its endpoints.
//
// Every media packet reads it, so it is kept to one cache line: the flows
// are held in first unless more than two calls share the flow, and
// whether the calls are still those of the directory is a flag set by the
// endpoints' claims when they change (claims.changed), not versions read
// from the claims (two more cache misses per packet).
type flowSet struct {
	flows []*flow
	// stale is set when the claims of either endpoint changed since flows
	// was looked up.
	stale   bool
	primary bool // looked up for HandleMedia (not HandleSharedMedia)
	// The claims of the endpoints when flows was looked up.
	src, dst *claims
	first    [2]*flow // flows' first backing array
}

// flowRef is the value of Assembler.flows: a flow's flowSet and, while
// the flowSet is current for HandleMedia and has one flow (one call gets
// the flow's packets, as nearly always), that flow, marked direct. A
// packet of such a flow goes to it without reading the flowSet: one cache
// miss less per packet.
type flowRef struct {
	fs  *flowSet
	one *flow
}

// current reports whether fs's calls are still those the directory gives.
func (fs *flowSet) current(primary bool) bool {
	return !fs.stale && fs.primary == primary
}

// claimsOf returns the bindings of ep, nil if no call claims it.
func (a *Assembler) claimsOf(ep netip.AddrPort) []binding {
	if cs := a.media[ep]; cs != nil {
		return cs.bs
	}
	return nil
}

// entry returns the claims of ep, making an empty entry if there is none.
func (a *Assembler) entry(ep netip.AddrPort) *claims {
	cs := a.media[ep]
	if cs == nil {
		cs = &claims{}
		a.media[ep] = cs
	}
	return cs
}

// unshare marks the endpoints of c changed: c stopped (or started again)
// sharing media.
func (a *Assembler) unshare(c *state) {
	for _, ep := range c.endpoints {
		if cs := a.media[ep]; cs != nil {
			cs.changed()
		}
	}
}

type binding struct {
	c    *state
	side spanrec.Side // the side that receives (and, symmetric RTP, sends) here
	rtcp bool
}

type flowKey struct{ src, dst netip.AddrPort }

// NewAssembler returns an Assembler that calls done for every finished
// call, from within HandleSIP, HandleMedia, Expire or Close.
func NewAssembler(cfg Config, done func(*Finished)) *Assembler {
	cfg.defaults()
	o := NewOrphans()
	o.Ignore = cfg.IgnoreSignalless
	o.Budget = cfg.Budget
	a := &Assembler{
		cfg:     cfg,
		done:    done,
		calls:   make(map[string]*state),
		media:   make(map[netip.AddrPort]*claims),
		flows:   make(map[flowKey]flowRef),
		orphans: o,
	}
	if cfg.OpenFiles > 0 {
		a.files = render.NewFiles(cfg.OpenFiles)
	}
	a.refreshKeys()
	return a
}

// Reconfigure applies cfg's networks and timeouts from now on, to the
// calls in progress too; DataDir and Journal keep their values, and a nil
// Logger keeps the current one.
func (a *Assembler) Reconfigure(cfg Config) {
	cfg.DataDir, cfg.Journal, cfg.Progress, cfg.Spool, cfg.SDES, cfg.Budget = a.cfg.DataDir, a.cfg.Journal, a.cfg.Progress, a.cfg.Spool, a.cfg.SDES, a.cfg.Budget
	cfg.Disk = a.cfg.Disk
	if cfg.Logger == nil {
		cfg.Logger = a.cfg.Logger
	}
	cfg.defaults()
	a.cfg = cfg
	a.orphans.Ignore = cfg.IgnoreSignalless
}

// Stats returns the counters.
func (a *Assembler) Stats() Stats {
	s := a.stats
	s.Unassigned += a.orphans.Unassigned
	s.PendingDropped += a.orphans.Dropped
	return s
}

// ObserveSignalling shows the Assembler a TCP or UDP packet that is not
// SIP, so that it can say why a signalless call has no signalling (see
// Hints). The recorder calls it for every such packet, before
// HandleMedia.
func (a *Assembler) ObserveSignalling(p *packet.Packet) { a.orphans.Hints.Observe(p) }

// Active returns the number of calls in progress.
func (a *Assembler) Active() int { return len(a.calls) }

// HandleSIP accounts one SIP message m carried by the datagram p. It
// reports whether the message belongs to a call (an INVITE dialog).
func (a *Assembler) HandleSIP(m *sipmsg.Message, p *packet.Packet) bool {
	return a.handleSIP(m, p, nil, false)
}

// Frame is one captured frame to keep in a call's pcap. Data is only read
// during the call it is passed to.
type Frame struct {
	Data []byte
	Link packet.LinkType
	Time time.Time
	Orig int // length on the wire
}

// HandleSIPStream accounts one SIP message m that came over a byte stream
// (SIP over TCP, RFC 3261 §18.3), where one segment may carry several
// messages and one message span several segments. p gives the message's
// addresses and, in p.Time, the capture time of its first byte; p's frame
// is not written. frames are the segments that carried the message and
// that the call's pcap does not hold yet, in capture order: the caller
// tracks which segments it handed over for which Call-ID, so that each is
// written once per call. It reports whether the message belongs to a call.
func (a *Assembler) HandleSIPStream(m *sipmsg.Message, p *packet.Packet, frames []Frame) bool {
	return a.handleSIP(m, p, frames, true)
}

func (a *Assembler) handleSIP(m *sipmsg.Message, p *packet.Packet, frames []Frame, stream bool) bool {
	c := a.calls[m.CallID]
	isNew := false
	if c == nil {
		if !dialog.IsInitialInvite(m) || m.CallID == "" {
			return false
		}
		if !a.takeCallMemory(nil, callCost) {
			return false
		}
		c = a.newCall(m, p)
		c.key = m.CallID
		c.mem = callCost
		a.calls[m.CallID] = c
		a.stats.Calls++
		isNew = true
	}
	u := c.d.Apply(m, p.Time, p.Src)
	a.link(c, m, u.Side, u.SDP)
	c.collectHeaders(m, isNew)
	if a.cfg.Progress != nil {
		if isNew {
			a.cfg.Progress(ProgressEvent{Call: c.snapshot(a)})
		}
		if !c.answerNotified && !c.d.Answer.IsZero() {
			c.answerNotified = true
			a.cfg.Progress(ProgressEvent{Answered: true, Call: c.snapshot(a)})
		}
	}
	c.touch(p.Time)
	c.dirty = true
	if stream {
		for _, f := range frames {
			c.writeFrame(a, f)
		}
	} else {
		c.writeFrames(a, p)
	}
	if u.SDP != nil {
		a.bindSDP(c, u.Side, u.SDP, p.Time)
	}
	if c.d.Finished() && c.finishedAt.IsZero() {
		c.finishedAt = p.Time
		a.unshare(c) // it shares no more media (see match)
	}
	if u.Reopened && !c.finishedAt.IsZero() {
		c.finishedAt = time.Time{}
		a.unshare(c)
	}
	return true
}

func (a *Assembler) newCall(m *sipmsg.Message, p *packet.Packet) *state {
	c := a.newState(dialog.New(m, p.Time, p.Src, p.Dst), spanrec.NewCallID(m.CallID, p.Time), p.Time)
	c.addKey(keyCallID, m.CallID)
	return c
}

// newState starts the state of a call with dialog d, ID id, first seen at
// t, and opens its pcapng.
func (a *Assembler) newState(d *dialog.Dialog, id spanrec.CallID, t time.Time) *state {
	c := &state{
		d:       d,
		id:      id,
		rtp:     make(map[spanrec.Side]map[uint8]sipmsg.RTPMap, 2),
		mediaEP: make(map[spanrec.Side]netip.AddrPort, 2),
		first:   t,
	}
	day := t.UTC().Format("2006/01/02")
	dir := filepath.Join(a.cfg.DataDir, "recordings", filepath.FromSlash(day))
	c.base = filepath.Join(dir, string(c.id))
	c.spool = filepath.Join(a.cfg.DataDir, "spool", string(c.id))
	if a.cfg.Disk.Full() {
		// Metadata only: no pcapng, and no tracks (newTrack).
		c.noAudio = true
		c.note("%s", NoteDiskFull)
		a.stats.DiskFull++
		a.cfg.Disk.Refuse()
		return c
	}
	// The spool directory exists from the call's start, before its
	// pcapng: a writer killed now leaves a directory the next one finds
	// (recorder.Recover), and through it the pcapng.
	if err := a.cfg.Spool.MkdirAll(c.spool); err != nil {
		a.fileError(c, err)
		return c
	}
	f, err := a.createIn(dir, c.base+".pcapng")
	if err != nil {
		a.fileError(c, err)
		return c
	}
	c.openPCAP(a.files.Adopt(f))
	return c
}

// createIn makes the date directory dir and the file path in it. A
// deletion that left dir empty removes it (retention.Deleter), possibly
// between the two steps: then both are done again.
func (a *Assembler) createIn(dir, path string) (*os.File, error) {
	for try := 0; ; try++ {
		err := os.MkdirAll(dir, 0o750)
		if err == nil {
			var f *os.File
			if f, err = a.cfg.Spool.CreateMode(path, 0o640); err == nil {
				return f, nil
			}
		}
		if try == 3 || !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
}

func (a *Assembler) fileError(c *state, err error) {
	a.stats.FileErrors++
	if c.fileErr == nil {
		c.fileErr = err
		a.cfg.Logger.Error("call files", "call_id", c.d.CallID, "err", err)
	}
}

// StartSignalless makes a call of media no SDP claimed (see Orphans): its
// parties are the media addresses, it is answered at its first packet,
// and its held packets are replayed into it. The recorder's shards call
// it for what their router decided; an Assembler on its own decides in
// Expire and Close.
func (a *Assembler) StartSignalless(g *Orphan) {
	key := g.Key()
	if a.calls[key] != nil {
		return
	}
	if !a.takeCallMemory(nil, callCost) {
		a.orphans.Unassigned += len(g.Packets)
		return
	}
	c := a.newState(dialog.Signalless(g.Caller, g.Callee, g.First), spanrec.NewCallID(key, g.First), g.First)
	c.key, c.mem = key, callCost
	c.signalless = true
	a.calls[key] = c
	a.stats.Signalless++
	c.note("%s", g.Reason)
	if !g.Paired {
		c.note("RTP seen one way only (%s → %s): the other direction was not mirrored, or there was none", g.Caller, g.Callee)
	}
	// The srtp stage's hook: a side whose payloads look like SRTP is
	// marked encrypted, so that its packets are never decoded as plain
	// audio (keys supplied for its RTP source may decrypt it).
	for i, enc := range g.Encrypted {
		if enc {
			c.secure[i].enc = spanrec.SRTP
		}
	}
	if a.cfg.Progress != nil {
		a.cfg.Progress(ProgressEvent{Call: c.snapshot(a)})
		c.answerNotified = true
		a.cfg.Progress(ProgressEvent{Answered: true, Call: c.snapshot(a)})
	}
	a.bind(c, g.Caller, spanrec.CallerSide, false)
	a.bind(c, g.Callee, spanrec.CalleeSide, false)
	for _, ep := range []netip.AddrPort{g.Caller, g.Callee} {
		if ep.Port() < 65535 {
			rtcp := netip.AddrPortFrom(ep.Addr(), ep.Port()+1)
			if len(a.claimsOf(rtcp)) == 0 {
				side := spanrec.CalleeSide
				if ep == g.Caller {
					side = spanrec.CallerSide
				}
				a.bind(c, rtcp, side, true)
			}
		}
	}
	for i := range g.Packets {
		a.HandleMedia(&g.Packets[i])
	}
}

// bindSDP registers the media endpoints side announced in sdp, so that
// RTP to and from them is assigned to c (RFC 3264 §5: the address and port
// in the m= line are where the side wants to receive).
func (a *Assembler) bindSDP(c *state, side spanrec.Side, sdp *sipmsg.SDP, t time.Time) {
	c.sdpGen++
	pt := c.rtp[side]
	if pt == nil {
		pt = make(map[uint8]sipmsg.RTPMap)
		c.rtp[side] = pt
	}
	c.secureSDP(side, sdp)
	if sdp.MediaDropped > 0 {
		c.note("an SDP with %d m= sections: only the first %d were followed", len(sdp.Media)+sdp.MediaDropped, sipmsg.MaxMedia)
	}
	for _, m := range sdp.Media {
		for k, v := range m.RTPMap {
			pt[k] = v
		}
		if m.Type == "image" {
			c.note("T.38 fax media (%s) is kept in the pcap, not decoded", m.Proto)
		}
		if m.Addr.Port() == 0 || !m.Addr.Addr().IsValid() || m.Addr.Addr().IsUnspecified() {
			continue // disabled stream or hold (c=0.0.0.0, RFC 3264 §8.4)
		}
		a.bind(c, m.Addr, side, false)
		rtcp := m.RTCPAddr
		if !rtcp.IsValid() {
			rtcp = netip.AddrPortFrom(m.Addr.Addr(), m.Addr.Port()+1)
		}
		a.bind(c, rtcp, side, true)
		a.orphans.Announce(m.Addr, t)
	}
}

// bind makes c the owner of ep: the latest call to announce it. A call
// that owned it before keeps its claim, which gets it the packets of the
// flows whose both endpoints it claims (the legs of one conversation),
// not those of a new call that reused the port (see match).
func (a *Assembler) bind(c *state, ep netip.AddrPort, side spanrec.Side, rtcp bool) {
	cs := a.entry(ep)
	bs := cs.bs
	if n := len(bs); n > 0 && bs[n-1].c == c && bs[n-1].side == side && bs[n-1].rtcp == rtcp {
		return // unchanged
	}
	cs.changed()
	known := false
	for i, b := range bs {
		if b.c == c {
			bs = slices.Delete(bs, i, i+1)
			known = true
			break
		}
	}
	if len(bs) >= maxClaims {
		bs = slices.Delete(bs, 0, 1)
	}
	cs.bs = append(bs, binding{c: c, side: side, rtcp: rtcp})
	if !known {
		c.endpoints = append(c.endpoints, ep)
	}
}

// claims reports whether c claims ep.
func (a *Assembler) claims(ep netip.AddrPort, c *state) bool {
	for _, b := range a.claimsOf(ep) {
		if b.c == c {
			return true
		}
	}
	return false
}

// HandleMedia accounts one UDP packet that is not SIP. It reports whether
// the packet was assigned to a call (now or, when its SDP comes, later).
func (a *Assembler) HandleMedia(p *packet.Packet) bool {
	return a.handleMedia(p, true)
}

// HandleSharedMedia accounts a media packet whose flow a call of another
// Assembler owns (the recorder's shards): it goes only to the calls here
// that claim both of its endpoints (legs of the owner's conversation), and
// is neither held nor counted when none does.
func (a *Assembler) HandleSharedMedia(p *packet.Packet) bool {
	return a.handleMedia(p, false)
}

func (a *Assembler) handleMedia(p *packet.Packet, primary bool) bool {
	key := flowKey{p.Src, p.Dst}
	ref := a.flows[key]
	if f := ref.one; primary && f != nil && f.direct {
		f.handle(a, p)
		return true
	}
	fs := ref.fs
	if fs == nil || !fs.current(primary) {
		if fs = a.match(fs, key, primary); fs == nil {
			if !primary {
				return false
			}
			return a.orphans.Hold(p)
		}
		if primary {
			// What was held of the flow before its SDP came.
			held := a.orphans.Take(p)
			for i := range held {
				for _, f := range fs.flows {
					f.handle(a, &held[i])
				}
			}
		}
	}
	for _, f := range fs.flows {
		f.handle(a, p)
	}
	return true
}

// match looks up the calls of a flow (again, after the directory
// changed) and returns its flowSet, or nil (and forgets it) when no call
// claims it. The owner of the destination endpoint gets the flow, else
// the owner of the source; a flow matched by its destination teaches the
// source as the sender's observed address (NAT). Every other call that
// claims both endpoints gets it too, unless it ended in signalling: media
// seen once belongs to each leg whose SDP names it. Without primary only
// the latter are looked up.
func (a *Assembler) match(fs *flowSet, key flowKey, primary bool) *flowSet {
	var owner *state
	next := a.scratch[:0]
	if primary {
		if ds := a.claimsOf(key.dst); len(ds) > 0 {
			b := ds[len(ds)-1]
			owner = b.c
			if len(a.claimsOf(key.src)) == 0 {
				cs := a.entry(key.src)
				cs.bs = append(cs.bs, binding{c: b.c, side: other(b.side), rtcp: b.rtcp})
				cs.changed()
				b.c.endpoints = append(b.c.endpoints, key.src)
			}
			next = append(next, a.flowOf(fs, b.c, key, other(b.side), b.rtcp))
		} else if ss := a.claimsOf(key.src); len(ss) > 0 {
			b := ss[len(ss)-1]
			owner = b.c
			next = append(next, a.flowOf(fs, b.c, key, b.side, b.rtcp))
		}
	}
	for _, b := range a.claimsOf(key.dst) {
		// A call that ended in signalling (lingering for its last
		// packets) shares no more: its ports may be reused at once.
		if b.c == owner || !b.c.finishedAt.IsZero() || !a.claims(key.src, b.c) {
			continue
		}
		next = append(next, a.flowOf(fs, b.c, key, other(b.side), b.rtcp))
	}
	if len(next) == 0 {
		a.scratch = next
		if fs != nil {
			a.dropSet(key, fs)
		}
		return nil
	}
	if fs == nil {
		fs = &flowSet{}
		fs.flows = fs.first[:0]
	}
	for _, f := range fs.flows {
		f.direct = false
	}
	fs.flows = append(fs.flows[:0], next...)
	clear(next)
	a.scratch = next[:0]
	fs.src, fs.dst = a.entry(key.src), a.entry(key.dst)
	fs.src.register(fs)
	fs.dst.register(fs)
	fs.stale, fs.primary = false, primary
	ref := flowRef{fs: fs}
	if primary && len(fs.flows) == 1 {
		ref.one = fs.flows[0]
		ref.one.direct = true
	}
	a.flows[key] = ref
	return fs
}

// dropSet removes the flowSet of key from the flows and from the claims
// it registered with.
func (a *Assembler) dropSet(key flowKey, fs *flowSet) {
	delete(a.flows, key)
	for _, f := range fs.flows {
		f.direct = false
	}
	if fs.src != nil {
		fs.src.unregister(fs)
	}
	if fs.dst != nil {
		fs.dst.unregister(fs)
	}
}

// flowOf returns c's flow for key: the one it had in fs or before (a
// flow it lost and gets back keeps its figures), else a new one.
func (a *Assembler) flowOf(fs *flowSet, c *state, key flowKey, sender spanrec.Side, rtcp bool) *flow {
	if fs != nil {
		for _, f := range fs.flows {
			if f.c == c {
				return f
			}
		}
	}
	for i := len(c.flows) - 1; i >= 0; i-- {
		if f := c.flows[i]; f.key == key {
			return f
		}
	}
	f := &flow{key: key, c: c, side: sender, rtcp: rtcp}
	c.flows = append(c.flows, f)
	return f
}

// Limits of the media held for flows whose SDP is not seen yet: packets
// per flow, flows, and how long a flow is kept after its last packet.
// The recorder's shard router holds media by the same limits.
const (
	MaxPendingPackets = 32
	MaxPendingFlows   = 1 << 16
	PendingAge        = 5 * time.Second
)

// HeldSize returns the bytes a held copy of p takes, for the memory
// budget: the frame, its fragments and the Packet itself.
func HeldSize(p *packet.Packet) int64 {
	n := len(p.Frame) + heldOverhead
	for _, f := range p.Fragments {
		n += len(f)
	}
	return int64(n)
}

// heldOverhead is what a held packet costs besides its bytes (the Packet
// value, slice headers, allocation rounding).
const heldOverhead = 256

func other(s spanrec.Side) spanrec.Side {
	if s == spanrec.CallerSide {
		return spanrec.CalleeSide
	}
	return spanrec.CallerSide
}

// Expire closes the calls that ended (EndLinger after their BYE or final
// answer) or went silent (MediaTimeout), and forgets unassigned flows, as
// of packet time now.
func (a *Assembler) Expire(now time.Time) {
	a.refreshKeys()
	for id, c := range a.calls {
		linger := a.cfg.EndLinger
		if c.d.Challenged() {
			linger = max(linger, a.cfg.AuthLinger)
		}
		switch {
		case !c.finishedAt.IsZero() && now.Sub(c.finishedAt) >= linger:
		case now.Sub(c.last) >= a.cfg.MediaTimeout:
		case now.Sub(c.first) >= a.cfg.MaxDuration:
			a.stats.TooLong++
			c.note("call longer than calls.max_duration (%s): closed then; what followed is not recorded", a.cfg.MaxDuration)
		default:
			continue
		}
		delete(a.calls, id)
		a.finish(c)
	}
	for _, g := range a.orphans.Expire(now) {
		a.StartSignalless(g)
	}
}

// Close finishes every call still open, as at the end of a capture file or
// on shutdown.
func (a *Assembler) Close() {
	for _, g := range a.orphans.Close() {
		a.StartSignalless(g)
	}
	ids := make([]string, 0, len(a.calls))
	for id := range a.calls {
		ids = append(ids, id)
	}
	// Finish in start order so that output is deterministic.
	slices.SortFunc(ids, func(x, y string) int {
		return cmp.Or(a.calls[x].first.Compare(a.calls[y].first), cmp.Compare(x, y))
	})
	for _, id := range ids {
		c := a.calls[id]
		delete(a.calls, id)
		a.finish(c)
	}
	clear(a.flows)
}

// Memory a call takes, for the budget (measured with an INVITE flood and
// with calls carrying audio: docs/SECURITY.md): its state, dialog and
// pcapng writer, and each audio track (write buffer, reorder window,
// decoder).
const (
	callCost  = 12 << 10
	trackCost = 20 << 10
)

// takeCallMemory takes n bytes of the budget for a call (keep, or a new
// one when keep is nil); when the budget refuses, the calls in progress
// that wait longest without an answer are closed first, then the oldest
// answered ones, each with a note. When no call is left to close, a new
// call takes its memory past the limit (the other shards of the recorder,
// which share the budget, hold it all: refusing it would lose the call,
// and this shard holds at most this one call over the limit); for more
// memory of a call in progress (an audio track) it reports false.
func (a *Assembler) takeCallMemory(keep *state, n int64) bool {
	for !a.cfg.Budget.Take(limits.Calls, n) {
		var open []*state
		for _, c := range a.calls {
			if c != keep {
				open = append(open, c)
			}
		}
		if len(open) == 0 {
			if keep == nil {
				a.cfg.Budget.TakeOver(limits.Calls, n)
				return true
			}
			a.cfg.Budget.Evicted(limits.Calls, n)
			return false
		}
		slices.SortFunc(open, func(x, y *state) int {
			if ax, ay := !x.d.Answer.IsZero(), !y.d.Answer.IsZero(); ax != ay {
				if ax {
					return 1
				}
				return -1
			}
			return cmp.Or(x.first.Compare(y.first), cmp.Compare(x.key, y.key))
		})
		for _, c := range open[:max(1, len(open)/8)] {
			a.cfg.Budget.Evicted(limits.Calls, c.mem)
			a.stats.Evicted++
			c.note("closed early: the recorder's memory limit (limits.memory) was reached; what followed is not recorded")
			delete(a.calls, c.key)
			a.finish(c)
		}
	}
	return true
}

func (a *Assembler) finish(c *state) {
	a.cfg.Budget.Free(limits.Calls, c.mem)
	a.cfg.Budget.Free(limits.Series, c.seriesMem)
	c.mem, c.seriesMem = 0, 0
	a.stats.CallsFinished++
	if !c.d.Finished() {
		c.d.Close(c.last)
	}
	for _, ep := range c.endpoints {
		cs := a.media[ep]
		if cs == nil {
			continue
		}
		cs.changed()
		for i, b := range cs.bs {
			if b.c == c {
				cs.bs = slices.Delete(cs.bs, i, i+1)
				break
			}
		}
		if len(cs.bs) == 0 {
			delete(a.media, ep)
		}
	}
	for _, f := range c.flows {
		f.direct = false
		fs := a.flows[f.key].fs
		if fs == nil {
			continue
		}
		if i := slices.Index(fs.flows, f); i >= 0 {
			fs.flows = slices.Delete(fs.flows, i, i+1)
		}
		if len(fs.flows) == 0 {
			a.dropSet(f.key, fs)
		}
		// The empty entries the flow made for its endpoints go too.
		for _, ep := range []netip.AddrPort{f.key.src, f.key.dst} {
			if cs := a.media[ep]; cs != nil && len(cs.bs) == 0 {
				cs.changed()
				delete(a.media, ep)
			}
		}
	}
	fin := c.result(a)
	a.done(fin)
}

// Flush pushes the buffered packets and audio of every open call to disk,
// so that a crash loses at most what came since, and, with Config.Journal,
// rewrites the journal of every call that changed.
func (a *Assembler) Flush() {
	for _, c := range a.calls {
		if a.cfg.Progress != nil {
			if n := len(c.codecs()); n != c.codecsTold {
				c.codecsTold = n
				a.cfg.Progress(ProgressEvent{Update: true, Call: c.snapshot(a)})
			}
		}
		// The stream statistics change with every packet: a call with
		// media since the last version gets a new one too, so that a
		// recovered call has the statistics of the last flush.
		if a.cfg.Journal && (c.dirty || c.media != c.journalMedia) {
			c.dirty = false
			c.journalMedia = c.media
			a.writeJournal(c)
		}
		if c.pcap != nil {
			if err := c.pcap.Flush(); err != nil {
				a.fileError(c, err)
			}
		}
		for _, f := range c.flows {
			if f.track != nil {
				f.track.Flush()
			}
		}
	}
}

// Note adds a note to the open call with the given SIP Call-ID, if there
// is one (once: notes are not repeated).
func (a *Assembler) Note(callID, note string) {
	if c := a.calls[callID]; c != nil {
		c.note("%s", note)
	}
}

func (c *state) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !slices.Contains(c.notes, n) {
		c.notes = append(c.notes, n)
	}
}
