package api

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/spanrec/spanrec"
)

// metrics are the server's counters, exposed at /metrics in the
// Prometheus text format (version 0.0.4).
//
// They are written here rather than with prometheus/client_golang because
// the module's go.sum lacks that library's dependencies; the names and
// labels are those a client_golang registry would expose, so switching is
// confined to this file.
type metrics struct {
	mu          sync.Mutex
	requests    map[int]uint64    // by HTTP status code
	audit       map[string]uint64 // by action
	auditFails  map[string]uint64 // by action
	throttles   map[string]uint64 // logins refused 429, by limit scope
	limits      map[string]uint64 // requests refused by a bound, by bound
	liveClosing map[string]uint64 // live streams the server ended, by reason
	readFails   map[string]uint64 // recording files that could not be read, by reason
	// searchesStopped counts the call lists whose search no index serves
	// stopped at spanrec.MaxUnindexedScan calls.
	searchesStopped atomic.Uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[int]uint64{}, audit: map[string]uint64{}, auditFails: map[string]uint64{},
		throttles: map[string]uint64{}, limits: map[string]uint64{}, liveClosing: map[string]uint64{},
		readFails: map[string]uint64{}}
}

func (m *metrics) inc(c map[string]uint64, k string) {
	m.mu.Lock()
	c[k]++
	m.mu.Unlock()
}

func (m *metrics) auditFailed(action string) { m.inc(m.auditFails, action) }
func (m *metrics) throttled(scope string)    { m.inc(m.throttles, scope) }
func (m *metrics) limitHit(limit string)     { m.inc(m.limits, limit) }
func (m *metrics) liveClosed(reason string)  { m.inc(m.liveClosing, reason) }
func (m *metrics) readFailed(reason string)  { m.inc(m.readFails, reason) }

// sorted returns the keys of c in order with their counts. Call with mu.
func sorted(c map[string]uint64) ([]string, []uint64) {
	ks := make([]string, 0, len(c))
	for k := range c {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	vs := make([]uint64, len(ks))
	for i, k := range ks {
		vs[i] = c[k]
	}
	return ks, vs
}

// labelled writes a counter family with one label.
func labelled(w io.Writer, name, help, label string, ks []string, vs []uint64) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
	for i, k := range ks {
		fmt.Fprintf(w, "%s{%s=%q} %d\n", name, label, k, vs[i])
	}
}

func (m *metrics) request(code int) {
	m.mu.Lock()
	m.requests[code]++
	m.mu.Unlock()
}

func (m *metrics) audited(action string) {
	m.mu.Lock()
	m.audit[action]++
	m.mu.Unlock()
}

// serveMetrics writes the counters and the number of calls in the index.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	n, err := s.cfg.Index.Count(r.Context(), spanrec.CallFilter{})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m := s.metrics
	m.mu.Lock()
	codes := make([]int, 0, len(m.requests))
	for c := range m.requests {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	reqs := make([]uint64, len(codes))
	for i, c := range codes {
		reqs[i] = m.requests[c]
	}
	actions, audits := sorted(m.audit)
	failActions, fails := sorted(m.auditFails)
	scopes, throttles := sorted(m.throttles)
	bounds, hits := sorted(m.limits)
	reasons, closed := sorted(m.liveClosing)
	readReasons, readFails := sorted(m.readFails)
	m.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprint(w, "# HELP spanrec_calls_indexed Calls in the index.\n# TYPE spanrec_calls_indexed gauge\n")
	fmt.Fprintf(w, "spanrec_calls_indexed %d\n", n)
	fmt.Fprint(w, "# HELP spanrec_http_requests_total HTTP requests answered, by status code.\n# TYPE spanrec_http_requests_total counter\n")
	for i, c := range codes {
		fmt.Fprintf(w, "spanrec_http_requests_total{code=%q} %d\n", strconv.Itoa(c), reqs[i])
	}
	labelled(w, "spanrec_audit_events_total", "Audit trail entries written, by action.", "action", actions, audits)
	labelled(w, "spanrec_audit_failures_total",
		"Audit trail entries that could not be written, by action (the action was refused, or for account changes only logged).",
		"action", failActions, fails)
	labelled(w, "spanrec_login_throttled_total", "Logins refused (429) by a login limit, by its scope.", "scope", scopes, throttles)
	labelled(w, "spanrec_http_limit_hits_total", "Requests refused by a bound on their size or number, by bound.", "limit", bounds, hits)
	labelled(w, "spanrec_live_closed_total", "Live streams ended by the server, by reason.", "reason", reasons, closed)
	labelled(w, "spanrec_recording_read_failures_total",
		"Recording files (audio, pcap) the API could not serve, by reason: missing from the data directory or store, sha256 (not the bytes the index recorded), error (the store failed).",
		"reason", readReasons, readFails)
	fmt.Fprintf(w, "# HELP spanrec_search_stopped_total Call lists whose search no index serves stopped after the newest %d calls of their time range.\n# TYPE spanrec_search_stopped_total counter\nspanrec_search_stopped_total %d\n",
		cmp.Or(s.cfg.SearchScan, spanrec.MaxUnindexedScan), m.searchesStopped.Load())
	if l := s.conns; l != nil {
		fmt.Fprintf(w, "# HELP spanrec_http_connections_open Open HTTP connections.\n# TYPE spanrec_http_connections_open gauge\nspanrec_http_connections_open %d\n", l.open.Load())
		fmt.Fprintf(w, "# HELP spanrec_http_connections_max The most HTTP connections kept open (http.max_connections).\n# TYPE spanrec_http_connections_max gauge\nspanrec_http_connections_max %d\n", cap(l.sem))
	}
	g := s.gate
	fmt.Fprintf(w, "# HELP spanrec_login_password_checks_total Password checks run.\n# TYPE spanrec_login_password_checks_total counter\nspanrec_login_password_checks_total %d\n", g.checks.Load())
	fmt.Fprintf(w, "# HELP spanrec_login_password_check_slots Password checks that may run at once.\n# TYPE spanrec_login_password_check_slots gauge\nspanrec_login_password_check_slots %d\n", cap(g.slots))
	fmt.Fprintf(w, "# HELP spanrec_login_password_checks_in_flight Password checks running.\n# TYPE spanrec_login_password_checks_in_flight gauge\nspanrec_login_password_checks_in_flight %d\n", g.inFlight.Load())
	fmt.Fprintf(w, "# HELP spanrec_login_password_checks_in_flight_max The most password checks that ran at once since the start.\n# TYPE spanrec_login_password_checks_in_flight_max gauge\nspanrec_login_password_checks_in_flight_max %d\n", g.peak.Load())
	fmt.Fprintf(w, "# HELP spanrec_login_password_checks_waiting Logins waiting for a password-check slot.\n# TYPE spanrec_login_password_checks_waiting gauge\nspanrec_login_password_checks_waiting %d\n", g.waiting.Load())
	fmt.Fprintf(w, "# HELP spanrec_login_overloaded_total Logins answered 503 because no password-check slot came free in time.\n# TYPE spanrec_login_overloaded_total counter\nspanrec_login_overloaded_total %d\n", g.shed.Load())
	fmt.Fprintf(w, "# HELP spanrec_login_limiter_evictions_total Login-limit keys dropped because the limiter was full.\n# TYPE spanrec_login_limiter_evictions_total counter\nspanrec_login_limiter_evictions_total %d\n", s.limiter.evictions())
	fmt.Fprintf(w, "# HELP spanrec_live_subscribers Open /api/live streams.\n# TYPE spanrec_live_subscribers gauge\nspanrec_live_subscribers %d\n",
		s.events.subscribers())
	ev := s.events
	ev.mu.Lock()
	active := len(ev.active)
	ev.mu.Unlock()
	fmt.Fprintf(w, "# HELP spanrec_live_calls_in_progress Calls in progress the live view knows of (its snapshots).\n# TYPE spanrec_live_calls_in_progress gauge\nspanrec_live_calls_in_progress %d\n", active)
	fmt.Fprintf(w, "# HELP spanrec_live_calls_untracked_total Calls left out of the live snapshots because %d were in progress.\n# TYPE spanrec_live_calls_untracked_total counter\nspanrec_live_calls_untracked_total %d\n", maxActiveCalls, ev.activeDropped.Load())
	fmt.Fprintf(w, "# HELP spanrec_live_resyncs_total Live streams that fell %d events behind and were sent a new snapshot.\n# TYPE spanrec_live_resyncs_total counter\nspanrec_live_resyncs_total %d\n", subscriberQueue, ev.resyncs.Load())
	if s.cfg.Metrics != nil {
		_ = s.cfg.Metrics(w)
	}
}
