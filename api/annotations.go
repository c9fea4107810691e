package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// Annotations keeps the tags and notes people put on calls; sqlite.DB has
// it. An Index without it answers the annotation routes 404.
type Annotations interface {
	AddTag(ctx context.Context, id spanrec.CallID, tag, user string, t time.Time) (bool, error)
	RemoveTag(ctx context.Context, id spanrec.CallID, tag string) (bool, error)
	AddNote(ctx context.Context, n spanrec.CallNote) (spanrec.CallNote, error)
	Notes(ctx context.Context, id spanrec.CallID) ([]spanrec.CallNote, error)
	DeleteNote(ctx context.Context, id spanrec.CallID, noteID int64) (spanrec.CallNote, error)
}

// Bounds of annotations: a tag is a short label, a note a paragraph; a
// call carries a bounded number of each.
const (
	maxTags      = 20
	maxNoteBytes = 2000
	maxNotes     = 200
)

func (s *Server) annotations() (Annotations, error) {
	a, ok := s.cfg.Index.(Annotations)
	if !ok {
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "this index keeps no tags or notes")
	}
	return a, nil
}

// ParseTag checks a tag and returns its canonical form (see
// spanrec.ParseTag, which the search term tag= and spanrec calls --tag use
// too).
func ParseTag(v string) (string, error) {
	t, err := spanrec.ParseTag(v)
	if err != nil {
		return "", invalid("tag %v", err)
	}
	return t, nil
}

func (s *Server) putTag(w http.ResponseWriter, r *http.Request, p *principal) error {
	a, err := s.annotations()
	if err != nil {
		return err
	}
	tag, err := ParseTag(r.PathValue("tag"))
	if err != nil {
		return err
	}
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	if n := len(c.Tags); n >= maxTags && !slices.Contains(c.Tags, tag) {
		s.metrics.limitHit("tags_per_call")
		return spanrec.Errorf(spanrec.ECONFLICT, "call %s already has %d tags, the most it can have", c.ID, n)
	}
	added, err := a.AddTag(r.Context(), c.ID, tag, p.user.Name, s.cfg.Now())
	if err != nil {
		return err
	}
	if added {
		s.audit(r, p.user.Name, auth.ActionTagAdd, c.ID, tag)
		writeJSON(w, http.StatusCreated, map[string]string{"tag": tag})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"tag": tag})
	return nil
}

func (s *Server) deleteTag(w http.ResponseWriter, r *http.Request, p *principal) error {
	a, err := s.annotations()
	if err != nil {
		return err
	}
	tag, err := ParseTag(r.PathValue("tag"))
	if err != nil {
		return err
	}
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	removed, err := a.RemoveTag(r.Context(), c.ID, tag)
	if err != nil {
		return err
	}
	if !removed {
		return spanrec.Errorf(spanrec.ENOTFOUND, "call %s has no tag %q", c.ID, tag)
	}
	s.audit(r, p.user.Name, auth.ActionTagRemove, c.ID, tag)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type notesResponse struct {
	Notes []spanrec.CallNote `json:"notes"`
}

func (s *Server) listNotes(w http.ResponseWriter, r *http.Request, p *principal) error {
	a, err := s.annotations()
	if err != nil {
		return err
	}
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	notes, err := a.Notes(r.Context(), c.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, notesResponse{Notes: nonNil(notes)})
	return nil
}

type noteRequest struct {
	Text string `json:"text"`
}

func (s *Server) addNote(w http.ResponseWriter, r *http.Request, p *principal) error {
	a, err := s.annotations()
	if err != nil {
		return err
	}
	var req noteRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	text := strings.TrimSpace(req.Text)
	switch {
	case text == "":
		return invalid("the note is empty")
	case len(text) > maxNoteBytes:
		s.metrics.limitHit("note_bytes")
		return invalid("the note is longer than %d bytes", maxNoteBytes)
	case !utf8.ValidString(text):
		return invalid("the note is not UTF-8 text")
	}
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	notes, err := a.Notes(r.Context(), c.ID)
	if err != nil {
		return err
	}
	if len(notes) >= maxNotes {
		s.metrics.limitHit("notes_per_call")
		return spanrec.Errorf(spanrec.ECONFLICT, "call %s already has %d notes, the most it can have", c.ID, len(notes))
	}
	n, err := a.AddNote(r.Context(), spanrec.CallNote{CallID: c.ID, User: p.user.Name, At: s.cfg.Now().UTC(), Text: text})
	if err != nil {
		return err
	}
	s.audit(r, p.user.Name, auth.ActionNoteAdd, c.ID, fmt.Sprintf("note %d: %s", n.ID, truncate(text, 200)))
	writeJSON(w, http.StatusCreated, n)
	return nil
}

// deleteNote deletes a note: its author's own, or any as an admin.
func (s *Server) deleteNote(w http.ResponseWriter, r *http.Request, p *principal) error {
	a, err := s.annotations()
	if err != nil {
		return err
	}
	noteID, err := strconv.ParseInt(r.PathValue("note"), 10, 64)
	if err != nil || noteID <= 0 {
		return invalid("%q is not a note ID", truncate(r.PathValue("note"), 30))
	}
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	notes, err := a.Notes(r.Context(), c.ID)
	if err != nil {
		return err
	}
	var found *spanrec.CallNote
	for i := range notes {
		if notes[i].ID == noteID {
			found = &notes[i]
		}
	}
	if found == nil {
		return spanrec.Errorf(spanrec.ENOTFOUND, "call %s has no note %d", c.ID, noteID)
	}
	if found.User != p.user.Name && p.user.Role != auth.Admin {
		return spanrec.Errorf(eForbidden, "only its author or an admin may delete note %d", noteID)
	}
	n, err := a.DeleteNote(r.Context(), c.ID, noteID)
	if err != nil {
		return err
	}
	s.audit(r, p.user.Name, auth.ActionNoteDelete, c.ID, fmt.Sprintf("note %d by %s: %s", n.ID, n.User, truncate(n.Text, 200)))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
