package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// SavedSearches keeps each user's saved searches of the call list;
// sqlite.DB has it. Accounts without it answer the routes 404.
type SavedSearches interface {
	SavedSearches(ctx context.Context, user string) ([]auth.SavedSearch, error)
	SaveSearch(ctx context.Context, s auth.SavedSearch, max int) (auth.SavedSearch, error)
	DeleteSavedSearch(ctx context.Context, user string, id int64) error
}

// Bounds of saved searches: per user, name length, query length.
const (
	maxSavedSearches = 50
	maxSearchName    = 64
	maxSearchQuery   = 2048
)

type savedSearchJSON struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Query   string    `json:"query"`
	Created time.Time `json:"created"`
}

type savedSearchRequest struct {
	Name  string `json:"name"`
	Query string `json:"query"`
}

func (s *Server) savedSearches() (SavedSearches, error) {
	ss, ok := s.cfg.Accounts.(SavedSearches)
	if !ok {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "this account store keeps no saved searches")
	}
	return ss, nil
}

// listSearches answers GET /api/searches: the user's own saved searches.
func (s *Server) listSearches(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.savedSearches()
	if err != nil {
		return err
	}
	list, err := ss.SavedSearches(r.Context(), p.user.Name)
	if err != nil {
		return err
	}
	out := make([]savedSearchJSON, 0, len(list))
	for _, x := range list {
		out = append(out, savedSearchJSON{x.ID, x.Name, x.Query, x.Created})
	}
	writeJSON(w, http.StatusOK, map[string]any{"searches": out})
	return nil
}

// saveSearch answers POST /api/searches: the query must be one GET
// /api/calls accepts; its offset and limit (a page, not a search) are
// dropped. A search of the same name is replaced.
func (s *Server) saveSearch(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.savedSearches()
	if err != nil {
		return err
	}
	var req savedSearchRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || utf8.RuneCountInString(name) > maxSearchName || !utf8.ValidString(name) ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return invalid("name: want 1 to %d characters, no control characters", maxSearchName)
	}
	query, err := canonicalSearch(req.Query)
	if err != nil {
		return err
	}
	saved, err := ss.SaveSearch(r.Context(), auth.SavedSearch{User: p.user.Name, Name: name, Query: query, Created: s.cfg.Now()}, maxSavedSearches)
	if spanrec.ErrorKind(err) == spanrec.ECONFLICT {
		s.metrics.limitHit("saved_searches")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, savedSearchJSON{saved.ID, saved.Name, saved.Query, saved.Created})
	return nil
}

// canonicalSearch checks a query string as GET /api/calls would and
// returns it without offset and limit, its parameters in order.
func canonicalSearch(q string) (string, error) {
	q = strings.TrimPrefix(q, "?")
	if len(q) > maxSearchQuery {
		return "", invalid("query longer than %d bytes", maxSearchQuery)
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return "", invalid("query: %v", err)
	}
	v.Del("offset")
	v.Del("limit")
	if len(v) > maxParams {
		return "", invalid("query: more than %d parameters", maxParams)
	}
	if _, err := parseFilter(v); err != nil {
		return "", err
	}
	return v.Encode(), nil
}

// deleteSearch answers DELETE /api/searches/{id}: only the user's own.
func (s *Server) deleteSearch(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.savedSearches()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return invalid("%q is not a saved search ID", truncate(r.PathValue("id"), 30))
	}
	if err := ss.DeleteSavedSearch(r.Context(), p.user.Name, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
