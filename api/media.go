package api

import (
	"io"
	"net/http"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// audio serves the call's WAV with Range support (http.ServeContent), so
// that the player can seek; ?download=1 makes it an attachment. Any answer
// that carries bytes of it is audited (play or download), once per session
// and call within auditWindow.
func (s *Server) audio(w http.ResponseWriter, r *http.Request, p *principal) error {
	download, err := flag(r, "download")
	if err != nil {
		return err
	}
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	action := auth.ActionPlay
	if download {
		action = auth.ActionDownload
	}
	if c.Audio == "" {
		return spanrec.Errorf(spanrec.ENOTFOUND, "call %s has no recording", c.ID)
	}
	return s.serveFile(w, r, p, c, c.Audio, c.AudioSHA256, "audio/wav", downloadName(c, s.zone(), ".wav"), download, action)
}

// pcap serves the call's capture as an attachment.
func (s *Server) pcap(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	if c.PCAP == "" {
		return spanrec.Errorf(spanrec.ENOTFOUND, "call %s has no capture file", c.ID)
	}
	name := downloadName(c, s.zone(), pcapExt(c))
	return s.serveFile(w, r, p, c, c.PCAP, c.PCAPSHA256, "application/vnd.tcpdump.pcap", name, true, auth.ActionDownloadPCAP)
}

// content wraps the handler of an endpoint that serves a recording's
// content (or what is derived from it): a refusal, 403 or 404, is audited
// as access_denied with the endpoint's name.
func (s *Server) content(endpoint string, h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) error {
		err := h(w, r, p)
		switch spanrec.ErrorKind(err) {
		case spanrec.ENOTFOUND, eForbidden:
			if id := r.PathValue("id"); validID(id) {
				// A failure to audit is counted and logged; the answer is
				// a refusal either way.
				s.auditContent(r, p, auth.ActionDenied, spanrec.CallID(id), endpoint)
			}
		}
		return err
	}
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, p *principal, c *spanrec.Call,
	rel, sha, ctype, name string, attach bool, action string) error {
	what := "recording"
	if action == auth.ActionDownloadPCAP {
		what = "capture file"
	}
	f, err := s.openBlob(r.Context(), c, rel, sha, what)
	if err != nil {
		return err
	}
	defer f.Close()
	size, mod := f.Size(), f.ModTime()
	h := w.Header()
	etag := ""
	if sha != "" {
		// A strong validator: If-Range and If-None-Match work across
		// restarts, and a re-rendered file gets a new one.
		etag = `"` + sha + `"`
		h.Set("ETag", etag)
	}
	if err := s.checkRange(r, etag, mod, size); err != nil {
		h.Del("ETag")
		return err
	}
	h.Set("Content-Type", ctype)
	disp := "inline"
	if attach {
		disp = "attachment"
	}
	h.Set("Content-Disposition", disposition(disp, name))
	// The decision to audit is taken on the answer ServeContent gives
	// (its status and length), not on the request's headers.
	aw := &auditedWriter{ResponseWriter: w, r: r, s: s, audit: func() error {
		return s.auditContent(r, p, action, c.ID, rel)
	}}
	// A whole file is checked against the index's SHA-256 as it is sent:
	// its last bytes are withheld and the connection cut if it differs.
	// A range is served unchecked: it comes from a file written once and
	// verified when it was (s3.Store.Put), whose recorded sum openBlob
	// compared with the index's.
	// What ServeContent will read, the store fetches in one GET: the
	// one range asked for (checkRange made the header canonical), or the
	// whole file.
	switch rs, verdict := parseRange(r.Header.Get("Range"), size); {
	case r.Header.Get("Range") == "":
		expect(f, 0, size)
	case verdict == rangeOK && len(rs) == 1:
		expect(f, rs[0].first, rs[0].last-rs[0].first+1)
	}
	var content io.ReadSeeker = f
	var v *verifier
	if sha != "" {
		v = newVerifier(f, size, sha)
		content = v
	}
	http.ServeContent(aw, r, name, mod, content)
	if v != nil && v.bad {
		s.metrics.readFailed("sha256")
		s.log.Error("api: recording does not match the index; download cut", "call", c.ID, "file", rel, "sha256_index", sha)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// checkRange replaces the request's Range header by the satisfiable
// ranges it asks for in canonical form, drops it if it is to be ignored
// (another unit, bad syntax, If-Range not holding), or returns the 416 error
// (its Content-Range set) if it asks for nothing the file has.
func (s *Server) checkRange(r *http.Request, etag string, mod time.Time, size int64) error {
	rng := r.Header.Get("Range")
	if rng == "" {
		return nil
	}
	if !ifRangeHolds(r, etag, mod) {
		r.Header.Del("Range")
		return nil
	}
	r.Header.Del("If-Range") // decided here
	rs, v := parseRange(rng, size)
	switch v {
	case rangeNone:
		r.Header.Del("Range")
	case rangeOK:
		r.Header.Set("Range", rangeHeader(rs))
	case rangeUnsatisfiable:
		s.metrics.limitHit("range")
		return &rangeError{spanrec.Errorf(eRange, "the range %q is not satisfiable: the file has %d bytes", truncate(rng, 100), size), size}
	}
	return nil
}

// truncate shortens s to at most n bytes for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// flag reads a boolean query parameter: absent is false.
func flag(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	switch v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, invalid("%s %q: want 1 or 0", name, v)
}
