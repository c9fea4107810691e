package api

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/retention"
)

// Page sizes of GET /api/calls.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// totalCap bounds the total of GET /api/calls: beyond it the answer says
// "more than totalCap" (total_more) instead of counting every matching
// call, which on ten million calls costs seconds (docs/PERFORMANCE.md,
// "Tenth session"). Counting up to 10,001 rows costs a few milliseconds;
// at 50 calls a page it is 200 pages, more than anyone pages through. A
// variable only for the tests, which set it lower (SetTotalCap).
var totalCap = 10_000

type callsResponse struct {
	Calls []*spanrec.Call `json:"calls"`
	// Total is the number of matching calls, or with TotalMore a lower
	// bound: more than Total match; with SearchStopped the number of
	// matching calls among those examined.
	Total     int  `json:"total"`
	TotalMore bool `json:"total_more"`
	// TotalExact says that Total is the number of every matching call:
	// neither TotalMore nor SearchStopped.
	TotalExact bool `json:"total_exact"`
	// SearchStopped, when set, says that the search examined only the
	// newest calls of its time range (spanrec.MaxUnindexedScan): no
	// index serves it (a text of fewer than 3 characters).
	SearchStopped *spanrec.SearchStop `json:"search_stopped,omitempty"`
	Limit         int                 `json:"limit"`
	Offset        int                 `json:"offset"`
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	if p.user.Role == auth.Agent {
		if len(p.user.Extensions) == 0 {
			// No extension, no calls: an empty filter would mean all.
			writeJSON(w, http.StatusOK, callsResponse{Calls: []*spanrec.Call{}, TotalExact: true, Limit: f.Limit, Offset: f.Offset})
			return nil
		}
		f.Extensions = p.user.Extensions
	}
	// A search no index serves examines the newest calls only, and says
	// so. The stop, the page and its total each find the bound again (a
	// walk of ScanLimit index entries, each on its own snapshot): calls
	// stored in between move it, so the page and the total may then be
	// of a window a few calls newer than the stop's.
	f.ScanLimit = cmp.Or(s.cfg.SearchScan, spanrec.MaxUnindexedScan)
	stop, err := s.cfg.Index.SearchStop(r.Context(), f)
	if err != nil {
		return err
	}
	if stop != nil {
		s.metrics.searchesStopped.Add(1)
	}
	calls, err := s.cfg.Index.Calls(r.Context(), f)
	if err != nil {
		return err
	}
	total, more, err := s.cfg.Index.CountUpTo(r.Context(), f, totalCap)
	if err != nil {
		return err
	}
	for i, c := range calls {
		calls[i] = s.forAgent(r.Context(), p.user, c)
	}
	writeJSON(w, http.StatusOK, callsResponse{Calls: nonNil(calls), Total: total, TotalMore: more,
		TotalExact: !more && stop == nil, SearchStopped: stop, Limit: f.Limit, Offset: f.Offset})
	return nil
}

// parseFilter reads the search parameters of GET /api/calls with the
// parser the command line shares (spanrec.CallFilter.Set). Unknown
// parameters are refused, so that a misspelt filter does not silently
// return everything.
func parseFilter(q url.Values) (spanrec.CallFilter, error) {
	f := spanrec.CallFilter{Limit: defaultLimit, Sort: spanrec.SortStartDesc}
	for k, vs := range q {
		if len(vs) != 1 {
			return f, invalid("parameter %s given %d times", k, len(vs))
		}
		v := vs[0]
		var err error
		switch k {
		case "limit":
			f.Limit, err = parseInt(k, v, 1, maxLimit)
		case "offset":
			f.Offset, err = parseInt(k, v, 0, math.MaxInt32)
		default:
			if !slices.Contains(spanrec.FilterParams, k) {
				return f, invalid("unknown parameter %q", truncate(k, 64))
			}
			if err := f.Set(k, v); err != nil {
				return f, invalid("%s %v", k, err)
			}
		}
		if err != nil {
			return f, err
		}
	}
	if err := f.Check(); err != nil {
		return f, err
	}
	return f, nil
}

// parseTime reads the time parameter name of a query (from, to) as every
// endpoint and the command line take times: spanrec.ParseTime.
func parseTime(name, v string) (time.Time, error) {
	t, err := spanrec.ParseTime(v)
	if err != nil {
		return t, invalid("%s %v", name, err)
	}
	return t, nil
}

func parseInt(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid("%s %q: want an integer from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// validID reports whether id can be a call ID or a prefix of one (at least
// spanrec.MinIDPrefix of its lower-case hex digits).
func validID(id string) bool {
	if len(id) < spanrec.MinIDPrefix || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// callFor returns the call of the request's {id} if p may see it. To an
// agent, a call that is not theirs and a prefix that names several calls
// are answered like a call that does not exist, so that neither its
// existence nor its full ID leaks.
func (s *Server) callFor(r *http.Request, p *principal) (*spanrec.Call, error) {
	return s.callByID(r, p, r.PathValue("id"))
}

// forAgent returns c as u may see it. An agent is not told the IDs of a
// conversation's other legs that are not theirs, nor an interaction ID
// that names such a leg (its own ID stands in): the IDs would let the
// agent learn that those calls exist, which 404 on every endpoint hides;
// nor whether the call is under legal hold (by whom, why).
// c itself is not changed; a copy is returned when something is hidden.
func (s *Server) forAgent(ctx context.Context, u *auth.User, c *spanrec.Call) *spanrec.Call {
	if u.Role != auth.Agent || c == nil {
		return c
	}
	if c.LegalHold != nil {
		// Whether, by whom and why a call is held is for supervisors
		// and admins.
		cc := *c
		cc.LegalHold = nil
		c = &cc
	}
	if len(c.Legs) == 0 && len(c.Copies) == 0 && (c.Interaction == "" || c.Interaction == c.ID) {
		return c
	}
	visible := func(id spanrec.CallID) bool {
		if id == c.ID {
			return true
		}
		leg, err := s.cfg.Index.Call(ctx, id)
		return err == nil && maySee(u, leg)
	}
	cc := *c
	cc.Legs = nil
	for _, id := range c.Legs {
		if visible(id) {
			cc.Legs = append(cc.Legs, id)
		}
	}
	if cc.Interaction != "" && !visible(cc.Interaction) {
		cc.Interaction = c.ID
	}
	// Other sensors' copies of the call, likewise.
	if len(c.Copies) > 0 {
		cc.Copies, cc.AudioFrom = nil, map[spanrec.Side]spanrec.CallID{}
		for _, cp := range c.Copies {
			if visible(cp.ID) {
				cc.Copies = append(cc.Copies, cp)
			}
		}
		for side, id := range c.AudioFrom {
			if visible(id) {
				cc.AudioFrom[side] = id
			}
		}
		if len(cc.Copies) < 2 {
			cc.Copies, cc.AudioFrom = nil, nil
		}
	}
	return &cc
}

// maySee reports whether u may see call c: supervisors and admins see all,
// an agent the calls where one of the agent's extensions is a party.
func maySee(u *auth.User, c *spanrec.Call) bool {
	if u.Role != auth.Agent {
		return true
	}
	return u.HasExtension(c.Caller.Number) || u.HasExtension(c.Callee.Number)
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.forAgent(r.Context(), p.user, c))
	return nil
}

func (s *Server) deleteCall(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	// The intent first, then the files, then the row with the audit
	// entry (package retention): a crash in between is finished at the
	// next start, and a call under legal hold is refused (409).
	d := s.cfg.Deleter
	if d == nil {
		d = &retention.Deleter{Index: s.cfg.Index, DataDir: s.cfg.DataDir, Logger: s.log, Now: s.cfg.Now}
	}
	if err := d.Delete(r.Context(), c, p.user.Name, remoteIP(r), "deleted by an admin"); err != nil {
		return err
	}
	s.metrics.audited(auth.ActionDelete)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// legalHoldRequest is the optional body of POST /api/calls/{id}/legal-hold.
type legalHoldRequest struct {
	Reason string `json:"reason"`
}

// maxHoldReason bounds the reason of a legal hold, in bytes.
const maxHoldReason = 1000

func (s *Server) holdCall(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req legalHoldRequest
	if r.ContentLength != 0 {
		if err := readJSON(w, r, &req); err != nil {
			return err
		}
	}
	if len(req.Reason) > maxHoldReason || !utf8.ValidString(req.Reason) {
		return spanrec.Errorf(spanrec.EINVALID, "reason: at most %d bytes of UTF-8", maxHoldReason)
	}
	return s.setHold(w, r, p, &spanrec.LegalHold{By: p.user.Name, At: s.cfg.Now(), Reason: req.Reason})
}

func (s *Server) releaseCall(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.setHold(w, r, p, nil)
}

// setHold holds (h) or releases (nil) the call of the request, audited
// before it takes effect, and answers the call as it is then.
func (s *Server) setHold(w http.ResponseWriter, r *http.Request, p *principal, h *spanrec.LegalHold) error {
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	action, detail := auth.ActionLegalHoldRelease, ""
	if h != nil {
		action, detail = auth.ActionLegalHold, h.Reason
	}
	if err := s.auditStrict(r, p.user.Name, action, c.ID, detail); err != nil {
		return err
	}
	if err := s.cfg.Index.SetLegalHold(r.Context(), c.ID, h); err != nil {
		return err
	}
	c, err = s.cfg.Index.Call(r.Context(), c.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.forAgent(r.Context(), p.user, c))
	return nil
}
