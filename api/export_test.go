package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/auth"
)

// readCSV parses an export and returns its rows as maps by column name.
func readCSV(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	if len(recs) == 0 || recs[0][0] != "id" {
		t.Fatalf("CSV without its header line: %q", body)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, k := range recs[0] {
			m[k] = rec[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// cell is what a CSV cell holds for v: formulas defused with a leading
// apostrophe.
func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// TestExportCSV: on the imported captures, the CSV export of a search has
// the calls GET /api/calls lists for the same parameters, in its order,
// with the same fields, for a supervisor and for an agent.
func TestExportCSV(t *testing.T) {
	f := readOnly(t)
	queries := []string{
		"",
		"number=20",
		"status=answered&sort=duration",
		"sort=-duration",
		"group=interaction",
		"has_loss=false&sort=start",
		"limit=3&offset=1",
		"codec=PCMU&direction=inbound",
	}
	for _, user := range []string{"sue", "agnes", "nobody"} {
		c := f.login(t, user)
		for _, q := range queries {
			var page struct {
				Calls []struct {
					ID, Caller, Callee, Status, Direction, Codecs, Interaction string
					CallerName                                                 string `json:"caller_name"`
					CalleeName                                                 string `json:"callee_name"`
					SIPCallID                                                  string `json:"call_id"`
					StatusCode                                                 int    `json:"status_code"`
					StatusReason                                               string `json:"status_reason"`
					HangupBy                                                   string `json:"hangup_by"`
					Start                                                      time.Time
					DurationMS                                                 int64    `json:"duration_ms"`
					CodecList                                                  []string `json:"codecs"`
					Streams                                                    []any
					CaptureLoss                                                bool `json:"capture_loss"`
				}
				Total int
			}
			jq := q
			if !strings.Contains(q, "limit=") {
				jq = strings.TrimPrefix(q+"&limit=500", "&")
			}
			c.getJSON("/api/calls?"+jq, http.StatusOK, &page)
			res, body := c.do("GET", "/api/calls.csv?"+q, nil)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
				!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="calls_`) {
				t.Fatalf("%s: GET /api/calls.csv?%s: %d %v %s", user, q, res.StatusCode, res.Header, body)
			}
			rows := readCSV(t, body)
			if len(rows) != len(page.Calls) {
				t.Errorf("%s %q: %d CSV rows, %d JSON calls", user, q, len(rows), len(page.Calls))
				continue
			}
			for i, call := range page.Calls {
				row := rows[i]
				want := map[string]string{
					"id": call.ID, "caller": call.Caller, "callee": call.Callee,
					"caller_name": call.CallerName, "callee_name": call.CalleeName,
					"status": call.Status, "direction": call.Direction,
					"status_code": strconv.Itoa(call.StatusCode), "sip_call_id": call.SIPCallID,
					"status_reason": call.StatusReason, "hangup_by": call.HangupBy,
					"start":      call.Start.UTC().Format(time.RFC3339Nano),
					"duration_s": strconv.FormatFloat(float64(call.DurationMS)/1000, 'f', 3, 64),
					"codecs":     strings.Join(call.CodecList, " "), "interaction": call.Interaction,
					"streams": strconv.Itoa(len(call.Streams)), "capture_loss": strconv.FormatBool(call.CaptureLoss),
				}
				for k, v := range want {
					if row[k] != cell(v) {
						t.Errorf("%s %q: row %d %s = %q, JSON has %q", user, q, i, k, row[k], v)
					}
				}
			}
			if user == "nobody" && len(rows) != 0 {
				t.Errorf("an agent without extensions exported %d calls", len(rows))
			}
			if user == "agnes" {
				for _, row := range rows {
					if row["caller"] != "201" && row["callee"] != "201" {
						t.Errorf("agent exported call %s of %s and %s", row["id"], row["caller"], row["callee"])
					}
				}
			}
		}
		if user == "sue" {
			// The demo's E.164 numbers would be formulas in a spreadsheet.
			_, body := c.do("GET", "/api/calls.csv?number=15555550123", nil)
			if rows := readCSV(t, body); len(rows) != 1 || rows[0]["caller"] != "'+15555550123" {
				t.Errorf("number=15555550123: %v", rows)
			}
		}
		res, body := c.do("GET", "/api/calls.csv?status=ringing", nil)
		wantError(t, "bad status", res, body, http.StatusBadRequest)
		res, body = c.do("GET", "/api/calls.csv?nope=1", nil)
		wantError(t, "unknown parameter", res, body, http.StatusBadRequest)
	}
	res, body := f.client(t).do("GET", "/api/calls.csv", nil)
	wantError(t, "no login", res, body, http.StatusUnauthorized)
}

// pageCounter is an Index that remembers the largest page of calls it
// returned and how many times it was asked.
type pageCounter struct {
	api.Index
	mu      sync.Mutex
	queries int
	largest int
}

func (p *pageCounter) Calls(ctx context.Context, f spanrec.CallFilter) ([]*spanrec.Call, error) {
	calls, err := p.Index.Calls(ctx, f)
	p.mu.Lock()
	p.queries++
	p.largest = max(p.largest, len(calls))
	p.mu.Unlock()
	return calls, err
}

// TestExportCSVLarge: an index of a thousand calls (copies of the demo's
// real calls at other times: five full pages of exportPage and part of a
// sixth) is exported whole, in order, each call once, read from the index
// in bounded pages.
func TestExportCSVLarge(t *testing.T) {
	pc := &pageCounter{}
	f := newFixture(t, false, func(cfg *api.Config) { pc.Index = cfg.Index; cfg.Index = pc })
	ctx := context.Background()
	const n = 1045
	calls := make([]*spanrec.Call, 0, n)
	for i := range n {
		src := f.calls[i%len(f.calls)]
		c := *src
		c.ID = spanrec.CallID(fmt.Sprintf("%020x", 0xabc000+i))
		c.Start = src.Start.Add(-time.Duration(i/3) * time.Minute) // ties of three
		c.LinkKeys = nil
		// A Call-ID of its own: the copies of one fixture call would all be
		// each other's copies (same Call-ID and tags, close in time), and
		// loading hundreds of copies a call cost this test minutes under
		// -race for nothing it checks. One batch: 2,345 commits cost the
		// rest of them.
		c.SIPCallID = fmt.Sprintf("export-%d@example.com", i)
		calls = append(calls, &c)
	}
	if err := f.db.PutCalls(ctx, calls); err != nil {
		t.Fatal(err)
	}
	cl := f.login(t, "sue")
	for _, sort := range []string{"-start", "caller", "-mos", "pdd"} {
		want, err := f.db.Calls(ctx, spanrec.CallFilter{Sort: sort})
		if err != nil {
			t.Fatal(err)
		}
		pc.mu.Lock()
		pc.queries, pc.largest = 0, 0
		pc.mu.Unlock()
		res, body := cl.do("GET", "/api/calls.csv?sort="+sort, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		rows := readCSV(t, body)
		if len(rows) != len(want) || len(want) < n {
			t.Fatalf("sort %q: %d rows of %d calls", sort, len(rows), len(want))
		}
		for i, c := range want {
			if rows[i]["id"] != string(c.ID) {
				t.Fatalf("sort %q: row %d is %s, want %s", sort, i, rows[i]["id"], c.ID)
			}
		}
		if pc.largest > 200 || pc.queries < len(want)/200 {
			t.Errorf("sort %q: the export read %d pages, the largest of %d calls: not paged", sort, pc.queries, pc.largest)
		}
	}
	// A limit caps the export, an offset skips as in the JSON list.
	res, body := cl.do("GET", "/api/calls.csv?limit=450&offset=7&sort=start", nil)
	rows := readCSV(t, body)
	asc, _ := f.db.Calls(ctx, spanrec.CallFilter{Sort: spanrec.SortStart, Offset: 7, Limit: 450})
	if res.StatusCode != http.StatusOK || len(rows) != 450 || rows[449]["id"] != string(asc[449].ID) || rows[0]["id"] != string(asc[0].ID) {
		t.Errorf("limit 450 offset 7: %d rows", len(rows))
	}
}

// TestDownloadNames: single downloads are named after the call's start
// (in the configured zone), parties and ID.
func TestDownloadNames(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	f := newFixture(t, false, func(cfg *api.Config) { cfg.Zone = berlin })
	c := f.login(t, "sue")
	// The demo's inbound call from Erin (205) to Alice (201) at 09:00:12 UTC.
	const id = "39004915f88bacf87ef8"
	res, _ := c.do("GET", "/api/calls/"+id+"/audio?download=1", nil)
	if got, want := res.Header.Get("Content-Disposition"), `attachment; filename="2026-11-01_1000_205-to-201_`+id+`.wav"`; got != want {
		t.Errorf("audio: Content-Disposition %q, want %q", got, want)
	}
	res, _ = c.do("GET", "/api/calls/"+id+"/pcap", nil)
	if got, want := res.Header.Get("Content-Disposition"), `attachment; filename="2026-11-01_1000_205-to-201_`+id+`.pcapng"`; got != want {
		t.Errorf("pcap: Content-Disposition %q, want %q", got, want)
	}
	f2 := newFixture(t, false, nil) // UTC
	res, _ = f2.login(t, "sue").do("GET", "/api/calls/"+id+"/audio?download=1", nil)
	if got, want := res.Header.Get("Content-Disposition"), `attachment; filename="2026-11-01_0900_205-to-201_`+id+`.wav"`; got != want {
		t.Errorf("UTC: Content-Disposition %q, want %q", got, want)
	}
}

// unzip returns the files of a ZIP by name.
func unzip(t *testing.T, body []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("ZIP: %v (%d bytes)", err, len(body))
	}
	out := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		out[zf.Name] = b
	}
	return out
}

// TestDownloadZip: selected calls' recordings and captures come as one
// ZIP whose files are the data directory's, each download audited per
// call; an agent gets 404 for a selection with another's call.
func TestDownloadZip(t *testing.T) {
	f := newFixture(t, true, nil)
	sue := f.login(t, "sue")
	var pick []*spanrec.Call
	for _, c := range f.calls {
		if c.Audio != "" && len(pick) < 3 {
			pick = append(pick, c)
		}
	}
	noAudio := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio == "" })
	pick = append(pick, noAudio)
	ids := []string{}
	for _, c := range pick {
		ids = append(ids, string(c.ID))
	}
	ids = append(ids, ids[0]) // twice: once in the archive
	res, body := sue.do("POST", "/api/calls/download.zip", map[string]any{"ids": ids, "pcap": true})
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("zip: %d %v %s", res.StatusCode, res.Header, body)
	}
	files := unzip(t, body)
	for _, c := range pick {
		for _, x := range []struct{ rel, ext, action string }{
			{c.Audio, ".wav", auth.ActionDownload}, {c.PCAP, ".pcapng", auth.ActionDownloadPCAP},
		} {
			if x.rel == "" {
				continue
			}
			want, err := os.ReadFile(filepath.Join(f.dir, x.rel))
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := files[fileName(c, x.ext)]; !ok || !bytes.Equal(got, want) {
				t.Errorf("%s in the ZIP: %v, %d bytes of %d", fileName(c, x.ext), ok, len(got), len(want))
			}
			if n := auditCount(t, f, x.action, c.ID); n != 1 {
				t.Errorf("call %s: %d %s entries", c.ID, n, x.action)
			}
		}
	}
	if m := string(files["MISSING.txt"]); !strings.Contains(m, string(noAudio.ID)+": no recording") {
		t.Errorf("MISSING.txt: %q", m)
	}
	if len(files) != 2*3+1+1 { // 3 WAVs, 4 pcaps, MISSING.txt
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range files {
				if !yield(k) {
					return
				}
			}
		})
		t.Errorf("ZIP has %d files: %v", len(files), names)
	}

	// Audio only.
	res, body = sue.do("POST", "/api/calls/download.zip", map[string]any{"ids": ids[:1]})
	if files := unzip(t, body); res.StatusCode != http.StatusOK || len(files) != 1 || files[fileName(pick[0], ".wav")] == nil {
		t.Errorf("audio only: %d, %d files", res.StatusCode, len(files))
	}

	// Bounds and mistakes.
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("%020x", i)
	}
	res, body = sue.do("POST", "/api/calls/download.zip", map[string]any{"ids": many})
	wantError(t, "101 calls", res, body, http.StatusBadRequest)
	res, body = sue.do("POST", "/api/calls/download.zip", map[string]any{"ids": []string{}})
	wantError(t, "no calls", res, body, http.StatusBadRequest)
	res, body = sue.do("POST", "/api/calls/download.zip", map[string]any{"ids": []string{"../etc"}})
	wantError(t, "bad ID", res, body, http.StatusBadRequest)
	res, body = sue.do("POST", "/api/calls/download.zip", map[string]any{"ids": []string{"ffffffffffffffffffff"}})
	wantError(t, "unknown call", res, body, http.StatusNotFound)

	// An agent: their own call, yes; with another's, nothing.
	agnes := f.login(t, "agnes")
	mine, other := f.callWith(t, agnesCall), f.callWith(t, otherCall)
	res, body = agnes.do("POST", "/api/calls/download.zip", map[string]any{"ids": []string{string(mine.ID)}})
	if files := unzip(t, body); res.StatusCode != http.StatusOK || files[fileName(mine, ".wav")] == nil {
		t.Errorf("agent's own call: %d, %d files", res.StatusCode, len(files))
	}
	before := auditCount(t, f, auth.ActionDownload, other.ID)
	res, body = agnes.do("POST", "/api/calls/download.zip", map[string]any{"ids": []string{string(mine.ID), string(other.ID)}})
	wantError(t, "agent with another's call", res, body, http.StatusNotFound)
	if n := auditCount(t, f, auth.ActionDenied, other.ID); n != 1 {
		t.Errorf("%d access_denied entries for the other's call", n)
	}
	if n := auditCount(t, f, auth.ActionDownload, other.ID); n != before {
		t.Errorf("the refused call was audited as downloaded")
	}

	// The web UI's form: the CSRF token as a field.
	form := url.Values{"id": {string(pick[1].ID)}, "pcap": {"1"}}
	post := func(v url.Values) *http.Response {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/calls/download.zip", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := sue.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res = post(form)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("form without the CSRF token: %d", res.StatusCode)
	}
	res.Body.Close()
	form.Set("csrf_token", sue.csrf)
	res = post(form)
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if files := unzip(t, body); res.StatusCode != http.StatusOK || len(files) != 2 {
		t.Errorf("form: %d, %d files", res.StatusCode, len(files))
	}
}
