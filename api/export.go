package api

import (
	"archive/zip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// exportPage is how many calls GET /api/calls.csv reads from the index at
// a time: the export holds one page in memory, whatever its length.
const exportPage = 200

// csvColumns are the columns of the CSV export, in order.
var csvColumns = []string{
	"id", "start", "answer", "end", "duration_s",
	"caller", "caller_name", "caller_addr", "callee", "callee_name", "callee_addr",
	"direction", "status", "status_code", "status_reason", "hangup_by", "pdd_ms", "ring_ms",
	"codecs", "signalling",
	"capture_loss", "streams", "packets", "lost", "min_mos", "dtmf",
	"audio", "interaction", "legs", "sip_call_id", "caller_user_agent", "callee_user_agent", "sensor", "notes",
}

// exportCalls answers GET /api/calls.csv: the calls GET /api/calls would
// list for the same parameters, as CSV, streamed page by page (keyset
// pagination, CallFilter.After) so that any number of calls costs the
// same memory. Without a limit parameter every matching call is
// exported; with one, at most that many. The export is audited once
// (action export, the query as detail). A search no index serves is not
// bounded here as the call list bounds it (spanrec.MaxUnindexedScan):
// the export is a download asked for, not a page the UI waits for, and
// must not leave calls out silently, so it examines every call of the
// time range (minutes on millions of calls for a text no call has).
func (s *Server) exportCalls(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	f, err := parseFilter(q)
	if err != nil {
		return err
	}
	remaining := math.MaxInt
	if q.Has("limit") {
		remaining = f.Limit
	}
	none := false // an agent without extensions sees no call
	if p.user.Role == auth.Agent {
		none = len(p.user.Extensions) == 0
		f.Extensions = p.user.Extensions
	}
	// The first page is read before the answer starts, so that an index
	// error is still an error answer.
	f.Limit = min(remaining, exportPage)
	var page []*spanrec.Call
	if !none {
		if page, err = s.cfg.Index.Calls(r.Context(), f); err != nil {
			return err
		}
	}
	s.audit(r, p.user.Name, auth.ActionExport, "", truncate(r.URL.RawQuery, maxQuery))
	name := "calls_" + s.cfg.Now().In(s.zone()).Format("2006-01-02_1504") + ".csv"
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", disposition("attachment", name))
	cw := csv.NewWriter(w)
	cw.Write(csvColumns)
	rc := http.NewResponseController(w)
	row := make([]string, 0, len(csvColumns))
	for len(page) > 0 {
		for _, c := range page {
			row = csvRow(row[:0], s.forAgent(r.Context(), p.user, c))
			for i, v := range row {
				row[i] = neutralise(v)
			}
			if err := cw.Write(row); err != nil {
				return nil // the client went away
			}
		}
		remaining -= len(page)
		cw.Flush()
		if cw.Error() != nil {
			return nil
		}
		rc.Flush()
		if len(page) < f.Limit || remaining <= 0 {
			break
		}
		f.After, f.Offset, f.Limit = page[len(page)-1], 0, min(remaining, exportPage)
		if page, err = s.cfg.Index.Calls(r.Context(), f); err != nil {
			// Part of the answer is sent: cut the connection, so that the
			// client sees a failed download rather than a short file.
			s.log.Error("api: CSV export", "err", err)
			panic(http.ErrAbortHandler)
		}
	}
	cw.Flush()
	return nil
}

// csvRow appends the CSV cells of c to row.
func csvRow(row []string, c *spanrec.Call) []string {
	packets, lost := 0, 0
	mos := math.NaN()
	for _, st := range c.Streams {
		packets += st.Packets
		lost += st.Lost
		if st.MOS > 0 && (math.IsNaN(mos) || st.MOS < mos) {
			mos = st.MOS
		}
	}
	var dtmf strings.Builder
	for _, d := range c.DTMF {
		dtmf.WriteString(d.Digit)
	}
	legs := make([]string, len(c.Legs))
	for i, id := range c.Legs {
		legs[i] = string(id)
	}
	minMOS := ""
	if !math.IsNaN(mos) {
		minMOS = strconv.FormatFloat(mos, 'f', 2, 64)
	}
	audio := "no"
	if c.Audio != "" {
		audio = "yes"
	}
	signalling := c.Signalling
	if signalling == "" {
		signalling = spanrec.SignallingSIP
	}
	return append(row,
		string(c.ID), csvTime(c.Start), csvTime(c.Answer), csvTime(c.End),
		strconv.FormatFloat(float64(c.Duration.Milliseconds())/1000, 'f', 3, 64), // as duration_ms
		c.Caller.Number, c.Caller.Name, addrString(c.Caller.Addr),
		c.Callee.Number, c.Callee.Name, addrString(c.Callee.Addr),
		string(c.Direction), string(c.Status), strconv.Itoa(c.StatusCode),
		c.StatusReason, string(c.HangupBy), msCell(c.PDD), msCell(c.RingTime),
		strings.Join(c.Codecs, " "), signalling,
		strconv.FormatBool(c.CaptureLoss), strconv.Itoa(len(c.Streams)),
		strconv.Itoa(packets), strconv.Itoa(lost), minMOS, dtmf.String(),
		audio, string(c.Interaction), strings.Join(legs, " "), c.SIPCallID,
		c.CallerUA, c.CalleeUA, c.Sensor,
		strings.Join(c.Notes, "; "),
	)
}

// msCell is d in milliseconds, "" when not measured (0), as the JSON's null.
func msCell(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// csvTime formats t as the JSON form does (RFC 3339, UTC); "" if zero.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// neutralise defuses a cell that a spreadsheet would read as a formula
// (OWASP "CSV injection"): one that starts with =, +, -, @, a tab or a
// carriage return gets a leading apostrophe. Display names, numbers and
// notes come from the wire.
func neutralise(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}

// zone is the time zone of the names of downloaded files.
func (s *Server) zone() *time.Location {
	if s.cfg.Zone != nil {
		return s.cfg.Zone
	}
	return time.Local
}

// maxNamePart bounds each party's part of a download's file name.
const maxNamePart = 32

// downloadName is the file name a call's file is downloaded as:
// "2026-11-01_0900_205-to-201_ID.wav", with the start time in zone and
// the parties' numbers reduced to letters, digits and + . _ - (anything
// else becomes _), at most maxNamePart bytes each.
func downloadName(c *spanrec.Call, zone *time.Location, ext string) string {
	var b strings.Builder
	if !c.Start.IsZero() {
		b.WriteString(c.Start.In(zone).Format("2006-01-02_1504"))
		b.WriteByte('_')
	}
	b.WriteString(namePart(c.Caller.Number))
	b.WriteString("-to-")
	b.WriteString(namePart(c.Callee.Number))
	b.WriteByte('_')
	b.WriteString(string(c.ID))
	b.WriteString(ext)
	return b.String()
}

// namePart returns a party's number in a file name's safe characters.
func namePart(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxNamePart {
			break
		}
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '+', r == '_', r == '-':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// disposition is the Content-Disposition of a file named name, which
// downloadName (or a fixed name) made of safe characters only.
func disposition(kind, name string) string {
	return kind + `; filename="` + name + `"`
}

// pcapExt is the extension of a call's capture file.
func pcapExt(c *spanrec.Call) string {
	if strings.HasSuffix(c.PCAP, ".pcapng") {
		return ".pcapng"
	}
	return ".pcap"
}

// maxZipCalls bounds the calls of one ZIP download.
const maxZipCalls = 100

// zipRequest is the body of POST /api/calls/download.zip.
type zipRequest struct {
	IDs  []string `json:"ids"`
	PCAP bool     `json:"pcap"` // add each call's capture beside its audio
}

// readZipRequest reads a JSON body, or an HTML form (fields id, repeated,
// and pcap; the CSRF token in csrf_token, see checkUnsafe) that the web UI
// submits so that the browser streams the download to disk.
func readZipRequest(w http.ResponseWriter, r *http.Request) (zipRequest, error) {
	var req zipRequest
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if err := parseForm(r); err != nil {
			return req, err
		}
		req.IDs = r.PostForm["id"]
		pcap := r.PostForm.Get("pcap")
		req.PCAP = pcap == "1" || pcap == "true"
		return req, nil
	}
	err := readJSON(w, r, &req)
	return req, err
}

// parseForm reads a form body of at most maxBody bytes into r.PostForm.
func parseForm(r *http.Request) error {
	if r.PostForm != nil {
		return nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return spanrec.Errorf(eTooLarge, "request body larger than %d bytes", maxBody)
		}
		return invalid("bad form body: %v", err)
	}
	return nil
}

// downloadZip answers POST /api/calls/download.zip: the audio (and with
// pcap the capture) of each call asked for, in a ZIP streamed as it is
// made, each file named by downloadName. Every ID is checked first (an
// agent asking for a call not theirs gets 404 for the whole request, as
// for one call), then each call's download is audited before its bytes
// are written; if an audit entry cannot be written the connection is cut,
// so that no file leaves unaudited. Calls whose file is missing are
// listed in MISSING.txt inside the archive.
func (s *Server) downloadZip(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := readZipRequest(w, r)
	if err != nil {
		return err
	}
	if len(req.IDs) == 0 {
		return invalid("no call IDs: give ids")
	}
	if len(req.IDs) > maxZipCalls {
		s.metrics.limitHit("zip_calls")
		return invalid("%d calls asked for; at most %d in one download", len(req.IDs), maxZipCalls)
	}
	calls := make([]*spanrec.Call, 0, len(req.IDs))
	seen := map[spanrec.CallID]bool{}
	for _, id := range req.IDs {
		c, err := s.callByID(r, p, id)
		if err != nil {
			if k := spanrec.ErrorKind(err); (k == spanrec.ENOTFOUND || k == spanrec.EINVALID) && validID(id) {
				s.auditContent(r, p, auth.ActionDenied, spanrec.CallID(id), "zip")
			}
			return err
		}
		if !seen[c.ID] {
			seen[c.ID] = true
			calls = append(calls, c)
		}
	}
	type file struct {
		c      *spanrec.Call
		rel    string
		sha    string
		name   string
		action string
	}
	var files []file
	var missing []string
	for _, c := range calls {
		if c.Audio == "" {
			missing = append(missing, string(c.ID)+": no recording")
		} else {
			files = append(files, file{c, c.Audio, c.AudioSHA256, downloadName(c, s.zone(), ".wav"), auth.ActionDownload})
		}
		if req.PCAP {
			if c.PCAP == "" {
				missing = append(missing, string(c.ID)+": no capture file")
			} else {
				files = append(files, file{c, c.PCAP, c.PCAPSHA256, downloadName(c, s.zone(), pcapExt(c)), auth.ActionDownloadPCAP})
			}
		}
	}
	name := "calls_" + s.cfg.Now().In(s.zone()).Format("2006-01-02_1504") + ".zip"
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", disposition("attachment", name))
	zw := zip.NewWriter(w)
	started := false // bytes went out: errors can no longer be answered
	fail := func(err error) error {
		if !started {
			h.Del("Content-Disposition")
			return err
		}
		s.log.Error("api: ZIP download", "user", p.user.Name, "err", err)
		panic(http.ErrAbortHandler)
	}
	for _, fl := range files {
		what := "recording"
		if fl.action == auth.ActionDownloadPCAP {
			what = "capture file"
		}
		src, err := s.openBlob(r.Context(), fl.c, fl.rel, fl.sha, what)
		if spanrec.ErrorKind(err) == spanrec.ENOTFOUND {
			missing = append(missing, string(fl.c.ID)+": "+fl.rel+" is missing from "+s.blobs.String())
			continue
		} else if err != nil {
			return fail(err)
		}
		// Each file is checked against the index's SHA-256 as it is
		// copied: one that differs fails the download (see verifier).
		expect(src, 0, src.Size())
		var content io.Reader = src
		if fl.sha != "" {
			content = newVerifier(src, src.Size(), fl.sha)
		}
		err = s.auditContent(r, p, fl.action, fl.c.ID, fl.rel+" (zip)")
		if err == nil {
			err = addZipFile(zw, fl.name, fl.c.Start, content, fl.action == auth.ActionDownloadPCAP)
			started = true
		}
		if errors.Is(err, errMismatch) {
			s.metrics.readFailed("sha256")
		}
		src.Close()
		if err != nil {
			if errors.Is(err, errClientWrite) {
				return nil // the client went away
			}
			return fail(err)
		}
	}
	if len(missing) > 0 {
		hdr := &zip.FileHeader{Name: "MISSING.txt", Method: zip.Deflate, Modified: s.cfg.Now()}
		fw, err := zw.CreateHeader(hdr)
		started = true
		if err != nil {
			return nil
		}
		fmt.Fprintf(fw, "Files of the selected calls that are not in this archive:\r\n%s\r\n", strings.Join(missing, "\r\n"))
	}
	if err := zw.Close(); err != nil && started {
		return nil
	} else if err != nil {
		return fail(err)
	}
	return nil
}

// errClientWrite marks a failed write to the client.
var errClientWrite = errors.New("api: write to client failed")

// addZipFile copies src into zw as name. Captures are compressed; audio,
// which deflate barely shrinks, is stored. A failed write to the client
// is errClientWrite.
func addZipFile(zw *zip.Writer, name string, mod time.Time, src io.Reader, compress bool) error {
	hdr := &zip.FileHeader{Name: name, Method: zip.Store, Modified: mod}
	if compress {
		hdr.Method = zip.Deflate
	}
	fw, err := zw.CreateHeader(hdr)
	if err != nil {
		return fmt.Errorf("%w: %v", errClientWrite, err)
	}
	buf := make([]byte, 32<<10)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := fw.Write(buf[:n]); err != nil {
				return fmt.Errorf("%w: %v", errClientWrite, err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("api: read %s: %w", name, rerr)
		}
	}
}

// callByID returns the call with ID (or unique ID prefix) id if p may see
// it, as callFor does for the request's {id}.
func (s *Server) callByID(r *http.Request, p *principal, id string) (*spanrec.Call, error) {
	if !validID(id) {
		return nil, invalid("%q is not a call ID: give the ID or at least its first %d characters (lower-case hex)", truncate(id, 70), spanrec.MinIDPrefix)
	}
	c, err := s.cfg.Index.Call(r.Context(), spanrec.CallID(id))
	if p.user.Role == auth.Agent {
		kind := spanrec.ErrorKind(err)
		if err == nil && !maySee(p.user, c) || kind == spanrec.ENOTFOUND || kind == spanrec.EINVALID {
			return nil, spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", id)
		}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}
