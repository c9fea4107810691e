package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spanrec/spanrec/auth"
)

// csvPage is how many audit entries GET /api/audit.csv reads at a time:
// the export streams, whatever the trail's length.
const csvPage = 1000

// exportAudit streams the audit entries the filter selects as CSV, newest
// first. The export itself is audited before a byte is sent. Pages are
// read by ID, so that entries added during a long export (this export's
// own among them) neither repeat nor shift rows.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, err := parseEventFilter(r.URL.Query(), false)
	if err != nil {
		return err
	}
	// The newest entry before the export starts bounds it.
	first, _, err := s.cfg.Accounts.Events(r.Context(), auth.EventFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(first) == 0 {
		f.BeforeID = 1 // nothing to export
	} else {
		f.BeforeID = first[0].ID + 1
	}
	if err := s.auditStrict(r, p.user.Name, auth.ActionAuditExport, "", describeFilter(r)); err != nil {
		return err
	}
	name := "spanrec-audit-" + s.cfg.Now().UTC().Format("20060102T150405Z") + ".csv"
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "time_utc", "user", "action", "call_id", "remote", "detail"})
	rc := http.NewResponseController(w)
	f.Limit = csvPage
	for {
		es, _, err := s.cfg.Accounts.Events(r.Context(), f)
		if err != nil {
			// The status is sent: the truncated file ends with a line that
			// says so, and the error is logged.
			s.log.Error("api: audit export", "err", err)
			cw.Write([]string{"", "", "", "", "", "", "export failed: " + err.Error()})
			break
		}
		for _, e := range es {
			cw.Write([]string{
				strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano),
				csvCell(e.User), csvCell(e.Action), csvCell(e.CallID), csvCell(e.Remote), csvCell(e.Detail),
			})
		}
		cw.Flush()
		if cw.Error() != nil || len(es) < csvPage {
			break
		}
		rc.Flush()
		f.BeforeID = es[len(es)-1].ID
	}
	cw.Flush()
	return nil
}

// csvCell defuses a cell a spreadsheet would read as a formula (one that
// starts with = + - @, a tab or a carriage return; OWASP "CSV Injection"):
// it is prefixed with an apostrophe, which spreadsheets show as text.
// Audit details hold names and labels users chose, so this matters.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// describeFilter is the detail of an audit_export entry: the query asked.
func describeFilter(r *http.Request) string {
	q := r.URL.Query().Encode()
	if q == "" {
		return "all entries"
	}
	return truncate(q, 200)
}
