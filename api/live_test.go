package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
)

// feed is a live capture source over the frames of a generated capture:
// it hands out the frames released so far (see release), paced at their
// capture times divided by speed (0: as fast as they are read), and
// returns capture.ErrTimeout while it waits, as an idle mirror port does.
type feed struct {
	frames []capture.Frame
	speed  float64
	upto   atomic.Int64 // frames released
	closed atomic.Bool
	i      int
	t0     time.Time
}

func (f *feed) ReadFrame() (capture.Frame, error) {
	if f.closed.Load() {
		return capture.Frame{}, capture.ErrClosed
	}
	if f.i >= int(f.upto.Load()) || f.i == len(f.frames) {
		time.Sleep(5 * time.Millisecond)
		return capture.Frame{}, capture.ErrTimeout
	}
	fr := f.frames[f.i]
	if f.i == 0 {
		f.t0 = time.Now()
	}
	if f.speed > 0 {
		d := time.Duration(float64(fr.Time.Sub(f.frames[0].Time))/f.speed) - time.Since(f.t0)
		if d > 10*time.Millisecond {
			time.Sleep(min(d, 10*time.Millisecond))
			return capture.Frame{}, capture.ErrTimeout
		}
	}
	f.i++
	return fr, nil
}

func (f *feed) Close() error { f.closed.Store(true); return nil }

// release lets the frames captured before t go.
func (f *feed) release(t time.Time) {
	n := 0
	for n < len(f.frames) && f.frames[n].Time.Before(t) {
		n++
	}
	f.upto.Store(int64(n))
}

func (f *feed) releaseAll() { f.upto.Store(int64(len(f.frames))) }

// liveRun is a real recorder (recorder.Live) recording a generated
// capture into a fixture's data directory and index, its events published
// to the fixture's server as spanrec record --listen publishes them.
type liveRun struct {
	feed  *feed
	start time.Time // capture time of the first frame
	live  *recorder.Live
	stop  func()
}

// recordLive starts recording the capture o describes (its Start is set
// to now, so that capture time is wall time, as on a mirror port) with
// nothing released yet.
func recordLive(t *testing.T, f *fixture, o pcaptest.Options, speed float64) *liveRun {
	return recordInto(t, f, o, speed, true)
}

// recordInto is recordLive; without publish the recorder tells the
// server nothing, as one that runs beside spanrec serve.
func recordInto(t *testing.T, f *fixture, o pcaptest.Options, speed float64, publish bool) *liveRun {
	t.Helper()
	o.Start = time.Now().UTC().Truncate(time.Millisecond)
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	frames, err := capture.ReadAllFrom(&buf)
	if err != nil {
		t.Fatal(err)
	}
	fd := &feed{frames: frames, speed: speed}
	cfg := recorder.Config{Call: call.Config{DataDir: f.dir}, Renderers: 2, Logger: slog.New(slog.DiscardHandler)}
	l := recorder.NewLive(cfg, []capture.Source{fd}, f.db)
	ev := f.api.Events()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- l.Run(ctx, func(e recorder.Event) {
			if !publish {
				return
			}
			switch e.Kind {
			case recorder.CallStarted:
				ev.Publish(api.Event{Type: api.EventStart, Call: e.Call})
			case recorder.CallAnswered:
				ev.Publish(api.Event{Type: api.EventAnswer, Call: e.Call})
			case recorder.CallUpdated:
				ev.Publish(api.Event{Type: api.EventUpdate, Call: e.Call})
			case recorder.CallRecorded:
				ev.Publish(api.Event{Type: api.EventEnd, Call: e.Call})
			case recorder.CallFailed:
				ev.Publish(api.Event{Type: api.EventFailed, Call: e.Call})
			}
		})
	}()
	var once sync.Once
	r := &liveRun{feed: fd, start: frames[0].Time, live: l, stop: func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("recorder: %v", err)
			}
		})
	}}
	t.Cleanup(r.stop)
	return r
}

// waitActive waits until the server knows n calls in progress, each
// answered and with its codec (which the recorder tells at its first
// flush after the media began).
func waitActive(t *testing.T, f *fixture, n int) []*spanrec.Call {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		calls := f.api.Events().Active()
		ok := len(calls) == n
		for _, c := range calls {
			ok = ok && !c.Answer.IsZero() && len(c.Codecs) > 0
		}
		if ok {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls in progress, want %d answered with codecs: %v", len(calls), n, calls)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sse reads the events of an /api/live stream.
type sse struct {
	t  *testing.T
	r  *bufio.Reader
	cl func()
}

func openLive(t *testing.T, c *client) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/live", nil)
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("live: %d %v", res.StatusCode, res.Header)
	}
	s := &sse{t: t, r: bufio.NewReader(res.Body), cl: func() { cancel(); res.Body.Close() }}
	t.Cleanup(s.cl)
	return s
}

// next returns the next event's type and data, skipping comments.
func (s *sse) next() (string, string) {
	s.t.Helper()
	var typ, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("live stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && typ != "":
			return typ, data
		case strings.HasPrefix(line, "event: "):
			typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		}
	}
}

type snapshot struct {
	Now   time.Time
	Calls []struct {
		ID     string
		Caller string
		Callee string
		Status string
		Start  time.Time
		Answer time.Time
		Codecs []string
	}
}

func (s *sse) snapshot() snapshot {
	s.t.Helper()
	typ, data := s.next()
	if typ != api.EventSnapshot {
		s.t.Fatalf("first event %s %s, want a snapshot", typ, data)
	}
	var snap snapshot
	if err := json.Unmarshal([]byte(data), &snap); err != nil {
		s.t.Fatalf("snapshot %s: %v", data, err)
	}
	return snap
}

// TestLiveSnapshot: a live stream opened while calls are in progress
// begins with them (parties, start and answer times, codec), then tells
// only what changes after: each call's end once, no start again.
func TestLiveSnapshot(t *testing.T) {
	f := newFixture(t, false, nil)
	run := recordLive(t, f, pcaptest.Options{Seed: 7, Calls: pcaptest.Concurrent(8, 2*time.Second, 8*time.Second)}, 0)
	// The 8 calls start within 2 s and are answered 1-2 s later: stop
	// the capture at 5 s, with all of them talking.
	run.feed.release(run.start.Add(5 * time.Second))
	active := waitActive(t, f, 8)

	sue, agnes := f.login(t, "sue"), f.login(t, "agnes")
	s := openLive(t, sue)
	snap := s.snapshot()
	if len(snap.Calls) != 8 {
		t.Fatalf("snapshot of %d calls, want 8", len(snap.Calls))
	}
	if snap.Now.IsZero() {
		t.Error("snapshot without the server's time")
	}
	want := map[string]bool{}
	for i := range 8 {
		want[string(rune('0'+i))] = true
	}
	for i, c := range snap.Calls {
		if !strings.HasPrefix(c.Caller, "100") || !strings.HasPrefix(c.Callee, "200") ||
			c.Caller[3:] != c.Callee[3:] || !want[c.Caller[3:]] {
			t.Errorf("call %d: %s → %s, not one of the capture's", i, c.Caller, c.Callee)
		}
		delete(want, c.Caller[3:])
		if c.Status != "answered" || c.Answer.Before(c.Start) || c.Start.Before(run.start) {
			t.Errorf("call %s: start %v answer %v (capture from %v)", c.ID, c.Start, c.Answer, run.start)
		}
		if len(c.Codecs) != 1 || c.Codecs[0] != "PCMU" {
			t.Errorf("call %s: codecs %v, want PCMU", c.ID, c.Codecs)
		}
		if i > 0 && c.Start.Before(snap.Calls[i-1].Start) {
			t.Errorf("snapshot not in start order")
		}
	}
	// An agent's snapshot holds only its own extension's calls: none.
	if as := openLive(t, agnes).snapshot(); len(as.Calls) != 0 {
		t.Errorf("agent's snapshot has %d calls, want none of these", len(as.Calls))
	}

	run.feed.releaseAll()
	ids := map[string]bool{}
	for _, c := range active {
		ids[string(c.ID)] = true
	}
	ended := map[string]int{}
	for len(ended) < 8 {
		typ, data := s.next()
		var c struct{ ID string }
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatal(err)
		}
		switch typ {
		case api.EventEnd:
			if !ids[c.ID] {
				t.Errorf("end of call %s, not in the snapshot", c.ID)
			}
			if ended[c.ID]++; ended[c.ID] > 1 {
				t.Errorf("call %s ended twice", c.ID)
			}
		case api.EventUpdate, api.EventAnswer:
			if !ids[c.ID] {
				t.Errorf("%s of call %s, not in the snapshot", typ, c.ID)
			}
		default:
			t.Errorf("event %s %s after the snapshot", typ, data)
		}
	}
	if n := len(f.api.Events().Active()); n != 0 {
		t.Errorf("%d calls still in progress after every end", n)
	}
}

// TestLiveResync: a stream whose client stops reading is never blocked
// on; once it reads again it gets a fresh snapshot in place of what it
// missed.
func TestLiveResync(t *testing.T) {
	f := newFixture(t, false, nil)
	sue := f.login(t, "sue")
	s := openLive(t, sue)
	if snap := s.snapshot(); len(snap.Calls) != 0 {
		t.Fatalf("snapshot of %d calls before any recording", len(snap.Calls))
	}
	run := recordLive(t, f, pcaptest.Options{Seed: 3, Calls: pcaptest.Concurrent(3, time.Second, 4*time.Second)}, 0)
	run.feed.release(run.start.Add(3 * time.Second))
	waitActive(t, f, 3)
	// Events faster than any stream drains: the recorder's own start
	// events reach s, then the flood overruns its queue (each event is
	// one of the real calls told again).
	calls := f.api.Events().Active()
	for i := range 10_000 {
		f.api.Events().Publish(api.Event{Type: api.EventUpdate, Call: calls[i%len(calls)]})
	}
	var snap *snapshot
	for range 10_100 {
		typ, data := s.next()
		if typ == api.EventSnapshot {
			snap = new(snapshot)
			if err := json.Unmarshal([]byte(data), snap); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if snap == nil {
		t.Fatal("no snapshot after the stream fell behind")
	}
	if len(snap.Calls) != 3 {
		t.Errorf("resync snapshot of %d calls, want 3", len(snap.Calls))
	}
	_, body := sue.do("GET", "/metrics", nil)
	if !bytes.Contains(body, []byte("spanrec_live_calls_in_progress 3\n")) || bytes.Contains(body, []byte("spanrec_live_resyncs_total 0\n")) {
		t.Errorf("metrics:\n%s", body)
	}
}

// TestLiveSnapshotBesideRecorder: spanrec serve beside a recorder (which
// tells it nothing) learns the calls in progress from the recorder's
// journals: a stream opened while they talk begins with them, and each
// ends once, as the index gets it.
func TestLiveSnapshotBesideRecorder(t *testing.T) {
	f := newFixture(t, false, nil)
	run := recordInto(t, f, pcaptest.Options{Seed: 13, Calls: pcaptest.Concurrent(8, 2*time.Second, 8*time.Second)}, 0, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watching := make(chan struct{}, 2)
	journals := recorder.NewJournals(f.dir)
	go func() {
		api.WatchProgress(ctx, func() ([]*spanrec.Call, error) {
			calls, _, err := journals.Calls(0)
			return calls, err
		}, f.db, f.api.Events(), 100*time.Millisecond, func(err error) { t.Error(err) })
		watching <- struct{}{}
	}()
	go func() {
		api.WatchIndex(ctx, f.db, f.api.Events(), 100*time.Millisecond, nil)
		watching <- struct{}{}
	}()
	defer func() { cancel(); <-watching; <-watching }()
	run.feed.release(run.start.Add(5 * time.Second))
	active := waitActive(t, f, 8)

	s := openLive(t, f.login(t, "sue"))
	snap := s.snapshot()
	if len(snap.Calls) != 8 {
		t.Fatalf("snapshot of %d calls, want 8", len(snap.Calls))
	}
	ids := map[string]bool{}
	for _, c := range active {
		ids[string(c.ID)] = true
	}
	for _, c := range snap.Calls {
		if !ids[c.ID] || c.Status != "answered" || c.Answer.IsZero() || len(c.Codecs) != 1 || c.Codecs[0] != "PCMU" {
			t.Errorf("snapshot call %+v", c)
		}
	}
	run.feed.releaseAll()
	ended := map[string]int{}
	for len(ended) < 8 {
		typ, data := s.next()
		var c struct{ ID string }
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatal(err)
		}
		switch typ {
		case api.EventEnd:
			if !ids[c.ID] {
				t.Errorf("end of call %s, not in the snapshot", c.ID)
			}
			if ended[c.ID]++; ended[c.ID] > 1 {
				t.Errorf("call %s ended twice", c.ID)
			}
		case api.EventUpdate, api.EventAnswer:
		default:
			t.Errorf("event %s %s", typ, data)
		}
	}
	// A late journal read or the index's own "end" is not told again:
	// nothing but heartbeats for a few polls.
	more := make(chan string, 1)
	go func() {
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "event: ") {
				more <- line
				return
			}
		}
	}()
	select {
	case line := <-more:
		t.Errorf("%q after every end", line)
	case <-time.After(time.Second):
	}
	if n := len(f.api.Events().Active()); n != 0 {
		t.Errorf("%d calls still in progress", n)
	}
}
