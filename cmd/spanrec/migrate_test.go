package main

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/s3/s3test"
	"github.com/spanrec/spanrec/sqlite"
)

// cancelWriter is a command's stdout that cancels its context once a line
// matches: an interruption at a known point (as Ctrl-C or SIGTERM is).
type cancelWriter struct {
	mu     sync.Mutex
	b      strings.Builder
	re     *regexp.Regexp
	cancel context.CancelFunc
	fired  bool
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if !w.fired && w.re.Match(p) {
		w.fired = true
		w.cancel()
	}
	return len(p), nil
}

func (w *cancelWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestMigrate moves a recorder's data directory (real captures imported,
// users, an API token, tags, notes, a legal hold, a saved search, an
// audit trail) to a real PostgreSQL index and a real SeaweedFS store; the
// first run is interrupted midway through the calls, the second finishes,
// the third moves nothing: every call, object, account and event is there
// once; `spanrec serve --index postgres://…` lists the calls, the users
// log in with their passwords and the token works; no secret shows.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	u := pgtest.NewSchema(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	data := filepath.Join(t.TempDir(), "data")
	cli := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, []byte(stdin), append(args, "--data", data)...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", args[0], code, out, errs)
		}
		return out
	}
	caps := pcaptest.CapturesDir(t)
	cli("", "import", demo, "--no-progress")
	for _, f := range []string{"sip-rtp-g722.pcap", "nb6-telephone.pcap", "SIP_DTMF2.pcap", "sip-rtp-opus.pcap", "sip-rtp-gsm.pcap"} {
		cli("", "import", filepath.Join(caps, "wireshark-samples", f), "--no-progress")
	}
	cli("a long admin password\n", "user", "add", "ada", "--role", "admin")
	cli("sup3rvisor password\n", "user", "add", "sue", "--role", "supervisor")
	token := strings.TrimSpace(cli("", "token", "create", "sue", "--name", "crm-export"))

	// What people added through the UI, written as the API writes it.
	local, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	calls, err := local.Calls(ctx, spanrec.CallFilter{Sort: spanrec.SortStart})
	if err != nil || len(calls) < 10 {
		t.Fatalf("%d calls imported, %v", len(calls), err)
	}
	at := time.Date(2026, 11, 2, 9, 30, 0, 123456789, time.UTC)
	for i, tag := range []string{"fraud", "callback"} {
		if _, err := local.AddTag(ctx, calls[i].ID, tag, "sue", at.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := local.AddTag(ctx, calls[0].ID, "escalated", "ada", at); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"customer asked for a refund", "customer asked for a refund", "bad byte \xff and NUL \x00 kept"} {
		if _, err := local.AddNote(ctx, spanrec.CallNote{CallID: calls[1].ID, User: "sue", At: at, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if err := local.SetLegalHold(ctx, calls[2].ID, &spanrec.LegalHold{By: "ada", At: at, Reason: "case 4711"}); err != nil {
		t.Fatal(err)
	}
	if _, err := local.SaveSearch(ctx, auth.SavedSearch{User: "sue", Name: "fraud calls", Query: "tag=fraud", Created: at}, 50); err != nil {
		t.Fatal(err)
	}
	// A call whose deletion has begun (an admin deleted it; the files'
	// removal did not finish): it must not live on centrally.
	gone := calls[len(calls)-1]
	if err := local.BeginDeletion(ctx, spanrec.Deletion{Call: gone.ID, At: at, By: "ada", Reason: "deleted by an admin", Files: []string{gone.Audio, gone.PCAP}}); err != nil {
		t.Fatal(err)
	}
	calls = calls[:len(calls)-1]
	// Two events the same in every field but their IDs (two plays in one
	// nanosecond cannot happen, but the trail does not know), one with
	// bytes PostgreSQL stores replaced.
	for _, e := range []auth.Event{
		{At: at, User: "sue", Action: auth.ActionDownload, CallID: string(calls[0].ID), Remote: "192.0.2.7", Detail: "x.wav"},
		{At: at, User: "sue", Action: auth.ActionDownload, CallID: string(calls[0].ID), Remote: "192.0.2.7", Detail: "x.wav"},
		{At: at.Add(time.Second), User: "mallory\x00", Action: auth.ActionLoginFailed, Remote: "198.51.100.1", Detail: "\xfe"},
	} {
		if err := local.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	wantEvents, nEvents, err := local.Events(ctx, auth.EventFilter{})
	if err != nil || nEvents < 6 {
		t.Fatalf("local audit trail: %d events, %v", nEvents, err)
	}
	localUsers, _ := local.Users(ctx)
	localTokens, _ := local.Tokens(ctx, "")
	local.Close()

	before := dirState(t, data)
	args := []string{"migrate", "--data", data, "--to", u, "--store", srv.URL("central")}
	// First run: interrupted once a few calls are shipped.
	cctx, cancel := context.WithCancel(ctx)
	w := &cancelWriter{re: regexp.MustCompile(`calls ([3-9]|\d\d+) of`), cancel: cancel}
	var errb syncBuffer
	code := run(cctx, args, nil, w, &errb)
	cancel()
	out1 := w.String()
	t.Logf("interrupted run: exit %d\n%s\n%s", code, out1, errb.String())
	if code == 0 || !w.fired || !strings.Contains(errb.String(), "run the same command again") {
		t.Fatalf("interrupted migration: exit %d, interrupted %v", code, w.fired)
	}
	central, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()
	if n, err := central.Count(ctx, spanrec.CallFilter{}); err != nil || n < 3 || n >= len(calls) {
		t.Errorf("after the interruption the central index has %d calls (%v); want some of the %d", n, err, len(calls))
	}

	// Second run: finishes, verified.
	code, out2, errs2 := runCLI(t, nil, args...)
	t.Logf("second run: exit %d\n%s\n%s", code, out2, errs2)
	if code != 0 || !strings.Contains(out2, "Verified: everything") || !strings.Contains(out2, "1 calls are being deleted here") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out2, errs2)
	}
	if _, err := central.Call(ctx, gone.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("the call being deleted on the sensor is in the central index: %v", err)
	}
	if !strings.Contains(out1, "users           2 (2 added") {
		t.Errorf("the interrupted run did not move the users first")
	}
	for _, want := range []string{"users           2 (0 added, 2 there already or moved before)", "API tokens      1 (1 added", "tags            3 (3 added",
		"notes           3 (3 added", "legal holds     1 (1 set", "saved searches  1 (1 added", "audit events    " + strconv.Itoa(nEvents) + " (" + strconv.Itoa(nEvents) + " added"} {
		if !strings.Contains(out2, want) {
			t.Errorf("second run's output lacks %q", want)
		}
	}
	// Third run: nothing left to move, nothing added twice.
	code, out3, errs3 := runCLI(t, nil, args...)
	if code != 0 || !strings.Contains(out3, ", 0 not shipped yet") || !strings.Contains(out3, "Verified: everything") {
		t.Errorf("third run: exit %d\n%s\n%s", code, out3, errs3)
	}
	if n := strings.Count(out3, "(0 added") + strings.Count(out3, "(0 set"); n != 7 {
		t.Errorf("third run added something (%d steps added nothing, want 7):\n%s", n, out3)
	}

	// The central side, read directly.
	store, err := s3.Open(ctx, s3.Config{URL: srv.URL("central")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := central.Calls(ctx, spanrec.CallFilter{Sort: spanrec.SortStart})
	if err != nil || len(got) != len(calls) {
		t.Fatalf("central index: %d calls, %v; want %d", len(got), err, len(calls))
	}
	objects := 0
	for i, c := range calls {
		g := got[i]
		if g.ID != c.ID || g.SIPCallID != c.SIPCallID || g.Audio != c.Audio || g.AudioSHA256 != c.AudioSHA256 ||
			g.PCAPSHA256 != c.PCAPSHA256 || len(g.Streams) != len(c.Streams) || !slices.Equal(g.Tags, c.Tags) && i > 2 {
			t.Errorf("call %s: central %+v", c.ID, g)
		}
		for _, f := range [][2]string{{c.Audio, c.AudioSHA256}, {c.PCAP, c.PCAPSHA256}} {
			if f[0] == "" {
				continue
			}
			b, err := store.Open(ctx, f[0])
			if err != nil {
				t.Errorf("call %s: %v", c.ID, err)
				continue
			}
			if err := b.Verify(f[1]); err != nil {
				t.Errorf("call %s: %s: %v", c.ID, f[0], err)
			}
			b.Close()
			objects++
		}
	}
	if objects < len(calls) {
		t.Errorf("%d objects in the store for %d calls", objects, len(calls))
	}
	// The streams' quality over time (the call page's charts) and the INVITE
	// headers (searches by header) moved too.
	withQuality, headers := 0, 0
	lq, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		want, err := lq.StreamQuality(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		lh, err := lq.SIPHeaders(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ch, err := central.SIPHeaders(ctx, c.ID); err != nil || !slices.Equal(ch, lh) {
			t.Errorf("call %s: central headers %+v, %v; local %+v", c.ID, ch, err, lh)
		}
		headers += len(lh)
		have, err := central.StreamQuality(ctx, c.ID)
		if err != nil || len(have) != len(want) {
			t.Fatalf("central stream quality of %s: %d streams, %v; want %d", c.ID, len(have), err, len(want))
		}
		for i := range want {
			if (want[i] == nil) != (have[i] == nil) || want[i] != nil && len(want[i].Intervals) != len(have[i].Intervals) {
				t.Errorf("call %s stream %d: central quality %+v, local %+v", c.ID, i, have[i], want[i])
			}
			if want[i] != nil && len(want[i].Intervals) > 0 {
				withQuality++
			}
		}
	}
	lq.Close()
	if headers == 0 {
		t.Error("no call of the captures has SIP headers to compare")
	}
	if withQuality == 0 {
		t.Error("no stream of the captures has quality figures to compare")
	}
	if tags, err := central.CallTags(ctx, calls[0].ID); err != nil || len(tags) != 2 || tags[0].Tag != "escalated" || tags[0].User != "ada" || !tags[0].At.Equal(at) {
		t.Errorf("central tags of %s: %+v, %v", calls[0].ID, tags, err)
	}
	notes, err := central.Notes(ctx, calls[1].ID)
	if err != nil || len(notes) != 3 || notes[0].Text != notes[1].Text || !notes[0].At.Equal(at) || notes[2].Text != "bad byte \uFFFD and NUL \uFFFD kept" {
		t.Errorf("central notes: %+v, %v", notes, err)
	}
	if c, err := central.Call(ctx, calls[2].ID); err != nil || c.LegalHold == nil || c.LegalHold.Reason != "case 4711" || c.LegalHold.By != "ada" {
		t.Errorf("central legal hold: %+v, %v", c, err)
	}
	if ss, err := central.SavedSearches(ctx, "sue"); err != nil || len(ss) != 1 || ss[0].Query != "tag=fraud" {
		t.Errorf("central saved searches: %+v, %v", ss, err)
	}
	for _, lu := range localUsers {
		cu, err := central.User(ctx, lu.Name)
		if err != nil || cu.PasswordHash != lu.PasswordHash || cu.Role != lu.Role || !cu.Created.Equal(lu.Created) {
			t.Errorf("central user %s: %+v, %v", lu.Name, cu, err)
		}
	}
	if ts, err := central.Tokens(ctx, ""); err != nil || len(ts) != len(localTokens) || ts[0].Hash != localTokens[0].Hash || ts[0].Name != "crm-export" {
		t.Errorf("central tokens: %+v, %v", ts, err)
	}
	gotEvents, n, err := central.Events(ctx, auth.EventFilter{})
	if err != nil || n != nEvents {
		t.Fatalf("central audit trail: %d events, %v; want %d", n, err, nEvents)
	}
	// The same events in the same order (both list newest first).
	for i := range wantEvents {
		w, g := wantEvents[i], gotEvents[i]
		if !g.At.Equal(w.At) || g.User != pgText(w.User) || g.Action != w.Action || g.CallID != w.CallID || g.Detail != pgText(w.Detail) {
			t.Errorf("audit event %d: central %+v, local %+v", i, g, w)
		}
	}

	// The data directory: the same files, the same calls, accounts and
	// trail; only the outbox is empty.
	if after := dirState(t, data); after != before {
		t.Errorf("the data directory changed:\nbefore\n%s\nafter\n%s", before, after)
	}
	lq, err = sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	if n, _, err := lq.OutboxBacklog(ctx); err != nil || n != 0 {
		t.Errorf("outbox after the migration: %d calls, %v", n, err)
	}
	if us, err := lq.Users(ctx); err != nil || !slices.EqualFunc(us, localUsers, func(a, b auth.User) bool {
		return a.Name == b.Name && a.PasswordHash == b.PasswordHash
	}) {
		t.Errorf("local users after the migration: %+v, %v", us, err)
	}
	if _, n, err := lq.Events(ctx, auth.EventFilter{}); err != nil || n != nEvents {
		t.Errorf("local audit trail after the migration: %d events, %v; want %d", n, err, nEvents)
	}
	if cs, err := lq.Calls(ctx, spanrec.CallFilter{Sort: spanrec.SortStart}); err != nil || len(cs) != len(calls)+1 {
		t.Errorf("local calls after the migration: %d, %v", len(cs), err)
	}
	lq.Close()

	// serve on the central index: the users log in with their passwords,
	// the token works, the calls are there.
	base, serveOut := serve(t, "--data", t.TempDir(), "--index", u)
	res, err := http.Post(base+"/api/login", "application/json", strings.NewReader(`{"user":"sue","password":"sup3rvisor password"}`))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login with the password set on the sensor: %v %v", res, err)
	}
	res.Body.Close()
	req, _ := http.NewRequest("GET", base+"/api/calls?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("the sensor's API token on the central server: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	pu, _ := url.Parse(u)
	pw, _ := pu.User.Password()
	for _, s := range []string{out1, errb.String(), out2, errs2, out3, errs3, serveOut.String()} {
		if strings.Contains(s, pw) || strings.Contains(s, srv.SecretKey) || strings.Contains(s, "$argon2") {
			t.Errorf("a secret or a password hash shows in the output:\n%s", s)
		}
	}
}

// TestMigrateWithoutStore: without --store the calls' rows move and their
// files stay (said), from the data directory's index.db even when
// $SPANREC_INDEX names the central index; a later run with --store finds the calls' objects
// missing, ships those calls again, and verifies them.
func TestMigrateWithoutStore(t *testing.T) {
	srv := s3test.Start(t)
	u := pgtest.NewSchema(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	data := importDemo(t)
	// An admin of the same name on both sides, with other passwords (two
	// recorders that each had one): the central account stays.
	if code, out, errs := runCLI(t, []byte("the sensor's password\n"), "user", "add", "admin", "--role", "admin", "--data", data); code != 0 {
		t.Fatalf("user add: exit %d %s %s", code, out, errs)
	}
	if code, out, errs := runCLI(t, []byte("the central password\n"), "user", "add", "admin", "--role", "admin", "--index", u); code != 0 {
		t.Fatalf("user add --index: exit %d %s %s", code, out, errs)
	}
	// A sensor configured for the central side ($SPANREC_INDEX, or index:
	// in its configuration) migrates its own index.db all the same.
	t.Setenv("SPANREC_INDEX", u)
	code, out, errs := runCLI(t, nil, "migrate", "--data", data, "--to", u, "--no-progress")
	if code != 0 || !strings.Contains(out, "No --store: the recordings stay in "+data) || !strings.Contains(out, "7 calls shipped (index rows only)") ||
		!strings.Contains(out, "note: user admin exists on the central side as another account") {
		t.Fatalf("migrate without --store: exit %d\n%s\n%s", code, out, errs)
	}
	central, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()
	admin, err := central.User(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.VerifyPassword(admin.PasswordHash, "the central password"); !ok || err != nil {
		t.Errorf("the central admin's password changed: %v", err)
	}
	// One recording damaged on the sensor's disk: its call is not
	// shipped (said, exit 1), the others are.
	cs, err := central.Calls(context.Background(), spanrec.CallFilter{Sort: spanrec.SortStart})
	if err != nil || len(cs) != 7 || cs[0].Audio == "" {
		t.Fatalf("central calls: %d, %v", len(cs), err)
	}
	damaged := filepath.Join(data, filepath.FromSlash(cs[0].Audio))
	orig, err := os.ReadFile(damaged)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(damaged, append(slices.Clone(orig), 0), 0o640); err != nil {
		t.Fatal(err)
	}
	args := []string{"migrate", "--data", data, "--to", u, "--store", srv.URL("x"), "--verify-content"}
	code, out, errs = runCLI(t, nil, args...)
	t.Logf("%s", out)
	if code != 1 || !strings.Contains(out, "7 incomplete on the central side") || !strings.Contains(out, "PROBLEM: call "+string(cs[0].ID)+": "+cs[0].Audio+" is not in the store") ||
		!strings.Contains(out, "1 calls could not be shipped as they are") || !strings.Contains(errs, string(cs[0].ID)) ||
		!strings.Contains(out, "verified        6 calls in the central index") {
		t.Errorf("migrate with --store after one without, one file damaged: exit %d\n%s\n%s", code, out, errs)
	}
	// Repaired, the next run ships it; nothing else moves.
	if err := os.WriteFile(damaged, orig, 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, nil, args...)
	t.Logf("%s", out)
	if code != 0 || !strings.Contains(out, "1 incomplete on the central side") || !regexp.MustCompile(`verified        7 calls in the central index, (1[0-4]|[7-9]) objects`).MatchString(out) {
		t.Errorf("migrate after the repair: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestMigrateErrors: what is wrong is said, without the password, and
// nothing is shipped.
func TestMigrateErrors(t *testing.T) {
	u := pgtest.NewSchema(t)
	pu, _ := url.Parse(u)
	pw, _ := pu.User.Password()
	data := importDemo(t)
	wrong := *pu
	wrong.User = url.UserPassword(pu.User.Username(), pw+"-wrong")
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no --to", []string{"--data", data}, 2, "--to postgres://"},
		{"--to not postgres", []string{"--data", data, "--to", "sqlite:/tmp/x.db"}, 2, "--to takes postgres://"},
		{"--index postgres", []string{"--data", data, "--to", u, "--index", u}, 2, "the central one is --to"},
		{"no data directory", []string{"--data", filepath.Join(t.TempDir(), "none"), "--to", u}, 1, "has no index to migrate"},
		{"wrong password", []string{"--data", data, "--to", wrong.String()}, 1, "central index"},
		{"store unreachable", []string{"--data", data, "--to", u, "--store", "s3://b/p?endpoint=http://127.0.0.1:1"}, 1, "central store"},
	} {
		code, out, errs := runCLI(t, nil, append([]string{"migrate"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%s: exit %d, %q; want %d and %q", tc.name, code, errs, tc.code, tc.msg)
		}
		if strings.Contains(out+errs, pw) {
			t.Errorf("%s: the password shows: %s %s", tc.name, out, errs)
		}
	}
	n, _, err := func() (int, time.Time, error) {
		db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
		if err != nil {
			return 0, time.Time{}, err
		}
		defer db.Close()
		return db.OutboxBacklog(context.Background())
	}()
	if err != nil || n != 7 {
		t.Errorf("after the failed runs the outbox holds %d calls, %v; want all 7", n, err)
	}
}

// dirState lists the files of a data directory with their sizes and
// modification times, but for the index database (whose outbox migrate
// marks) and the lock file.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, "index.db") || rel == LockFile || rel == ShipLockFile {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %s\n", rel, fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestMigrateRerunKeepsCentralRemovals: after a migration (the demo's
// calls, rows only, to a real PostgreSQL), what people remove on the
// central side — a tag, a note, a legal hold, a saved search, an API
// token, a user — stays removed when migrate runs again, while what was
// added on the sensor since (a new tag, a second identical note) moves.
func TestMigrateRerunKeepsCentralRemovals(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	data := importDemo(t)
	for _, name := range []string{"sue", "bob"} {
		if code, out, errs := runCLI(t, []byte("a password of "+name+"\n"), "user", "add", name, "--role", "supervisor", "--data", data); code != 0 {
			t.Fatalf("user add: exit %d %s %s", code, out, errs)
		}
	}
	code, token, errs := runCLI(t, nil, "token", "create", "sue", "--name", "crm", "--data", data)
	if code != 0 {
		t.Fatalf("token create: exit %d %s", code, errs)
	}
	token = strings.TrimSpace(token)
	local, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	calls, err := local.Calls(ctx, spanrec.CallFilter{Sort: spanrec.SortStart})
	if err != nil || len(calls) < 2 {
		t.Fatalf("%d calls, %v", len(calls), err)
	}
	at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	c0, c1 := calls[0].ID, calls[1].ID
	for _, tag := range []string{"fraud", "callback"} {
		if _, err := local.AddTag(ctx, c0, tag, "sue", at); err != nil {
			t.Fatal(err)
		}
	}
	note := spanrec.CallNote{CallID: c1, User: "sue", At: at, Text: "customer asked for a refund"}
	if _, err := local.AddNote(ctx, note); err != nil {
		t.Fatal(err)
	}
	if err := local.SetLegalHold(ctx, c1, &spanrec.LegalHold{By: "sue", At: at, Reason: "case 4711"}); err != nil {
		t.Fatal(err)
	}
	if _, err := local.SaveSearch(ctx, auth.SavedSearch{User: "sue", Name: "fraud calls", Query: "tag=fraud", Created: at}, 50); err != nil {
		t.Fatal(err)
	}
	local.Close()
	args := []string{"migrate", "--data", data, "--to", u, "--no-progress"}
	if code, out, errs := runCLI(t, nil, args...); code != 0 || !strings.Contains(out, "tags            2 (2 added") {
		t.Fatalf("first migration: exit %d\n%s\n%s", code, out, errs)
	}

	// The central side's people remove things.
	central, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()
	if ok, err := central.RemoveTag(ctx, c0, "fraud"); err != nil || !ok {
		t.Fatalf("remove tag: %v %v", ok, err)
	}
	ns, err := central.Notes(ctx, c1)
	if err != nil || len(ns) != 1 {
		t.Fatalf("central notes %+v, %v", ns, err)
	}
	if _, err := central.DeleteNote(ctx, c1, ns[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := central.SetLegalHold(ctx, c1, nil); err != nil {
		t.Fatal(err)
	}
	ss, err := central.SavedSearches(ctx, "sue")
	if err != nil || len(ss) != 1 {
		t.Fatalf("central searches %+v, %v", ss, err)
	}
	if err := central.DeleteSavedSearch(ctx, "sue", ss[0].ID); err != nil {
		t.Fatal(err)
	}
	ts, err := central.Tokens(ctx, "sue")
	if err != nil || len(ts) != 1 {
		t.Fatalf("central tokens %+v, %v", ts, err)
	}
	if err := central.DeleteToken(ctx, ts[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := central.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	// The sensor's people add things.
	local, err = sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.AddTag(ctx, c0, "escalated", "sue", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := local.AddNote(ctx, note); err != nil { // the same words again: a second note
		t.Fatal(err)
	}
	local.Close()

	code, out, errs := runCLI(t, nil, args...)
	t.Logf("second run:\n%s", out)
	if code != 0 {
		t.Fatalf("second migration: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"users           2 (0 added", "tags            3 (1 added", "notes           2 (1 added",
		"legal holds     1 (0 set", "saved searches  1 (0 added", "API tokens      1 (0 added"} {
		if !strings.Contains(out, want) {
			t.Errorf("second run's output lacks %q", want)
		}
	}
	if tags, err := central.CallTags(ctx, c0); err != nil || len(tags) != 2 || tags[0].Tag != "callback" || tags[1].Tag != "escalated" {
		t.Errorf("central tags after the rerun: %+v, %v; want callback and escalated (fraud stays removed)", tags, err)
	}
	if ns, err := central.Notes(ctx, c1); err != nil || len(ns) != 1 {
		t.Errorf("central notes after the rerun: %+v, %v; want the second note only", ns, err)
	}
	if c, err := central.Call(ctx, c1); err != nil || c.LegalHold != nil {
		t.Errorf("central legal hold after the rerun: %+v, %v; want released", c, err)
	}
	if ss, err := central.SavedSearches(ctx, "sue"); err != nil || len(ss) != 0 {
		t.Errorf("central saved searches after the rerun: %+v, %v", ss, err)
	}
	if _, err := central.TokenByHash(ctx, auth.HashSecret(token)); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("the token revoked centrally is back: %v", err)
	}
	if _, err := central.User(ctx, "bob"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("the user deleted centrally is back: %v", err)
	}
}
