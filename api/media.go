package api

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// audio serves the call's WAV with Range support (http.ServeContent), so
// that the player can seek. A fetch from the first byte is a playback in
// the audit trail (not every Range request the player makes while seeking);
// ?download=1 makes it an attachment and a download.
func (s *Server) audio(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.callFor(r, p)
	if err != nil {
		return err
	}
	download, err := flag(r, "download")
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
	return s.serveFile(w, r, p, c, c.Audio, c.AudioSHA256, "audio/wav", string(c.ID)+".wav", download, action)
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
	name := string(c.ID) + ".pcap"
	if strings.HasSuffix(c.PCAP, ".pcapng") {
		name += "ng"
	}
	return s.serveFile(w, r, p, c, c.PCAP, c.PCAPSHA256, "application/vnd.tcpdump.pcap", name, true, auth.ActionDownloadPCAP)
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, p *principal, c *spanrec.Call,
	rel, sha, ctype, name string, attach bool, action string) error {
	path, err := s.file(rel)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return spanrec.Errorf(spanrec.ENOTFOUND, "the file of call %s is missing from the data directory", c.ID)
	} else if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	if sha != "" {
		// A strong validator: If-Range and If-None-Match work across
		// restarts, and a re-rendered file gets a new one.
		h.Set("ETag", `"`+sha+`"`)
	}
	if attach {
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	} else {
		h.Set("Content-Disposition", `inline; filename="`+name+`"`)
	}
	if r.Method == http.MethodGet && fromStart(r.Header.Get("Range")) {
		s.audit(r, p.user.Name, action, c.ID, rel)
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
	return nil
}

// fromStart reports whether a Range header value asks for the start of the
// file: no range, or a first range beginning at byte 0.
func fromStart(rng string) bool {
	if rng == "" {
		return true
	}
	spec, ok := strings.CutPrefix(rng, "bytes=")
	if !ok {
		return true // ServeContent ignores it and sends the whole file
	}
	first, _, _ := strings.Cut(spec, ",")
	return strings.HasPrefix(strings.TrimSpace(first), "0-")
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
