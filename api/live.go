package api

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spanrec/spanrec"
)

// Live event types.
const (
	// EventSnapshot opens every stream (and follows a resynchronisation):
	// the calls in progress, as {"calls": [...]}; the events after it
	// change that set.
	EventSnapshot = "snapshot"
	EventStart    = "start"  // the INVITE of a call was seen
	EventAnswer   = "answer" // the call was answered
	EventUpdate   = "update" // what is known of a call in progress changed (its codecs)
	EventEnd      = "end"    // the call ended and is in the index
	EventFailed   = "failed" // the call ended but could not be recorded
)

// Event is a change in a call, for the live view.
type Event struct {
	Type string // EventStart, EventAnswer, EventUpdate, EventEnd or EventFailed
	Call *spanrec.Call
}

// subscriberQueue is how many events a slow live client may lag behind
// before its stream is resynchronised with a new snapshot.
const subscriberQueue = 64

// maxActiveCalls bounds the calls in progress Events keeps for the
// snapshots (a few hundred bytes each); past it new calls are left out of
// the snapshots (counted) but their events still go out.
const maxActiveCalls = 20_000

// maxEnded is how many ended calls Events remembers.
const maxEnded = 4096

// Events passes live call events from a publisher (the recorder, or
// WatchIndex) to the /api/live streams, and keeps the calls in progress
// (started, not ended) so that a stream can begin with them. It is safe
// for concurrent use.
type Events struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	active map[spanrec.CallID]*spanrec.Call
	// ended are the calls that ended lately (at most maxEnded, oldest
	// first in endedRing): news of them in progress that comes late (a
	// journal read just before the call was indexed) is dropped.
	ended     map[spanrec.CallID]struct{}
	endedRing []spanrec.CallID

	activeDropped atomic.Uint64 // calls left out of the snapshots (maxActiveCalls)
	resyncs       atomic.Uint64 // snapshots sent again to a lagging stream
}

// A subscriber is one stream's queue. lost (under Events.mu) says that
// an event did not fit in the queue; kick wakes the stream to resync.
type subscriber struct {
	ch   chan Event
	kick chan struct{}
	lost bool
}

// NewEvents returns an Events without subscribers.
func NewEvents() *Events {
	return &Events{subs: map[*subscriber]struct{}{}, active: map[spanrec.CallID]*spanrec.Call{}, ended: map[spanrec.CallID]struct{}{}}
}

// Publish records e in the set of calls in progress and sends it to every
// subscriber without blocking: a subscriber whose queue is full gets a
// new snapshot instead (see resync). News of a call that ended lately (a
// start, answer, update, or its end again) is dropped. e.Call must not be
// modified afterwards.
func (ev *Events) Publish(e Event) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if e.Call != nil {
		id := e.Call.ID
		switch e.Type {
		case EventStart, EventAnswer, EventUpdate:
			if _, gone := ev.ended[id]; gone {
				return
			}
			if _, ok := ev.active[id]; ok || len(ev.active) < maxActiveCalls {
				ev.active[id] = e.Call
			} else if e.Type == EventStart {
				ev.activeDropped.Add(1)
			}
		case EventEnd, EventFailed:
			if _, told := ev.ended[id]; told {
				return // told by another watcher (index and journals) already
			}
			delete(ev.active, id)
			if len(ev.endedRing) >= maxEnded {
				delete(ev.ended, ev.endedRing[0])
				ev.endedRing = ev.endedRing[1:]
			}
			ev.ended[id] = struct{}{}
			ev.endedRing = append(ev.endedRing, id)
		}
	}
	for s := range ev.subs {
		if s.lost {
			continue // the snapshot it will get covers e
		}
		select {
		case s.ch <- e:
		default:
			s.lost = true
			select {
			case s.kick <- struct{}{}:
			default:
			}
		}
	}
}

// snapshotLocked returns the calls in progress, oldest first. ev.mu must
// be held.
func (ev *Events) snapshotLocked() []*spanrec.Call {
	calls := slices.Collect(maps.Values(ev.active))
	slices.SortFunc(calls, func(a, b *spanrec.Call) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID))
	})
	return calls
}

// Active returns the calls in progress, oldest first.
func (ev *Events) Active() []*spanrec.Call {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.snapshotLocked()
}

// subscribe returns the calls in progress and a subscriber that gets
// every event published after them, taken at once: no event is both in
// the snapshot and queued, none is in neither. The returned function ends
// the subscription.
func (ev *Events) subscribe() ([]*spanrec.Call, *subscriber, func()) {
	s := &subscriber{ch: make(chan Event, subscriberQueue), kick: make(chan struct{}, 1)}
	ev.mu.Lock()
	ev.subs[s] = struct{}{}
	calls := ev.snapshotLocked()
	ev.mu.Unlock()
	return calls, s, func() {
		ev.mu.Lock()
		delete(ev.subs, s)
		ev.mu.Unlock()
	}
}

// resync empties s's queue and returns a new snapshot, at once, as
// subscribe does: for a subscriber that lost events.
func (ev *Events) resync(s *subscriber) []*spanrec.Call {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for len(s.ch) > 0 {
		<-s.ch
	}
	s.lost = false
	ev.resyncs.Add(1)
	return ev.snapshotLocked()
}

// Bounds of the live streams: in all, and of one user.
const (
	maxLiveStreams        = 256
	maxLiveStreamsPerUser = 8
)

// liveSlot takes one of the live streams for user, or returns the error
// to answer if none is left; the caller calls the returned function when
// the stream ends.
func (s *Server) liveSlot(user string) (func(), error) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	switch {
	case s.liveTotal >= maxLiveStreams:
		s.metrics.limitHit("live_streams")
		return nil, &retryError{spanrec.Errorf(eUnavailable, "too many live streams open; try again later"), 30}
	case s.liveUsers[user] >= maxLiveStreamsPerUser:
		s.metrics.limitHit("live_streams_per_user")
		return nil, &retryError{spanrec.Errorf(eTooMany, "you have %d live streams open already", maxLiveStreamsPerUser), 30}
	}
	s.liveTotal++
	s.liveUsers[user]++
	return func() {
		s.liveMu.Lock()
		defer s.liveMu.Unlock()
		s.liveTotal--
		if s.liveUsers[user]--; s.liveUsers[user] <= 0 {
			delete(s.liveUsers, user)
		}
	}, nil
}

// live streams call events as Server-Sent Events (HTML Living Standard
// §9.2). It begins with a "snapshot" event, the calls in progress as
// {"now": server time, "calls": [...]}, then sends "event: start|answer|update|end|failed"
// with the call's JSON as data, and a comment line every Heartbeat. The
// snapshot and the subscription are taken at once (Events.subscribe), so
// no change is lost or told twice between them; a stream that falls more
// than subscriberQueue events behind gets a new snapshot instead of the
// events it missed. Agents get only their own calls. Every LiveRecheck
// the session or token is checked again: when it has ended (logout,
// expiry, user deleted, token revoked) the stream gets an "unauthorized"
// event and ends; a changed role or extension list takes effect.
func (s *Server) live(w http.ResponseWriter, r *http.Request, p *principal) error {
	free, err := s.liveSlot(p.user.Name)
	if err != nil {
		return err
	}
	defer free()
	rc := http.NewResponseController(w)
	active, sub, cancel := s.events.subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n: connected\n\n")
	if err := s.writeSnapshot(w, r, p, active); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil // the connection cannot stream; nothing to answer
	}
	tick := time.NewTicker(s.cfg.Heartbeat)
	defer tick.Stop()
	recheck := time.NewTicker(s.cfg.LiveRecheck)
	defer recheck.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-recheck.C:
			np, err := s.authenticate(r)
			if err != nil {
				reason := "unauthorized"
				if spanrec.ErrorKind(err) != eUnauthenticated {
					// The store cannot say: end the stream rather than
					// stream unchecked; the client reconnects.
					reason = "error"
					s.log.Warn("api: live stream: checking the session", "user", p.user.Name, "err", err)
				}
				s.metrics.liveClosed(reason)
				fmt.Fprintf(w, "event: %s\ndata: {}\n\n", reason)
				rc.Flush()
				return nil
			}
			p = np
			continue
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
		case <-sub.kick:
			if err := s.writeSnapshot(w, r, p, s.events.resync(sub)); err != nil {
				return nil
			}
		case e := <-sub.ch:
			if e.Call == nil || !maySee(p.user, e.Call) {
				continue
			}
			data, err := json.Marshal(s.forAgent(r.Context(), p.user, e.Call))
			if err != nil {
				s.log.Error("api: live event", "call_id", e.Call.ID, "err", err)
				continue
			}
			// JSON has no raw newlines, so one data line carries it.
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, data); err != nil {
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// writeSnapshot writes the "snapshot" event of the calls in progress p
// may see.
func (s *Server) writeSnapshot(w http.ResponseWriter, r *http.Request, p *principal, calls []*spanrec.Call) error {
	snap := struct {
		// Now is the server's clock: the capture time of a live
		// capture, from which the browser tells how long calls have
		// lasted whatever its own clock says.
		Now   time.Time       `json:"now"`
		Calls []*spanrec.Call `json:"calls"`
	}{Now: s.cfg.Now().UTC(), Calls: make([]*spanrec.Call, 0, len(calls))}
	for _, c := range calls {
		if maySee(p.user, c) {
			snap.Calls = append(snap.Calls, s.forAgent(r.Context(), p.user, c))
		}
	}
	data, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", EventSnapshot, data)
	return err
}

// Feed lists calls in the order they were indexed; sqlite.DB has it.
type Feed interface {
	// CallsAfter returns up to limit calls indexed after position seq and
	// the position of the last one (seq if none).
	CallsAfter(ctx context.Context, seq int64, limit int) ([]*spanrec.Call, int64, error)
	// LastSeq returns the position of the last call indexed.
	LastSeq(ctx context.Context) (int64, error)
}

// WatchIndex polls f every interval (default 2 s) and publishes an "end"
// event to ev for each call indexed since it started: the live view of a
// server that runs apart from the recorder, which learns of calls only when
// they are in the index. It returns when ctx is done (with nil) or the
// index cannot be read at the start.
func WatchIndex(ctx context.Context, f Feed, ev *Events, interval time.Duration, log func(error)) error {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	seq, err := f.LastSeq(ctx)
	if err != nil {
		return err
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for {
			calls, next, err := f.CallsAfter(ctx, seq, 100)
			if err != nil {
				if ctx.Err() == nil && log != nil {
					log(err)
				}
				break
			}
			for _, c := range calls {
				ev.Publish(Event{Type: EventEnd, Call: c})
			}
			seq = next
			if len(calls) < 100 {
				break
			}
		}
	}
}

// subscribers returns the number of open subscriptions.
func (ev *Events) subscribers() int {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return len(ev.subs)
}

// has reports whether the call id is in progress for ev.
func (ev *Events) has(id spanrec.CallID) bool {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	_, ok := ev.active[id]
	return ok
}

// WatchProgress polls list every interval (default 2 s) for the calls in
// progress of a recorder that runs apart from the server (cmd/spanrec:
// recorder.InProgress over its journals) and publishes to ev what
// changed: "start" for a call not seen before (then "answer" if it is
// answered), "answer" when it is answered, "update" when its codecs
// change. A call gone from the list that ev still has in progress ended:
// "end" with the call as index has it, or "failed" if the index has it
// not (WatchIndex tells the end of a call it indexes too; Events drops the
// second). It returns when ctx is done.
func WatchProgress(ctx context.Context, list func() ([]*spanrec.Call, error), index spanrec.CallIndex, ev *Events, interval time.Duration, log func(error)) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	seen := map[spanrec.CallID]*spanrec.Call{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		calls, err := list()
		if err != nil {
			if log != nil {
				log(err)
			}
		} else {
			now := make(map[spanrec.CallID]*spanrec.Call, len(calls))
			for _, c := range calls {
				now[c.ID] = c
				old := seen[c.ID]
				switch {
				case old == nil:
					ev.Publish(Event{Type: EventStart, Call: c})
					if !c.Answer.IsZero() {
						ev.Publish(Event{Type: EventAnswer, Call: c})
					}
				case old.Answer.IsZero() && !c.Answer.IsZero():
					ev.Publish(Event{Type: EventAnswer, Call: c})
				case !slices.Equal(old.Codecs, c.Codecs):
					ev.Publish(Event{Type: EventUpdate, Call: c})
				}
			}
			for id, c := range seen {
				if now[id] != nil || !ev.has(id) {
					continue
				}
				if ic, err := index.Call(ctx, id); err == nil {
					ev.Publish(Event{Type: EventEnd, Call: ic})
				} else if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
					ev.Publish(Event{Type: EventFailed, Call: c})
				} else if ctx.Err() == nil && log != nil {
					log(err)
				}
			}
			seen = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
