// Package ship moves finished calls from a sensor to the central side: from
// its local index (SQLite, whose outbox queues every call stored) and the
// files of its data directory to the central index (PostgreSQL, or any
// spanrec.CallIndex) and object store (S3).
//
// A sensor always finishes a call locally first; shipping comes after and
// may lag as long as the central side is down: nothing is lost, the
// outbox grows (its size and age are reported: Backlog, WriteMetrics, a
// log line every minute). Shipping a call is idempotent, so a call
// shipped twice (a crash between the central write and the outbox update)
// is one call: each file is uploaded unless the store has it with the
// same SHA-256, then the call is upserted by ID, then taken off the
// outbox, oldest end first. Errors are retried with backoff by Run (the
// recorder's loop); `spanrec ship` and `spanrec import` drain the outbox
// once with Drain.
//
// Verify tells the sensor's retention whether a call may go from the
// sensor: only once it is shipped and its central copy is checked.
package ship

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/sqlite"
)

// Outbox is the sensor's side: its local index (sqlite.DB).
type Outbox interface {
	Outbox(ctx context.Context, limit int) ([]sqlite.Queued, error)
	Call(ctx context.Context, id spanrec.CallID) (*spanrec.Call, error)
	MarkShipped(ctx context.Context, q sqlite.Queued) error
	OutboxBacklog(ctx context.Context) (calls int, oldest time.Time, err error)
}

// Queue is what Backlog and Verify need of an Outbox besides shipping
// (sqlite.DB has it): the files waiting, and whether a call waits.
type Queue interface {
	OutboxFiles(ctx context.Context, fn func(id spanrec.CallID, audio, pcap string) bool) error
	IsQueued(ctx context.Context, id spanrec.CallID) (bool, error)
	// Requeue queues a call again (its central copy was lost).
	Requeue(ctx context.Context, id spanrec.CallID) error
}

// Store is the central object store (s3.Store).
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, sum string) error
	// Has reports whether key is stored with SHA-256 sum.
	Has(ctx context.Context, key, sum string) (bool, error)
}

// Central is the central side: its index and, if files are shipped, its
// store (nil: files stay on the sensor).
type Central struct {
	Index spanrec.CallIndex
	Store Store
}

// Shipper ships the calls of one sensor. Its methods are safe for
// concurrent use, but one Drain or Run at a time ships.
type Shipper struct {
	Outbox Outbox
	// Index and Store are the central side when it is open already;
	// otherwise Connect opens it, at the first shipping and again after
	// it failed (a sensor starts while the central side is down).
	Index   spanrec.CallIndex // the central index
	Store   Store             // the central store; nil: files stay on the sensor
	Connect func(ctx context.Context) (Central, error)
	DataDir string       // the sensor's data directory (the files' root)
	Log     *slog.Logger // nil: slog.Default()
	// CallTimeout bounds the shipping of one call (a central side that
	// hangs rather than refuses); default 5 minutes.
	CallTimeout time.Duration
	// LogEvery is how often Run logs the backlog while there is one or
	// the central side fails; default a minute.
	LogEvery time.Duration
	// Busy, if set, reports whether the recorder beside the Shipper is
	// near its limit (recorder.Live.Busy: its packet queue is filling).
	// While it is, the Shipper starts no call: it waits, looking again
	// every BusyPoll, so that shipping never takes the CPU the capture
	// needs (a call being shipped is finished first). The time waited is
	// counted (Stats.Paused); calls wait in the outbox meanwhile, but at
	// most MaxPause before each call.
	Busy func() bool
	// MaxPause bounds the wait for a busy recorder before each call
	// (default 30 s): a recorder busy for hours still ships a call every
	// MaxPause, so that the backlog does not grow without end and the
	// disk guard, which deletes only shipped calls, keeps room to work.
	// Each call shipped that way is counted (Stats.Forced).
	MaxPause time.Duration
	// TellTimeout bounds each TellDeletion (default 5 s): a deletion
	// waits for it before its files go, so a central side that hangs
	// must not hold up the deletions (the disk guard's included).
	TellTimeout time.Duration
	// VerifyTimeout bounds the central part of each Verify (default
	// DefaultVerifyTimeout): the disk guard verifies every call before
	// it deletes it, so a central side that accepts connections and
	// never answers must not stall it. A Verify that times out keeps the
	// call (it is not verified) and backs off as TellDeletion does.
	VerifyTimeout time.Duration

	ship    sync.Mutex // one Drain at a time
	connect sync.Mutex // one Connect at a time

	mu        sync.Mutex
	stats     Stats
	failing   error     // the last error while it lasts
	failSince time.Time // when the failures began
	// centralFailed is when the central side last failed (a connect, a
	// drain, a TellDeletion or a Verify): TellDeletion and Verify do not
	// try it again before centralBackoff has passed (the deletion is
	// left to the next drain, the call is kept).
	centralFailed time.Time
	// verifyFailing is set while Verify fails on the central side (it
	// is logged once, when it starts, and once when it ends).
	verifyFailing bool
	reported      map[spanrec.CallID]bool // stuck calls logged
	shipping      bool                    // the outbox is marked as shipping (markShipping)
	backlog       Backlog                 // the last measured
	sizes         map[string]int64
	wake          chan struct{}
}

// Stats counts what a Shipper did.
type Stats struct {
	Calls        int   // calls shipped
	Files        int   // files uploaded (or found uploaded already)
	Bytes        int64 // bytes of those files
	MissingFiles int   // files the index names that were not in the data directory
	Errors       int   // attempts that failed (retried)
	Stuck        int   // calls the last drain passed over: they cannot be shipped as they are
	// Renamed counts the calls shipped under an ID of their own because
	// another sensor's call had their ID in the central index.
	Renamed int
	// Paused is the time the Shipper waited for a busy recorder (Busy).
	Paused time.Duration
	// Forced counts the calls shipped while the recorder was still busy,
	// after waiting MaxPause.
	Forced int
	// Deletions counts the deletions on the sensor told to the central
	// index (see Deletions).
	Deletions int
	// VerifyFailures counts the Verify calls that failed on the central
	// side (no answer within VerifyTimeout, or an error): the call was
	// kept. VerifyTimeouts counts those that were timeouts.
	VerifyFailures int
	VerifyTimeouts int
}

// Stats returns the counters.
func (s *Shipper) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Shipper) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// batch is how many queued calls are read at a time.
const batch = 64

// errConnecting is the error of centralNow while another goroutine
// connects to the central side.
var errConnecting = errors.New("ship: the central side is being connected to")

// central returns the central side, opening it with Connect if need be.
func (s *Shipper) central(ctx context.Context) (spanrec.CallIndex, Store, error) {
	s.connect.Lock()
	defer s.connect.Unlock()
	return s.centralLocked(ctx)
}

// centralNow is central without waiting for another goroutine's Connect
// (errConnecting).
func (s *Shipper) centralNow(ctx context.Context) (spanrec.CallIndex, Store, error) {
	if !s.connect.TryLock() {
		return nil, nil, errConnecting
	}
	defer s.connect.Unlock()
	return s.centralLocked(ctx)
}

func (s *Shipper) centralLocked(ctx context.Context) (spanrec.CallIndex, Store, error) {
	s.mu.Lock()
	idx, st := s.Index, s.Store
	s.mu.Unlock()
	if idx != nil {
		return idx, st, nil
	}
	if s.Connect == nil {
		return nil, nil, errors.New("ship: no central index")
	}
	c, err := s.Connect(ctx)
	if err == nil && c.Index == nil {
		err = errors.New("no index")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.centralFailed = time.Now()
		return nil, nil, fmt.Errorf("ship: connect to the central side: %w", err)
	}
	s.Index, s.Store = c.Index, c.Store
	return s.Index, s.Store, nil
}

// Drain ships every queued call, oldest first, and stops at the first
// error (the call stays queued) or when the outbox is empty, but for the
// calls that cannot be shipped as they are (Stats.Stuck): those stay
// queued, are logged once, and the others go on.
func (s *Shipper) Drain(ctx context.Context) error {
	s.ship.Lock()
	defer s.ship.Unlock()
	var err error
	// The label names the Shipper's CPU in profiles (go tool pprof
	// -tagfocus spanrec=ship), apart from the recorder's.
	pprof.Do(ctx, pprof.Labels("spanrec", "ship"), func(ctx context.Context) {
		err = s.drain(ctx)
	})
	s.mu.Lock()
	if err != nil && ctx.Err() == nil {
		s.stats.Errors++
		if s.failing == nil {
			s.failSince = time.Now()
		}
		s.failing = err
		s.centralFailed = time.Now()
	} else if err == nil {
		s.failing = nil
	}
	s.mu.Unlock()
	return err
}

func (s *Shipper) drain(ctx context.Context) error {
	if err := s.markShipping(ctx); err != nil {
		return err
	}
	idx, st, err := s.central(ctx)
	if err != nil {
		return err
	}
	timeout := cmp.Or(s.CallTimeout, 5*time.Minute)
	// Calls that cannot be shipped as they are (their file conflicts with
	// another object in the store, or has no SHA-256) stay queued and
	// are passed over, so that they do not hold up the others.
	stuck := map[spanrec.CallID]bool{}
	defer func() {
		s.mu.Lock()
		s.stats.Stuck = len(stuck)
		s.mu.Unlock()
	}()
	for {
		qs, err := s.Outbox.Outbox(ctx, batch+len(stuck))
		if err != nil {
			return err
		}
		shipped := false
		for _, q := range qs {
			if stuck[q.ID] {
				continue
			}
			if err := s.yield(ctx); err != nil {
				return err
			}
			cctx, cancel := context.WithTimeout(ctx, timeout)
			err := s.shipOne(cctx, idx, st, q)
			cancel()
			switch {
			case errors.Is(err, s3.ErrMismatch) || errors.Is(err, errNoSum):
				stuck[q.ID] = true
				s.stuckOnce(q.ID, err)
			case err != nil:
				return fmt.Errorf("ship: call %s: %w", q.ID, err)
			default:
				shipped = true
			}
		}
		if !shipped {
			// The deletions after the calls: a call shipped while it was
			// being deleted is told of its deletion after it arrived.
			return s.drainDeletions(ctx, idx, st)
		}
	}
}

// BusyPoll is how often a Shipper waiting for a busy recorder looks
// again.
const BusyPoll = 100 * time.Millisecond

// DefaultMaxPause is Shipper.MaxPause's default.
const DefaultMaxPause = 30 * time.Second

// yield waits while the recorder is busy (Busy), at most MaxPause.
func (s *Shipper) yield(ctx context.Context) error {
	if s.Busy == nil || !s.Busy() {
		return nil
	}
	t0 := time.Now()
	defer func() { s.count(func(st *Stats) { st.Paused += time.Since(t0) }) }()
	t := time.NewTicker(BusyPoll)
	defer t.Stop()
	limit := time.NewTimer(cmp.Or(s.MaxPause, DefaultMaxPause))
	defer limit.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-limit.C:
			s.count(func(st *Stats) { st.Forced++ })
			return nil
		case <-t.C:
		}
		if !s.Busy() {
			return nil
		}
	}
}

// maxReported bounds the stuck calls remembered as logged.
const maxReported = 10_000

// stuckOnce logs, once per call, that a call cannot be shipped.
func (s *Shipper) stuckOnce(id spanrec.CallID, err error) {
	s.mu.Lock()
	if s.reported == nil {
		s.reported = map[spanrec.CallID]bool{}
	}
	seen := s.reported[id]
	if !seen && len(s.reported) < maxReported {
		s.reported[id] = true
	}
	s.mu.Unlock()
	if !seen {
		s.log().Error("ship: a call cannot be shipped as it is; it stays in the outbox and the others go on (spanrec_ship_stuck_calls)", "call", id, "err", err)
	}
}

// errNoSum is the error of a file the index holds no SHA-256 for.
var errNoSum = errors.New("no SHA-256 in the index: not shipped unverified")

// shipOne ships one queued call.
func (s *Shipper) shipOne(ctx context.Context, idx spanrec.CallIndex, st Store, q sqlite.Queued) error {
	c, err := s.Outbox.Call(ctx, q.ID)
	if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
		return s.Outbox.MarkShipped(ctx, q) // deleted since it was queued
	}
	if err != nil {
		return err
	}
	if gone, err := s.deleting(ctx, q.ID); err != nil {
		return err
	} else if gone {
		// Being deleted (its files may be half gone): never shipped; the
		// deletion is told to the central index instead.
		return s.Outbox.MarkShipped(ctx, q)
	}
	err = s.send(ctx, idx, st, c, c.ID)
	if spanrec.ErrorKind(err) == spanrec.ECONFLICT || errors.Is(err, s3.ErrMismatch) {
		// Refused by the index (another sensor's call has the ID) or by
		// the store (another sensor's file has the name): ship it under
		// an ID of its own, if that is why.
		if id, cerr := s.claim(ctx, idx, c); cerr == nil && id != "" {
			err = s.send(ctx, idx, st, c, id)
		}
	}
	if err != nil {
		return err
	}
	s.count(func(st *Stats) { st.Calls++ })
	if m, ok := s.Outbox.(shippedTo); ok {
		where := spanrec.ShippedRow
		if st != nil {
			where = spanrec.ShippedToStore
		}
		return m.MarkShippedTo(ctx, q, where)
	}
	return s.Outbox.MarkShipped(ctx, q)
}

// shippedTo is an Outbox that records where a call's files went when it
// takes it off (sqlite.DB.MarkShippedTo), for the deletion told later.
type shippedTo interface {
	MarkShippedTo(ctx context.Context, q sqlite.Queued, shipped string) error
}

// send uploads the files of c and upserts it into the central index as
// the call id, with its files named after id (see centralNames); c is
// not changed.
func (s *Shipper) send(ctx context.Context, idx spanrec.CallIndex, st Store, c *spanrec.Call, id spanrec.CallID) error {
	cc := *c
	cc.Notes = slices.Clone(c.Notes)
	cc.ID, cc.Audio, cc.PCAP = centralNames(c, id, st != nil)
	if id != c.ID {
		cc.Interaction = id
	}
	if st != nil {
		for _, f := range []struct {
			local    string
			rel, sum *string
		}{{c.Audio, &cc.Audio, &cc.AudioSHA256}, {c.PCAP, &cc.PCAP, &cc.PCAPSHA256}} {
			if f.local == "" {
				continue
			}
			n, err := s.upload(ctx, st, f.local, *f.rel, *f.sum)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				// Gone from the sensor (deleted by hand, a lost disk): the
				// call is shipped without it, and says so.
				s.count(func(st *Stats) { st.MissingFiles++ })
				s.log().Warn("ship: a file of the call is missing on this sensor; shipping the call without it", "call", c.ID, "file", f.local)
				cc.Notes = append(cc.Notes, fmt.Sprintf("the file %s was missing on the sensor when the call was shipped", filepath.Base(*f.rel)))
				*f.rel, *f.sum = "", ""
			case err != nil:
				return err
			default:
				s.count(func(st *Stats) { st.Files++; st.Bytes += n })
			}
		}
	}
	return idx.PutCall(ctx, &cc)
}

// claim returns the ID under which to keep c in the central index when
// its own ID is there already as another sensor's call (two sensors saw
// the same call's first INVITE at the same nanosecond, or imported one
// capture): c.ID.ForSensor, the same on every retry, so that neither
// sensor's row nor files replace the other's; the central index names
// the two rows as copies of one call (spanrec.SameCall). It returns ""
// when the ID is free or this sensor's own.
func (s *Shipper) claim(ctx context.Context, idx spanrec.CallIndex, c *spanrec.Call) (spanrec.CallID, error) {
	have, err := idx.Call(ctx, c.ID)
	if err != nil {
		return "", err
	}
	if have.ID != c.ID || have.Sensor == c.Sensor {
		return "", nil // another call whose ID it prefixes, or this call shipped before
	}
	id := c.ID.ForSensor(c.Sensor)
	s.count(func(st *Stats) { st.Renamed++ })
	s.log().Info("ship: another sensor's call has this call's ID in the central index; shipping it under an ID of its own",
		"call", c.ID, "sensor", c.Sensor, "other_sensor", have.Sensor, "central_id", id)
	return id, nil
}

// centralNames returns the ID and the file names (keys in the store, when
// files are shipped) of the sensor's call c kept centrally as the call id.
func centralNames(c *spanrec.Call, id spanrec.CallID, files bool) (spanrec.CallID, string, string) {
	if id == c.ID || !files {
		return id, c.Audio, c.PCAP
	}
	return id, renamed(c.Audio, c.ID, id), renamed(c.PCAP, c.ID, id)
}

// renamed returns the file name rel (a path in the data directory) of the
// call old as the call id's: old's ID replaced by id in its last element,
// or id put before it when it does not name old.
func renamed(rel string, old, id spanrec.CallID) string {
	if rel == "" {
		return ""
	}
	dir, base := path.Split(rel)
	if strings.Contains(base, string(old)) {
		return dir + strings.Replace(base, string(old), string(id), 1)
	}
	return dir + string(id) + "-" + base
}

// count updates the counters with f.
func (s *Shipper) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// upload puts the file rel of the data directory into the store as key
// and returns its size.
func (s *Shipper) upload(ctx context.Context, st Store, rel, key, sum string) (int64, error) {
	if sum == "" {
		return 0, fmt.Errorf("%s: %w", rel, errNoSum)
	}
	p := filepath.FromSlash(rel)
	if !filepath.IsLocal(p) {
		return 0, fmt.Errorf("the index names a file outside the data directory: %s", rel)
	}
	f, err := os.Open(filepath.Join(s.DataDir, p))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err := st.Put(ctx, key, f, fi.Size(), sum); err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// ErrNotShipped is the error of Verify for a call the central side does
// not hold (yet) as the sensor does.
var ErrNotShipped = errors.New("not shipped to the central side")

// DefaultVerifyTimeout bounds the central part of each Verify
// (Shipper.VerifyTimeout).
const DefaultVerifyTimeout = 5 * time.Second

// Verify returns nil if the sensor may delete its copy of c (a call of
// its index, with its files' SHA-256): c is not waiting in the outbox,
// the central index has it with the same files and SHA-256, and the
// central store (if files are shipped) has each file under the same
// SHA-256, recorded when the upload's bytes were checked against it.
// Otherwise it returns an error wrapping ErrNotShipped, or the central
// side's error. A call shipped whose central copy is found missing or
// different (lost there: restored from an older backup, a crash of a
// server that acknowledged commits it had not written) is queued again.
//
// The disk guard calls it before each deletion, so it never waits long:
// it gives up at once (ErrNotShipped) while the central side failed less
// than 10 s ago (a connect, a drain, a TellDeletion or a Verify) or
// another goroutine is connecting to it, and its central part is bounded
// by VerifyTimeout (5 s). A central failure is counted
// (Stats.VerifyFailures, VerifyTimeouts) and logged once while it lasts.
func (s *Shipper) Verify(ctx context.Context, c *spanrec.Call) error {
	q, ok := s.Outbox.(Queue)
	if !ok {
		return fmt.Errorf("call %s: %w (the outbox cannot tell)", c.ID, ErrNotShipped)
	}
	queued, err := q.IsQueued(ctx, c.ID)
	if err != nil {
		return err
	}
	if queued {
		return fmt.Errorf("call %s: %w (waiting in the outbox)", c.ID, ErrNotShipped)
	}
	s.mu.Lock()
	failed := s.centralFailed
	s.mu.Unlock()
	if since := time.Since(failed); since < centralBackoff {
		return fmt.Errorf("call %s: %w (the central side failed %s ago)", c.ID, ErrNotShipped, since.Round(time.Millisecond))
	}
	timeout := cmp.Or(s.VerifyTimeout, DefaultVerifyTimeout)
	vctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = s.verify(vctx, c)
	var central *centralError
	switch {
	case errors.As(err, &central) && errors.Is(err, errConnecting):
		return fmt.Errorf("call %s: %w (%v)", c.ID, ErrNotShipped, central.err)
	case errors.As(err, &central) && ctx.Err() == nil:
		timedOut := vctx.Err() != nil
		s.mu.Lock()
		s.centralFailed = time.Now()
		s.stats.VerifyFailures++
		if timedOut {
			s.stats.VerifyTimeouts++
		}
		first := !s.verifyFailing
		s.verifyFailing = true
		s.mu.Unlock()
		if first {
			msg := "ship: the central side fails: calls are not verified, so the disk guard keeps them (spanrec_ship_verify_failures_total); it tries again after 10 s"
			if timedOut {
				msg = fmt.Sprintf("ship: the central side did not answer within %s: calls are not verified, so the disk guard keeps them (spanrec_ship_verify_failures_total); it tries again after 10 s", timeout)
			}
			s.log().Warn(msg, "call", c.ID, "err", central.err)
		}
		return fmt.Errorf("call %s: %w (%v)", c.ID, ErrNotShipped, central.err)
	case errors.As(err, &central):
		return central.err // ctx is done
	}
	s.mu.Lock()
	back := s.verifyFailing
	s.verifyFailing = false
	s.mu.Unlock()
	if back {
		s.log().Info("ship: the central side answers again: calls are verified")
	}
	return err
}

// centralError is an error of the central side in verify (as opposed to
// a call found missing there, or a local error).
type centralError struct{ err error }

func (e *centralError) Error() string { return e.err.Error() }
func (e *centralError) Unwrap() error { return e.err }

// verify is Verify's central part.
func (s *Shipper) verify(ctx context.Context, c *spanrec.Call) error {
	s.mu.Lock()
	idx, st := s.Index, s.Store
	s.mu.Unlock()
	if idx == nil {
		var err error
		if idx, st, err = s.centralNow(ctx); err != nil {
			return &centralError{err}
		}
	}
	id, audio, pcap := c.ID, c.Audio, c.PCAP
	cc, err := idx.Call(ctx, id)
	if err == nil && cc.ID == c.ID && cc.Sensor != c.Sensor {
		// Another sensor's call has the ID: this one is kept under
		// ForSensor (see claim).
		id, audio, pcap = centralNames(c, c.ID.ForSensor(c.Sensor), st != nil)
		cc, err = idx.Call(ctx, id)
	}
	if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
		return s.requeue(ctx, c, "not in the central index")
	}
	if err != nil {
		return &centralError{fmt.Errorf("call %s: verify in the central index: %w", c.ID, err)}
	}
	if cc.ID != id || cc.Audio != audio || cc.AudioSHA256 != c.AudioSHA256 || cc.PCAP != pcap || cc.PCAPSHA256 != c.PCAPSHA256 {
		return s.requeue(ctx, c, fmt.Sprintf("the central index holds other files: audio %q, pcap %q", cc.Audio, cc.PCAP))
	}
	if st == nil {
		return nil
	}
	for _, f := range [][2]string{{audio, c.AudioSHA256}, {pcap, c.PCAPSHA256}} {
		if f[0] == "" {
			continue
		}
		ok, err := st.Has(ctx, f[0], f[1])
		if err != nil {
			return &centralError{fmt.Errorf("call %s: verify in the central store: %w", c.ID, err)}
		}
		if !ok {
			return s.requeue(ctx, c, f[0]+" not in the central store with its SHA-256")
		}
	}
	return nil
}

// requeue queues c again, its central copy being lost (why), and returns
// the error of Verify.
func (s *Shipper) requeue(ctx context.Context, c *spanrec.Call, why string) error {
	err := fmt.Errorf("call %s: %w (%s)", c.ID, ErrNotShipped, why)
	s.log().Warn("ship: a call shipped is missing on the central side; it is shipped again", "call", c.ID, "why", why)
	if qerr := s.Outbox.(Queue).Requeue(ctx, c.ID); qerr != nil {
		return errors.Join(err, qerr)
	}
	s.Notify()
	return err
}

// Backlog is what waits in the outbox.
type Backlog struct {
	Calls  int
	Bytes  int64     // of the files of the calls waiting (those still there)
	Oldest time.Time // the end of the call waiting longest; zero if none
}

// maxSizes bounds the file sizes Backlog remembers between calls.
const maxSizes = 1 << 20

// Backlog measures the outbox: its calls, the bytes of their files (each
// file's size is read once), and the oldest call's end.
func (s *Shipper) Backlog(ctx context.Context) (Backlog, error) {
	n, oldest, err := s.Outbox.OutboxBacklog(ctx)
	if err != nil {
		return Backlog{}, err
	}
	b := Backlog{Calls: n, Oldest: oldest}
	q, ok := s.Outbox.(Queue)
	if !ok {
		return b, nil // no bytes known
	}
	s.mu.Lock()
	old := s.sizes
	s.mu.Unlock()
	sizes := make(map[string]int64, len(old))
	err = q.OutboxFiles(ctx, func(_ spanrec.CallID, audio, pcap string) bool {
		for _, rel := range []string{audio, pcap} {
			if rel == "" {
				continue
			}
			size, ok := old[rel]
			if !ok {
				size = -1
				if p := filepath.FromSlash(rel); filepath.IsLocal(p) {
					if fi, err := os.Stat(filepath.Join(s.DataDir, p)); err == nil {
						size = fi.Size()
					}
				}
			}
			if size >= 0 {
				b.Bytes += size
			}
			if len(sizes) < maxSizes {
				sizes[rel] = size
			}
		}
		return true
	})
	if err != nil {
		return Backlog{}, err
	}
	s.mu.Lock()
	s.sizes, s.backlog = sizes, b
	s.mu.Unlock()
	return b, nil
}

// Notify tells Run that a call was stored: it ships at once rather than at
// its next poll (unless it is backing off after an error).
func (s *Shipper) Notify() {
	select {
	case s.wakeup() <- struct{}{}:
	default:
	}
}

func (s *Shipper) wakeup() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	return s.wake
}

// Backoff bounds of Run's retries.
const (
	minBackoff = time.Second
	maxBackoff = time.Minute
)

// Run ships queued calls until ctx is done: it drains the outbox, then
// again at each Notify or every poll; after an error (the central side
// down, or not reachable at start) it waits 1 s, doubling up to a minute,
// and tries again, for ever. While calls wait or the central side fails,
// it logs the backlog every LogEvery (level WARN with the error while
// failing).
func (s *Shipper) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = 5 * time.Second
	}
	wake := s.wakeup()
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		s.report(ctx)
	}()
	wait := time.Duration(0)
	for {
		err := s.Drain(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if wait == 0 {
				s.log().Warn("ship: the central side fails; calls wait in the outbox and are retried", "err", err)
			}
			wait = min(max(2*wait, minBackoff), maxBackoff)
		} else {
			if wait > 0 {
				s.log().Info("ship: the central side is back; the outbox is shipped", "calls_shipped", s.Stats().Calls)
			}
			wait = 0
		}
		t := time.NewTimer(cmp.Or(wait, poll))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-wake:
			if wait > 0 {
				// Backing off: a new call does not cut the wait short.
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
			t.Stop()
		}
	}
}

// report logs the backlog every LogEvery while there is one or the
// central side fails, until ctx is done.
func (s *Shipper) report(ctx context.Context) {
	tick := time.NewTicker(cmp.Or(s.LogEvery, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		b, err := s.Backlog(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log().Error("ship: reading the outbox", "err", err)
			}
			continue
		}
		s.mu.Lock()
		failing, since := s.failing, s.failSince
		s.mu.Unlock()
		var age time.Duration
		if !b.Oldest.IsZero() {
			age = time.Since(b.Oldest).Round(time.Second)
		}
		switch {
		case failing != nil:
			s.log().Warn("ship: the central side fails; calls wait in the outbox", "err", failing,
				"failing_for", time.Since(since).Round(time.Second), "calls", b.Calls, "bytes", b.Bytes, "oldest_age", age)
		case b.Calls > 0:
			s.log().Info("ship: outbox backlog", "calls", b.Calls, "bytes", b.Bytes, "oldest_age", age)
		}
	}
}

// WriteMetrics writes the outbox and the shipping counters in the
// Prometheus text format (version 0.0.4), measuring the outbox now:
//
//	spanrec_outbox_calls                 calls waiting to be shipped
//	spanrec_outbox_bytes                 bytes of their files
//	spanrec_outbox_oldest_age_seconds    since the oldest of them ended (0: none)
//	spanrec_ship_calls_total             calls shipped
//	spanrec_ship_files_total             files shipped (or found in the store)
//	spanrec_ship_bytes_total             their bytes
//	spanrec_ship_missing_files_total     files gone from the sensor, shipped as missing
//	spanrec_ship_errors_total            attempts that failed (retried)
//	spanrec_ship_central_up              0 while the central side fails, else 1
//	spanrec_ship_stuck_calls             calls passed over: they cannot be shipped as they are
//	spanrec_ship_paused_seconds_total    time waited for a busy recorder
//	spanrec_ship_forced_calls_total      calls shipped while it stayed busy, after MaxPause
//	spanrec_outbox_deletions             deletions on the sensor waiting to be told to the central index
//	spanrec_ship_deletions_total         deletions told
//	spanrec_ship_verify_failures_total   Verify checks the central side failed (the call was kept)
//	spanrec_ship_verify_timeouts_total   of those, the central side's silence past VerifyTimeout
func (s *Shipper) WriteMetrics(w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := s.Backlog(ctx)
	if err != nil {
		s.mu.Lock()
		b = s.backlog
		s.mu.Unlock()
	}
	s.mu.Lock()
	st, up := s.stats, s.failing == nil
	s.mu.Unlock()
	age := 0.0
	if !b.Oldest.IsZero() {
		age = max(time.Since(b.Oldest).Seconds(), 0)
	}
	upN := 0
	if up {
		upN = 1
	}
	_, werr := fmt.Fprintf(w, `# HELP spanrec_outbox_calls Calls recorded here waiting to be shipped to the central side.
# TYPE spanrec_outbox_calls gauge
spanrec_outbox_calls %d
# HELP spanrec_outbox_bytes Bytes of the files of the calls waiting to be shipped.
# TYPE spanrec_outbox_bytes gauge
spanrec_outbox_bytes %d
# HELP spanrec_outbox_oldest_age_seconds Seconds since the call waiting longest ended (0: none waits).
# TYPE spanrec_outbox_oldest_age_seconds gauge
spanrec_outbox_oldest_age_seconds %.3f
# HELP spanrec_ship_calls_total Calls shipped to the central side.
# TYPE spanrec_ship_calls_total counter
spanrec_ship_calls_total %d
# HELP spanrec_ship_files_total Files shipped to the central store (or found there with the same SHA-256).
# TYPE spanrec_ship_files_total counter
spanrec_ship_files_total %d
# HELP spanrec_ship_bytes_total Bytes of the files shipped.
# TYPE spanrec_ship_bytes_total counter
spanrec_ship_bytes_total %d
# HELP spanrec_ship_missing_files_total Files the index named that were gone from the sensor: their calls were shipped without them.
# TYPE spanrec_ship_missing_files_total counter
spanrec_ship_missing_files_total %d
# HELP spanrec_ship_errors_total Shipping attempts that failed (the calls stay queued and are retried).
# TYPE spanrec_ship_errors_total counter
spanrec_ship_errors_total %d
# HELP spanrec_ship_central_up 0 while shipping to the central side fails, else 1.
# TYPE spanrec_ship_central_up gauge
spanrec_ship_central_up %d
# HELP spanrec_ship_stuck_calls Calls that cannot be shipped as they are (a file conflicting with another object in the store, or without SHA-256): they stay in the outbox, the others go on.
# TYPE spanrec_ship_stuck_calls gauge
spanrec_ship_stuck_calls %d
# HELP spanrec_ship_paused_seconds_total Seconds the shipping waited for the recorder, busy with its packets.
# TYPE spanrec_ship_paused_seconds_total counter
spanrec_ship_paused_seconds_total %.3f
# HELP spanrec_ship_forced_calls_total Calls shipped while the recorder stayed busy, after waiting the longest pause allowed.
# TYPE spanrec_ship_forced_calls_total counter
spanrec_ship_forced_calls_total %d
# HELP spanrec_ship_verify_failures_total Checks that a call is safe on the central side before its local deletion that failed there (no answer, or an error): the call was kept.
# TYPE spanrec_ship_verify_failures_total counter
spanrec_ship_verify_failures_total %d
# HELP spanrec_ship_verify_timeouts_total Checks of a call on the central side that got no answer within their deadline: the call was kept.
# TYPE spanrec_ship_verify_timeouts_total counter
spanrec_ship_verify_timeouts_total %d
`, b.Calls, b.Bytes, age, st.Calls, st.Files, st.Bytes, st.MissingFiles, st.Errors, upN, st.Stuck, st.Paused.Seconds(), st.Forced,
		st.VerifyFailures, st.VerifyTimeouts)
	if werr == nil {
		werr = s.writeDeletionMetrics(ctx, w, st)
	}
	return errors.Join(err, werr)
}
