package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

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
	*store = e.storeURL(fs, *store)
	if kind, _, err := indexKind(e.index, e.dataDir); err != nil || kind != "postgres" {
		return fmt.Errorf("%w: ship needs the central index: --index postgres://USER:PASSWORD@HOST/DB (or index in the configuration, or SPANREC_INDEX)", errUsage)
	}
	if *store == "" {
		return fmt.Errorf("%w: ship needs the central store: --store s3://BUCKET/PREFIX?endpoint=… (or store in the configuration, or SPANREC_STORE)", errUsage)
	}
	if _, err := os.Stat(indexPath(e.dataDir)); err != nil {
		return fmt.Errorf("data directory %s has no index to ship from: %w", e.dataDir, err)
	}
	local, err := sqlite.Open(ctx, indexPath(e.dataDir))
	if err != nil {
		return err
	}
	defer local.Close()
	central, err := e.openIndex(ctx, false)
	if err != nil {
		return err
	}
	defer central.Close()
	st, err := e.openStore(ctx, *store)
	if err != nil {
		return err
	}
	before, _, err := local.OutboxBacklog(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Shipping %d calls from %s to %s and %s\n", before, e.dataDir, e.indexName(), st)
	sh := &ship.Shipper{Outbox: local, Index: central, Store: st, DataDir: e.dataDir, Log: e.log}
	derr := sh.Drain(ctx)
	s := sh.Stats()
	waiting, oldest, err := local.OutboxBacklog(ctx)
	fmt.Fprintf(stdout, "  calls shipped    %d\n", s.Calls)
	fmt.Fprintf(stdout, "  files uploaded   %d (%d bytes; files the store had already count too)\n", s.Files, s.Bytes)
	if s.MissingFiles > 0 {
		fmt.Fprintf(stdout, "  files missing    %d (not in the data directory: the calls went without them, with a note)\n", s.MissingFiles)
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
