package doctor

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// importCounts imports path as spanrec import does and returns its SIP
// calls answered and in all, and its signalless calls.
func importCounts(t *testing.T, path string) (answered, sipCalls, signalless int) {
	t.Helper()
	data := t.TempDir()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := recorder.Import(context.Background(), recorder.Config{Call: call.Config{DataDir: data}, Shards: 1}, src, db, nil); err != nil {
		t.Fatal(err)
	}
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		switch {
		case c.Signalling == spanrec.SignallingNone:
			signalless++
		case c.Status == spanrec.Answered:
			answered++
			sipCalls++
		default:
			sipCalls++
		}
	}
	return answered, sipCalls, signalless
}

var captureName = regexp.MustCompile(`\.(pcap|pcapng|cap)(\.gz)?$`)

// TestDoctorAgreesWithImport: on every third-party capture and on
// generated ones (a 401-challenged INVITE retried, holds, a one-way call
// by SDP), the doctor counts the answered calls and the signalless calls
// the import records: both judge by the same code (package dialog,
// call.Orphans).
func TestDoctorAgreesWithImport(t *testing.T) {
	dir := capturesDir(t)
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && captureName.MatchString(path) {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(t.TempDir(), "generated.pcap")
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 3, Calls: []pcaptest.Call{
		{Talk: 4 * time.Second, Hold: &pcaptest.Hold{At: time.Second, Length: time.Second}},
		{Start: 6 * time.Second, OneWay: true},
		{Start: 12 * time.Second, Outcome: pcaptest.Busy},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gen, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	paths = append(paths, gen, filepath.Join(repoRoot(t), "testdata", "demo.pcap"))
	for _, path := range paths {
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			r := analyseFile(t, path)
			answered, sipCalls, signalless := importCounts(t, path)
			if r.Counters.Answered != answered || r.Counters.Signalless != signalless {
				t.Errorf("doctor: %d answered of %d calls, %d signalless; import: %d answered of %d, %d signalless",
					r.Counters.Answered, r.Counters.Dialogs, r.Counters.Signalless, answered, sipCalls, signalless)
			}
		})
	}
}

// TestChallengedInviteAnswered: an INVITE challenged with 407 and sent
// again with credentials (CSeq 2) that is answered counts as answered in
// the doctor as in the import (the doctor used to take the 407 as the
// call's final answer).
func TestChallengedInviteAnswered(t *testing.T) {
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 4, Start: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC),
		Calls: []pcaptest.Call{{Start: time.Second, Talk: 3 * time.Second}}}); err != nil {
		t.Fatal(err)
	}
	frames, err := capture.ReadAllFrom(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var invite, trying []byte
	var out []capture.Frame
	for _, f := range frames {
		d := f.Data
		switch {
		case invite == nil && bytes.Contains(d, []byte("INVITE sip:")):
			invite = bytes.Clone(d)
		case trying == nil && bytes.Contains(d, []byte("SIP/2.0 100 ")):
			trying = bytes.Replace(bytes.Clone(d), []byte("SIP/2.0 100 "), []byte("SIP/2.0 407 "), 1)
		}
		f.Data = bytes.ReplaceAll(bytes.Clone(d), []byte("CSeq: 1 INVITE"), []byte("CSeq: 2 INVITE"))
		out = append(out, f)
	}
	if invite == nil || trying == nil {
		t.Fatal("no INVITE or 100 in the generated call")
	}
	t0 := frames[0].Time
	head := []capture.Frame{
		{Data: invite, Link: frames[0].Link, Time: t0.Add(-600 * time.Millisecond), Orig: len(invite)},
		{Data: trying, Link: frames[0].Link, Time: t0.Add(-550 * time.Millisecond), Orig: len(trying)},
	}
	out = append(head, out...)
	var w bytes.Buffer
	cw := capture.NewWriter(&w)
	for _, f := range out {
		if err := cw.WriteFrame(f.Data, f.Link, f.Time, f.Orig); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "challenged.pcapng")
	if err := os.WriteFile(path, w.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r := analyseFile(t, path)
	answered, calls, _ := importCounts(t, path)
	if answered != 1 || calls != 1 {
		t.Fatalf("import: %d answered of %d calls, want 1 of 1", answered, calls)
	}
	if r.Counters.Dialogs != 1 || r.Counters.Answered != 1 || len(r.Calls) != 1 || !r.Calls[0].Answered || r.Calls[0].Status != 200 {
		t.Errorf("doctor: %d answered of %d, calls %+v; want the retried INVITE answered 200", r.Counters.Answered, r.Counters.Dialogs, r.Calls)
	}
	if !r.Fit {
		t.Errorf("doctor: not fit: %+v", r.Findings)
	}
}
