// Package recorder runs the recording pipeline: it reads frames from a
// capture source, decodes them, sends SIP to the dialog tracking and media
// to the call assembler, and renders and indexes every finished call. It is
// the only package that starts pipeline goroutines and owns their channels.
//
// The pipeline has five stages: a reader goroutine (frame → packet.Packet,
// batched); a worker goroutine that parses SIP, follows SIP over TCP and
// routes every packet to the call shard that owns its call (by Call-ID,
// and media by the endpoints the SDP announced; see shard.go); the shard
// goroutines, each owning its calls' state (package call); a pool of
// renderers that mix the audio; and the store, one goroutine that writes
// the finished calls to the index, those that end together in one
// transaction (store.go). Import blocks on
// every hand-off, so nothing is dropped and a file imports the same way
// each time, whatever the number of shards.
package recorder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/render"
	"github.com/spanrec/spanrec/sipmsg"
)

// Config configures a recording run.
type Config struct {
	Call   call.Config
	Packet packet.Config
	// Renderers is the number of calls mixed at once; default GOMAXPROCS.
	Renderers int
	// Shards is the number of goroutines that assemble calls, each owning
	// the calls whose Call-ID hashes to it and their media; default
	// GOMAXPROCS. With 1 the worker goroutine assembles every call itself.
	// With more, Call.Progress is called from the shards' goroutines, so
	// it must be safe for concurrent use.
	Shards int
	// Queue is, for live recording, how many batches of packets (up to
	// 128 packets or 50 ms each) a source may have waiting for the worker
	// before its reader drops them; default 1024 (about 1 s at 100,000
	// packets/s: the worker stalls while the disk is slow).
	Queue int
	// Memory is the budget, in bytes, of what the stages buffer for the
	// traffic (SIP over TCP, held media, calls in progress; see package
	// limits); 0 means limits.DefaultMemory (a quarter of the memory the
	// process may use), negative no limit. Config limits.memory.
	Memory int64
	// Locked says that the caller holds the data directory's writer lock
	// (spanrec record and import take it): Recover then also removes the
	// spool directories and recordings an import killed in the middle
	// left behind, which no journal describes.
	Locked bool
	Logger *slog.Logger
	// Keys, if set, has the NSS key log used to decrypt SIP over TLS and
	// the SDES keys used to decrypt SRTP (when Call.SDES is nil); it may
	// change while a Live recording runs.
	Keys *keys.Store
}

// filesReserve is how many descriptors are left to the rest of the
// process (capture sockets, the index, the HTTP server, and per renderer
// the spools and WAV of the call it mixes) when the calls' own files are
// bounded (call.Config.OpenFiles).
const filesReserve = 256

// shareFiles sets cfg.Call.OpenFiles, unless set, to each shard's share
// of the process's limit of open files.
func shareFiles(cfg *Config) {
	if cfg.Call.OpenFiles != 0 {
		return
	}
	limit := openFilesLimit()
	if limit <= 0 {
		return
	}
	n := (limit - filesReserve - 16*max(cfg.Renderers, 1)) / shardCount(*cfg)
	cfg.Call.OpenFiles = max(n, 16)
}

// budget returns the memory budget of a run configured by cfg, and sets
// it as the call shards' budget too.
func budget(cfg *Config) *limits.Budget {
	if cfg.Call.Budget != nil {
		return cfg.Call.Budget
	}
	n := cfg.Memory
	if n == 0 {
		n = limits.DefaultMemory()
	}
	cfg.Call.Budget = limits.New(n)
	return cfg.Call.Budget
}

// Summary tells what a run did.
type Summary struct {
	Frames    int
	Packet    packet.Stats
	SIP       int // SIP messages parsed
	SIPErrors int // datagrams or TCP messages that looked like SIP but did not parse
	TCPFlows  int
	// SIPTooLarge counts SIP messages over TCP dropped for exceeding the
	// framer's limit (sipmsg.DefaultMaxMessage).
	SIPTooLarge int
	// Memory is the memory budget's account: limit, peak, and per kind
	// of holding the bytes held and the evictions.
	Memory limits.Stats
	// BadTime counts packets skipped because their capture time is
	// absurd against the capture's (more than 10 min away from it, and not
	// confirmed by the packets after them).
	BadTime   int
	TLS       TLSStats // SIP over TLS connections
	Assembler call.Stats

	Calls        int // calls written to the index
	WithAudio    int
	WithoutAudio int
	Streams      int
	Undecodable  int // RTP streams whose codec spanrec cannot decode
	// Encrypted counts the streams whose media was encrypted (SRTP,
	// ZRTP, DTLS-SRTP, or payloads that decode to noise), Decrypted
	// those of them decrypted with known keys and Undecryptable the
	// others; EncryptedCalls and UndecryptableCalls count the calls with
	// at least one such stream.
	Encrypted          int
	Decrypted          int
	Undecryptable      int
	EncryptedCalls     int
	UndecryptableCalls int
	Lost               int // RTP packets lost, summed over streams
	Errors             int // calls that could not be rendered or indexed
	Truncated          bool
	Elapsed            time.Duration
}

// addStreams counts the streams of c.
func (s *Summary) addStreams(c *spanrec.Call) {
	s.Streams += len(c.Streams)
	var enc, undec bool
	for _, st := range c.Streams {
		s.Lost += st.Lost
		switch {
		case st.Encryption != spanrec.Plain && st.Decoded:
			s.Encrypted++
			s.Decrypted++
			enc = true
		case st.Encryption != spanrec.Plain:
			s.Encrypted++
			s.Undecryptable++
			enc, undec = true, true
		case !st.Decoded && st.Codec != "":
			s.Undecodable++
		}
	}
	if enc {
		s.EncryptedCalls++
	}
	if undec {
		s.UndecryptableCalls++
	}
}

// Progress is reported while a run goes on.
type Progress struct {
	Frames int
	Bytes  int64 // of the capture file consumed, if known
	Calls  int   // calls finished so far
}

const batchSize = 128

type batch struct {
	src   int // index of the source whose reader filled it (live)
	pkts  []packet.Packet
	arena []byte
	offs  []pktOffs
}

// pktOffs locates a packet's frame and payload in its batch's arena.
type pktOffs struct {
	frame, frameLen, payload, payloadLen int
}

// maxBatchBytes bounds the bytes of a batch: 128 packets of 64 KB
// (reassembled datagrams) would make every batch, and the arenas the
// pipeline keeps for reuse, 8 MB.
const maxBatchBytes = 256 << 10

// full reports whether the batch should be handed on.
func (b *batch) full() bool {
	return len(b.pkts) == batchSize || len(b.arena) >= maxBatchBytes
}

func (b *batch) reset() {
	b.pkts = b.pkts[:0]
	b.arena = b.arena[:0]
}

// add copies p into the batch; the decoder's buffers are reused for the
// next frame.
func (b *batch) add(p *packet.Packet) {
	q := *p
	o := pktOffs{frame: len(b.arena), frameLen: len(p.Frame), payloadLen: len(p.Payload)}
	b.arena = append(b.arena, p.Frame...)
	if off, ok := p.PayloadOffset(); ok {
		// The usual case: the payload is a part of the frame.
		o.payload = o.frame + off
	} else {
		o.payload = len(b.arena)
		b.arena = append(b.arena, p.Payload...)
	}
	// The arena may move while the batch fills: keep offsets for now and
	// slice once the batch is sealed (see seal).
	q.Frame = nil
	q.Payload = nil
	q.Fragments = nil
	if len(p.Fragments) > 0 {
		q.Fragments = make([][]byte, len(p.Fragments))
		for i, f := range p.Fragments {
			q.Fragments[i] = append([]byte(nil), f...)
		}
	}
	q.OrigLen = p.OrigLen
	b.pkts = append(b.pkts, q)
	b.offs = append(b.offs, o)
}

func (b *batch) seal() {
	for i := range b.pkts {
		o := b.offs[i]
		b.pkts[i].Frame = b.arena[o.frame : o.frame+o.frameLen : o.frame+o.frameLen]
		b.pkts[i].Payload = b.arena[o.payload : o.payload+o.payloadLen : o.payload+o.payloadLen]
	}
	b.offs = b.offs[:0]
}

// Import records every call in src into index, the recordings going to
// cfg.Call.DataDir. It returns when src is exhausted (io.EOF) or ctx is
// done; calls still open are closed and recorded in both cases.
func Import(ctx context.Context, cfg Config, src capture.Source, index spanrec.CallIndex, progress func(Progress)) (Summary, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Call.Logger == nil {
		cfg.Call.Logger = cfg.Logger
	}
	if cfg.Renderers <= 0 {
		cfg.Renderers = runtime.GOMAXPROCS(0)
	}
	// No Pool.Fill: an import has no queue to overflow, and a small one
	// would leave a thousand spare files behind for nothing.
	cfg.Call.Spool = spoolPool(cfg, cfg.Logger)
	if cfg.Keys != nil && cfg.Call.SDES == nil {
		// The SDES lines of the key file: SRTP keys for streams whose
		// SDP carries none (the Store is replaced on SIGHUP).
		cfg.Call.SDES = cfg.Keys.SDES
	}
	mem := budget(&cfg)
	shareFiles(&cfg)
	began := time.Now()
	var sum Summary

	batches := make(chan *batch, 8)
	free := make(chan *batch, 10)
	for range 10 {
		free <- &batch{pkts: make([]packet.Packet, 0, batchSize), arena: make([]byte, 0, batchSize*512)}
	}
	finished := make(chan *call.Finished, 64)

	// Reader.
	var readErr error
	var decStats packet.Stats
	var frames int
	var readFrames, readBytes atomic.Int64 // progress, published by the reader
	go func() {
		defer close(batches)
		dec := packet.NewDecoder(cfg.Packet)
		b := <-free
		b.reset()
		for {
			if frames&1023 == 0 && ctx.Err() != nil {
				break
			}
			fr, err := src.ReadFrame()
			if errors.Is(err, capture.ErrTimeout) {
				continue // a live source, idle
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				break
			}
			frames++
			if frames&255 == 0 {
				// For the progress report, read by the worker.
				readFrames.Store(int64(frames))
				if pg, ok := src.(capture.Progress); ok {
					readBytes.Store(pg.BytesRead())
				}
			}
			p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
			if !ok {
				continue
			}
			b.add(&p)
			if b.full() {
				b.seal()
				batches <- b
				b = <-free
				b.reset()
			}
		}
		b.seal()
		batches <- b
		decStats = dec.Stats()
	}()

	// Renderers, then the store (index writes, by batches).
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Calls closed because ctx is done are still written.
	st := newStore(context.WithoutCancel(ctx), cfg.Call, index, importWait)
	for range cfg.Renderers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range finished {
				// An import can be run again: no fsync per WAV.
				errs := writeFiles(cfg.Call, f, render.MixOptions{})
				st.put(f, errs, func(err error) {
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						sum.Errors++
						cfg.Logger.Error("record call", "call_id", f.Call.SIPCallID, "err", err)
					}
					if !indexed(err) {
						return // refused by the index: neither recorded nor with audio
					}
					sum.Calls++
					if f.Call.Audio != "" {
						sum.WithAudio++
					} else {
						sum.WithoutAudio++
					}
					sum.addStreams(f.Call)
				})
			}
		}()
	}

	// Worker: owns the assembler.
	w := newWorker(cfg, func(f *call.Finished) { finished <- f })
	var lastProgress time.Time
	for b := range batches {
		for i := range b.pkts {
			w.handle(&b.pkts[i])
		}
		w.sendAll()
		free <- b
		if progress != nil && time.Since(lastProgress) > 200*time.Millisecond {
			lastProgress = time.Now()
			progress(Progress{Frames: int(readFrames.Load()), Bytes: readBytes.Load(), Calls: int(w.finished.Load())})
		}
	}
	w.close()
	close(finished)
	wg.Wait()
	st.close()

	sum.Frames = frames
	sum.Packet = decStats
	sum.SIP, sum.SIPErrors, sum.TCPFlows, sum.TLS = w.sip, w.sipErrors, w.tcpFlows, w.tls
	sum.BadTime = w.guard.skipped
	sum.SIPTooLarge = w.tooLarge()
	sum.Memory = mem.Stats()
	sum.Assembler = w.stats()
	if st, ok := src.(interface{ Stats() capture.FileStats }); ok {
		sum.Truncated = st.Stats().Truncated
	}
	sum.Elapsed = time.Since(began)
	if progress != nil {
		progress(Progress{Frames: frames, Calls: sum.Calls})
	}
	if readErr != nil {
		return sum, fmt.Errorf("read capture: %w", readErr)
	}
	return sum, ctx.Err()
}

// writeFiles renders the audio of a finished call and hashes its files,
// setting what the index stores of them in f.Call, and returns what went
// wrong (the call is indexed all the same, with a note). mix says whether
// the WAV is synced to stable storage (live: before the index lists it).
// The store then indexes the call and removes its spool (tracks and
// journal), so that a crash before the index has the call leaves what
// Recover needs.
func writeFiles(cc call.Config, f *call.Finished, mix render.MixOptions) []error {
	dataDir := cc.DataDir
	c := f.Call
	var errs []error
	if f.AudioPath != "" {
		mix.MaxRate = cc.AudioMaxRate
		res, err := render.MixWith(f.AudioPath, f.Tracks, f.AudioFrom, f.AudioTo, mix)
		if err != nil {
			errs = append(errs, err)
			c.Notes = append(c.Notes, "audio could not be written: "+err.Error())
			_ = os.Remove(f.AudioPath)
		} else {
			c.Audio = rel(dataDir, f.AudioPath)
			c.AudioSHA256 = res.SHA256
			c.AudioStart = f.AudioFrom
			c.AudioMS = res.Length.Milliseconds()
			c.Notes = append(c.Notes, res.Notes...)
		}
	}
	switch {
	case f.PCAPSHA256 != "":
		c.PCAPSHA256 = f.PCAPSHA256 // hashed as it was written
	case f.PCAPPath != "":
		sum, err := hashFile(f.PCAPPath)
		if err != nil {
			errs = append(errs, err)
		}
		c.PCAPSHA256 = sum
	}
	if f.FileErr != nil {
		errs = append(errs, fmt.Errorf("call files: %w", f.FileErr))
	}
	return errs
}

// poolFiles and poolDirs are how many spare files and directories a live
// recorder keeps made in its spool pool: a call takes two or three files
// (tracks, journal, pcapng) and a directory when it starts, so this covers
// the first few hundred calls of a burst (or of a start amid calls in
// progress) while the pool's goroutine makes more.
const (
	poolFiles = 1024
	poolDirs  = 256
)

// spoolPool returns the pool of the spool directory of cfg's data
// directory, to set as cfg.Call.Spool; without one (its directory cannot
// be made) files are created and deleted for real.
func spoolPool(cfg Config, log *slog.Logger) *render.Pool {
	if cfg.Call.Spool != nil {
		return cfg.Call.Spool
	}
	p, err := render.NewPool(filepath.Join(cfg.Call.DataDir, "spool", render.PoolDir))
	if err != nil {
		log.Warn("spool pool", "err", err)
		return nil
	}
	return p
}

func rel(dir, path string) string {
	r, err := filepath.Rel(dir, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// worker is the goroutine that owns the call state: with one shard it
// runs the call.Assembler itself, with more it routes every packet to the
// shard goroutine that owns its call (see shard.go). Either way it
// parses SIP and reassembles SIP over TCP.
type worker struct {
	asm    *call.Assembler // one shard: run here
	shards []*shard        // more: each on its own goroutine
	route  *router
	wg     sync.WaitGroup

	guard   timeGuard
	process func(*packet.Packet) // w.handlePacket, bound once
	tcp     map[flowKey]*tcpStream
	budget  *limits.Budget
	keys    *keys.Store // nil: no key log
	tls     TLSStats
	curTLS  *tlsHalf // the TLS connection of the stream being framed
	tlsHold int      // siptls.Conn.Hold of new connections (live: tlsHold)
	// tlsWaiting counts the TLS connections waiting for keys.
	tlsWaiting int
	sip        int
	sipErrors  int
	tcpFlows   int
	// sipTooLarge counts SIP messages over TCP dropped for exceeding the
	// framer's limit (sipmsg.DefaultMaxMessage), of the streams forgotten.
	sipTooLarge int
	lastTick    time.Time
	cur         *packet.Packet
	frames      []call.Frame // scratch for emitTCP
	finished    atomic.Int64 // calls finished, all shards
}

type flowKey struct {
	src, dst [18]byte
}

// shardCount is Config.Shards with its default: one shard per CPU.
func shardCount(cfg Config) int {
	if cfg.Shards > 0 {
		return cfg.Shards
	}
	return runtime.GOMAXPROCS(0)
}

func newWorker(cfg Config, done func(*call.Finished)) *worker {
	w := &worker{tcp: make(map[flowKey]*tcpStream), keys: cfg.Keys, budget: cfg.Call.Budget}
	w.process = w.handlePacket
	n := shardCount(cfg)
	if n <= 1 {
		w.asm = call.NewAssembler(cfg.Call, func(f *call.Finished) {
			w.finished.Add(1)
			done(f)
		})
		return w
	}
	w.route = newRouter(n, cfg.Call)
	for range n {
		s := newShard(cfg.Call, func(f *call.Finished) {
			w.route.finished(f.Call)
			w.finished.Add(1)
			done(f)
		})
		w.shards = append(w.shards, s)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			s.run()
		}()
	}
	return w
}

// handle handles one packet, unless its capture time is absurd (see
// timeGuard).
func (w *worker) handle(p *packet.Packet) {
	w.guard.admit(p, w.process)
}

func (w *worker) handlePacket(p *packet.Packet) {
	// Time going back by less than a second is the interleaving of
	// several sources (live), not worth an Expire per packet.
	if p.Time.Sub(w.lastTick) >= time.Second || p.Time.Before(w.lastTick.Add(-time.Second)) {
		w.lastTick = p.Time
		w.tick(p.Time, false)
	}
	switch p.Proto {
	case 17:
		if sipmsg.Looks(p.Payload) {
			w.handleSIP(p.Payload, p)
			return
		}
		w.observe(p)
		if w.asm != nil {
			w.asm.HandleMedia(p)
			return
		}
		if s, shared, ok := w.route.media(p); ok {
			// The assembler adopts what it held of a flow when the flow's
			// next packet finds its call; so does the router.
			held := w.route.take(p)
			for i := range held {
				w.push(s, &held[i], shardItem{kind: itemMedia})
				for _, o := range shared {
					w.push(o, &held[i], shardItem{kind: itemSharedMedia})
				}
			}
			w.push(s, p, shardItem{kind: itemMedia})
			for _, o := range shared {
				w.push(o, p, shardItem{kind: itemSharedMedia})
			}
		} else {
			w.route.hold(p)
		}
	case 6:
		w.handleTCP(p)
	}
}

// tick expires calls and flows as of now (packet time) and, with flush,
// pushes every open call's buffered packets and audio to disk.
func (w *worker) tick(now time.Time, flush bool) {
	if !now.IsZero() {
		w.expireTCP(now)
	}
	if w.asm != nil {
		if !now.IsZero() {
			w.asm.Expire(now)
		}
		if flush {
			w.asm.Flush()
		}
		return
	}
	var orphans []*call.Orphan
	if !now.IsZero() {
		orphans = w.route.expire(now)
	}
	w.control(shardItem{kind: itemControl, now: now, flush: flush})
	w.startSignalless(orphans)
}

// startSignalless hands the signalless calls the router decided to their
// shards, after what the shards have (a single assembler starts them at
// the end of its Expire).
func (w *worker) startSignalless(orphans []*call.Orphan) {
	if len(orphans) == 0 {
		return
	}
	var none packet.Packet
	for _, g := range orphans {
		w.push(w.route.signalless(g), &none, shardItem{kind: itemSignalless, orphan: g})
	}
	w.sendAll()
}

// observe shows a non-SIP packet to the signalling hints (call.Hints).
func (w *worker) observe(p *packet.Packet) {
	if w.asm != nil {
		w.asm.ObserveSignalling(p)
	} else {
		w.route.held.Hints.Observe(p)
	}
}

// reconfigure applies a new call configuration to every shard.
func (w *worker) reconfigure(cfg call.Config) {
	if w.asm != nil {
		w.asm.Reconfigure(cfg)
		return
	}
	w.route.held.Ignore = cfg.IgnoreSignalless
	w.control(shardItem{kind: itemControl, reconf: &cfg})
}

// control sends a control item to every shard, after what they have.
func (w *worker) control(it shardItem) {
	var none packet.Packet
	for i := range w.shards {
		w.push(i, &none, it)
	}
	w.sendAll()
}

// push appends one packet for shard i to the batch the worker fills for
// it, copying the packet.
func (w *worker) push(i int, p *packet.Packet, it shardItem) {
	s := w.shards[i]
	if s.cur == nil {
		s.cur = <-s.free
	}
	s.cur.add(p)
	s.cur.items = append(s.cur.items, it)
	if s.cur.full() {
		s.cur.seal()
		s.in <- s.cur
		s.cur = nil
	}
}

// sendAll hands every shard the batch filled for it so far; the worker
// calls it at the end of each batch it read, so that no packet waits for
// more to come.
func (w *worker) sendAll() {
	for _, s := range w.shards {
		if s.cur != nil && len(s.cur.pkts) > 0 {
			s.cur.seal()
			s.in <- s.cur
			s.cur = nil
		}
	}
}

// close finishes every call still open and, with shards, waits for them.
func (w *worker) close() {
	w.guard.end(w.process)
	for k, s := range w.tcp {
		w.forgetTCP(k, s)
	}
	if w.asm != nil {
		w.asm.Close()
		return
	}
	w.startSignalless(w.route.close())
	w.sendAll()
	for _, s := range w.shards {
		close(s.in)
	}
	w.wg.Wait()
}

// active returns the number of calls in progress, as of the shards' last
// report.
func (w *worker) active() int {
	if w.asm != nil {
		return w.asm.Active()
	}
	n := 0
	for _, s := range w.shards {
		n += s.snap.Load().active
	}
	return n
}

// stats returns the assemblers' counters summed, as of the shards' last
// report, with the router's held packets that were never assigned.
func (w *worker) stats() call.Stats {
	if w.asm != nil {
		return w.asm.Stats()
	}
	t := call.Stats{Unassigned: w.route.held.Unassigned, PendingDropped: w.route.held.Dropped}
	for _, s := range w.shards {
		t.Add(s.snap.Load().stats)
	}
	return t
}

func (w *worker) handleSIP(b []byte, p *packet.Packet) {
	m, err := sipmsg.Parse(b)
	if err != nil {
		w.sipErrors++
		return
	}
	w.sip++
	w.dispatchSIP(m, p, nil, false, "")
}

// dispatchSIP hands a parsed SIP message to its call's assembler: here,
// or on its shard. note, if not empty, is added to the call's notes.
func (w *worker) dispatchSIP(m *sipmsg.Message, p *packet.Packet, frames []call.Frame, stream bool, note string) {
	if w.asm != nil {
		if stream {
			w.asm.HandleSIPStream(m, p, frames)
			if note != "" {
				w.asm.Note(m.CallID, note)
			}
		} else {
			w.asm.HandleSIP(m, p)
		}
		return
	}
	s := w.route.sip(m, p)
	it := shardItem{kind: itemSIP, msg: m, note: note}
	if stream {
		it.kind = itemSIPStream
		it.frames = make([]call.Frame, len(frames))
		for i, f := range frames {
			f.Data = append([]byte(nil), f.Data...)
			it.frames[i] = f
		}
	}
	w.push(s, p, it)
}

func key(p *packet.Packet) flowKey {
	var k flowKey
	s, d := p.Src.Addr().As16(), p.Dst.Addr().As16()
	copy(k.src[:], s[:])
	copy(k.dst[:], d[:])
	k.src[16], k.src[17] = byte(p.Src.Port()>>8), byte(p.Src.Port())
	k.dst[16], k.dst[17] = byte(p.Dst.Port()>>8), byte(p.Dst.Port())
	return k
}

func (w *worker) handleTCP(p *packet.Packet) {
	w.observe(p)
	k := key(p)
	s := w.tcp[k]
	if (s == nil || !s.data) && looksClientHello(p.Payload) {
		// SIP over TLS, maybe: followed when it can be decrypted.
		if !w.startTLS(p, k) {
			if s := w.tcp[k]; s != nil {
				w.forgetTCP(k, s)
			}
			return
		}
		s = w.tcp[k]
	}
	if s == nil {
		// Follow a connection once it shows SIP (or is being opened: the
		// first data decides).
		if !sipmsg.Looks(p.Payload) && p.TCPFlags&tcpSYN == 0 {
			return
		}
		if len(w.tcp) >= 1<<16 {
			return
		}
		s = &tcpStream{}
		w.tcp[k] = s
		w.tcpFlows++
	}
	if !s.data && len(p.Payload) > 0 {
		s.data = true
		if !sipmsg.Looks(p.Payload) {
			w.forgetTCP(k, s)
			return
		}
	}
	w.cur, w.curTLS = p, s.tls
	s.add(p, w.emitTCP)
	w.curTLS = nil
	w.account(k, s, p.Time)
	if p.TCPFlags&(tcpFIN|tcpRST) != 0 {
		w.forgetTCP(k, s)
		return
	}
	if s.tls != nil {
		w.checkTLS(k, s.tls)
		w.drainPeer(p, k, s.tls)
	}
}

// account brings the memory budget up to date with what stream k holds
// now; when the budget refuses, the streams whose incomplete message is
// the oldest are dropped (k itself last), each counted.
func (w *worker) account(k flowKey, s *tcpStream, now time.Time) {
	n := s.size()
	d := n - s.mem
	switch {
	case d < 0:
		w.budget.Free(limits.TCP, -d)
	case d > 0:
		if s.mem == 0 {
			s.since = now
		}
		for !w.budget.Take(limits.TCP, d) {
			if !w.evictTCP(s) {
				// s alone is over the budget: give up on its message.
				w.budget.Evicted(limits.TCP, s.mem+d)
				w.evict(k, s)
				return
			}
		}
	}
	s.mem = n
}

// evictTCP drops the oldest incomplete messages of streams other than
// keep, an eighth of the streams holding bytes at a time (so that a flood
// costs one sort per many evictions); it reports whether it dropped any.
func (w *worker) evictTCP(keep *tcpStream) bool {
	type ks struct {
		k flowKey
		s *tcpStream
	}
	var holders []ks
	for k, s := range w.tcp {
		if s != keep && s.mem > 0 {
			holders = append(holders, ks{k, s})
		}
	}
	if len(holders) == 0 {
		return false
	}
	slices.SortFunc(holders, func(a, b ks) int { return a.s.since.Compare(b.s.since) })
	for _, h := range holders[:max(1, len(holders)/8)] {
		w.budget.Evicted(limits.TCP, h.s.mem)
		w.evict(h.k, h.s)
	}
	return true
}

// evict gives up what stream k holds: its bytes (the framer resynchronises
// on the next start line), or for SIP over TLS, which cannot skip bytes,
// the connection.
func (w *worker) evict(k flowKey, s *tcpStream) {
	if s.tls != nil {
		w.dropTLS(k)
		return
	}
	w.budget.Free(limits.TCP, s.mem)
	s.mem = 0
	s.drop()
}

// tooLarge returns the SIP messages over TCP dropped for their size.
func (w *worker) tooLarge() int {
	n := w.sipTooLarge
	for _, s := range w.tcp {
		n += int(s.framer.Stats().Overflows)
	}
	return n
}

// forgetTCP stops following a TCP stream, returning its memory and
// keeping its framer's counts.
func (w *worker) forgetTCP(k flowKey, s *tcpStream) {
	w.forgetTLS(s)
	w.budget.Free(limits.TCP, s.mem)
	s.mem = 0
	w.sipTooLarge += int(s.framer.Stats().Overflows)
	delete(w.tcp, k)
}

// emitTCP hands a message framed from a TCP stream to the assembler, with
// the segments that carried it and that its call's pcap lacks; its time is
// that of its first byte.
func (w *worker) emitTCP(tm tcpMessage) {
	m, err := sipmsg.Parse(tm.msg)
	if err != nil {
		w.sipErrors++
		return
	}
	w.sip++
	note := ""
	if w.curTLS != nil {
		w.curTLS.conn.sip = true
		note = noteTLS
	}
	p := *w.cur
	p.Time = tm.segs[0].frame.Time
	if !tm.at.IsZero() {
		p.Time = tm.at
	}
	w.frames = w.frames[:0]
	for _, h := range tm.segs {
		if !slices.Contains(h.calls, m.CallID) {
			h.calls = append(h.calls, m.CallID)
			w.frames = append(w.frames, h.frame)
		}
	}
	w.dispatchSIP(m, &p, w.frames, true, note)
}

func (w *worker) expireTCP(now time.Time) {
	for k, s := range w.tcp {
		if now.Sub(s.lastSeen) > tcpIdleLimit {
			w.forgetTCP(k, s)
		}
	}
}
