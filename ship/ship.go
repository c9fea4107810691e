// Package ship moves finished calls from a sensor to the central side: from
// its local index (SQLite, whose outbox queues every call stored) and the
// files of its data directory to the central index (PostgreSQL, or any
// spanrec.CallIndex) and object store (S3).
//
// A sensor always finishes a call locally first; shipping comes after and
// may lag as long as the central side is down: nothing is lost, the
// outbox grows (its size and age are reported). Shipping a call is
// idempotent, so a call shipped twice (a crash between the central write
// and the outbox update) is one call: each file is uploaded unless the
// store has it with the same SHA-256, then the call is upserted by ID,
// then taken off the outbox, oldest end first. Errors are retried with
// backoff by Run; `spanrec ship` drains a stopped sensor's outbox with
// Drain.
package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sqlite"
)

// Outbox is the sensor's side: its local index.
type Outbox interface {
	Outbox(ctx context.Context, limit int) ([]sqlite.Queued, error)
	Call(ctx context.Context, id spanrec.CallID) (*spanrec.Call, error)
	MarkShipped(ctx context.Context, q sqlite.Queued) error
	OutboxBacklog(ctx context.Context) (calls int, oldest time.Time, err error)
}

// Store is the central object store (s3.Store).
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, sum string) error
}

// Shipper ships the calls of one sensor.
type Shipper struct {
	Outbox  Outbox
	Index   spanrec.CallIndex // the central index
	Store   Store             // the central store; nil: files stay on the sensor
	DataDir string            // the sensor's data directory (the files' root)
	Log     *slog.Logger      // nil: slog.Default()

	stats Stats
}

// Stats counts what a Shipper did.
type Stats struct {
	Calls        int   // calls shipped
	Files        int   // files uploaded (or found uploaded already)
	Bytes        int64 // bytes of those files
	MissingFiles int   // files the index names that were not in the data directory
	Errors       int   // attempts that failed (retried)
}

// Stats returns the counters. Not safe while Run or Drain runs.
func (s *Shipper) Stats() Stats { return s.stats }

func (s *Shipper) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// batch is how many queued calls are read at a time.
const batch = 64

// Drain ships every queued call, oldest first, and stops at the first
// error (the call stays queued) or when the outbox is empty.
func (s *Shipper) Drain(ctx context.Context) error {
	for {
		qs, err := s.Outbox.Outbox(ctx, batch)
		if err != nil {
			return err
		}
		if len(qs) == 0 {
			return nil
		}
		for _, q := range qs {
			if err := s.ship(ctx, q); err != nil {
				s.stats.Errors++
				return fmt.Errorf("ship: call %s: %w", q.ID, err)
			}
		}
	}
}

// ship ships one queued call.
func (s *Shipper) ship(ctx context.Context, q sqlite.Queued) error {
	c, err := s.Outbox.Call(ctx, q.ID)
	if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
		return s.Outbox.MarkShipped(ctx, q) // deleted since it was queued
	}
	if err != nil {
		return err
	}
	if s.Store != nil {
		for _, f := range []struct{ rel, sum *string }{{&c.Audio, &c.AudioSHA256}, {&c.PCAP, &c.PCAPSHA256}} {
			if *f.rel == "" {
				continue
			}
			switch err := s.upload(ctx, *f.rel, *f.sum); {
			case errors.Is(err, fs.ErrNotExist):
				// Gone from the sensor (deleted by hand, a lost disk): the
				// call is shipped without it, and says so.
				s.stats.MissingFiles++
				s.log().Warn("ship: a file of the call is missing on this sensor; shipping the call without it", "call", c.ID, "file", *f.rel)
				c.Notes = append(c.Notes, fmt.Sprintf("the file %s was missing on the sensor when the call was shipped", filepath.Base(*f.rel)))
				*f.rel, *f.sum = "", ""
			case err != nil:
				return err
			}
		}
	}
	if err := s.Index.PutCall(ctx, c); err != nil {
		return err
	}
	s.stats.Calls++
	return s.Outbox.MarkShipped(ctx, q)
}

// upload puts one file of the data directory into the store.
func (s *Shipper) upload(ctx context.Context, rel, sum string) error {
	if sum == "" {
		return fmt.Errorf("%s has no SHA-256 in the index: not shipped unverified", rel)
	}
	f, err := os.Open(filepath.Join(s.DataDir, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := s.Store.Put(ctx, rel, f, st.Size(), sum); err != nil {
		return err
	}
	s.stats.Files++
	s.stats.Bytes += st.Size()
	return nil
}

// Backoff bounds of Run's retries.
const (
	minBackoff = time.Second
	maxBackoff = time.Minute
)

// Run ships queued calls until ctx is done: it drains the outbox, then
// looks again every poll; after an error it waits (1 s, doubling up to a
// minute) and tries again. Every minute it logs the backlog while there is
// one.
func (s *Shipper) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = 5 * time.Second
	}
	wait := time.Duration(0)
	lastLog := time.Time{}
	for {
		err := s.Drain(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			wait = min(max(2*wait, minBackoff), maxBackoff)
			s.log().Warn("ship: central side unavailable; calls wait in the outbox", "err", err, "retry_in", wait)
		} else {
			wait = 0
		}
		if time.Since(lastLog) >= time.Minute {
			if n, oldest, err := s.Outbox.OutboxBacklog(ctx); err == nil && n > 0 {
				s.log().Warn("ship: outbox backlog", "calls", n, "oldest_end", oldest, "age", time.Since(oldest).Round(time.Second))
				lastLog = time.Now()
			}
		}
		d := poll
		if wait > 0 {
			d = wait
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}
