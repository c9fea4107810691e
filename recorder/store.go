package recorder

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
)

// batchIndex is an index that stores several calls in one transaction
// (sqlite.DB): all of them, or none when it returns an error. Calls that
// end together share most of the pages the index writes for them, so
// storing them in one transaction costs a fraction of one each.
type batchIndex interface {
	PutCalls(ctx context.Context, calls []*spanrec.Call) error
}

// storeBatch is the most calls the store puts in one transaction, and
// storeWait (live) and importWait (import) the longest a call whose files
// are written waits for others to join it: fewer, larger transactions
// write fewer pages (a batch of 64 calls half as many as batches of 16,
// a quarter of one call each). A live call that waits still has its
// spool (journal and tracks), so a crash meanwhile leaves it to Recover,
// as one during the commit does; an import can be run again.
const (
	storeBatch = 64
	storeWait  = 50 * time.Millisecond
	importWait = 250 * time.Millisecond
)

// stored is a finished call whose files are written, on its way to the
// index.
type stored struct {
	f    *call.Finished
	errs []error     // writing its files
	done func(error) // told the outcome, on the store's goroutine
}

// store is the stage after the renderers: it writes finished calls to the
// index, by batches when the index takes them (batchIndex) and several
// calls come within its wait, and then releases each call's spool
// (finishStored). Every call reaches the index after its files are
// complete (and synced, live) and before its spool goes.
type store struct {
	ctx   context.Context
	cc    call.Config
	index spanrec.CallIndex
	batch batchIndex // nil: one call per transaction
	wait  time.Duration
	in    chan stored
	done  chan struct{}
}

// newStore starts the store of index, whose batches wait for calls up to
// wait; close stops it.
func newStore(ctx context.Context, cc call.Config, index spanrec.CallIndex, wait time.Duration) *store {
	s := &store{ctx: ctx, cc: cc, index: index, wait: wait, in: make(chan stored, storeBatch), done: make(chan struct{})}
	s.batch, _ = index.(batchIndex)
	go s.run()
	return s
}

// put hands f, whose files are written (errs: what went wrong doing
// so), to the store; done is called with the call's outcome once it is
// in the index or failed to get there.
func (s *store) put(f *call.Finished, errs []error, done func(error)) {
	s.in <- stored{f: f, errs: errs, done: done}
}

// close stores the calls put so far and returns when they are done.
func (s *store) close() {
	close(s.in)
	<-s.done
}

func (s *store) run() {
	defer close(s.done)
	var (
		pending []stored
		timer   = time.NewTimer(s.wait)
		due     <-chan time.Time
	)
	timer.Stop()
	for {
		select {
		case it, ok := <-s.in:
			if !ok {
				s.write(pending)
				return
			}
			pending = append(pending, it)
			if len(pending) < storeBatch {
				if len(pending) == 1 {
					timer.Reset(s.wait)
					due = timer.C
				}
				continue
			}
		case <-due:
		}
		timer.Stop()
		due = nil
		s.write(pending)
		clear(pending)
		pending = pending[:0]
	}
}

// write stores the calls of batch and finishes each.
func (s *store) write(batch []stored) {
	if len(batch) == 0 {
		return
	}
	if s.batch != nil && len(batch) > 1 {
		calls := make([]*spanrec.Call, len(batch))
		for i, it := range batch {
			calls[i] = it.f.Call
		}
		if err := s.batch.PutCalls(s.ctx, calls); err == nil {
			for _, it := range batch {
				it.done(finishStored(s.cc, it.f, it.errs, nil))
			}
			return
		}
		// Nothing was stored: each call again, alone, so that one the
		// index refuses fails alone, with its own error.
	}
	for _, it := range batch {
		err := s.index.PutCall(s.ctx, it.f.Call)
		it.done(finishStored(s.cc, it.f, it.errs, err))
	}
}

// notIndexed is the error of a call the index refused: unlike a file that
// could not be written (the call is indexed all the same, with a note),
// the call is not in the index.
type notIndexed struct{ err error }

func (e notIndexed) Error() string { return "index call: " + e.err.Error() }
func (e notIndexed) Unwrap() error { return e.err }

// indexed reports whether the call whose outcome is err (finishStored's)
// is in the index.
func indexed(err error) bool {
	var ni notIndexed
	return !errors.As(err, &ni)
}

// finishStored releases the spool of f, which the index took or refused
// (ierr), and returns the call's outcome. A call the index refused keeps
// its spool when it has a journal: the next start's Recover indexes it.
func finishStored(cc call.Config, f *call.Finished, errs []error, ierr error) error {
	if ierr != nil {
		errs = append(errs, notIndexed{ierr})
		if _, jerr := os.Stat(filepath.Join(f.SpoolDir, call.JournalFile)); f.SpoolDir != "" && jerr == nil {
			return errors.Join(errs...)
		}
	}
	for _, tr := range f.Tracks {
		_ = tr.Remove()
	}
	if f.SpoolDir != "" {
		_ = cc.Spool.Remove(filepath.Join(f.SpoolDir, call.JournalFile)) // none in import
		_ = cc.Spool.Remove(f.SpoolDir)
	}
	return errors.Join(errs...)
}
