package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

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
	mu       sync.Mutex
	requests map[int]uint64    // by HTTP status code
	audit    map[string]uint64 // by action
}

func newMetrics() *metrics {
	return &metrics{requests: map[int]uint64{}, audit: map[string]uint64{}}
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
	actions := make([]string, 0, len(m.audit))
	for a := range m.audit {
		actions = append(actions, a)
	}
	slices.Sort(actions)
	audits := make([]uint64, len(actions))
	for i, a := range actions {
		audits[i] = m.audit[a]
	}
	m.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprint(w, "# HELP spanrec_calls_indexed Calls in the index.\n# TYPE spanrec_calls_indexed gauge\n")
	fmt.Fprintf(w, "spanrec_calls_indexed %d\n", n)
	fmt.Fprint(w, "# HELP spanrec_http_requests_total HTTP requests answered, by status code.\n# TYPE spanrec_http_requests_total counter\n")
	for i, c := range codes {
		fmt.Fprintf(w, "spanrec_http_requests_total{code=%q} %d\n", strconv.Itoa(c), reqs[i])
	}
	fmt.Fprint(w, "# HELP spanrec_audit_events_total Audit trail entries written, by action.\n# TYPE spanrec_audit_events_total counter\n")
	for i, a := range actions {
		fmt.Fprintf(w, "spanrec_audit_events_total{action=%q} %d\n", a, audits[i])
	}
	fmt.Fprintf(w, "# HELP spanrec_live_subscribers Open /api/live streams.\n# TYPE spanrec_live_subscribers gauge\nspanrec_live_subscribers %d\n",
		s.events.subscribers())
}
