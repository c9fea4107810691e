package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/render"
)

// Live records calls from live capture sources (mirror ports) until its
// context is cancelled. Unlike Import it never blocks a capture reader:
// when the worker falls behind, whole batches are dropped and counted per
// source (SourceStats.QueueDrops), beside the kernel's own ring drops.
//
// The pipeline is Import's with these differences:
//   - one reader goroutine per source, each with its own packet.Decoder;
//   - the worker drops the second copy of a packet that came through two
//     sources (two mirror ports that both saw it), with packet.Dedup;
//   - the worker's clock is the last packet's time plus the wall time
//     since it came, advanced by a 1 s ticker, so that calls end and
//     silent calls expire while no packet comes;
//   - every second the worker flushes the buffered pcap records and audio
//     of every call in progress and the journals of the calls that changed
//     (call.Config.Journal is forced on), so that a crash loses at most
//     about a second of audio; Recover finishes such calls at the next
//     start.
//
// Its methods other than Run are safe for concurrent use.
type Live struct {
	cfg     Config
	srcs    []capture.Source
	index   spanrec.CallIndex
	sources []*sourceState
	reconf  chan call.Config

	snap          atomic.Pointer[workerSnapshot]
	shards        atomic.Pointer[[]*shard] // for the active calls, fresher than snap
	callsRecorded atomic.Uint64
	callsFailed   atomic.Uint64
	withAudio     atomic.Uint64
	lost          atomic.Uint64
	started       atomic.Bool
	// queue is the worker's packet queue while Run runs; busyAt is when
	// it was last found busyFill full (Unix ns).
	queue  atomic.Pointer[chan *batch]
	busyAt atomic.Int64
}

// busyFill: the recorder is busy while its packet queue holds 1/busyFill
// of what it can (32 of 1024 batches: 4096 packets), or did within
// busyFor.
const (
	busyFill = 32
	busyFor  = time.Second
)

// Busy reports whether the recorder is near its limit: the packets
// waiting for the worker fill 1/32 of its queue, now or within the last
// second. It is what a Shipper beside it asks before each call it ships
// (ship.Shipper.Busy), so that shipping takes no CPU the capture needs:
// a queue that fills all the way drops packets (SourceStats.QueueDrops).
func (l *Live) Busy() bool {
	now := time.Now().UnixNano()
	if q := l.queue.Load(); q != nil && len(*q)*busyFill >= cap(*q) {
		l.busyAt.Store(now)
		return true
	}
	at := l.busyAt.Load()
	return at != 0 && now-at < int64(busyFor)
}

// sourceState is what a reader publishes about its source.
type sourceState struct {
	name       string
	src        capture.Source
	queueDrops atomic.Uint64
	frames     atomic.Uint64
	dec        atomic.Pointer[packet.Stats]
	err        error // set by the reader before it exits
}

// workerSnapshot is what the worker publishes about itself, once a
// second.
type workerSnapshot struct {
	active      int
	assembler   call.Stats
	sip         int
	sipErrors   int
	tcpFlows    int
	badTime     int
	sipTooLarge int
	tls         TLSStats
	crossDups   uint64
	packetTime  time.Time
}

// SourceStats counts what one source captured and lost.
type SourceStats struct {
	capture.LiveStats // Interface is "source N" for sources that have no name
	// QueueDrops counts the packets dropped because the worker was behind.
	QueueDrops uint64
	// Frames counts the frames read from the source.
	Frames uint64
	// Decoder counts what the source's packet decoder saw.
	Decoder packet.Stats
}

// LiveStats is a snapshot of a Live recording's counters.
type LiveStats struct {
	Sources []SourceStats
	// ActiveCalls is the number of calls in progress.
	ActiveCalls int
	// CallsRecorded counts the calls written to the index (with or
	// without audio), CallsFailed those that could not be.
	CallsRecorded uint64
	CallsFailed   uint64
	WithAudio     uint64
	// Lost counts the RTP packets lost (sequence gaps) in recorded calls.
	Lost uint64
	// CrossDuplicates counts the packets dropped as copies of one that
	// came through another source.
	CrossDuplicates uint64
	SIP, SIPErrors  int
	TCPFlows        int
	// BadTime counts packets skipped for an absurd capture time (see
	// Summary.BadTime).
	BadTime int
	TLS     TLSStats // SIP over TLS connections
	// SIPTooLarge counts SIP messages over TCP dropped for their size.
	SIPTooLarge int
	// Memory is the memory budget's account (see Summary.Memory).
	Memory    limits.Stats
	Assembler call.Stats
	// PacketTime is the capture time of the latest packet.
	PacketTime time.Time
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// CallRecorded: a call ended and is in the index (Call).
	CallRecorded EventKind = iota + 1
	// CallFailed: a call ended but its files or index entry could not be
	// written (Call, Err).
	CallFailed
	// CallRecovered: Recover finished a call a stopped recorder left.
	CallRecovered
	// CallStarted: a call's first INVITE was seen (Call holds what is
	// known so far: parties, direction, start).
	CallStarted
	// CallAnswered: a call was answered.
	CallAnswered
	// CallUpdated: what is known of a call in progress changed (its
	// media brought a new codec; Call.Codecs).
	CallUpdated
)

// Event reports a call that started, was answered, or was written to the
// index.
type Event struct {
	Kind EventKind
	Call *spanrec.Call
	Err  error
}

// liveQueue is the default of Config.Queue.
const liveQueue = 1024

// liveBatchAge is how long (packet time) a reader lets a batch fill
// before it hands it over anyway, and liveTick how often the worker
// advances time and flushes.
const (
	liveBatchAge = 50 * time.Millisecond
	liveTick     = time.Second
)

// NewLive returns a Live that will record from srcs into index, the
// recordings going to cfg.Call.DataDir. It starts nothing: call Run.
// Sources that have a method Interface() string are named by it in the
// stats, and those with a method Stats() capture.LiveStats report kernel
// counters. Live sources return capture.ErrTimeout when idle, which lets
// their reader notice the end of the run.
func NewLive(cfg Config, srcs []capture.Source, index spanrec.CallIndex) *Live {
	cfg.Call.Journal = true
	budget(&cfg)
	shareFiles(&cfg)
	l := &Live{cfg: cfg, srcs: srcs, index: index, reconf: make(chan call.Config, 1)}
	for i, s := range srcs {
		name := fmt.Sprintf("source %d", i)
		if n, ok := s.(interface{ Interface() string }); ok {
			name = n.Interface()
		}
		l.sources = append(l.sources, &sourceState{name: name, src: s})
	}
	l.snap.Store(&workerSnapshot{})
	return l
}

// Record records from srcs until ctx is done; see Live.
func Record(ctx context.Context, cfg Config, srcs []capture.Source, index spanrec.CallIndex, events func(Event)) error {
	return NewLive(cfg, srcs, index).Run(ctx, events)
}

// Reconfigure applies a new call configuration (networks, timeouts) to
// the running worker within a second; DataDir and Journal stay.
func (l *Live) Reconfigure(cfg call.Config) {
	for {
		select {
		case l.reconf <- cfg:
			return
		default:
		}
		select { // replace a request not taken yet
		case <-l.reconf:
		default:
		}
	}
}

// Run records until ctx is done or every source ended, then stops the
// readers, closes every call still open (recording and indexing it), waits
// for the renderers and the index and returns. It closes the sources.
// events, if not nil, is called from the goroutine that writes the index
// for every call written (or that failed), and
// from the call shards' goroutines (so it must not block) when a call
// starts, is answered or gets a new codec; it must be safe for concurrent use.
// Run may be called once.
func (l *Live) Run(ctx context.Context, events func(Event)) error {
	if l.started.Swap(true) {
		return errors.New("recorder: Live.Run called twice")
	}
	cfg := l.cfg
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Call.Logger == nil {
		cfg.Call.Logger = cfg.Logger
	}
	if cfg.Renderers <= 0 {
		cfg.Renderers = runtime.GOMAXPROCS(0)
	}
	cfg.Call.Spool = spoolPool(cfg, cfg.Logger)
	if cfg.Keys != nil && cfg.Call.SDES == nil {
		// The SDES lines of the key file: SRTP keys for streams whose
		// SDP carries none (the Store is replaced on SIGHUP).
		cfg.Call.SDES = cfg.Keys.SDES
	}
	if cfg.Call.Spool != nil {
		fillCtx, stopFill := context.WithCancel(ctx)
		defer stopFill()
		cfg.Call.Spool.Fill(fillCtx, poolFiles, poolDirs)
	}
	if events != nil {
		cfg.Call.Progress = func(p call.ProgressEvent) {
			kind := CallStarted
			switch {
			case p.Update:
				kind = CallUpdated
			case p.Answered:
				kind = CallAnswered
			}
			events(Event{Kind: kind, Call: p.Call})
		}
	}
	if events == nil {
		events = func(Event) {}
	}
	// Calls that end while shutting down are still written.
	wctx := context.WithoutCancel(ctx)

	if cfg.Queue <= 0 {
		cfg.Queue = liveQueue
	}
	batches := make(chan *batch, cfg.Queue*len(l.sources))
	l.queue.Store(&batches)
	defer l.queue.Store(nil)
	frees := make([]chan *batch, len(l.sources))
	var readers sync.WaitGroup
	for i, s := range l.sources {
		frees[i] = make(chan *batch, cfg.Queue+2)
		readers.Add(1)
		go func() {
			defer readers.Done()
			l.read(ctx, cfg, i, s, batches, frees[i])
		}()
	}
	go func() {
		readers.Wait()
		close(batches)
	}()

	finished := make(chan *call.Finished, 256)
	var renderers sync.WaitGroup
	st := newStore(wctx, cfg.Call, l.index, storeWait)
	for range cfg.Renderers {
		renderers.Add(1)
		go func() {
			defer renderers.Done()
			for f := range finished {
				// The WAV is synced to stable storage before the index
				// lists it.
				errs := writeFiles(cfg.Call, f, render.MixOptions{Sync: true})
				st.put(f, errs, func(err error) {
					if err != nil {
						l.callsFailed.Add(1)
						cfg.Logger.Error("record call", "call_id", f.Call.SIPCallID, "err", err)
						events(Event{Kind: CallFailed, Call: f.Call, Err: err})
						return
					}
					l.callsRecorded.Add(1)
					if f.Call.Audio != "" {
						l.withAudio.Add(1)
					}
					for _, s := range f.Call.Streams {
						l.lost.Add(uint64(s.Lost))
					}
					events(Event{Kind: CallRecorded, Call: f.Call})
				})
			}
		}()
	}

	// The worker never waits for the renderers: a mass hang-up would
	// stall capture for as long as the mixing takes. Finished calls queue
	// here without bound (their audio is on disk, in the spool; a call
	// costs a few hundred bytes here).
	ended := make(chan *call.Finished, 64)
	go func(in <-chan *call.Finished) {
		defer close(finished)
		var q []*call.Finished
		for in != nil || len(q) > 0 {
			var out chan<- *call.Finished
			var next *call.Finished
			if len(q) > 0 {
				out, next = finished, q[0]
			}
			select {
			case f, ok := <-in:
				if !ok {
					in = nil
					continue
				}
				q = append(q, f)
			case out <- next:
				q[0] = nil
				q = q[1:]
			}
		}
	}(ended)
	w := newWorker(cfg, func(f *call.Finished) { ended <- f })
	w.tlsHold = tlsHold // keys may come after the handshake (SIGHUP, POST /api/keys)
	if len(w.shards) > 0 {
		l.shards.Store(&w.shards)
	}
	var dedup *packet.Dedup
	if len(l.sources) > 1 {
		dedup = packet.NewDedup(cfg.Packet.DedupWindow)
	}
	var crossDups uint64
	var lastPkt time.Time  // packet time of the latest packet
	var lastWall time.Time // wall time it was handled
	publish := func() {
		l.snap.Store(&workerSnapshot{
			active: w.active(), assembler: w.stats(),
			sip: w.sip, sipErrors: w.sipErrors, tcpFlows: w.tcpFlows, badTime: w.guard.skipped, tls: w.tls,
			sipTooLarge: w.tooLarge(),
			crossDups:   crossDups, packetTime: lastPkt,
		})
	}
	tick := time.NewTicker(liveTick)
	defer tick.Stop()
loop:
	for {
		select {
		case b, ok := <-batches:
			if !ok {
				break loop
			}
			for i := range b.pkts {
				p := &b.pkts[i]
				if dedup != nil && dedup.Seen(p) {
					crossDups++
					continue
				}
				// Frames of different sources interleave a little: keep
				// the clock monotonic.
				if p.Time.After(lastPkt) {
					lastPkt = p.Time
				}
				w.handle(p)
			}
			w.sendAll()
			lastWall = time.Now()
			if len(batches)*busyFill >= cap(batches) {
				l.busyAt.Store(lastWall.UnixNano())
			}
			select {
			case frees[b.src] <- b:
			default:
			}
		case c := <-l.reconf:
			w.reconfigure(c)
		case <-tick.C:
			var now time.Time // packet time; none seen yet: flush only
			if !lastPkt.IsZero() {
				now = lastPkt.Add(time.Since(lastWall))
			}
			w.tick(now, true)
			publish()
		}
	}
	w.close()
	publish()
	close(ended)
	renderers.Wait()
	st.close()

	var errs []error
	for _, s := range l.sources {
		if s.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.name, s.err))
		}
	}
	return errors.Join(errs...)
}

// read is the reader goroutine of source i: frame → packet → batch, handed
// to the worker without ever blocking; it closes the source when done.
func (l *Live) read(ctx context.Context, cfg Config, i int, s *sourceState, out chan<- *batch, free chan *batch) {
	defer s.src.Close()
	dec := packet.NewDecoder(cfg.Packet)
	newBatch := func() *batch {
		select {
		case b := <-free:
			b.reset()
			return b
		default:
			return &batch{src: i, pkts: make([]packet.Packet, 0, batchSize), arena: make([]byte, 0, batchSize*512)}
		}
	}
	b := newBatch()
	var first time.Time // packet time of the batch's first packet
	send := func() {
		if len(b.pkts) == 0 {
			return
		}
		b.seal()
		select {
		case out <- b:
			b = newBatch()
		default:
			s.queueDrops.Add(uint64(len(b.pkts)))
			b.reset()
		}
	}
	publish := func() {
		st := dec.Stats()
		s.dec.Store(&st)
	}
	defer publish()
	var frames uint64
	for ctx.Err() == nil {
		fr, err := s.src.ReadFrame()
		if err != nil {
			if errors.Is(err, capture.ErrTimeout) {
				send()
				publish()
				continue
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, capture.ErrClosed) {
				s.err = err
			}
			break
		}
		frames++
		s.frames.Store(frames)
		if frames&4095 == 0 {
			publish()
		}
		p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if !ok {
			continue
		}
		if len(b.pkts) == 0 {
			first = p.Time
		}
		b.add(&p)
		if b.full() || p.Time.Sub(first) >= liveBatchAge {
			send()
		}
	}
	// The last batch goes to the worker even if it has to wait: the
	// worker drains until every reader is done.
	if len(b.pkts) > 0 {
		b.seal()
		out <- b
	}
}

// Stats returns a snapshot of the counters. It is safe to call at any time
// from any goroutine; kernel counters are read from the sources now.
func (l *Live) Stats() LiveStats {
	ws := l.snap.Load()
	active := ws.active
	if sh := l.shards.Load(); sh != nil {
		// The shards publish their count when they expire calls; the
		// worker's snapshot can be a second older.
		active = 0
		for _, s := range *sh {
			active += s.snap.Load().active
		}
	}
	st := LiveStats{
		ActiveCalls:     active,
		CallsRecorded:   l.callsRecorded.Load(),
		CallsFailed:     l.callsFailed.Load(),
		WithAudio:       l.withAudio.Load(),
		Lost:            l.lost.Load(),
		CrossDuplicates: ws.crossDups,
		SIP:             ws.sip,
		SIPErrors:       ws.sipErrors,
		TCPFlows:        ws.tcpFlows,
		BadTime:         ws.badTime,
		TLS:             ws.tls,
		SIPTooLarge:     ws.sipTooLarge,
		Memory:          l.cfg.Call.Budget.Stats(),
		Assembler:       ws.assembler,
		PacketTime:      ws.packetTime,
	}
	for _, s := range l.sources {
		ss := SourceStats{QueueDrops: s.queueDrops.Load(), Frames: s.frames.Load()}
		if ks, ok := s.src.(interface{ Stats() capture.LiveStats }); ok {
			ss.LiveStats = ks.Stats()
		}
		ss.Interface = s.name
		if d := s.dec.Load(); d != nil {
			ss.Decoder = *d
		}
		st.Sources = append(st.Sources, ss)
	}
	return st
}
