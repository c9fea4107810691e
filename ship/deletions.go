package ship

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spanrec/spanrec"
)

// Deletions is what a sensor's outbox keeps of its deletions for the
// central index (sqlite.DB has it): once the index is marked as shipping
// (SetShipping, at a Shipper's first drain), every deletion of a call
// (by a rule, the disk guard or a user of the sensor's own UI or API) is
// queued in the transaction that finishes it, and told to the central
// index after the calls.
type Deletions interface {
	SetShipping(ctx context.Context) error
	OutboxDeletions(ctx context.Context, limit int) ([]spanrec.SensorDeletion, error)
	DeletionShipped(ctx context.Context, d spanrec.SensorDeletion) error
	OutboxDeletionsBacklog(ctx context.Context) (int, error)
	// Deleting reports whether the deletion of a call has begun: such a
	// call is not shipped.
	Deleting(ctx context.Context, id spanrec.CallID) (bool, error)
}

// DeletionIndex is a central index that learns of the deletions on the
// sensors (postgres.DB): see postgres.DB.SensorDeleted.
type DeletionIndex interface {
	SensorDeleted(ctx context.Context, d spanrec.SensorDeletion) (string, error)
}

// markShipping marks the outbox as a shipping sensor's, once per Shipper.
func (s *Shipper) markShipping(ctx context.Context) error {
	dl, ok := s.Outbox.(Deletions)
	if !ok {
		return nil
	}
	s.mu.Lock()
	done := s.shipping
	s.mu.Unlock()
	if done {
		return nil
	}
	if err := dl.SetShipping(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.shipping = true
	s.mu.Unlock()
	return nil
}

// deleting reports whether the deletion of the call id has begun on the
// sensor.
func (s *Shipper) deleting(ctx context.Context, id spanrec.CallID) (bool, error) {
	dl, ok := s.Outbox.(Deletions)
	if !ok {
		return false, nil
	}
	return dl.Deleting(ctx, id)
}

// drainDeletions tells the central index of the deletions queued, oldest
// first, each taken off the outbox once told. st is the central store
// (nil: the sensor ships no files, so a central row names the sensor's
// own files, which a deletion removed).
func (s *Shipper) drainDeletions(ctx context.Context, idx spanrec.CallIndex, st Store) error {
	dl, ok := s.Outbox.(Deletions)
	if !ok {
		return nil
	}
	for {
		ds, err := dl.OutboxDeletions(ctx, batch)
		if err != nil || len(ds) == 0 {
			return err
		}
		di, ok := idx.(DeletionIndex)
		if !ok {
			return fmt.Errorf("ship: %d deletions wait: the central index cannot be told of them", len(ds))
		}
		for _, d := range ds {
			d.FilesGone = filesGone(d, st)
			did, err := di.SensorDeleted(ctx, d)
			if err != nil {
				return fmt.Errorf("ship: tell the central index of the deletion of call %s: %w", d.Call, err)
			}
			if err := dl.DeletionShipped(ctx, d); err != nil {
				return err
			}
			s.count(func(st *Stats) { st.Deletions++ })
			if did != "" {
				s.log().Info("ship: the central index was told of a deletion on this sensor", "call", d.Call, "by", d.By, "central", did)
			}
		}
	}
}

// filesGone reports whether the central row of the deleted call names the
// sensor's own files, gone with it: the call was last shipped without a
// store (whatever the Shipper has now: a sensor that shipped with
// --store and later without keeps the central rows' references to the
// store's copies); when the sensor did not record where, whether this
// Shipper ships files (st).
func filesGone(d spanrec.SensorDeletion, st Store) bool {
	switch d.Shipped {
	case spanrec.ShippedRow:
		return true
	case spanrec.ShippedToStore:
		return false
	}
	return st == nil
}

// Begun is an Outbox that tells the deletion of a call begun and not
// finished (sqlite.DB.BegunDeletion).
type Begun interface {
	BegunDeletion(ctx context.Context, id spanrec.CallID) (spanrec.SensorDeletion, bool, error)
}

// centralBackoff is how long after a failure of the central side
// TellDeletion and Verify do not try it.
const centralBackoff = 10 * time.Second

// DefaultTellTimeout bounds each TellDeletion (Shipper.TellTimeout).
const DefaultTellTimeout = 5 * time.Second

// TellDeletion tells the central index of the deletion of the call id,
// begun on the sensor, before its files are removed
// (retention.Deleter.Tell): when the central row names the sensor's own
// files (shipped without a store), it stops naming them before they go,
// so the central side never serves a recording as there that is not.
// Only a call shipped as it is (not waiting in the outbox: the central
// row is its own, and no drain ships it meanwhile) whose files are the
// sensor's is told here; the others, and this one if the central index
// fails now, are told by the next drain, after the calls, once the
// deletion is finished (the central index takes the same deletion once:
// keyed by sensor, call and time, see postgres.DB.SensorDeleted).
//
// Every deletion waits for it, so it never waits long: it gives up at
// once while the central side failed less than 10 s ago (a connect, a
// drain, a tell or a Verify), or while another goroutine connects to it, and each
// tell is bounded by TellTimeout (5 s). The deletion is then told by the
// next drain. It takes no shipping lock (a `spanrec ship` beside may hold
// it): it tells only a call not queued, which no drain ships.
func (s *Shipper) TellDeletion(ctx context.Context, id spanrec.CallID) error {
	b, ok := s.Outbox.(Begun)
	if !ok {
		return nil
	}
	d, ok, err := b.BegunDeletion(ctx, id)
	if err != nil || !ok || d.Queued {
		return err
	}
	s.mu.Lock()
	failed := s.centralFailed
	s.mu.Unlock()
	if since := time.Since(failed); since < centralBackoff {
		return fmt.Errorf("ship: the deletion of call %s is left to the next drain: the central side failed %s ago", id, since.Round(time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(s.TellTimeout, DefaultTellTimeout))
	defer cancel()
	err = s.tell(ctx, d)
	if err != nil && !errors.Is(err, errConnecting) {
		s.mu.Lock()
		s.centralFailed = time.Now()
		s.mu.Unlock()
	}
	return err
}

// tell is TellDeletion's central part.
func (s *Shipper) tell(ctx context.Context, d spanrec.SensorDeletion) error {
	idx, st, err := s.centralNow(ctx)
	if err != nil {
		return err
	}
	if d.FilesGone = filesGone(d, st); !d.FilesGone {
		return nil
	}
	di, ok := idx.(DeletionIndex)
	if !ok {
		return fmt.Errorf("ship: the central index cannot be told of the deletion of call %s", d.Call)
	}
	did, err := di.SensorDeleted(ctx, d)
	if err != nil {
		return fmt.Errorf("ship: tell the central index of the deletion of call %s: %w", d.Call, err)
	}
	if did != "" {
		s.log().Info("ship: the central index was told of a deletion on this sensor before the files went", "call", d.Call, "by", d.By, "central", did)
	}
	return nil
}

// deletionsBacklog returns how many deletions wait for the central index.
func (s *Shipper) deletionsBacklog(ctx context.Context) int {
	dl, ok := s.Outbox.(Deletions)
	if !ok {
		return 0
	}
	n, err := dl.OutboxDeletionsBacklog(ctx)
	if err != nil {
		return 0
	}
	return n
}

// writeDeletionMetrics writes the deletions' part of WriteMetrics.
func (s *Shipper) writeDeletionMetrics(ctx context.Context, w io.Writer, st Stats) error {
	_, err := fmt.Fprintf(w, `# HELP spanrec_outbox_deletions Deletions on this sensor waiting to be told to the central index.
# TYPE spanrec_outbox_deletions gauge
spanrec_outbox_deletions %d
# HELP spanrec_ship_deletions_total Deletions on this sensor told to the central index.
# TYPE spanrec_ship_deletions_total counter
spanrec_ship_deletions_total %d
`, s.deletionsBacklog(ctx), st.Deletions)
	return err
}
