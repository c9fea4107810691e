package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/spanrec/spanrec"
)

// Live event types.
const (
	EventStart  = "start"  // the INVITE of a call was seen
	EventAnswer = "answer" // the call was answered
	EventEnd    = "end"    // the call ended and is in the index
)

// Event is a change in a call, for the live view.
type Event struct {
	Type string // EventStart, EventAnswer or EventEnd
	Call *spanrec.Call
}

// subscriberQueue is how many events a slow live client may lag behind
// before it misses some.
const subscriberQueue = 64

// Events passes live call events from a publisher (the recorder, or
// WatchIndex) to the /api/live streams. It is safe for concurrent use.
type Events struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// NewEvents returns an Events without subscribers.
func NewEvents() *Events { return &Events{subs: map[chan Event]struct{}{}} }

// Publish sends e to every subscriber without blocking: a subscriber whose
// queue is full misses e. e.Call must not be modified afterwards.
func (ev *Events) Publish(e Event) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for ch := range ev.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// subscribe returns a channel of the events published from now on, and
// the function that ends the subscription.
func (ev *Events) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, subscriberQueue)
	ev.mu.Lock()
	ev.subs[ch] = struct{}{}
	ev.mu.Unlock()
	return ch, func() {
		ev.mu.Lock()
		delete(ev.subs, ch)
		ev.mu.Unlock()
	}
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
// §9.2): "event: start|answer|end" with the call's JSON as data, and a
// comment line every Heartbeat. Agents get only their own calls' events.
// Every LiveRecheck the session or token is checked again: when it has
// ended (logout, expiry, user deleted, token revoked) the stream gets an
// "unauthorized" event and ends; a changed role or extension list takes
// effect.
func (s *Server) live(w http.ResponseWriter, r *http.Request, p *principal) error {
	free, err := s.liveSlot(p.user.Name)
	if err != nil {
		return err
	}
	defer free()
	rc := http.NewResponseController(w)
	events, cancel := s.events.subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n: connected\n\n")
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
		case e := <-events:
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
