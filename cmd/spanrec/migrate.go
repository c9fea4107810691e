package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// cmdMigrate moves an existing recorder's data directory to the central
// side: its calls (index rows through ship.Shipper, audio and pcap into
// the store) and its account side (users with their password hashes as
// they are, API tokens, saved searches, tags, notes, legal holds, the
// audit trail), then verifies that everything is there.
//
// It is resumable: every step is idempotent and skips what the central
// side has already (calls leave the outbox once shipped; users, tokens,
// tags, notes, searches and audit events are compared with what the
// central index holds), so a migration interrupted anywhere is finished by
// running the same command again, and nothing arrives twice. The data
// directory is not modified except for the outbox marks of the calls
// shipped (and its lock file, held meanwhile).
func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var c common
	c.register(fs)
	to := fs.String("to", "", "the central index to move to: postgres://USER:PASSWORD@HOST/DB (required)")
	store := storeFlag(fs, "the central object store for the recordings (without one they stay in the data directory)")
	content := fs.Bool("verify-content", false, "read every object back from the store and hash it (default: check the SHA-256 the store recorded, which the upload checked against the bytes sent)")
	noProgress := fs.Bool("no-progress", false, "no progress lines")
	pos, err := parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: migrate takes no arguments", errUsage)
	}
	if *to == "" {
		return fmt.Errorf("%w: migrate needs the central index: --to postgres://USER:PASSWORD@HOST/DB", errUsage)
	}
	if kind, _, err := indexKind(*to, ""); err != nil || kind != "postgres" {
		// Never echo the value: it may hold a password.
		return fmt.Errorf("%w: --to takes postgres://USER:PASSWORD@HOST/DB (the central PostgreSQL index; got a value of another form)", errUsage)
	}
	e, err := c.setup(fs, stderr)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	*store = e.storeURL(fs, *store)
	kind, path, err := indexKind(e.index, e.dataDir)
	switch {
	case err != nil:
		return err
	case kind != "sqlite" && set["index"]:
		return fmt.Errorf("%w: --index names the local index to migrate from (sqlite:PATH, default the data directory's index.db); the central one is --to", errUsage)
	case kind != "sqlite":
		// The configuration's (or $SPANREC_INDEX's) postgres:// index
		// is where a sensor ships to: the local one is index.db.
		path = indexPath(e.dataDir)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("data directory %s has no index to migrate: %w", e.dataDir, err)
	}
	// The lock keeps record and import out meanwhile. Its recorded
	// command line leaves out the flags' values (--to holds a password).
	lock, err := lockDataDir(e.dataDir, "spanrec migrate")
	if err != nil {
		return err
	}
	defer lock.Close()
	// And a `spanrec ship` of the directory (migrate ships its outbox).
	slock, who, err := lockShipping(e.dataDir, "spanrec migrate")
	if err != nil {
		return err
	}
	if slock == nil {
		return fmt.Errorf("%w: %s is shipping %s; run migrate after it", errShipping, who, e.dataDir)
	}
	defer slock.Close()
	local, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer local.Close()
	central, err := postgres.Open(ctx, *to)
	if err != nil {
		return fmt.Errorf("central index %s: %w", postgres.Redact(*to), err)
	}
	defer central.Close()
	m := &migration{local: local, central: central, dataDir: e.dataDir, out: stdout, log: e.log,
		progress: !*noProgress, verifyContent: *content}
	where := "no store: the recordings stay in " + e.dataDir
	if *store != "" {
		st, err := e.openStore(ctx, *store)
		if err != nil {
			return fmt.Errorf("central %w", err) // "central store: s3: …"
		}
		m.store = st
		where = st.String()
	}
	fmt.Fprintf(stdout, "Migrating %s to %s (%s)\n", e.dataDir, postgres.Redact(*to), where)
	return m.run(ctx)
}

// migration is one run of spanrec migrate.
type migration struct {
	local         *sqlite.DB
	central       *postgres.DB
	store         *s3.Store // nil: files stay in the data directory
	dataDir       string
	out           io.Writer
	log           *slog.Logger
	progress      bool
	verifyContent bool

	problems []string // what is not on the central side, said at the end
	warnings int
	// deleting are the calls whose deletion has begun here (an admin's,
	// retention's): not moved, lest a deleted recording live on centrally.
	deleting map[spanrec.CallID]bool
}

// maxSavedSearches is the API's bound on one user's saved searches, kept
// on the central side too.
const maxSavedSearches = 50

func (m *migration) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	m.problems = append(m.problems, msg)
	fmt.Fprintf(m.out, "  PROBLEM: %s\n", msg)
}

func (m *migration) warn(format string, args ...any) {
	m.warnings++
	fmt.Fprintf(m.out, "  note: %s\n", fmt.Sprintf(format, args...))
}

// run does the steps in the order of what they refer to: users (tokens
// and searches name them), calls (annotations name them), then the rest,
// then the counts.
func (m *migration) run(ctx context.Context) error {
	ds, err := m.local.PendingDeletions(ctx)
	if err != nil {
		return err
	}
	m.deleting = map[spanrec.CallID]bool{}
	for _, d := range ds {
		m.deleting[d.Call] = true
	}
	if len(ds) > 0 {
		m.warn("%d calls are being deleted here (deletion begun, not finished): they are not moved; `spanrec retention` (or the next record or serve) finishes their deletion", len(ds))
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"users", m.users},
		{"calls", m.calls},
		{"verify calls", m.verifyCalls},
		{"annotations", m.annotations},
		{"tokens", m.tokens},
		{"saved searches", m.savedSearches},
		{"audit trail", m.audit},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("migrate: %s: %w (run the same command again to go on from here)", s.name, err)
		}
	}
	fmt.Fprintln(m.out, "The data directory is unchanged but for the outbox: the calls shipped are marked so. Sessions are not moved: users log in again.")
	if m.store == nil {
		fmt.Fprintf(m.out, "No --store: the recordings stay in %s and the central index names them by their paths there; run again with --store to move them.\n", m.dataDir)
	}
	if len(m.problems) > 0 {
		return fmt.Errorf("migrate: %d problems (said above): not everything is on the central side", len(m.problems))
	}
	fmt.Fprintln(m.out, "Verified: everything of this data directory is on the central side.")
	return nil
}

// users adds the users the central index lacks, with their password hashes
// as they are (never re-hashed, never shown). A user the central side has
// already with another password or creation time is a different account
// of the same name: it is kept as it is there, and said.
func (m *migration) users(ctx context.Context) error {
	us, err := m.local.Users(ctx)
	if err != nil {
		return err
	}
	added, there := 0, 0
	for _, u := range us {
		key := []string{u.Name, fmt.Sprint(u.Created.UnixNano())}
		if done, err := m.central.Received(ctx, "migrate-user", receivedKey(key...)); err != nil {
			return err
		} else if done {
			there++ // moved before: a user deleted there since stays deleted
			continue
		}
		cu, err := m.central.User(ctx, u.Name)
		switch {
		case spanrec.ErrorKind(err) == spanrec.ENOTFOUND:
			if err := m.central.AddUser(ctx, u); err != nil {
				return err
			}
			added++
		case err != nil:
			return err
		case cu.PasswordHash == u.PasswordHash && cu.Created.Equal(u.Created):
			there++
		default:
			there++
			m.warn("user %s exists on the central side as another account (another password or creation time): kept as it is there; this recorder's password for %s does not apply", u.Name, u.Name)
			continue
		}
		if err := m.central.MarkReceived(ctx, "migrate-user", receivedKey(key...)); err != nil {
			return err
		}
	}
	fmt.Fprintf(m.out, "users           %d (%d added, %d there already or moved before)\n", len(us), added, there)
	return nil
}

// listOutbox is an outbox of the calls of a list, for shipping again the
// calls verification found incomplete (shipped before without --store, or
// to another central side): MarkShipped only takes them off the list.
type listOutbox struct {
	ship.Local
	ids []spanrec.CallID
}

func (o *listOutbox) Outbox(_ context.Context, limit int) ([]sqlite.Queued, error) {
	var qs []sqlite.Queued
	for _, id := range o.ids[:min(limit, len(o.ids))] {
		qs = append(qs, sqlite.Queued{ID: id})
	}
	return qs, nil
}

func (o *listOutbox) MarkShipped(_ context.Context, q sqlite.Queued) error {
	o.ids = slices.DeleteFunc(o.ids, func(id spanrec.CallID) bool { return id == q.ID })
	return nil
}

// MarkShippedTo takes q off the list and records where its files went
// (sqlite.DB.MarkShippedTo, at a version no outbox row has: the outbox is
// left as it is).
func (o *listOutbox) MarkShippedTo(ctx context.Context, q sqlite.Queued, shipped string) error {
	if err := o.MarkShipped(ctx, q); err != nil {
		return err
	}
	return o.Local.DB.MarkShippedTo(ctx, sqlite.Queued{ID: q.ID, Version: -1}, shipped)
}

func (o *listOutbox) OutboxBacklog(context.Context) (int, time.Time, error) {
	return len(o.ids), time.Time{}, nil
}

// filtered is the outbox the migration's Shipper reads: calls being
// deleted here are not there (the Shipper takes them off the outbox
// unshipped, as it does a call deleted since it was queued).
type filtered struct {
	outbox   ship.Outbox
	deleting map[spanrec.CallID]bool
}

func (o *filtered) Outbox(ctx context.Context, limit int) ([]sqlite.Queued, error) {
	return o.outbox.Outbox(ctx, limit)
}

func (o *filtered) MarkShipped(ctx context.Context, q sqlite.Queued) error {
	return o.outbox.MarkShipped(ctx, q)
}

// MarkShippedTo records where q's files went if the outbox can
// (sqlite.DB.MarkShippedTo), else takes q off as MarkShipped.
func (o *filtered) MarkShippedTo(ctx context.Context, q sqlite.Queued, shipped string) error {
	if m, ok := o.outbox.(interface {
		MarkShippedTo(context.Context, sqlite.Queued, string) error
	}); ok {
		return m.MarkShippedTo(ctx, q, shipped)
	}
	return o.outbox.MarkShipped(ctx, q)
}

func (o *filtered) OutboxBacklog(ctx context.Context) (int, time.Time, error) {
	return o.outbox.OutboxBacklog(ctx)
}

func (o *filtered) Call(ctx context.Context, id spanrec.CallID) (*spanrec.Call, error) {
	if o.deleting[id] {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "call %s is being deleted", id)
	}
	return o.outbox.Call(ctx, id)
}

// progressIndex is the central index as the Shipper sees it: each call
// stored counts towards the progress lines.
type progressIndex struct {
	spanrec.CallIndex
	onPut func()
}

func (p progressIndex) PutCall(ctx context.Context, c *spanrec.Call) error {
	if err := p.CallIndex.PutCall(ctx, c); err != nil {
		return err
	}
	p.onPut()
	return nil
}

// progress prints "what N of M, X MiB" lines: the first, then at most one
// a second or one per tenth of the way, and the last.
type progress struct {
	out     io.Writer
	on      bool
	what    string
	total   int
	n       int
	last    time.Time
	lastPct int
}

func (p *progress) step(bytes int64) {
	p.n++
	if !p.on {
		return
	}
	pct := 0
	if p.total > 0 {
		pct = 10 * p.n / p.total
	}
	if p.n != 1 && p.n != p.total && time.Since(p.last) < time.Second && pct == p.lastPct {
		return
	}
	p.last, p.lastPct = time.Now(), pct
	if bytes >= 0 {
		fmt.Fprintf(p.out, "  %s %d of %d, %.1f MiB\n", p.what, p.n, p.total, float64(bytes)/(1<<20))
	} else {
		fmt.Fprintf(p.out, "  %s %d of %d\n", p.what, p.n, p.total)
	}
}

// ship drains outbox into the central index and store with a Shipper.
func (m *migration) ship(ctx context.Context, outbox ship.Outbox, what string, total int) (ship.Stats, error) {
	sh := &ship.Shipper{Outbox: &filtered{outbox: outbox, deleting: m.deleting}, DataDir: m.dataDir, Log: m.log}
	if m.store != nil {
		sh.Store = m.store
	}
	p := &progress{out: m.out, on: m.progress, what: what, total: total}
	sh.Index = progressIndex{CallIndex: m.central, onPut: func() { p.step(sh.Stats().Bytes) }}
	// A call that cannot be shipped as it is (a file whose bytes are not
	// its SHA-256, damaged on this disk; a key the store holds with other
	// content) stays queued and is passed over by Drain, which logs it;
	// verification says which calls are not on the central side.
	err := sh.Drain(ctx)
	st := sh.Stats()
	if st.Stuck > 0 {
		m.warn("%d calls could not be shipped as they are (a file whose bytes do not match its SHA-256, or a key the store holds with other bytes; the log says which): they stay queued; `spanrec fsck` checks the files", st.Stuck)
	}
	return st, err
}

// calls ships every call of the outbox (every call of the data directory
// not shipped yet: sqlite migration 0015 queued the calls recorded before
// it).
func (m *migration) calls(ctx context.Context) error {
	n, _, err := m.local.OutboxBacklog(ctx)
	if err != nil {
		return err
	}
	total, err := m.local.Count(ctx, spanrec.CallFilter{})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.out, "calls           %d in this data directory, %d not shipped yet\n", total, n)
	st, err := m.ship(ctx, ship.Local{DB: m.local}, "calls", n)
	if err != nil {
		return err
	}
	m.reportShipped(st)
	return nil
}

func (m *migration) reportShipped(st ship.Stats) {
	if m.store != nil {
		fmt.Fprintf(m.out, "  %d calls shipped, %d files in the store (%.1f MiB; files the store had already count too)\n",
			st.Calls, st.Files, float64(st.Bytes)/(1<<20))
	} else {
		fmt.Fprintf(m.out, "  %d calls shipped (index rows only)\n", st.Calls)
	}
	if st.MissingFiles > 0 {
		m.warn("%d files the index names were not in the data directory: their calls went without them, with a note", st.MissingFiles)
	}
}

// eachCall calls fn with every call of the local index but those being
// deleted, in the order they were indexed, showing progress.
func (m *migration) eachCall(ctx context.Context, what string, fn func(*spanrec.Call) error) error {
	total, err := m.local.Count(ctx, spanrec.CallFilter{})
	if err != nil {
		return err
	}
	p := &progress{out: m.out, on: m.progress && total > 0, what: what, total: total}
	seq := int64(0)
	for {
		cs, next, err := m.local.CallsAfter(ctx, seq, 256)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return nil
		}
		for _, c := range cs {
			if !m.deleting[c.ID] {
				if err := fn(c); err != nil {
					return err
				}
			}
			p.step(-1)
		}
		seq = next
	}
}

// verifyCalls checks every call of the data directory against the central
// side: its row is there with the same files and SHA-256s, and (with a
// store) each file is in the store with that SHA-256. Calls found
// incomplete (shipped before without a store, or elsewhere) are shipped
// again and checked again.
func (m *migration) verifyCalls(ctx context.Context) error {
	var redo []spanrec.CallID
	ok, objects, missing := 0, 0, 0
	check := func(c *spanrec.Call, final bool) (bool, error) {
		cc, err := m.central.Call(ctx, c.ID)
		if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
			if final {
				m.problem("call %s is not in the central index", c.ID)
			}
			return false, nil
		} else if err != nil {
			return false, err
		}
		good := true
		for _, f := range []struct{ rel, sum, crel, csum string }{
			{c.Audio, c.AudioSHA256, cc.Audio, cc.AudioSHA256},
			{c.PCAP, c.PCAPSHA256, cc.PCAP, cc.PCAPSHA256},
		} {
			if f.rel == "" {
				continue
			}
			_, statErr := os.Stat(filepath.Join(m.dataDir, filepath.FromSlash(f.rel)))
			lost := errors.Is(statErr, os.ErrNotExist)
			switch {
			case f.crel == "" && lost:
				missing++ // shipped without it, with a note: nothing to move
				continue
			case f.crel != f.rel || f.csum != f.sum:
				if final {
					m.problem("call %s: the central index names %q (SHA-256 %.12s…), this data directory %q (%.12s…)", c.ID, f.crel, f.csum, f.rel, f.sum)
				}
				good = false
				continue
			}
			if m.store == nil {
				continue
			}
			have, err := m.stored(ctx, f.rel, f.sum)
			if err != nil {
				return false, err
			}
			if !have {
				if final || lost {
					m.problem("call %s: %s is not in the store with SHA-256 %.12s…%s", c.ID, f.rel, f.sum, map[bool]string{true: " (and no longer in the data directory)"}[lost])
					if lost {
						continue
					}
				}
				good = false
				continue
			}
			objects++
		}
		return good, nil
	}
	err := m.eachCall(ctx, "verified", func(c *spanrec.Call) error {
		good, err := check(c, false)
		if err != nil {
			return err
		}
		if good {
			ok++
		} else {
			redo = append(redo, c.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(redo) > 0 {
		fmt.Fprintf(m.out, "calls           %d incomplete on the central side (shipped before without --store, or elsewhere): shipping them again\n", len(redo))
		st, err := m.ship(ctx, &listOutbox{Local: ship.Local{DB: m.local}, ids: slices.Clone(redo)}, "calls", len(redo))
		if err != nil {
			return err
		}
		m.reportShipped(st)
		for _, id := range redo {
			c, err := m.local.Call(ctx, id)
			if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
				continue // deleted meanwhile
			} else if err != nil {
				return err
			}
			good, err := check(c, true)
			if err != nil {
				return err
			}
			if good {
				ok++
			}
		}
	}
	how := "as the store recorded it at upload"
	if m.verifyContent {
		how = "read back and hashed"
	}
	if m.store == nil {
		fmt.Fprintf(m.out, "verified        %d calls in the central index with the same files and SHA-256s\n", ok)
	} else {
		fmt.Fprintf(m.out, "verified        %d calls in the central index, %d objects in the store with the index's SHA-256 (%s)\n", ok, objects, how)
	}
	if missing > 0 {
		fmt.Fprintf(m.out, "                %d files were missing in the data directory: their calls say so in their notes\n", missing)
	}
	return nil
}

// stored reports whether the store has rel with SHA-256 sum: by the
// SHA-256 recorded with the object, or, with --verify-content, by reading
// it back.
func (m *migration) stored(ctx context.Context, rel, sum string) (bool, error) {
	if !m.verifyContent {
		return m.store.Has(ctx, rel, sum)
	}
	b, err := m.store.Open(ctx, rel)
	if errors.Is(err, s3.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer b.Close()
	err = b.Verify(sum)
	if errors.Is(err, s3.ErrMismatch) {
		return false, nil
	}
	return err == nil, err
}

// annotations moves the tags (with who put them and when), notes and legal
// holds people put on the calls.
func (m *migration) annotations(ctx context.Context) error {
	var tags, tagsAdded, notes, notesAdded, holds, holdsSet int
	err := m.eachCall(ctx, "annotations of calls", func(c *spanrec.Call) error {
		if len(c.Tags) > 0 {
			ts, err := m.local.CallTags(ctx, c.ID)
			if err != nil {
				return err
			}
			for _, t := range ts {
				tags++
				key := receivedKey(string(c.ID), t.Tag, t.User, fmt.Sprint(t.At.UnixNano()))
				if done, err := m.central.Received(ctx, "migrate-tag", key); err != nil {
					return err
				} else if done {
					continue // moved before: taken off there since, it stays off
				}
				added, err := m.central.AddTag(ctx, c.ID, t.Tag, t.User, t.At)
				if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
					m.problem("tag %q of call %s: the call is not in the central index", t.Tag, c.ID)
					continue
				} else if err != nil {
					return err
				}
				if added {
					tagsAdded++
				}
				if err := m.central.MarkReceived(ctx, "migrate-tag", key); err != nil {
					return err
				}
			}
		}
		ns, err := m.local.Notes(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(ns) > 0 {
			cns, err := m.central.Notes(ctx, c.ID)
			if err != nil {
				return err
			}
			have := map[[3]string]int{}
			for _, n := range cns {
				have[noteKey(n)]++
			}
			// The nth of identical notes is its own item.
			nth := map[[3]string]int{}
			for _, n := range ns {
				notes++
				k := noteKey(n)
				key := receivedKey(string(c.ID), k[0], k[1], k[2], fmt.Sprint(nth[k]))
				nth[k]++
				if done, err := m.central.Received(ctx, "migrate-note", key); err != nil {
					return err
				} else if done {
					continue // moved before: deleted there since, it stays deleted
				}
				if have[k] > 0 {
					have[k]--
				} else {
					if _, err := m.central.AddNote(ctx, n); spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
						m.problem("a note of call %s: the call is not in the central index", c.ID)
						continue
					} else if err != nil {
						return err
					}
					notesAdded++
				}
				if err := m.central.MarkReceived(ctx, "migrate-note", key); err != nil {
					return err
				}
			}
		}
		if c.LegalHold != nil {
			holds++
			key := receivedKey(string(c.ID), c.LegalHold.By, fmt.Sprint(c.LegalHold.At.UnixNano()))
			if done, err := m.central.Received(ctx, "migrate-hold", key); err != nil {
				return err
			} else if done {
				return nil // moved before: released there since, it stays released
			}
			cc, err := m.central.Call(ctx, c.ID)
			if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
				m.problem("the legal hold of call %s: the call is not in the central index", c.ID)
				return nil
			} else if err != nil {
				return err
			}
			if cc.LegalHold == nil {
				if err := m.central.SetLegalHold(ctx, c.ID, c.LegalHold); err != nil {
					return err
				}
				holdsSet++
			}
			return m.central.MarkReceived(ctx, "migrate-hold", key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.out, "tags            %d (%d added, %d there already or moved before)\n", tags, tagsAdded, tags-tagsAdded)
	fmt.Fprintf(m.out, "notes           %d (%d added, %d there already or moved before)\n", notes, notesAdded, notes-notesAdded)
	fmt.Fprintf(m.out, "legal holds     %d (%d set, %d there already or moved before)\n", holds, holdsSet, holds-holdsSet)
	return nil
}

// noteKey is what makes a note the same note on both sides: its author,
// time and text, as PostgreSQL stores them (pgText).
func noteKey(n spanrec.CallNote) [3]string {
	return [3]string{pgText(n.User), fmt.Sprint(n.At.UnixNano()), pgText(n.Text)}
}

// pgText is a string as the postgres index stores it: valid UTF-8 without
// NUL bytes (the same replacement as postgres.text).
func pgText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// tokens adds the API tokens (their hashes) the central index lacks, and
// carries over when each was last used.
func (m *migration) tokens(ctx context.Context) error {
	ts, err := m.local.Tokens(ctx, "")
	if err != nil {
		return err
	}
	added := 0
	for _, t := range ts {
		done, err := m.central.Received(ctx, "migrate-token", receivedKey(t.Hash))
		if err != nil {
			return err
		}
		ct, err := m.central.TokenByHash(ctx, t.Hash)
		switch {
		case spanrec.ErrorKind(err) == spanrec.ENOTFOUND && done:
			continue // moved before and revoked there since: it stays revoked
		case spanrec.ErrorKind(err) == spanrec.ENOTFOUND:
			id, err := m.central.AddToken(ctx, t)
			if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
				m.problem("token %q of %s: no such user on the central side", t.Name, t.User)
				continue
			} else if err != nil {
				return err
			}
			added++
			ct = &auth.Token{ID: id}
		case err != nil:
			return err
		case ct.User != t.User:
			m.problem("token %q of %s: the central side has the same token for %s", t.Name, t.User, ct.User)
			continue
		}
		if t.LastUsed.After(ct.LastUsed) {
			if err := m.central.TouchToken(ctx, ct.ID, t.LastUsed); err != nil {
				return err
			}
		}
		if !done {
			if err := m.central.MarkReceived(ctx, "migrate-token", receivedKey(t.Hash)); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(m.out, "API tokens      %d (%d added, %d there already or moved before)\n", len(ts), added, len(ts)-added)
	return nil
}

// savedSearches adds each user's saved searches the central index lacks.
// A search of the same name with another query there is kept, and said.
func (m *migration) savedSearches(ctx context.Context) error {
	us, err := m.local.Users(ctx)
	if err != nil {
		return err
	}
	n, added := 0, 0
	for _, u := range us {
		ss, err := m.local.SavedSearches(ctx, u.Name)
		if err != nil {
			return err
		}
		if len(ss) == 0 {
			continue
		}
		cs, err := m.central.SavedSearches(ctx, u.Name)
		if err != nil {
			return err
		}
		have := map[string]string{}
		for _, s := range cs {
			have[s.Name] = s.Query
		}
		for _, s := range ss {
			n++
			key := receivedKey(u.Name, s.Name, s.Query)
			if done, err := m.central.Received(ctx, "migrate-search", key); err != nil {
				return err
			} else if done {
				continue // moved before: deleted there since, it stays deleted
			}
			q, ok := have[pgText(s.Name)]
			switch {
			case ok && q == pgText(s.Query):
				if err := m.central.MarkReceived(ctx, "migrate-search", key); err != nil {
					return err
				}
				continue
			case ok:
				m.warn("%s's saved search %q has another query on the central side: kept as it is there", u.Name, s.Name)
				continue
			}
			if _, err := m.central.SaveSearch(ctx, s, maxSavedSearches); spanrec.ErrorKind(err) == spanrec.ECONFLICT || spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
				m.problem("%s's saved search %q: %v", u.Name, s.Name, err)
				continue
			} else if err != nil {
				return err
			}
			if err := m.central.MarkReceived(ctx, "migrate-search", key); err != nil {
				return err
			}
			added++
		}
	}
	fmt.Fprintf(m.out, "saved searches  %d (%d added, %d there already or moved before)\n", n, added, n-added)
	return nil
}

// auditPage is how many audit events are read at a time.
const auditPage = 1000

// audit adds the audit events the central trail lacks, oldest first (so
// that the central trail, which lists by insertion, keeps their order).
// An event is the same event when every field but its ID is the same (its
// time to the nanosecond): the local trail is taken in pages, and for the
// time window of each page the events of both sides are compared as
// multisets, so that an interrupted run's events are not added twice and
// events identical but for their ID are each moved.
func (m *migration) audit(ctx context.Context) error {
	// Walk the trail newest first for the pages' bounds, then take the
	// pages oldest first.
	var bounds []int64
	before, total := int64(0), 0
	for {
		es, n, err := m.local.Events(ctx, auth.EventFilter{BeforeID: before, Limit: auditPage})
		if err != nil {
			return err
		}
		if before == 0 {
			total = n
		}
		if len(es) == 0 {
			break
		}
		bounds = append(bounds, before)
		before = es[len(es)-1].ID
		if len(es) < auditPage {
			break
		}
	}
	added := 0
	p := &progress{out: m.out, on: m.progress && total > auditPage, what: "audit events", total: total}
	for i := len(bounds) - 1; i >= 0; i-- {
		page, _, err := m.local.Events(ctx, auth.EventFilter{BeforeID: bounds[i], Limit: auditPage})
		if err != nil {
			return err
		}
		lo, hi := page[0].At, page[0].At
		for _, e := range page {
			lo, hi = minTime(lo, e.At), maxTime(hi, e.At)
		}
		win := auth.EventFilter{From: lo, To: hi.Add(time.Nanosecond)}
		mine, _, err := m.local.Events(ctx, win)
		if err != nil {
			return err
		}
		theirs, _, err := m.central.Events(ctx, win)
		if err != nil {
			return err
		}
		have := map[auditKey]int{}
		for _, e := range theirs {
			have[keyOf(e)]++
		}
		slices.Reverse(mine) // oldest first
		for _, e := range mine {
			if k := keyOf(e); have[k] > 0 {
				have[k]--
				continue
			}
			if err := m.central.AddEvent(ctx, e); err != nil {
				return err
			}
			added++
		}
		for range page {
			p.step(-1)
		}
	}
	fmt.Fprintf(m.out, "audit events    %d (%d added, %d there already)\n", total, added, total-added)
	return nil
}

// auditKey is an audit event but for its ID, as PostgreSQL stores it.
type auditKey struct {
	at                                   int64
	user, action, callID, remote, detail string
}

func keyOf(e auth.Event) auditKey {
	return auditKey{e.At.UnixNano(), pgText(e.User), pgText(e.Action), pgText(e.CallID), pgText(e.Remote), pgText(e.Detail)}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// receivedKey is the key by which the central index remembers an item
// migrate moved (postgres.DB.MarkReceived): a JSON array of its parts, as
// PostgreSQL stores text, so that a later run neither moves it twice nor
// puts it back once removed there.
func receivedKey(parts ...string) string {
	for i := range parts {
		parts[i] = pgText(parts[i])
	}
	b, _ := json.Marshal(parts) // strings: never fails
	return string(b)
}
