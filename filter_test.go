package spanrec

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseTime(t *testing.T) {
	utc := func(h, m, s int) time.Time { return time.Date(2026, 11, 1, h, m, s, 0, time.UTC) }
	for in, want := range map[string]time.Time{
		"2026-11-01T09:00:00Z":      utc(9, 0, 0),
		"2026-11-01T10:00:00+01:00": utc(9, 0, 0),
		"2026-11-01 09:00:00Z":      utc(9, 0, 0),
		"2026-11-01T09:00:00.5Z":    utc(9, 0, 0).Add(500 * time.Millisecond),
		"2026-11-01":                utc(0, 0, 0),
		"2026-11-01T09:30":          utc(9, 30, 0),
		"2026-11-01 09:30":          utc(9, 30, 0),
		"2026-11-01 09:30:15":       utc(9, 30, 15),
		"2026-11-01T09:30:15.25":    utc(9, 30, 15).Add(250 * time.Millisecond),
	} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "2026-11-31", "2026-11-01T25:00", "1.11.2026", "2026-11-01 ", "2026-11-01  09:00",
		"2026-11-01T09", strings.Repeat("9", 100)} {
		if got, err := ParseTime(in); ErrorKind(err) != EINVALID || !strings.Contains(err.Error(), "RFC 3339") {
			t.Errorf("ParseTime(%q) = %v, %v; want an EINVALID error", in, got, err)
		}
	}
}

func TestCallFilterSet(t *testing.T) {
	var f CallFilter
	for _, kv := range [][2]string{
		{"from", "2026-11-01"}, {"to", "2026-11-02T00:00:00Z"}, {"number", "201"}, {"direction", "inbound"},
		{"status", "ongoing"}, {"min_duration", "1.5"}, {"max_duration", "60"}, {"codec", "pcmu"},
		{"has_loss", "false"}, {"signalling", "none"}, {"interaction", "07ba1706e5c531670ef0"},
		{"group", "interaction"}, {"sort", "-duration"}, {"status_code", "486"}, {"hangup_by", "callee"},
		{"min_pdd", "250ms"}, {"max_pdd", "3"}, {"min_ring", "1"}, {"max_ring", "0.5m"},
		{"tag", " Complaint "}, {"note", "refund"}, {"sensor", "berlin-1"},
	} {
		if err := f.Set(kv[0], kv[1]); err != nil {
			t.Fatalf("Set(%s, %s): %v", kv[0], kv[1], err)
		}
	}
	want := CallFilter{
		Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		Number: "201", Direction: Inbound, Status: Ongoing, MinDuration: 1500 * time.Millisecond,
		MaxDuration: time.Minute, Codec: "pcmu", Signalling: SignallingNone, Interaction: "07ba1706e5c531670ef0",
		GroupInteraction: true, Sort: SortDurationDesc, StatusCode: 486, HangupBy: "callee",
		MinPDD: 250 * time.Millisecond, MaxPDD: 3 * time.Second, MinRing: time.Second, MaxRing: 30 * time.Second,
	}
	if f.HasLoss == nil || *f.HasLoss {
		t.Errorf("HasLoss = %v, want false", f.HasLoss)
	}
	f.HasLoss = nil
	if !f.Since.Equal(want.Since) || !f.Until.Equal(want.Until) {
		t.Errorf("Since, Until = %v, %v", f.Since, f.Until)
	}
	f.Since, f.Until, want.Since, want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if f.Number != want.Number || f.Direction != want.Direction || f.Status != want.Status ||
		f.MinDuration != want.MinDuration || f.MaxDuration != want.MaxDuration || f.Codec != want.Codec ||
		f.Signalling != want.Signalling || f.Interaction != want.Interaction || !f.GroupInteraction || f.Sort != want.Sort ||
		f.StatusCode != want.StatusCode || f.HangupBy != want.HangupBy || f.MinPDD != want.MinPDD || f.MaxPDD != want.MaxPDD ||
		f.MinRing != want.MinRing || f.MaxRing != want.MaxRing || f.Tag != "complaint" || f.NoteText != "refund" || f.Sensor != "berlin-1" {
		t.Errorf("filter %+v, want %+v", f, want)
	}
	if err := f.Check(); err != nil {
		t.Error(err)
	}
	for _, kv := range [][2]string{
		{"from", "soon"}, {"number", strings.Repeat("1", 65)}, {"direction", "up"}, {"status", "odd"},
		{"min_duration", "-1"}, {"max_duration", "NaN"}, {"max_duration", "-2s"}, {"max_duration", "2 s"}, {"min_duration", "1e10"}, {"codec", strings.Repeat("x", 33)},
		{"has_loss", "maybe"}, {"signalling", "sccp"}, {"interaction", ""}, {"group", "caller"}, {"sort", "nope"},
		{"sort", "--start"}, {"status_code", "99"}, {"status_code", "7e2"}, {"hangup_by", "both"}, {"min_pdd", "-1"}, {"max_ring", "x"},
		{"tag", ""}, {"tag", "a b"}, {"tag", strings.Repeat("t", 41)}, {"note", ""}, {"note", strings.Repeat("n", 201)},
		{"limit", "5"}, {"frm", "2026-11-01"},
	} {
		var g CallFilter
		if err := g.Set(kv[0], kv[1]); ErrorKind(err) != EINVALID {
			t.Errorf("Set(%s, %q) = %v, want EINVALID", kv[0], kv[1], err)
		}
	}
	bad := []CallFilter{
		{Since: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{MinDuration: 10 * time.Second, MaxDuration: 5 * time.Second},
		{MinPDD: 2 * time.Second, MaxPDD: time.Second},
		{MinRing: 2 * time.Second, MaxRing: time.Second},
	}
	for _, b := range bad {
		if err := b.Check(); ErrorKind(err) != EINVALID {
			t.Errorf("Check(%+v) = %v, want EINVALID", b, err)
		}
	}
}

// FuzzCallFilterSet: search terms come from HTTP query strings and the
// command line. Set never panics, and its messages stay short and valid
// UTF-8 whatever the value.
func FuzzCallFilterSet(f *testing.F) {
	for _, p := range FilterParams {
		f.Add(p, "2026-11-01 09:00")
		f.Add(p, "\xff\xfe")
	}
	f.Add("from", "2026-11-01T09:00:00.123456789+14:00")
	f.Fuzz(func(t *testing.T, param, value string) {
		var c CallFilter
		err := c.Set(param, value)
		if err != nil && (len(err.Error()) > 400 || ErrorKind(err) != EINVALID) {
			t.Fatalf("Set(%q, %q): %v", param, value, err)
		}
		if err == nil && (param == "from" || param == "to") && !utf8.ValidString(value) {
			t.Fatalf("Set(%q, %q) accepted invalid UTF-8", param, value)
		}
		_ = c.Check()
	})
}
