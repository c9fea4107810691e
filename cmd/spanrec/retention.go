package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/retention"
)

// retentionConfig is the retention section of the configuration file.
type retentionConfig struct {
	// MaxAge is the age past which calls of a direction are deleted:
	// {inbound: 90d, outbound: 90d, internal: 30d}. Applied after Rules.
	MaxAge map[string]string `yaml:"max_age"`
	// Rules are judged in order; the first that matches a call decides.
	Rules []struct {
		Name      string `yaml:"name"`
		Direction string `yaml:"direction"`
		Number    string `yaml:"number"`
		Sensor    string `yaml:"sensor"`
		MaxAge    string `yaml:"max_age"`
	} `yaml:"rules"`
	// MaxTotalBytes bounds the recordings' bytes; "none" or absent: no
	// bound.
	MaxTotalBytes byteSize `yaml:"max_total_bytes"`
	// MinFree is what the disk guard keeps free: "5%" (default), a size
	// ("2GiB"), or "none".
	MinFree      string        `yaml:"min_free"`
	Interval     time.Duration `yaml:"interval"`
	DiskInterval time.Duration `yaml:"disk_interval"`
}

// config returns the retention.Config of the section (without Disk,
// Logger), or every problem with it.
func (rc *retentionConfig) config() (retention.Config, error) {
	var c retention.Config
	var errs []error
	for i, r := range rc.Rules {
		age, err := retention.ParseAge(r.MaxAge)
		if err != nil {
			errs = append(errs, fmt.Errorf("retention.rules[%d]: %w", i, err))
		}
		c.Rules = append(c.Rules, retention.Rule{Name: r.Name, Direction: spanrec.Direction(r.Direction), Number: r.Number, Sensor: r.Sensor, MaxAge: age})
	}
	dirs := make([]string, 0, len(rc.MaxAge))
	for d := range rc.MaxAge {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		age, err := retention.ParseAge(rc.MaxAge[d])
		if err != nil {
			errs = append(errs, fmt.Errorf("retention.max_age.%s: %w", d, err))
		}
		c.Rules = append(c.Rules, retention.Rule{Name: "max_age." + d, Direction: spanrec.Direction(d), MaxAge: age})
	}
	if rc.MaxTotalBytes.Bytes > 0 {
		c.MaxTotalBytes = rc.MaxTotalBytes.Bytes
	}
	switch v := strings.TrimSpace(rc.MinFree); {
	case v == "":
	case strings.EqualFold(v, "none") || v == "0" || v == "0%":
		c.MinFree = -1
	case strings.HasSuffix(v, "%"):
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "%")), 64)
		if err != nil || f <= 0 || f >= 100 {
			errs = append(errs, fmt.Errorf("retention.min_free %q: want a percentage (5%%), a size (2GiB) or none", v))
		}
		c.MinFree = f / 100
	default:
		n, err := parseByteSize(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("retention.min_free: %w", err))
		}
		c.MinFree, c.MinFreeBytes = -1, n
	}
	if rc.Interval < 0 || rc.DiskInterval < 0 {
		errs = append(errs, errors.New("retention: intervals must not be negative"))
	}
	c.Interval, c.DiskInterval = rc.Interval, rc.DiskInterval
	if err := c.Check(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// sweeper returns the retention loop of the data directory, its verdict
// on the disk going to disk (nil: none kept), after finishing the
// deletions a crash interrupted.
func (e *env) sweeper(ctx context.Context, db index, disk *limits.Disk) (*retention.Sweeper, error) {
	cfg, err := e.cfg.Retention.config() // validated by loadConfig
	if err != nil {
		return nil, err
	}
	cfg.Disk, cfg.Logger, cfg.Archive = disk, e.log, e.archive
	if e.store != nil {
		// serve --store: the recordings are in the store, not on this
		// file system, so the disk guard has nothing to guard; and the
		// deleted calls' objects go too when the index is the central
		// one the store belongs to (a sensor's own index deletes only
		// its local copies: the archive keeps its own).
		cfg.MinFree, cfg.MinFreeBytes = -1, 0
		if kind, _, _ := indexKind(e.index, e.dataDir); kind == "postgres" {
			cfg.Store = e.store
		}
	}
	s := retention.New(cfg, db, e.dataDir)
	if _, err := s.Deleter().Recover(ctx); err != nil {
		return nil, fmt.Errorf("finish interrupted deletions: %w", err)
	}
	return s, nil
}

// cmdRetention applies the retention rules once and says what it deleted
// (or, with --dry-run, what it would delete).
func cmdRetention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("retention", flag.ContinueOnError)
	var c common
	c.register(fs)
	dryRun := fs.Bool("dry-run", false, "only say what would be deleted")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: retention takes no arguments", errUsage)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	db, err := e.openIndex(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	cfg, err := e.cfg.Retention.config()
	if err != nil {
		return err
	}
	if len(cfg.Rules) == 0 && cfg.MaxTotalBytes == 0 {
		fmt.Fprintln(stdout, "No retention rule is configured (retention.max_age, retention.rules, retention.max_total_bytes): nothing to delete.")
		return nil
	}
	cfg.Logger = e.log
	s := retention.New(cfg, db, e.dataDir)
	if !*dryRun {
		if _, err := s.Deleter().Recover(ctx); err != nil {
			return fmt.Errorf("finish interrupted deletions: %w", err)
		}
	}
	vs, err := s.Sweep(ctx, *dryRun)
	verb, total := "deleted", "deleted"
	if *dryRun {
		verb, total = "would delete", "would be deleted"
	}
	n, bytes := 0, int64(0)
	for _, v := range vs {
		c := v.Call
		status := verb
		if v.Err != nil {
			status = "kept: " + v.Err.Error()
		} else {
			n++
			bytes += v.Bytes
		}
		fmt.Fprintf(stdout, "%s  %s  %-8s %s → %s  %d bytes  %s  (%s)\n", c.ID, ts(c.Start), c.Direction,
			orDash(c.Caller.Number), orDash(c.Callee.Number), v.Bytes, status, v.Reason)
	}
	fmt.Fprintf(stdout, "%d calls %s, %d bytes of files\n", n, total, bytes)
	return err
}

// cmdHold puts a call under legal hold, or releases it (--release).
func cmdHold(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hold", flag.ContinueOnError)
	var c common
	c.register(fs)
	release := fs.Bool("release", false, "release the call from legal hold")
	reason := fs.String("reason", "", "why the call is held (kept with the hold and in the audit trail)")
	by := fs.String("by", "", "who holds it, for the audit trail (default: $SUDO_USER, $USER)")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: hold takes one call ID (or a unique prefix of one)", errUsage)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	db, err := e.openIndex(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	call, err := db.Call(ctx, spanrec.CallID(pos[0]))
	if err != nil {
		return err
	}
	who := *by
	if who == "" {
		who = localUser()
	}
	now := time.Now()
	var h *spanrec.LegalHold
	action := auth.ActionLegalHoldRelease
	if !*release {
		h = &spanrec.LegalHold{By: who, At: now, Reason: *reason}
		action = auth.ActionLegalHold
	}
	if err := db.SetLegalHold(ctx, call.ID, h); err != nil {
		return err
	}
	if err := db.AddEvent(ctx, auth.Event{At: now, User: who, Action: action, CallID: string(call.ID), Detail: *reason}); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if *release {
		fmt.Fprintf(stdout, "Call %s released from legal hold: retention may delete it again\n", call.ID)
	} else {
		fmt.Fprintf(stdout, "Call %s is under legal hold: no rule, disk guard or user can delete it until '%s hold --release %s'\n", call.ID, prog, call.ID)
	}
	return nil
}

// localUser names the person at the command line, for the audit trail:
// the user sudo ran us for, else the login name, prefixed "cli:" so that
// it is not taken for an account of the web UI.
func localUser() string {
	for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return "cli:" + v
		}
	}
	return "cli"
}
