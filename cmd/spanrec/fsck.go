package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/render"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/sqlite"
)

// fsckReport is what fsck found.
type fsckReport struct {
	missing    []string // "id: path" of rows whose file is gone
	mismatch   []string // "id: path" of files whose SHA-256 is not the row's
	unindexed  []string // recordings no row points to
	spool      []string // spool directories left (interrupted calls, import leftovers)
	pending    int      // deletions begun and not finished (not repaired)
	calls      int
	files      int
	repaired   int
	repairErrs []error
	// number is the check of SQLite's number-search table; nil where the
	// index has none (PostgreSQL's trigram indexes point at their rows
	// themselves).
	number *sqlite.NumberSearchCheck
}

func (r *fsckReport) problems() int {
	n := len(r.missing) + len(r.mismatch) + len(r.unindexed) + len(r.spool) + r.pending
	if r.number != nil && !r.number.OK() && !r.number.Rebuilt {
		n++
	}
	return n
}

// numberSearchChecker is an index whose search by number reads a table of
// its own that fsck checks against the calls (package sqlite).
type numberSearchChecker interface {
	CheckNumberSearch(ctx context.Context, repair bool) (sqlite.NumberSearchCheck, error)
}

// cmdFsck checks the index against the files of the data directory and,
// with --repair, makes them agree.
func cmdFsck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fsck", flag.ContinueOnError)
	var c common
	c.register(fs)
	repair := fs.Bool("repair", false, "remove recordings no call points to and spool leftovers, recover interrupted calls, drop the paths of missing files from their calls (with a note), and rebuild SQLite's search tables by number, user agent and header value where the number check finds calls missed")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: fsck takes no arguments", errUsage)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	if *repair {
		// Repairing writes: no recorder may write meanwhile.
		lock, err := e.lockWriter("spanrec fsck")
		if err != nil {
			return err
		}
		defer lock.Close()
	}
	db, err := e.openIndex(ctx, false)
	if err != nil {
		return err
	}
	defer db.Close()
	// Deletions a crash interrupted (package retention): their calls'
	// files may be gone already; --repair finishes them first, as the
	// next record, serve or import would.
	pending, err := db.PendingDeletions(ctx)
	if err != nil {
		return err
	}
	finished := 0
	if *repair && len(pending) > 0 {
		d := retention.Deleter{Index: db, DataDir: e.dataDir, Logger: e.log}
		if finished, err = d.Recover(ctx); err != nil {
			return fmt.Errorf("finish interrupted deletions: %w", err)
		}
	}
	r, err := fsck(ctx, e.dataDir, db, *repair)
	if err != nil {
		return err
	}
	if nc, ok := db.(numberSearchChecker); ok {
		c, err := nc.CheckNumberSearch(ctx, *repair)
		if err != nil {
			r.repairErrs = append(r.repairErrs, err)
		} else {
			r.number = &c
			if c.Rebuilt {
				r.repaired++
			}
		}
	}
	if len(pending) > 0 {
		if *repair {
			fmt.Fprintf(stdout, "Finished %d deletions interrupted by a crash\n", finished)
			r.repaired += finished
		} else {
			fmt.Fprintf(stdout, "%d deletions were interrupted by a crash (their calls' files may be gone); the next record, serve, import or fsck --repair finishes them:\n", len(pending))
			for _, d := range pending {
				fmt.Fprintf(stdout, "  %s  by %s: %s\n", d.Call, d.By, d.Reason)
				r.missing = slices.DeleteFunc(r.missing, func(m string) bool { return strings.HasPrefix(m, string(d.Call)+": ") })
			}
			r.pending = len(pending)
		}
	}
	if *repair && len(r.spool) > 0 {
		cfg := recorder.Config{Call: e.cfg.callConfig(e.dataDir), Locked: true, Logger: e.log}
		if _, err := recorder.Recover(ctx, cfg, db, nil); err != nil {
			r.repairErrs = append(r.repairErrs, err)
		} else {
			r.repaired += len(r.spool)
		}
	}
	printFsck(stdout, e.dataDir, r, *repair)
	switch {
	case len(r.repairErrs) > 0:
		return fmt.Errorf("repair: %w", errors.Join(r.repairErrs...))
	case r.problems() > 0 && !*repair:
		return fmt.Errorf("%d problems found (%s fsck --repair fixes them)", r.problems(), prog)
	}
	return nil
}

func fsck(ctx context.Context, dataDir string, db index, repair bool) (*fsckReport, error) {
	r := &fsckReport{}
	calls, err := db.Calls(ctx, spanrec.CallFilter{})
	if err != nil {
		return nil, fmt.Errorf("read the index: %w", err)
	}
	r.calls = len(calls)
	indexed := map[string]bool{}
	for _, c := range calls {
		changed := false
		check := func(path, sum *string, what string) {
			if *path == "" {
				return
			}
			full := filepath.Join(dataDir, filepath.FromSlash(*path))
			indexed[filepath.Clean(full)] = true
			got, err := sha256File(full)
			switch {
			case errors.Is(err, os.ErrNotExist):
				r.missing = append(r.missing, fmt.Sprintf("%s: %s", c.ID, *path))
				if repair {
					c.Notes = append(c.Notes, fmt.Sprintf("the %s %s was missing (spanrec fsck)", what, *path))
					*path, *sum = "", ""
					changed = true
				}
			case err != nil:
				r.repairErrs = append(r.repairErrs, err)
			case *sum != "" && got != *sum:
				r.mismatch = append(r.mismatch, fmt.Sprintf("%s: %s", c.ID, *path))
				note := fmt.Sprintf("the %s %s does not match its SHA-256 recorded at %s (spanrec fsck)", what, *path, *sum)
				if repair && !slices.Contains(c.Notes, note) {
					c.Notes = append(c.Notes, note)
					changed = true
				}
			}
		}
		check(&c.PCAP, &c.PCAPSHA256, "pcap")
		check(&c.Audio, &c.AudioSHA256, "recording")
		if changed {
			if c.Audio == "" {
				c.AudioMS = 0
			}
			if err := db.PutCall(ctx, c); err != nil {
				r.repairErrs = append(r.repairErrs, err)
			} else {
				r.repaired++
			}
		}
	}
	rec := filepath.Join(dataDir, "recordings")
	err = filepath.WalkDir(rec, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		r.files++
		if indexed[filepath.Clean(path)] {
			return nil
		}
		rel, _ := filepath.Rel(dataDir, path)
		r.unindexed = append(r.unindexed, filepath.ToSlash(rel))
		if repair {
			if err := os.Remove(path); err != nil {
				r.repairErrs = append(r.repairErrs, err)
			} else {
				r.repaired++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read recordings: %w", err)
	}
	ents, err := os.ReadDir(filepath.Join(dataDir, "spool"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read spool: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == render.PoolDir {
			continue
		}
		kind := "import leftover (no journal)"
		if _, err := os.Stat(filepath.Join(dataDir, "spool", e.Name(), call.JournalFile)); err == nil {
			kind = "interrupted call (journal: recoverable)"
		}
		r.spool = append(r.spool, fmt.Sprintf("spool/%s: %s", e.Name(), kind))
	}
	return r, nil
}

func printFsck(w io.Writer, dataDir string, r *fsckReport, repair bool) {
	fmt.Fprintf(w, "Checked %s: %d calls in the index, %d files in recordings/\n", dataDir, r.calls, r.files)
	list := func(title string, items []string) {
		fmt.Fprintf(w, "  %-32s %d\n", title, len(items))
		for i, s := range items {
			if i == 20 {
				fmt.Fprintf(w, "      … and %d more\n", len(items)-20)
				break
			}
			fmt.Fprintf(w, "      %s\n", s)
		}
	}
	list("calls whose file is missing", r.missing)
	list("files whose SHA-256 differs", r.mismatch)
	list("recordings no call points to", r.unindexed)
	list("spool leftovers", r.spool)
	if c := r.number; c != nil {
		printNumberSearch(w, c)
	}
	switch {
	case repair:
		fmt.Fprintf(w, "Repaired %d (missing files dropped from their calls with a note, unindexed recordings removed, spool recovered or removed, the search tables by number, user agent and header value rebuilt where the number-search table missed calls; SHA-256 mismatches are noted, not changed)\n", r.repaired)
	case r.problems() == 0:
		fmt.Fprintln(w, "No problems found.")
	default:
		fmt.Fprintf(w, "Run '%s fsck --repair' (no recorder may run meanwhile) to fix them.\n", prog)
	}
}

// printNumberSearch says in words what the check of the number-search
// table found.
func printNumberSearch(w io.Writer, c *sqlite.NumberSearchCheck) {
	if c.OK() {
		fmt.Fprintf(w, "  search by number: the number-search table finds every one of the %d calls\n", c.Calls)
		return
	}
	fmt.Fprintf(w, "  search by number: %d of %d calls would be missed by a search for their number\n", c.Missed, c.Calls)
	for _, id := range c.Examples {
		fmt.Fprintf(w, "      %s\n", id)
	}
	if c.Missed > len(c.Examples) {
		fmt.Fprintf(w, "      … and %d more\n", c.Missed-len(c.Examples))
	}
	if c.Drift != "" {
		fmt.Fprintf(w, "      the calls were renumbered under the table (%s)\n", c.Drift)
	}
	if c.Wrong > 0 {
		fmt.Fprintf(w, "      %d other calls' entries hold numbers those calls do not have (no wrong answer: a search tests each call it reads)\n", c.Wrong)
	}
	for _, o := range c.Others {
		fmt.Fprintf(w, "      %s\n", o)
	}
	if c.Stale > 0 {
		fmt.Fprintf(w, "      %d entries of the table name no call (no wrong answer, only space)\n", c.Stale)
	}
	if c.Rebuilt {
		fmt.Fprintln(w, "      rebuilt the number-search table (and those of user agents and header values) from the calls: every call is found now")
	}
}

// sha256File returns the hex SHA-256 of the file at path.
func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
