package recorder_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sipmsg"
	"github.com/spanrec/spanrec/sqlite"
)

// fakeLive plays frames like a live source, 20 times faster than they
// were captured (a source faster than the worker would have its batches
// dropped, as a live one does): it returns capture.ErrTimeout now and
// then, and, with hold, keeps returning it after the last frame (a mirror
// port gone quiet) instead of io.EOF.
type fakeLive struct {
	name   string
	frames []capture.Frame
	i      int
	calls  int
	hold   bool
	t0     time.Time // wall time of the first frame
	closed atomic.Bool
}

func (f *fakeLive) ReadFrame() (capture.Frame, error) {
	if f.closed.Load() {
		return capture.Frame{}, capture.ErrClosed
	}
	if f.i == len(f.frames) {
		if f.hold {
			time.Sleep(5 * time.Millisecond)
			return capture.Frame{}, capture.ErrTimeout
		}
		return capture.Frame{}, io.EOF
	}
	if f.calls++; f.calls%500 == 0 {
		return capture.Frame{}, capture.ErrTimeout
	}
	fr := f.frames[f.i]
	if f.i == 0 {
		f.t0 = time.Now()
	}
	if d := fr.Time.Sub(f.frames[0].Time)/fakeSpeed - time.Since(f.t0); d > 0 {
		time.Sleep(d)
	}
	f.i++
	return fr, nil
}

const fakeSpeed = 20

func (f *fakeLive) Close() error      { f.closed.Store(true); return nil }
func (f *fakeLive) Interface() string { return f.name }

func loadFrames(t testing.TB, path string) []capture.Frame {
	t.Helper()
	frames, err := capture.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

func openIndex(t testing.TB, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// allCalls returns the calls of the index by SIP Call-ID (signalless
// calls, which have none, by "signalless " and their ID).
func allCalls(t testing.TB, db spanrec.CallIndex) map[string]*spanrec.Call {
	t.Helper()
	list, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*spanrec.Call{}
	for _, c := range list {
		k := c.SIPCallID
		if c.Signalling == spanrec.SignallingNone {
			k = "signalless " + string(c.ID) // no Call-ID
		}
		if m[k] != nil {
			t.Errorf("call %s indexed twice", k)
		}
		m[k] = c
	}
	return m
}

// importDemo imports the demo capture into a fresh data directory.
func importDemo(t *testing.T) map[string]*spanrec.Call {
	t.Helper()
	dir := t.TempDir()
	db := openIndex(t, dir)
	src, err := capture.OpenFile("../testdata/demo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := recorder.Import(context.Background(), recorder.Config{Call: call.Config{DataDir: dir}}, src, db, nil); err != nil {
		t.Fatal(err)
	}
	return allCalls(t, db)
}

// sameCalls compares what live recording found with what import found.
func sameCalls(t *testing.T, got, want map[string]*spanrec.Call) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d calls, want %d", len(got), len(want))
	}
	for id, w := range want {
		g := got[id]
		if g == nil {
			t.Errorf("call %s missing", id)
			continue
		}
		if g.Status != w.Status || g.Caller.Number != w.Caller.Number || g.Callee.Number != w.Callee.Number || g.Direction != w.Direction {
			t.Errorf("call %s: %s %s→%s %s, want %s %s→%s %s", id, g.Status, g.Caller.Number, g.Callee.Number, g.Direction, w.Status, w.Caller.Number, w.Callee.Number, w.Direction)
		}
		if len(g.Streams) != len(w.Streams) {
			t.Errorf("call %s: %d streams, want %d", id, len(g.Streams), len(w.Streams))
			continue
		}
		for i := range g.Streams {
			if g.Streams[i].Packets != w.Streams[i].Packets || g.Streams[i].Lost != w.Streams[i].Lost {
				t.Errorf("call %s stream %d: %d packets %d lost, want %d, %d", id, i, g.Streams[i].Packets, g.Streams[i].Lost, w.Streams[i].Packets, w.Streams[i].Lost)
			}
		}
		if (g.Audio == "") != (w.Audio == "") || g.AudioMS != w.AudioMS {
			t.Errorf("call %s: audio %q %d ms, want %q %d ms", id, g.Audio, g.AudioMS, w.Audio, w.AudioMS)
		}
	}
}

func TestLiveMatchesImport(t *testing.T) {
	want := importDemo(t)
	frames := loadFrames(t, "../testdata/demo.pcap")
	dir := t.TempDir()
	db := openIndex(t, dir)
	src := &fakeLive{name: "eth1", frames: frames}
	var mu sync.Mutex
	var events []recorder.Event
	l := recorder.NewLive(recorder.Config{Call: call.Config{DataDir: dir}, Queue: 4096}, []capture.Source{src}, db)
	if err := l.Run(context.Background(), func(e recorder.Event) {
		if e.Kind == recorder.CallRecorded {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	sameCalls(t, allCalls(t, db), want)
	if len(events) != len(want) {
		t.Errorf("%d events, want %d", len(events), len(want))
	}
	if !src.closed.Load() {
		t.Error("Run did not close its source")
	}
	st := l.Stats()
	if len(st.Sources) != 1 || st.Sources[0].Interface != "eth1" || st.Sources[0].Frames != uint64(len(frames)) || st.Sources[0].QueueDrops != 0 {
		t.Errorf("stats %+v", st.Sources)
	}
	if st.CallsRecorded != uint64(len(want)) || st.ActiveCalls != 0 || st.CrossDuplicates != 0 {
		t.Errorf("stats: %d recorded, %d active, %d cross duplicates", st.CallsRecorded, st.ActiveCalls, st.CrossDuplicates)
	}
	if ents := pcaptest.SpoolEntries(t, dir); len(ents) != 0 {
		t.Errorf("spool not empty after the run: %v", ents)
	}
}

// TestLiveQueueDrops: a worker that falls behind never blocks the
// readers; what they drop is counted.
func TestLiveQueueDrops(t *testing.T) {
	frames := loadFrames(t, "../testdata/demo.pcap")
	dir := t.TempDir()
	db := openIndex(t, dir)
	src := &unpaced{frames: frames}
	l := recorder.NewLive(recorder.Config{Call: call.Config{DataDir: dir}, Queue: 1}, []capture.Source{src}, db)
	if err := l.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	st := l.Stats().Sources[0]
	if st.QueueDrops == 0 || st.QueueDrops > st.Decoder.Decoded {
		t.Errorf("queue drops = %d of %d packets; want some, not more than were decoded", st.QueueDrops, st.Decoder.Decoded)
	}
	var b strings.Builder
	l.WriteMetrics(&b)
	if !strings.Contains(b.String(), `spanrec_queue_drops_total{iface="source 0"} `+strconv.FormatUint(st.QueueDrops, 10)) {
		t.Errorf("metrics do not show the drops:\n%s", b.String())
	}
}

// TestLiveBusy: a recorder whose worker keeps up is not busy; one whose
// packet queue fills (a reader faster than the worker, as
// TestLiveQueueDrops) is, for a second after its queue last filled —
// what a Shipper beside it waits for.
func TestLiveBusy(t *testing.T) {
	frames := loadFrames(t, "../testdata/demo.pcap")
	for _, tt := range []struct {
		name  string
		src   capture.Source
		queue int
	}{
		{"keeps-up", &fakeLive{name: "eth1", frames: frames}, 4096},
		{"behind", &unpaced{frames: frames}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := recorder.NewLive(recorder.Config{Call: call.Config{DataDir: dir}, Queue: tt.queue}, []capture.Source{tt.src}, openIndex(t, dir))
			if l.Busy() {
				t.Error("busy before it ran")
			}
			if err := l.Run(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			drops := l.Stats().Sources[0].QueueDrops
			if busy := l.Busy(); busy != (drops > 0) {
				t.Errorf("busy %v right after a run with %d queue drops", busy, drops)
			}
			if tt.name == "behind" && drops == 0 {
				t.Fatal("the worker kept up with a queue of 1 batch: nothing tested")
			}
			time.Sleep(1100 * time.Millisecond)
			if l.Busy() {
				t.Error("still busy a second after its queue last filled")
			}
		})
	}
}

// unpaced returns its frames as fast as it is asked, then io.EOF.
type unpaced struct {
	frames []capture.Frame
	i      int
}

func (u *unpaced) ReadFrame() (capture.Frame, error) {
	if u.i == len(u.frames) {
		return capture.Frame{}, io.EOF
	}
	u.i++
	return u.frames[u.i-1], nil
}

func (u *unpaced) Close() error { return nil }

// TestLiveTwoSources: the same traffic seen on two mirror ports is
// recorded once.
func TestLiveTwoSources(t *testing.T) {
	want := importDemo(t)
	frames := loadFrames(t, "../testdata/demo.pcap")
	dir := t.TempDir()
	db := openIndex(t, dir)
	srcs := []capture.Source{&fakeLive{name: "eth1", frames: frames}, &fakeLive{name: "eth2", frames: frames}}
	l := recorder.NewLive(recorder.Config{Call: call.Config{DataDir: dir}, Queue: 4096}, srcs, db)
	if err := l.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	sameCalls(t, allCalls(t, db), want)
	st := l.Stats()
	decoded := st.Sources[0].Decoder.Decoded
	if st.CrossDuplicates != decoded {
		t.Errorf("%d cross-source duplicates, want %d (every packet of the second port)", st.CrossDuplicates, decoded)
	}
}

// TestLiveIdleExpiry: calls end while no packet comes, by the wall clock,
// and a cancelled run closes what is still open.
func TestLiveIdleExpiry(t *testing.T) {
	want := importDemo(t)
	frames := loadFrames(t, "../testdata/demo.pcap")
	// Cut the last call short: its BYE never comes, so it stays open
	// until the run ends.
	var lastCall string
	for i := len(frames) - 1; i >= 0 && lastCall == ""; i-- {
		dec := packet.NewDecoder(packet.Config{})
		p, ok := dec.Decode(frames[i].Data, packet.LinkType(frames[i].Link), frames[i].Time, frames[i].Orig)
		if ok && sipmsg.Looks(p.Payload) {
			if m, err := sipmsg.Parse(p.Payload); err == nil && m.Method == "BYE" {
				lastCall = m.CallID
				frames = frames[:i]
			}
		}
	}
	if lastCall == "" {
		t.Fatal("no BYE in the demo capture")
	}
	dec := packet.NewDecoder(packet.Config{DedupWindow: -1})
	for i, fr := range frames {
		p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if ok && sipmsg.Looks(p.Payload) {
			if m, err := sipmsg.Parse(p.Payload); err == nil && m.Method == "BYE" && m.CallID == lastCall {
				frames = frames[:i] // its first BYE
				break
			}
		}
	}
	dir := t.TempDir()
	db := openIndex(t, dir)
	src := &fakeLive{name: "eth1", frames: frames, hold: true}
	cfg := recorder.Config{Call: call.Config{DataDir: dir, EndLinger: 300 * time.Millisecond}, Queue: 4096}
	l := recorder.NewLive(cfg, []capture.Source{src}, db)
	ctx, cancel := context.WithCancel(context.Background())
	recorded := make(chan string, 16)
	done := make(chan error)
	go func() {
		done <- l.Run(ctx, func(e recorder.Event) {
			if e.Kind == recorder.CallRecorded {
				recorded <- e.Call.SIPCallID
			}
		})
	}()
	l.Reconfigure(cfg.Call) // safe while running
	// The calls that ended before the cut are written while the port is
	// idle, by the wall clock (packet time stops at the cut).
	got := map[string]bool{}
	quiet := time.NewTimer(3 * time.Second)
wait:
	for {
		select {
		case id := <-recorded:
			if id == lastCall {
				t.Errorf("call %s recorded before its end", id)
			}
			got[id] = true
			quiet.Reset(3 * time.Second)
		case <-quiet.C:
			break wait
		}
	}
	if len(got) < len(want)-2 {
		t.Fatalf("only %d of %d calls recorded while the port was idle", len(got), len(want))
	}
	active := len(want) - len(got)
	if n := l.Stats().ActiveCalls; n != active {
		t.Errorf("%d active calls, want %d", n, active)
	}
	// The open call has a journal by now (flushed every second).
	j, err := call.ReadJournal(filepath.Join(dir, "spool", string(want[lastCall].ID)))
	if err != nil {
		t.Fatalf("no journal for the open call: %v", err)
	}
	if j.SIPCallID != lastCall || len(j.Tracks) == 0 || j.PID != os.Getpid() {
		t.Errorf("journal: call %s, %d tracks, pid %d", j.SIPCallID, len(j.Tracks), j.PID)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c := allCalls(t, db)[lastCall]
	if c == nil || c.Audio == "" {
		t.Fatalf("open call not recorded with audio at shutdown: %+v", c)
	}
	var b strings.Builder
	if err := l.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`spanrec_packets_total{iface="eth1"} ` + strconv.Itoa(len(frames)),
		`spanrec_queue_drops_total{iface="eth1"} 0`,
		"spanrec_calls_recorded_total " + strconv.Itoa(len(want)),
		"spanrec_active_calls 0",
		"# TYPE spanrec_kernel_drops_total counter",
		`spanrec_decode_errors_total{reason="sip"} 0`,
		"spanrec_disk_free_bytes ",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}

// TestRecover: calls left in progress by a recorder that stopped without
// closing them (its files flushed, its journals written) are finished at
// the next start: valid WAV, readable pcapng, index entry with the note.
func TestRecover(t *testing.T) {
	frames := loadFrames(t, "../testdata/demo.pcap")
	dir := t.TempDir()
	asm := call.NewAssembler(call.Config{DataDir: dir, Journal: true}, func(*call.Finished) {
		t.Error("a call finished before the crash")
	})
	dec := packet.NewDecoder(packet.Config{})
	cut := frames[0].Time.Add(9 * time.Second)
	for _, fr := range frames {
		if fr.Time.After(cut) {
			break
		}
		p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if !ok || p.Proto != packet.ProtoUDP {
			continue
		}
		if sipmsg.Looks(p.Payload) {
			if m, err := sipmsg.Parse(p.Payload); err == nil {
				asm.HandleSIP(m, &p)
			}
			continue
		}
		asm.HandleMedia(&p)
	}
	asm.Flush()
	open := asm.Active()
	if open < 3 {
		t.Fatalf("only %d calls open at the cut", open)
	}
	// The process "dies" here: nothing is closed. Recover, as the next
	// start does.
	db := openIndex(t, dir)
	var events atomic.Int32
	n, err := recorder.Recover(context.Background(), recorder.Config{Call: call.Config{DataDir: dir}}, db, func(e recorder.Event) {
		if e.Kind == recorder.CallRecovered {
			events.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != open || int(events.Load()) != open {
		t.Fatalf("recovered %d calls (%d events), want %d", n, events.Load(), open)
	}
	calls := allCalls(t, db)
	withAudio := 0
	for id, c := range calls {
		if !strings.Contains(strings.Join(c.Notes, ";"), recorder.InterruptedNote) {
			t.Errorf("call %s lacks the interruption note: %v", id, c.Notes)
		}
		if c.End.Before(c.Start) || c.End.After(cut.Add(time.Second)) {
			t.Errorf("call %s: end %v not between start %v and the cut %v", id, c.End, c.Start, cut)
		}
		// The dialog's tags survive the crash (a central index matches
		// two sensors' copies of a call by them).
		if c.Signalling == spanrec.SignallingSIP && (c.CallerTag == "" || c.Status == spanrec.Answered && c.CalleeTag == "") {
			t.Errorf("call %s (%s): tags %q, %q", id, c.Status, c.CallerTag, c.CalleeTag)
		}
		if c.Audio != "" {
			withAudio++
			f, err := os.Open(filepath.Join(dir, c.Audio))
			if err != nil {
				t.Fatal(err)
			}
			info, err := wav.ReadInfo(f)
			f.Close()
			if err != nil {
				t.Errorf("call %s: WAV: %v", id, err)
			} else if ms := info.Frames() * 1000 / int64(info.SampleRate); ms != c.AudioMS || ms < 500 {
				t.Errorf("call %s: WAV %d ms, index says %d ms", id, ms, c.AudioMS)
			}
		}
		if c.PCAP == "" {
			t.Errorf("call %s has no pcap", id)
			continue
		}
		src, err := capture.OpenFile(filepath.Join(dir, c.PCAP))
		if err != nil {
			t.Fatalf("call %s pcap: %v", id, err)
		}
		frames := 0
		for {
			_, err := src.ReadFrame()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("call %s pcap: %v", id, err)
			}
			frames++
		}
		src.Close()
		if frames == 0 {
			t.Errorf("call %s: empty pcap", id)
		}
	}
	if withAudio == 0 {
		t.Error("no recovered call has audio")
	}
	if ents := pcaptest.SpoolEntries(t, dir); len(ents) != 0 {
		t.Errorf("spool not empty after recovery: %v", ents)
	}
	// A second start finds nothing left.
	if n, err := recorder.Recover(context.Background(), recorder.Config{Call: call.Config{DataDir: dir}}, db, nil); n != 0 || err != nil {
		t.Errorf("second Recover: %d, %v", n, err)
	}
}

// TestRecoverLeavesRunningRecorder: a journal written by a live process
// other than this one is not touched.
func TestRecoverLeavesRunningRecorder(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool", "abc")
	if err := os.MkdirAll(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	// PID 1 is always alive.
	if err := os.WriteFile(filepath.Join(spool, call.JournalFile), []byte(`{"version":1,"pid":1,"id":"abc","call_id":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	db := openIndex(t, dir)
	n, err := recorder.Recover(context.Background(), recorder.Config{Call: call.Config{DataDir: dir}}, db, nil)
	if n != 0 || err != nil {
		t.Errorf("Recover = %d, %v; want 0, nil", n, err)
	}
	if _, err := os.Stat(filepath.Join(spool, call.JournalFile)); err != nil {
		t.Errorf("journal of a running recorder removed: %v", err)
	}
}
