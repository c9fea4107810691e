package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// centralSide is the central index and store a sensor ships to.
type centralSide struct {
	index string // postgres://…
	store string // s3://…, or "" (files stay on the sensor)
}

// central returns the central side named for record and import: with
// --index postgres://… (and --store s3://…) the sensor still writes its
// own SQLite index in the data directory (the outbox) and ships from it,
// so e.index is set back to the local index. The zero centralSide: no
// central side (a --store without --index is a usage error).
func (e *env) central(fs *flag.FlagSet, store string) (centralSide, error) {
	store = e.storeURL(fs, store)
	kind, _, err := indexKind(e.index, e.dataDir)
	if err != nil {
		return centralSide{}, err
	}
	if kind != "postgres" {
		if store != "" {
			return centralSide{}, fmt.Errorf("%w: --store needs the central index too: --index postgres://USER:PASSWORD@HOST/DB (or index in the configuration, or SPANREC_INDEX)", errUsage)
		}
		return centralSide{}, nil
	}
	if store != "" {
		if _, _, _, _, err := s3.ParseURL(store); err != nil {
			return centralSide{}, fmt.Errorf("%w: --store: %v", errUsage, err)
		}
	}
	c := centralSide{index: e.index, store: store}
	e.index = ""
	return c, nil
}

// String names the central side without its secrets.
func (c centralSide) String() string {
	if c.store == "" {
		return postgres.Redact(c.index)
	}
	return postgres.Redact(c.index) + " and " + storeName(c.store)
}

// storeName is the store's URL as it may be shown (s3.ParseURL refuses
// credentials in it; its query is dropped all the same).
func storeName(u string) string {
	b, p, ep, _, err := s3.ParseURL(u)
	if err != nil {
		return "(invalid --store)"
	}
	if ep != nil {
		return "s3://" + b + "/" + p + " at " + ep.Host
	}
	return "s3://" + b + "/" + p
}

// connectTimeout bounds the opening of the central side.
const connectTimeout = 30 * time.Second

// newShipper returns a Shipper of the local index to c, which it opens at its
// first shipping (and again while that fails: a sensor starts while the
// central side is down), and the function that closes what it opened.
func (e *env) newShipper(local *sqlite.DB, c centralSide) (*ship.Shipper, func()) {
	var opened *postgres.DB
	// ship.Local: the calls whole (quality over time, SIP headers), which
	// sqlite.DB.Call leaves out.
	sh := &ship.Shipper{Outbox: ship.Local{DB: local}, DataDir: e.dataDir, Log: e.log}
	sh.Connect = func(ctx context.Context) (ship.Central, error) {
		ctx, cancel := context.WithTimeout(ctx, connectTimeout)
		defer cancel()
		var st *s3.Store
		if c.store != "" {
			var err error
			if st, err = e.openStore(ctx, c.store); err != nil {
				return ship.Central{}, err
			}
		}
		pg, err := postgres.Open(ctx, c.index)
		if err != nil {
			return ship.Central{}, err
		}
		opened = pg
		if st == nil {
			return ship.Central{Index: pg}, nil
		}
		return ship.Central{Index: pg, Store: st}, nil
	}
	return sh, func() {
		if opened != nil {
			opened.Close()
		}
	}
}

// cmdShip drains the outbox of a sensor's data directory: every call its
// local index holds that the central side lacks (or has in an older
// version) goes to the central index (--index postgres://…) and its files
// to the central store (--store s3://…), oldest first, each verified by
// its SHA-256. It can run beside a recording `spanrec record`, or on a
// stopped sensor; run again, it ships only what changed.
func cmdShip(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ship", flag.ContinueOnError)
	var c common
	c.register(fs)
	store := storeFlag(fs, "central object store")
	noStore := fs.Bool("no-store", false, "ship the calls' rows only: the files stay in this data directory, and the central rows name them (a sensor without a central store)")
	wait := fs.Bool("wait", false, "if another process ships this data directory (a recorder with a central side, an import, another ship), wait until it is done instead of exiting with an error")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: ship takes no arguments", errUsage)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	if kind, _, err := indexKind(e.index, e.dataDir); err != nil || kind != "postgres" {
		return fmt.Errorf("%w: ship needs the central index: --index postgres://USER:PASSWORD@HOST/DB (or index in the configuration, or SPANREC_INDEX)", errUsage)
	}
	cs, err := e.central(fs, *store)
	if err != nil {
		return err
	}
	if cs.store != "" && *noStore {
		return fmt.Errorf("%w: --no-store and a store (--store, store in the configuration, or SPANREC_STORE) exclude each other", errUsage)
	}
	if cs.store == "" && !*noStore {
		return fmt.Errorf("%w: ship needs the central store: --store s3://BUCKET/PREFIX?endpoint=… (or store in the configuration, or SPANREC_STORE), or --no-store to ship rows only", errUsage)
	}
	if _, err := os.Stat(indexPath(e.dataDir)); err != nil {
		return fmt.Errorf("data directory %s has no index to ship from: %w", e.dataDir, err)
	}
	// One Shipper of the outbox at a time (ShipLockFile).
	lock, who, err := lockShipping(e.dataDir, "spanrec ship")
	if err != nil {
		return err
	}
	if lock == nil {
		if !*wait {
			return fmt.Errorf("%w: %s is shipping %s: its calls go to the central side from there; run ship again with --wait to ship once it is done",
				errShipping, who, e.dataDir)
		}
		fmt.Fprintf(stdout, "Waiting: %s is shipping %s\n", who, e.dataDir)
		if lock, err = waitShipping(ctx, e.dataDir, "spanrec ship", nil); err != nil {
			return fmt.Errorf("waiting for the shipping lock of %s: %w", e.dataDir, err)
		}
	}
	defer lock.Close()
	local, err := sqlite.Open(ctx, indexPath(e.dataDir))
	if err != nil {
		return err
	}
	defer local.Close()
	before, _, err := local.OutboxBacklog(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Shipping %d calls from %s to %s\n", before, e.dataDir, cs)
	sh, closeCentral := e.newShipper(local, cs)
	defer closeCentral()
	derr := sh.Drain(ctx)
	s := sh.Stats()
	waiting, oldest, err := local.OutboxBacklog(ctx)
	fmt.Fprintf(stdout, "  calls shipped    %d\n", s.Calls)
	fmt.Fprintf(stdout, "  files uploaded   %d (%d bytes; files the store had already count too)\n", s.Files, s.Bytes)
	if s.MissingFiles > 0 {
		fmt.Fprintf(stdout, "  files missing    %d (not in the data directory: the calls went without them, with a note)\n", s.MissingFiles)
	}
	if s.Deletions > 0 {
		fmt.Fprintf(stdout, "  deletions told   %d (calls deleted here since they were recorded: the central index was told)\n", s.Deletions)
	}
	if err == nil {
		if waiting > 0 {
			fmt.Fprintf(stdout, "  calls waiting    %d (the oldest ended %s)\n", waiting, oldest.Format("2006-01-02 15:04:05 MST"))
		} else {
			fmt.Fprintf(stdout, "  calls waiting    0\n")
		}
	}
	return errors.Join(derr, err)
}

// shipImported ships, as shipAtEnd, what an import left in the outbox,
// once it holds the data directory's shipping lock: if another process
// (a `spanrec ship`) ships the directory, it waits for it within timeout,
// and says so; past it, the calls wait in the outbox.
func (e *env) shipImported(ctx context.Context, sh *ship.Shipper, c centralSide, timeout time.Duration, stdout io.Writer) {
	deadline := time.Now().Add(timeout)
	wctx, cancel := context.WithDeadline(ctx, deadline)
	var holder lockInfo
	lock, err := waitShipping(wctx, e.dataDir, "spanrec import", func(who lockInfo) {
		holder = who
		fmt.Fprintf(stdout, "Waiting: %s is shipping %s (at most %s)\n", who, e.dataDir, timeout)
	})
	cancel()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		e.log.Error("ship: the shipping lock cannot be taken; the calls wait in the outbox", "err", err)
		return
	}
	if err != nil {
		b, _ := sh.Backlog(context.WithoutCancel(ctx))
		e.log.Warn("ship: calls wait in the outbox: another process ships this data directory", "holder", holder.String(), "calls", b.Calls, "err", err)
		fmt.Fprintf(stdout, "Shipped nothing: %s is still shipping %s; %d calls wait in the outbox (run `%s ship --data %s` with the same --index and --store after it)\n",
			holder, e.dataDir, b.Calls, prog, e.dataDir)
		return
	}
	defer lock.Close()
	e.shipAtEnd(ctx, sh, c, max(time.Until(deadline), time.Second), stdout)
}

// shipAtEnd ships what an import or a stopping recorder left in the
// outbox, waiting at most timeout, and says how many calls went and how
// many wait.
func (e *env) shipAtEnd(ctx context.Context, sh *ship.Shipper, c centralSide, timeout time.Duration, stdout io.Writer) {
	sctx, cancel := context.WithTimeout(ctx, timeout)
	err := sh.Drain(sctx)
	cancel()
	s := sh.Stats()
	fmt.Fprintf(stdout, "Shipped %d calls to the central side %s (%d files, %s)\n", s.Calls, c, s.Files, mib(s.Bytes))
	b, berr := sh.Backlog(context.WithoutCancel(ctx))
	switch {
	case berr != nil:
		e.log.Error("ship: reading the outbox", "err", berr)
	case b.Calls > 0:
		why := "the central side did not answer in time"
		if err != nil && sctx.Err() == nil {
			why = err.Error()
		}
		e.log.Warn("ship: calls wait in the outbox", "calls", b.Calls, "bytes", b.Bytes, "err", why)
		fmt.Fprintf(stdout, "%d calls wait in the outbox (%s; %s); run `%s ship --data %s` with the same --index and --store when the central side is back (a recorder started again sends them too)\n",
			b.Calls, mib(b.Bytes), why, prog, e.dataDir)
	}
}
