package retention

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spanrec/spanrec"
)

// Index is what retention needs of the call index: the calls, and the
// two steps of a deletion. sqlite.DB has it.
type Index interface {
	// Calls returns the calls that match f (see spanrec.CallIndex).
	Calls(ctx context.Context, f spanrec.CallFilter) ([]*spanrec.Call, error)
	// BeginDeletion records the intent to delete a call, before its
	// files are removed. It returns an error of kind ECONFLICT if the
	// call is under legal hold and of kind ENOTFOUND if it is not
	// indexed.
	BeginDeletion(ctx context.Context, d spanrec.Deletion) error
	// FinishDeletion deletes the call's row, its intent and writes the
	// audit entry of the deletion, in one transaction. It returns an
	// error of kind ENOTFOUND if no deletion of the call was begun.
	FinishDeletion(ctx context.Context, id spanrec.CallID) error
	// PendingDeletions returns the deletions begun and not finished.
	PendingDeletions(ctx context.Context) ([]spanrec.Deletion, error)
}

// Remover deletes objects by key from a store; s3.Store has it. Deleting
// a key that is not there is not an error.
type Remover interface {
	Delete(ctx context.Context, key string) error
}

// Who deleted a call, for Deletion.By besides user names.
const (
	ByRule      = "retention"
	ByDiskGuard = "disk-guard"
)

// Deleter deletes calls with their files (see the package comment). It is
// safe for concurrent use; two Deleters may delete the same call at once
// (a recorder and a server over one data directory): one of them finds it
// gone.
type Deleter struct {
	Index Index
	// DataDir is the data directory the calls' file paths are relative
	// to.
	DataDir string
	Logger  *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Store, if set, is the object store the calls' files are deleted
	// from as well (by the same keys, their paths in the data
	// directory): the central store of an archive whose index this is
	// (serve --store over the central index). Nil: local files only.
	Store Remover
	// Tell, if set, tells the central index of a sensor that ships of
	// the deletion begun, before the files are removed
	// (ship.Shipper.TellDeletion): a central row that names the sensor's
	// own files stops naming them first. If it fails, the deletion goes
	// on all the same and the central index is told at the Shipper's
	// next drain (logged).
	Tell func(ctx context.Context, id spanrec.CallID) error

	// crash, if set, is called at the seams of a deletion ("intent"
	// after the intent is recorded, "files" after the files are
	// removed): the crash tests kill the process there.
	crash func(seam string)
}

// Delete deletes the call c with its files: by is the user or ByRule /
// ByDiskGuard, remote the client address of an API request, reason the
// words of the audit entry. It returns an error of kind ECONFLICT if c is
// under legal hold and of kind ENOTFOUND if it is no longer indexed; after
// any other error the deletion may be left begun, for Recover or the next
// Delete of the call to finish.
func (d *Deleter) Delete(ctx context.Context, c *spanrec.Call, by, remote, reason string) error {
	if c.LegalHold != nil {
		return spanrec.Errorf(spanrec.ECONFLICT, "call %s is under legal hold", c.ID)
	}
	var files []string
	for _, f := range []string{c.Audio, c.PCAP} {
		if f != "" {
			files = append(files, f)
		}
	}
	del := spanrec.Deletion{Call: c.ID, At: d.now(), By: by, Remote: remote, Reason: reason, Files: files}
	if _, err := d.paths(del); err != nil {
		return err
	}
	if err := d.Index.BeginDeletion(ctx, del); err != nil {
		return err
	}
	d.seam("intent")
	return d.finish(ctx, del)
}

// finish removes the files of the begun deletion del and finishes it.
func (d *Deleter) finish(ctx context.Context, del spanrec.Deletion) error {
	paths, err := d.paths(del)
	if err != nil {
		return err
	}
	if d.Tell != nil {
		if err := d.Tell(ctx, del.Call); err != nil {
			d.log().Warn("the central index could not be told of a deletion before the files went; it is told at the next shipping", "id", del.Call, "err", err)
		}
		d.seam("told")
	}
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete call %s: %w", del.Call, err)
		}
	}
	// The objects before the row too: a store that fails leaves the
	// deletion begun, finished by the next Delete or Recover.
	if d.Store != nil {
		for _, key := range del.Files {
			if err := d.Store.Delete(ctx, key); err != nil {
				return fmt.Errorf("delete call %s from the store: %w", del.Call, err)
			}
		}
	}
	d.pruneDirs(paths)
	d.seam("files")
	if err := d.Index.FinishDeletion(ctx, del.Call); err != nil {
		if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
			return nil // another Deleter finished it
		}
		return fmt.Errorf("delete call %s: %w", del.Call, err)
	}
	// A user's deletion is logged; the loops log what they deleted in
	// one line per pass (every deletion is in the audit trail).
	lv := slog.LevelInfo
	if del.By == ByRule || del.By == ByDiskGuard {
		lv = slog.LevelDebug
	}
	d.log().Log(ctx, lv, "call deleted", "id", del.Call, "by", del.By, "reason", del.Reason, "files", len(paths))
	return nil
}

// Recover finishes the deletions a crash interrupted: it removes what is
// left of their files and deletes their index rows. It returns the number
// finished. Commands that open the data directory for writing call it
// before anything else.
func (d *Deleter) Recover(ctx context.Context) (int, error) {
	ds, err := d.Index.PendingDeletions(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, del := range ds {
		if err := d.finish(ctx, del); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if n > 0 {
		d.log().Warn("finished deletions interrupted by a crash", "calls", n)
	}
	return n, errors.Join(errs...)
}

// pruneDirs removes the date directories (recordings/YYYY/MM/DD, then
// MM and YYYY) that the removal of paths left empty; recordings/ itself
// stays. rmdir(2) removes only an empty directory, in one step: one in
// which a writer has put a file since is kept (ENOTEMPTY), and a writer
// that made the directory and finds it gone before its file is in makes
// it again (call.Assembler). A directory that cannot be removed is left
// as it is: it costs an inode, and the next deletion there tries again.
func (d *Deleter) pruneDirs(paths []string) {
	root := filepath.Join(d.DataDir, "recordings")
	for _, p := range paths {
		for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
			rel, err := filepath.Rel(root, dir)
			if err != nil || rel == "." || !filepath.IsLocal(rel) {
				break
			}
			if err := os.Remove(dir); err != nil {
				break // not empty, or gone
			}
		}
	}
}

// paths returns the absolute paths of del's files, refusing any that
// leaves the data directory.
func (d *Deleter) paths(del spanrec.Deletion) ([]string, error) {
	out := make([]string, 0, len(del.Files))
	for _, rel := range del.Files {
		p := filepath.FromSlash(rel)
		if !filepath.IsLocal(p) {
			return nil, fmt.Errorf("delete call %s: the index names a file outside the data directory: %s", del.Call, rel)
		}
		out = append(out, filepath.Join(d.DataDir, p))
	}
	return out, nil
}

func (d *Deleter) seam(name string) {
	if d.crash != nil {
		d.crash(name)
	}
}

func (d *Deleter) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deleter) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}
