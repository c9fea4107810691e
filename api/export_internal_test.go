package api

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// TestOpenAPIExportParams: the CSV export is documented with exactly the
// parameters of the call list, since it reuses its parser.
func TestOpenAPIExportParams(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name string }
		}
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	names := func(path string) []string {
		var out []string
		for _, p := range doc.Paths[path]["get"].Parameters {
			out = append(out, p.Name)
		}
		slices.Sort(out)
		return out
	}
	if list, csv := names("/api/calls"), names("/api/calls.csv"); len(list) == 0 || !slices.Equal(list, csv) {
		t.Errorf("GET /api/calls has parameters %v, GET /api/calls.csv %v", list, csv)
	}
}

func TestDownloadName(t *testing.T) {
	start := time.Date(2026, 11, 1, 9, 0, 12, 0, time.UTC)
	tokyo := time.FixedZone("JST", 9*3600)
	for _, tt := range []struct {
		caller, callee string
		zone           *time.Location
		want           string
	}{
		{"205", "201", time.UTC, "2026-11-01_0900_205-to-201_0123456789abcdef0123.wav"},
		{"205", "201", tokyo, "2026-11-01_1800_205-to-201_0123456789abcdef0123.wav"},
		// What a SIP From may carry: quotes, slashes, spaces, NULs, dots.
		{`"Eve" <x>`, "../../etc/passwd", time.UTC, "2026-11-01_0900__Eve___x_-to-_._.._etc_passwd_0123456789abcdef0123.wav"},
		{"+4930 1234/5", "", time.UTC, "2026-11-01_0900_+4930_1234_5-to-unknown_0123456789abcdef0123.wav"},
		{"ä\x00\r\n", "a\"b", time.UTC, "2026-11-01_0900_____-to-a_b_0123456789abcdef0123.wav"},
		{"0123456789012345678901234567890123456789", "x", time.UTC, "2026-11-01_0900_01234567890123456789012345678901-to-x_0123456789abcdef0123.wav"},
	} {
		c := &spanrec.Call{ID: "0123456789abcdef0123", Start: start, Caller: spanrec.Party{Number: tt.caller}, Callee: spanrec.Party{Number: tt.callee}}
		if got := downloadName(c, tt.zone, ".wav"); got != tt.want {
			t.Errorf("%q to %q: %q, want %q", tt.caller, tt.callee, got, tt.want)
		}
	}
}

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+15555550123":             "'+15555550123",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tx":                      "'\tx",
		"201":                      "201",
		"Alice":                    "Alice",
		"":                         "",
	} {
		if got := neutralise(in); got != want {
			t.Errorf("neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}
