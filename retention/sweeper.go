package retention

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/limits"
)

// DefaultMinFree is Config.MinFree's default: 5 % of the file system.
const DefaultMinFree = 0.05

// Defaults of the loop's intervals.
const (
	DefaultInterval     = time.Hour
	DefaultDiskInterval = 10 * time.Second
)

// maxPerPass bounds the calls one pass of the rules deletes (and the
// memory its plan holds); the next pass goes on.
const maxPerPass = 10_000

// pageSize is how many calls are read from the index at once.
const pageSize = 500

// Config configures a Sweeper. The zero value deletes nothing by rule and
// guards 5 % of the disk.
type Config struct {
	// Rules are the age rules; each call is judged by the first that
	// matches it, and kept for ever if none does.
	Rules []Rule
	// MaxTotalBytes, if positive, bounds the bytes of the recordings
	// (audio and pcap files of indexed calls): past it the oldest calls
	// not held are deleted.
	MaxTotalBytes int64
	// MinFree is the share of the data directory's file system that must
	// stay free (0.05 is 5 %); 0 means DefaultMinFree, negative turns the
	// disk guard off unless MinFreeBytes is set. MinFreeBytes, if
	// positive, is a floor in bytes; the larger of the two applies.
	MinFree      float64
	MinFreeBytes int64
	// Interval is how often Run applies the rules; default 1 h.
	// DiskInterval is how often it checks the free space; default 10 s.
	Interval     time.Duration
	DiskInterval time.Duration
	// Archive, if set, is the central side the calls are shipped to
	// (ship.Shipper): a call is deleted by a rule or the disk guard only
	// once Archive.Verify says its central copy is there and checked, so
	// the disk guard deletes the oldest shipped recordings and never an
	// unshipped one, and a rule keeps an unshipped call past its age.
	Archive Archive
	// Disk receives the disk guard's verdict (nil: none is kept; the
	// guard still deletes).
	Disk *limits.Disk
	// Store, if set, is the object store the deleted calls' files are
	// removed from too (see Deleter.Store).
	Store  Remover
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Check reports every problem of the configuration.
func (c *Config) Check() error {
	var errs []error
	for i := range c.Rules {
		if err := c.Rules[i].Check(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxTotalBytes < 0 || c.MinFreeBytes < 0 {
		errs = append(errs, errors.New("retention: sizes must not be negative"))
	}
	if c.MinFree >= 1 {
		errs = append(errs, errors.New("retention: min_free must be below 100 %"))
	}
	return errors.Join(errs...)
}

// Archive is the central copy of the calls (ship.Shipper).
type Archive interface {
	// Verify returns nil if the central side holds c (a call of the
	// index, with its files' SHA-256) as the index does, so the local copy
	// may go.
	Verify(ctx context.Context, c *spanrec.Call) error
}

// Teller is an Archive that tells the central side of a deletion before
// the files go (ship.Shipper): the Sweeper's Deleter (rules, disk guard,
// users through it) calls it (Deleter.Tell).
type Teller interface {
	TellDeletion(ctx context.Context, id spanrec.CallID) error
}

// Victim is a call a pass of the rules deletes, or would delete.
type Victim struct {
	Call   *spanrec.Call // ID, Start, parties, direction, files
	By     string        // ByRule or ByDiskGuard
	Reason string
	Bytes  int64 // of its files
	Err    error // why it could not be deleted (a pass that deletes)
}

// Stats counts what a Sweeper did.
type Stats struct {
	DeletedByRule   uint64 // calls deleted by an age rule or max_total_bytes
	DeletedByGuard  uint64 // calls deleted by the disk guard
	BytesFreed      uint64 // bytes of their files
	Errors          uint64 // deletions or checks that failed
	DiskFull        bool   // nothing more may be deleted and the disk is below min_free
	DiskTotal       uint64 // bytes of the file system at the last check
	DiskAvail       uint64 // bytes free at the last check
	MinFreeBytes    uint64 // what must stay free
	AudioRefused    uint64 // calls started without audio because of it
	HeldBlocking    bool   // at the last check, only held calls were left to delete
	LastGuardUnixNS int64  // when the disk was last checked (wall clock)
	KeptUnshipped   uint64 // times a call was kept because its central copy was not verified
	ReserveBytes    uint64 // the reserve file's size at the last check (0: none; see ReserveName)
	ReserveReleased uint64 // times the reserve file was deleted to give the index room
	ReserveMade     uint64 // times it was made (at the first check, and again after a release)
}

// Sweeper applies the retention rules and guards the disk over one index
// and data directory. Its methods are safe for concurrent use; Run is the
// loop that calls them.
type Sweeper struct {
	cfg     Config
	del     *Deleter
	dataDir string
	log     *slog.Logger

	mu      sync.Mutex // one pass or check at a time
	byRule  atomic.Uint64
	byGuard atomic.Uint64
	freed   atomic.Uint64
	errs    atomic.Uint64
	total   atomic.Uint64
	avail   atomic.Uint64
	minFree atomic.Uint64
	held    atomic.Bool
	checked atomic.Int64
	// notShipped counts the calls kept because their central copy was not
	// verified (Config.Archive).
	notShipped atomic.Uint64
	loudAt     time.Time // last loud log of a full disk
	// The reserve file (reserve.go): its size at the last check, the
	// times it was deleted and made, and whether its lack of room was
	// logged.
	reserve         atomic.Uint64
	reserveReleased atomic.Uint64
	reserveMade     atomic.Uint64
	reserveShort    bool
}

// New returns a Sweeper of the calls of idx, whose files are in dataDir.
func New(cfg Config, idx Index, dataDir string) *Sweeper {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MinFree == 0 {
		cfg.MinFree = DefaultMinFree
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.DiskInterval <= 0 {
		cfg.DiskInterval = DefaultDiskInterval
	}
	cfg.Rules = append([]Rule(nil), cfg.Rules...)
	for i := range cfg.Rules {
		if cfg.Rules[i].Name == "" {
			cfg.Rules[i].Name = fmt.Sprintf("rule %d", i+1)
		}
	}
	del := &Deleter{Index: idx, DataDir: dataDir, Logger: cfg.Logger, Now: cfg.Now, Store: cfg.Store}
	if t, ok := cfg.Archive.(Teller); ok {
		del.Tell = t.TellDeletion
	}
	return &Sweeper{cfg: cfg, dataDir: dataDir, log: cfg.Logger, del: del}
}

// Deleter returns the Sweeper's deleter, for deletions asked by users.
func (s *Sweeper) Deleter() *Deleter { return s.del }

// Plan returns the calls the rules would delete now, oldest first within
// each rule's turn (age rules first, then max_total_bytes), at most
// 10,000.
func (s *Sweeper) Plan(ctx context.Context) ([]Victim, error) {
	now := s.cfg.Now()
	var out []Victim
	chosen := map[spanrec.CallID]bool{}
	var minAge time.Duration
	for _, r := range s.cfg.Rules {
		if r.MaxAge > 0 && (minAge == 0 || r.MaxAge < minAge) {
			minAge = r.MaxAge
		}
	}
	if minAge > 0 {
		err := s.each(ctx, spanrec.CallFilter{Until: now.Add(-minAge)}, func(c *spanrec.Call) bool {
			if c.LegalHold != nil {
				return true
			}
			r := rule(s.cfg.Rules, c)
			if r == nil || r.MaxAge == 0 || now.Sub(c.Start) <= r.MaxAge {
				return true
			}
			out = append(out, Victim{Call: trim(c), By: ByRule, Bytes: s.size(c),
				Reason: fmt.Sprintf("retention rule %s: older than %s", r.Name, FormatAge(r.MaxAge))})
			chosen[c.ID] = true
			return len(out) < maxPerPass
		})
		if err != nil {
			return out, err
		}
	}
	if s.cfg.MaxTotalBytes > 0 && len(out) < maxPerPass {
		type sized struct {
			c    *spanrec.Call
			size int64
		}
		var (
			total int64
			cands []sized
		)
		err := s.each(ctx, spanrec.CallFilter{}, func(c *spanrec.Call) bool {
			if chosen[c.ID] {
				return true
			}
			n := s.size(c)
			total += n
			if c.LegalHold == nil && n > 0 {
				cands = append(cands, sized{trim(c), n})
			}
			return true
		})
		if err != nil {
			return out, err
		}
		for _, k := range cands {
			if total <= s.cfg.MaxTotalBytes || len(out) >= maxPerPass {
				break
			}
			out = append(out, Victim{Call: k.c, By: ByRule, Bytes: k.size,
				Reason: fmt.Sprintf("retention max_total_bytes %d: recordings hold %d bytes", s.cfg.MaxTotalBytes, total)})
			total -= k.size
		}
	}
	return out, nil
}

// Sweep deletes what Plan returns (with dryRun, only returns it). A call
// held or gone since the plan is skipped with its Err set; the error
// returned joins the others.
func (s *Sweeper) Sweep(ctx context.Context, dryRun bool) ([]Victim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs, err := s.Plan(ctx)
	if err != nil || dryRun {
		return vs, err
	}
	defer s.notify()
	var errs []error
	for i := range vs {
		v := &vs[i]
		if err := ctx.Err(); err != nil {
			v.Err = err
			continue
		}
		if v.Err = s.shipped(ctx, v.Call); v.Err == nil {
			v.Err = s.del.Delete(ctx, v.Call, v.By, "", v.Reason)
		}
		switch spanrec.ErrorKind(v.Err) {
		case spanrec.ECONFLICT, spanrec.ENOTFOUND:
		default:
			if v.Err != nil {
				s.errs.Add(1)
				errs = append(errs, v.Err)
				continue
			}
			s.byRule.Add(1)
			s.freed.Add(uint64(v.Bytes))
		}
	}
	return vs, errors.Join(errs...)
}

// Guard checks the free space of the data directory's file system. Below
// the minimum it deletes the oldest calls that are not held and have
// files until the minimum is free again; if that is not possible it sets
// the disk guard's verdict (Config.Disk) to full and says so loudly, and
// clears it once the minimum is free. It returns the calls it deleted.
func (s *Sweeper) Guard(ctx context.Context) ([]Victim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total, avail, err := diskSpace(s.dataDir)
	if err != nil {
		s.errs.Add(1)
		return nil, fmt.Errorf("disk guard: %w", err)
	}
	need := s.minFreeOf(total)
	if need > 0 && avail == 0 {
		// Not a byte left: the index cannot even record a deletion's
		// intent. Its room comes from the reserve file first.
		if s.releaseReserve("no byte free on the data directory's file system") {
			if total, avail, err = diskSpace(s.dataDir); err != nil {
				s.errs.Add(1)
				return nil, fmt.Errorf("disk guard: %w", err)
			}
		}
	}
	if need > 0 && avail < need {
		// The index's write-ahead log is space too (up to a few MiB
		// between checkpoints, more after many deletions): give it back
		// before deleting any recording.
		if ck, ok := s.del.Index.(checkpointer); ok {
			if err := ck.Checkpoint(ctx); err != nil {
				s.log.Warn("disk guard: checkpoint the index", "err", err)
			} else if total, avail, err = diskSpace(s.dataDir); err != nil {
				s.errs.Add(1)
				return nil, fmt.Errorf("disk guard: %w", err)
			}
		}
	}
	s.store(total, avail, need)
	if need == 0 || avail >= need {
		if need > 0 {
			s.keepReserve(avail, need)
		}
		s.held.Store(false)
		if s.cfg.Disk.SetFull(false) {
			s.log.Warn("disk guard: free space is back above retention.min_free: new calls keep their audio again",
				"data", s.dataDir, "avail_bytes", avail, "min_free_bytes", need)
		}
		return nil, nil
	}
	var (
		out       []Victim
		errs      []error
		skipped   int
		held      bool
		unshipped int
	)
	for avail < need {
		page, err := s.del.Index.Calls(ctx, spanrec.CallFilter{Sort: spanrec.SortStart, Limit: pageSize, Offset: skipped})
		if err != nil {
			errs = append(errs, err)
			break
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			if avail >= need {
				break
			}
			if c.LegalHold != nil || (c.Audio == "" && c.PCAP == "") {
				held = held || c.LegalHold != nil
				skipped++
				continue
			}
			if err := s.shipped(ctx, c); err != nil {
				unshipped++
				skipped++
				continue
			}
			v := Victim{Call: trim(c), By: ByDiskGuard, Bytes: s.size(c),
				Reason: fmt.Sprintf("disk guard: %s free of %s, below retention.min_free %s", bytesText(avail), bytesText(total), bytesText(need))}
			v.Err = s.del.Delete(ctx, v.Call, v.By, "", v.Reason)
			if noSpace(v.Err) && s.releaseReserve(fmt.Sprintf("deleting call %s failed: %v", v.Call.ID, v.Err)) {
				// The deletion again, with the reserve's room (a
				// deletion left begun is finished by it).
				v.Err = s.del.Delete(ctx, v.Call, v.By, "", v.Reason)
			}
			if v.Err != nil {
				skipped++
				if k := spanrec.ErrorKind(v.Err); k != spanrec.ECONFLICT && k != spanrec.ENOTFOUND {
					s.errs.Add(1)
					errs = append(errs, v.Err)
				}
				continue
			}
			s.byGuard.Add(1)
			s.freed.Add(uint64(v.Bytes))
			out = append(out, v)
			if ck, ok := s.del.Index.(checkpointer); ok {
				_ = ck.Checkpoint(ctx) // the deletion's rows went through the log
			}
			if total, avail, err = diskSpace(s.dataDir); err != nil {
				errs = append(errs, err)
				break
			}
			s.store(total, avail, need)
		}
		if ctx.Err() != nil || len(out) >= maxPerPass {
			break
		}
	}
	if len(out) > 0 {
		s.notify()
		var freed int64
		for _, v := range out {
			freed += v.Bytes
		}
		s.log.Warn("disk guard: deleted the oldest recordings to keep retention.min_free free", "data", s.dataDir,
			"calls", len(out), "freed_bytes", freed, "avail_bytes", avail, "min_free_bytes", need)
	}
	if avail >= need {
		s.held.Store(false)
		if s.cfg.Disk.SetFull(false) {
			s.log.Warn("disk guard: free space is back above retention.min_free: new calls keep their audio again", "data", s.dataDir)
		}
		return out, errors.Join(errs...)
	}
	s.held.Store(held)
	changed := s.cfg.Disk.SetFull(true)
	if now := s.cfg.Now(); changed || now.Sub(s.loudAt) >= time.Minute {
		s.loudAt = now
		why := "no recording is left that may be deleted"
		switch {
		case unshipped > 0 && held:
			why = fmt.Sprintf("every recording left is under legal hold or not shipped to the central side yet (%d calls)", unshipped)
		case unshipped > 0:
			why = fmt.Sprintf("every recording left is not shipped to the central side yet (%d calls; see spanrec_outbox_calls)", unshipped)
		case held:
			why = "every recording left is under legal hold"
		}
		s.log.Error("DISK FULL: new calls are indexed WITHOUT AUDIO: "+why+"; free space on the data directory's file system or lower retention.min_free",
			"data", s.dataDir, "avail_bytes", avail, "total_bytes", total, "min_free_bytes", need)
	}
	return out, errors.Join(errs...)
}

// minFreeOf returns the bytes that must stay free on a file system of
// total bytes; 0 when the guard is off.
func (s *Sweeper) minFreeOf(total uint64) uint64 {
	var need uint64
	if s.cfg.MinFree > 0 {
		need = uint64(s.cfg.MinFree * float64(total))
	}
	if b := uint64(max(s.cfg.MinFreeBytes, 0)); b > need {
		need = b
	}
	return need
}

func (s *Sweeper) store(total, avail, need uint64) {
	s.total.Store(total)
	s.avail.Store(avail)
	s.minFree.Store(need)
	s.checked.Store(s.cfg.Now().UnixNano())
}

// Run applies the rules every Interval and guards the disk every
// DiskInterval, both at once when it starts, until ctx is done. Failures
// are logged and counted; it returns ctx's error.
func (s *Sweeper) Run(ctx context.Context) error {
	return s.run(ctx, len(s.cfg.Rules) > 0 || s.cfg.MaxTotalBytes > 0)
}

// RunGuard is Run without the rules: only the disk guard (an import).
func (s *Sweeper) RunGuard(ctx context.Context) error {
	return s.run(ctx, false)
}

func (s *Sweeper) run(ctx context.Context, rules bool) error {
	guard := s.minFreeOf(1<<40) > 0
	if !rules && !guard {
		<-ctx.Done()
		return ctx.Err()
	}
	sweep := func() {
		if !rules {
			return
		}
		vs, err := s.Sweep(ctx, false)
		n := 0
		for _, v := range vs {
			if v.Err == nil {
				n++
			}
		}
		if n > 0 {
			s.log.Info("retention: calls deleted by the rules", "calls", n)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("retention", "err", err)
		}
	}
	check := func() {
		if !guard {
			return
		}
		if _, err := s.Guard(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("disk guard", "err", err)
		}
	}
	check()
	sweep()
	ruleTick := time.NewTicker(s.cfg.Interval)
	defer ruleTick.Stop()
	diskTick := time.NewTicker(s.cfg.DiskInterval)
	defer diskTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ruleTick.C:
			sweep()
		case <-diskTick.C:
			check()
		}
	}
}

// Stats returns what the Sweeper did so far and the last disk check.
func (s *Sweeper) Stats() Stats {
	return Stats{
		DeletedByRule: s.byRule.Load(), DeletedByGuard: s.byGuard.Load(), BytesFreed: s.freed.Load(),
		Errors: s.errs.Load(), DiskFull: s.cfg.Disk.Full(), DiskTotal: s.total.Load(), DiskAvail: s.avail.Load(),
		MinFreeBytes: s.minFree.Load(), AudioRefused: s.cfg.Disk.Refused(), HeldBlocking: s.held.Load(),
		LastGuardUnixNS: s.checked.Load(), KeptUnshipped: s.notShipped.Load(),
		ReserveBytes: s.reserve.Load(), ReserveReleased: s.reserveReleased.Load(), ReserveMade: s.reserveMade.Load(),
	}
}

// WriteMetrics writes the Sweeper's counters in the Prometheus text format
// (version 0.0.4):
//
//	spanrec_retention_deleted_total{by}       calls deleted: by "retention" (rules) or "disk-guard"
//	spanrec_retention_freed_bytes_total       bytes of their files
//	spanrec_retention_errors_total            deletions or disk checks that failed
//	spanrec_disk_guard_full                   1 while new calls keep no audio (disk full, nothing deletable)
//	spanrec_disk_guard_min_free_bytes         what must stay free (retention.min_free)
//	spanrec_disk_guard_avail_bytes            free at the last check
//	spanrec_calls_audio_not_kept_total{reason="disk_full"}  calls indexed without audio because of it
//	spanrec_retention_kept_unshipped_total    (with a central side) deletions put off: the call's central copy not verified
//	spanrec_disk_guard_reserve_bytes          the reserve file's size (0: none; see ReserveName)
//	spanrec_disk_guard_reserve_released_total times it was deleted to give the index room
func (s *Sweeper) WriteMetrics(w io.Writer) error {
	st := s.Stats()
	full := 0
	if st.DiskFull {
		full = 1
	}
	_, err := fmt.Fprintf(w, `# HELP spanrec_retention_deleted_total Calls deleted with their files, by who deleted them: the retention rules or the disk guard.
# TYPE spanrec_retention_deleted_total counter
spanrec_retention_deleted_total{by="retention"} %d
spanrec_retention_deleted_total{by="disk-guard"} %d
# HELP spanrec_retention_freed_bytes_total Bytes of the files of the calls deleted.
# TYPE spanrec_retention_freed_bytes_total counter
spanrec_retention_freed_bytes_total %d
# HELP spanrec_retention_errors_total Deletions or disk checks that failed.
# TYPE spanrec_retention_errors_total counter
spanrec_retention_errors_total %d
# HELP spanrec_disk_guard_full 1 while the data directory's file system is below retention.min_free and nothing more may be deleted: new calls keep no audio.
# TYPE spanrec_disk_guard_full gauge
spanrec_disk_guard_full %d
# HELP spanrec_disk_guard_min_free_bytes Bytes that must stay free on the data directory's file system (retention.min_free).
# TYPE spanrec_disk_guard_min_free_bytes gauge
spanrec_disk_guard_min_free_bytes %d
# HELP spanrec_disk_guard_avail_bytes Bytes free on the data directory's file system at the last check.
# TYPE spanrec_disk_guard_avail_bytes gauge
spanrec_disk_guard_avail_bytes %d
# HELP spanrec_calls_audio_not_kept_total Calls indexed without audio, by reason.
# TYPE spanrec_calls_audio_not_kept_total counter
spanrec_calls_audio_not_kept_total{reason="disk_full"} %d
# HELP spanrec_disk_guard_reserve_bytes Bytes of the reserve file the disk guard keeps in the data directory so that the index can delete calls on a full disk (0: none now).
# TYPE spanrec_disk_guard_reserve_bytes gauge
spanrec_disk_guard_reserve_bytes %d
# HELP spanrec_disk_guard_reserve_released_total Times the disk guard deleted its reserve file to give the index room to delete recordings.
# TYPE spanrec_disk_guard_reserve_released_total counter
spanrec_disk_guard_reserve_released_total %d
`, st.DeletedByRule, st.DeletedByGuard, st.BytesFreed, st.Errors, full, st.MinFreeBytes, st.DiskAvail, st.AudioRefused,
		st.ReserveBytes, st.ReserveReleased)
	if err == nil && s.cfg.Archive != nil {
		_, err = fmt.Fprintf(w, `# HELP spanrec_retention_kept_unshipped_total Deletions by a rule or the disk guard put off because the call's central copy was not verified (not shipped yet, or the central side down).
# TYPE spanrec_retention_kept_unshipped_total counter
spanrec_retention_kept_unshipped_total %d
`, st.KeptUnshipped)
	}
	return err
}

// each calls fn with the calls f selects, oldest first, a page at a time,
// until fn returns false.
func (s *Sweeper) each(ctx context.Context, f spanrec.CallFilter, fn func(*spanrec.Call) bool) error {
	f.Sort, f.Limit = spanrec.SortStart, pageSize
	for {
		page, err := s.del.Index.Calls(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range page {
			if !fn(c) {
				return nil
			}
		}
		if len(page) < pageSize {
			return nil
		}
		f.Offset += len(page)
	}
}

// size returns the bytes of c's files (0 for those missing).
func (s *Sweeper) size(c *spanrec.Call) int64 {
	var n int64
	for _, rel := range []string{c.Audio, c.PCAP} {
		p := filepath.FromSlash(rel)
		if rel == "" || !filepath.IsLocal(p) {
			continue
		}
		if fi, err := os.Stat(filepath.Join(s.dataDir, p)); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// trim returns what a deletion, its report and Archive.Verify need of c.
func trim(c *spanrec.Call) *spanrec.Call {
	return &spanrec.Call{ID: c.ID, Start: c.Start, Caller: c.Caller, Callee: c.Callee, Direction: c.Direction, Sensor: c.Sensor,
		Audio: c.Audio, PCAP: c.PCAP, AudioSHA256: c.AudioSHA256, PCAPSHA256: c.PCAPSHA256, LegalHold: c.LegalHold}
}

// notify tells the central side (Config.Archive, if it ships) that calls
// were deleted: it tells the central index at once rather than at its
// next poll.
func (s *Sweeper) notify() {
	if n, ok := s.cfg.Archive.(interface{ Notify() }); ok {
		n.Notify()
	}
}

// shipped returns nil if c may be deleted as far as the central side
// goes: there is none, or it holds c (Config.Archive). Otherwise an error
// of kind ECONFLICT: the call is kept, and that is no failure.
func (s *Sweeper) shipped(ctx context.Context, c *spanrec.Call) error {
	if s.cfg.Archive == nil {
		return nil
	}
	if err := s.cfg.Archive.Verify(ctx, c); err != nil {
		s.notShipped.Add(1)
		return spanrec.Errorf(spanrec.ECONFLICT, "kept until its central copy is verified: %v", err)
	}
	return nil
}

func bytesText(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// checkpointer is an index whose journal takes disk space it can give
// back (sqlite.DB: its write-ahead log).
type checkpointer interface {
	Checkpoint(ctx context.Context) error
}
