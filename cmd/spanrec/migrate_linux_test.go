package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/s3/s3test"
	"github.com/spanrec/spanrec/sqlite"
)

// killMigrate runs `spanrec migrate args` as a child process and kills it
// (SIGKILL: no deferred cleanup, no graceful stop) as soon as a line of
// its output matches re. It returns the output up to then.
func killMigrate(t *testing.T, re *regexp.Regexp, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"migrate"}, args...)...)
	cmd.Env = append(os.Environ(), "SPANREC_TEST_CHILD=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if re.MatchString(sc.Text()) {
			cmd.Process.Kill()
			killed = true
			break
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("spanrec migrate ended (%v) before printing a line matching %s:\n%s\n%s", err, re, out.String(), errb.String())
	}
	return out.String()
}

// TestMigrateKilled kills `spanrec migrate` (SIGKILL) twice, while it
// ships the calls and while it moves their tags and notes, then runs it to
// the end: every call, tag, note and audit event is on the central side
// once, and a further run adds nothing.
func TestMigrateKilled(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	u := pgtest.NewSchema(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	data := filepath.Join(t.TempDir(), "data")
	caps := pcaptest.CapturesDir(t)
	for _, f := range []string{demo, filepath.Join(caps, "wireshark-samples", "sip-rtp-g722.pcap"), filepath.Join(caps, "wireshark-samples", "SIP_DTMF2.pcap"),
		filepath.Join(caps, "wireshark-samples", "sip-rtp-speex.pcap"), filepath.Join(caps, "wireshark-samples", "sip-rtp-ilbc.pcap")} {
		if code, out, errs := runCLI(t, nil, "import", f, "--data", data, "--no-progress"); code != 0 {
			t.Fatalf("import %s: exit %d\n%s\n%s", f, code, out, errs)
		}
	}
	if code, out, errs := runCLI(t, []byte("a long admin password\n"), "user", "add", "ada", "--role", "admin", "--data", data); code != 0 {
		t.Fatalf("user add: exit %d\n%s\n%s", code, out, errs)
	}
	local, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	calls, err := local.Calls(ctx, spanrec.CallFilter{})
	if err != nil || len(calls) < 10 {
		t.Fatalf("%d calls imported, %v", len(calls), err)
	}
	at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	// Enough tags and notes that moving them takes a while (the second
	// kill comes during it).
	const perCall = 8
	for i, c := range calls {
		for j := range perCall {
			if _, err := local.AddTag(ctx, c.ID, "reviewed-"+strconv.Itoa(j), "ada", at.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := local.AddNote(ctx, spanrec.CallNote{CallID: c.ID, User: "ada", At: at, Text: "checked " + strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := local.AddEvent(ctx, auth.Event{At: at.Add(time.Duration(i) * time.Millisecond), User: "ada", Action: auth.ActionPlay, CallID: string(c.ID), Remote: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
	}
	_, nEvents, err := local.Events(ctx, auth.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	local.Close()

	args := []string{"--data", data, "--to", u, "--store", srv.URL("central")}
	out1 := killMigrate(t, regexp.MustCompile(`calls ([3-9]|\d\d+) of`), args...)
	central, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()
	n, err := central.Count(ctx, spanrec.CallFilter{})
	if err != nil || n < 2 || n >= len(calls) {
		t.Errorf("after the first kill the central index has %d calls (%v); want some of %d\n%s", n, err, len(calls), out1)
	}
	out2 := killMigrate(t, regexp.MustCompile(`annotations of calls [2-9] of`), args...)
	// The kill lands a moment after the line: on a loaded machine the
	// child may have moved more meanwhile, rarely all.
	tagged, err := central.Count(ctx, spanrec.CallFilter{Tag: "reviewed-0"})
	switch {
	case err != nil || tagged == 0:
		t.Errorf("after the second kill %d calls are tagged centrally (%v)\n%s", tagged, err, out2)
	case tagged == len(calls):
		t.Logf("the second kill came after the last call's tags were moved")
	}
	code, out3, errs3 := runCLI(t, nil, append([]string{"migrate"}, args...)...)
	if code != 0 || !strings.Contains(out3, "Verified: everything") {
		t.Fatalf("run after the kills: exit %d\n%s\n%s", code, out3, errs3)
	}
	code, out4, errs4 := runCLI(t, nil, append([]string{"migrate", "--no-progress"}, args...)...)
	if code != 0 || !strings.Contains(out4, ", 0 not shipped yet") || strings.Count(out4, "(0 added")+strings.Count(out4, "(0 set") != 7 {
		t.Errorf("a further run moved something: exit %d\n%s\n%s", code, out4, errs4)
	}
	t.Logf("first run (killed):\n%s\nsecond run (killed):\n%s\nthird run:\n%s", out1, out2, out3)

	if n, err := central.Count(ctx, spanrec.CallFilter{}); err != nil || n != len(calls) {
		t.Errorf("central index: %d calls, %v; want %d", n, err, len(calls))
	}
	for _, c := range calls {
		if n, err := central.TagCount(ctx, c.ID); err != nil || n != perCall {
			t.Errorf("call %s: %d tags centrally, %v; want %d", c.ID, n, err, perCall)
		}
		notes, err := central.Notes(ctx, c.ID)
		if err != nil || len(notes) != perCall {
			t.Errorf("call %s: %d notes centrally, %v; want %d", c.ID, len(notes), err, perCall)
		}
	}
	if _, n, err := central.Events(ctx, auth.EventFilter{}); err != nil || n != nEvents {
		t.Errorf("central audit trail: %d events, %v; want %d", n, err, nEvents)
	}
	if us, err := central.Users(ctx); err != nil || len(us) != 1 {
		t.Errorf("central users: %+v, %v", us, err)
	}
}
