package api

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

// openAPIFile is the OpenAPI 3 description of the API as written.
//
//go:embed openapi.json
var openAPIFile []byte

// openAPIDoc is the document served: openAPIFile with the parameters of
// GET /api/calls copied to GET /api/calls.csv, which reads them with the
// same parser. TestOpenAPI checks that it is valid JSON and lists every
// route the server has.
var openAPIDoc = withExportParams(openAPIFile)

// withExportParams returns doc with the CSV export's parameters set to the
// call list's (limit described as the export's). A document it cannot
// read is returned as it is, for TestOpenAPI to report.
func withExportParams(doc []byte) []byte {
	var d map[string]json.RawMessage
	var paths map[string]map[string]map[string]json.RawMessage
	if json.Unmarshal(doc, &d) != nil || json.Unmarshal(d["paths"], &paths) != nil ||
		paths["/api/calls"]["get"] == nil || paths["/api/calls.csv"]["get"] == nil {
		return doc
	}
	var params []map[string]any
	if json.Unmarshal(paths["/api/calls"]["get"]["parameters"], &params) != nil {
		return doc
	}
	for _, p := range params {
		if p["name"] == "limit" {
			p["schema"] = map[string]any{"type": "integer", "minimum": 1, "maximum": maxLimit}
			p["description"] = "at most this many calls; without it, every matching call"
		}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return doc
	}
	paths["/api/calls.csv"]["get"]["parameters"] = raw
	if d["paths"], err = json.Marshal(paths); err != nil {
		return doc
	}
	out, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		return doc
	}
	return out
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(openAPIDoc)
}
