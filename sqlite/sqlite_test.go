package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sqlite"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// fullCall returns a call with every field set, its times in zone loc.
func fullCall(loc *time.Location) *spanrec.Call {
	at := func(d time.Duration) time.Time { return t0.Add(d).In(loc) }
	return &spanrec.Call{
		ID:          spanrec.NewCallID("a84b4c76e66710@pc33.example.com", t0),
		Interaction: spanrec.NewCallID("a84b4c76e66710@pc33.example.com", t0), // no other leg
		LinkKeys:    []string{"cid:a84b4c76e66710@pc33.example.com", "media:192.0.2.10:40000|198.51.100.7:20000"},
		SIPCallID:   "a84b4c76e66710@pc33.example.com",
		Caller:      spanrec.Party{Number: "+4930123456", Name: "Ålice \"A\" O'Hara", Addr: netip.MustParseAddr("192.0.2.10")},
		Callee:      spanrec.Party{Number: "2001", Name: "Bob", Addr: netip.MustParseAddr("2001:db8::20")},
		Direction:   spanrec.Inbound,
		Status:      spanrec.Answered,
		StatusCode:  200,
		Start:       at(0),
		Answer:      at(3 * time.Second),
		End:         at(63 * time.Second),
		Duration:    60 * time.Second,
		Codecs:      []string{"PCMU", "telephone-event"},
		AudioStart:  at(3*time.Second + 20*time.Millisecond),
		AudioMS:     59980,
		Audio:       "2025/03/14/call.wav",
		AudioSHA256: strings.Repeat("ab", 32),
		PCAP:        "2025/03/14/call.pcap",
		PCAPSHA256:  strings.Repeat("cd", 32),
		DTMF: []spanrec.DTMF{
			{Digit: "1", At: at(10 * time.Second), DurationMS: 120, Side: spanrec.CallerSide, Source: "rfc4733"},
			{Digit: "#", At: at(11 * time.Second), Side: spanrec.CalleeSide, Source: "sip-info"},
		},
		Streams: []spanrec.Stream{
			{
				SSRC: 0xdeadbeef, Src: netip.MustParseAddrPort("192.0.2.10:40000"),
				Dst: netip.MustParseAddrPort("198.51.100.7:20000"), Side: spanrec.CallerSide,
				PayloadType: 0, Codec: "PCMU", ClockRate: 8000, Decoded: true,
				First: at(3 * time.Second), Last: at(63 * time.Second),
				Packets: 3000, Lost: 2, Duplicates: 1, OutOfOrder: 3,
				JitterMS: 1.25, MeanJitterMS: 0.875, MaxJitterMS: 4.5, MaxDeltaMS: 41.0625, MOS: 4.31,
			},
			{
				SSRC: 1, Src: netip.MustParseAddrPort("[2001:db8::20]:30000"),
				Dst: netip.MustParseAddrPort("[fe80::1%eth0]:40000"), Side: spanrec.CalleeSide,
				PayloadType: 96, ClockRate: 48000,
				First: at(3 * time.Second), Last: at(62 * time.Second),
				Packets: 2990, JitterMS: 0.1, MOS: math.Inf(1),
				Encryption: spanrec.SRTP, AuthFailures: 7,
			},
		},
		CaptureLoss: true,
		Notes:       []string{"codec G729 not decoded", "one-way audio: callee → caller"},
		Holds: []spanrec.Hold{
			{Side: spanrec.CalleeSide, Start: at(20 * time.Second), End: at(30 * time.Second)},
			{Side: spanrec.CallerSide, Start: at(40 * time.Second), End: at(63 * time.Second)},
		},
		Signalling: spanrec.SignallingSIP,
	}
}

// utc returns a copy of c with every time in UTC, as the index returns it.
func utc(c *spanrec.Call) *spanrec.Call {
	d := *c
	d.Start, d.Answer, d.End, d.AudioStart = d.Start.UTC(), d.Answer.UTC(), d.End.UTC(), d.AudioStart.UTC()
	d.DTMF = append([]spanrec.DTMF(nil), c.DTMF...)
	for i := range d.DTMF {
		d.DTMF[i].At = d.DTMF[i].At.UTC()
	}
	d.Streams = append([]spanrec.Stream(nil), c.Streams...)
	for i := range d.Streams {
		d.Streams[i].First, d.Streams[i].Last = d.Streams[i].First.UTC(), d.Streams[i].Last.UTC()
	}
	d.Holds = append([]spanrec.Hold(nil), c.Holds...)
	for i := range d.Holds {
		d.Holds[i].Start, d.Holds[i].End = d.Holds[i].Start.UTC(), d.Holds[i].End.UTC()
	}
	return &d
}

// kinds opens a database of each kind: a file in t.TempDir() and :memory:.
func kinds(t *testing.T, f func(t *testing.T, db *sqlite.DB)) {
	t.Helper()
	for _, name := range []string{"file", "memory"} {
		t.Run(name, func(t *testing.T) {
			path := ":memory:"
			if name == "file" {
				path = filepath.Join(t.TempDir(), "index.db")
			}
			f(t, open(t, path))
		})
	}
}

func open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func put(t testing.TB, db *sqlite.DB, cs ...*spanrec.Call) {
	t.Helper()
	for _, c := range cs {
		if err := db.PutCall(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	berlin := time.FixedZone("CET", 3600)
	unanswered := fullCall(time.UTC)
	unanswered.ID, unanswered.Interaction, unanswered.LinkKeys = "0000unanswered", "0000unanswered", nil
	unanswered.Status, unanswered.StatusCode = spanrec.NoAnswer, 480
	unanswered.Answer, unanswered.Duration, unanswered.AudioStart = time.Time{}, 0, time.Time{}
	unanswered.Audio, unanswered.AudioSHA256, unanswered.AudioMS = "", "", 0
	unanswered.Caller.Addr, unanswered.Callee.Name = netip.Addr{}, ""
	unanswered.Streams = []spanrec.Stream{{SSRC: 7}} // zero addresses and times
	unanswered.DTMF = []spanrec.DTMF{{Digit: "flash"}}
	unanswered.Codecs, unanswered.Notes = []string{}, nil
	unanswered.Holds, unanswered.Signalling = nil, spanrec.SignallingNone

	tests := map[string]*spanrec.Call{
		"full, UTC":        fullCall(time.UTC),
		"full, other zone": fullCall(berlin),
		"unanswered":       unanswered,
	}
	kinds(t, func(t *testing.T, db *sqlite.DB) {
		for name, in := range tests {
			t.Run(name, func(t *testing.T) {
				put(t, db, in)
				got, err := db.Call(ctx, in.ID)
				if err != nil {
					t.Fatal(err)
				}
				if want := utc(in); !reflect.DeepEqual(got, want) {
					t.Errorf("Call:\ngot  %+v\nwant %+v", got, want)
				}
			})
		}
	})
}

func TestNoChildren(t *testing.T) {
	db := open(t, ":memory:")
	c := fullCall(time.UTC)
	c.Streams, c.DTMF = nil, nil
	put(t, db, c)
	got, err := db.Call(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Streams != nil || got.DTMF != nil {
		t.Errorf("streams %v, dtmf %v; want nil", got.Streams, got.DTMF)
	}
}

func TestNaN(t *testing.T) {
	db := open(t, ":memory:")
	c := fullCall(time.UTC)
	c.Streams[0].MOS, c.Streams[0].JitterMS = math.NaN(), -0.5
	put(t, db, c)
	got, err := db.Call(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Streams[0]; !math.IsNaN(s.MOS) || s.JitterMS != -0.5 {
		t.Errorf("MOS %v, jitter %v; want NaN, -0.5", s.MOS, s.JitterMS)
	}
}

func TestUpsert(t *testing.T) {
	ctx := context.Background()
	kinds(t, func(t *testing.T, db *sqlite.DB) {
		c := fullCall(time.UTC)
		put(t, db, c)
		c2 := fullCall(time.UTC)
		c2.Status, c2.StatusCode = spanrec.Failed, 503
		c2.Streams = c2.Streams[1:]
		c2.DTMF = nil
		c2.Notes = []string{"re-imported"}
		put(t, db, c2)
		if n, err := db.Count(ctx, spanrec.CallFilter{}); err != nil || n != 1 {
			t.Fatalf("Count = %d, %v; want 1", n, err)
		}
		got, err := db.Call(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c2) {
			t.Errorf("after upsert:\ngot  %+v\nwant %+v", got, c2)
		}
	})
}

// filterCalls returns the calls of the filter tests, newest first.
func filterCalls() []*spanrec.Call {
	mk := func(id string, min int, caller, callee string, dir spanrec.Direction, st spanrec.Status) *spanrec.Call {
		return &spanrec.Call{
			ID: spanrec.CallID(id), Start: t0.Add(time.Duration(min) * time.Minute),
			Caller: spanrec.Party{Number: caller}, Callee: spanrec.Party{Number: callee},
			Direction: dir, Status: st,
			Streams: []spanrec.Stream{{SSRC: uint32(min)}},
			DTMF:    []spanrec.DTMF{{Digit: id[:1]}},
		}
	}
	return []*spanrec.Call{
		mk("e-call", 40, "100%", "2001", spanrec.Outbound, spanrec.Busy),
		mk("d-call", 30, "1_3", "2002", spanrec.Internal, spanrec.Answered),
		mk("b-call", 20, "123", "ALICE", spanrec.Inbound, spanrec.Answered), // same start as c-call: ID order
		mk("c-call", 20, "555", "2001", spanrec.Inbound, spanrec.NoAnswer),
		mk("a-call", 10, `4\5`, "600", spanrec.Outbound, spanrec.Cancelled),
	}
}

func TestCallsFilter(t *testing.T) {
	ctx := context.Background()
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	tests := []struct {
		name string
		f    spanrec.CallFilter
		want string // IDs' first letters, in order
	}{
		{"all newest first", spanrec.CallFilter{}, "edbca"},
		{"number in caller", spanrec.CallFilter{Number: "55"}, "c"},
		{"number in callee", spanrec.CallFilter{Number: "600"}, "a"},
		{"number either side", spanrec.CallFilter{Number: "2001"}, "ec"},
		{"number substring", spanrec.CallFilter{Number: "2"}, "edbc"},
		{"number is case-insensitive", spanrec.CallFilter{Number: "lic"}, "b"},
		{"percent is literal", spanrec.CallFilter{Number: "0%"}, "e"},
		{"underscore is literal", spanrec.CallFilter{Number: "1_"}, "d"},
		{"backslash is literal", spanrec.CallFilter{Number: `\`}, "a"},
		{"no number match", spanrec.CallFilter{Number: "999"}, ""},
		{"since inclusive", spanrec.CallFilter{Since: at(20)}, "edbc"},
		{"until exclusive", spanrec.CallFilter{Until: at(30)}, "bca"},
		{"since and until", spanrec.CallFilter{Since: at(15), Until: at(35)}, "dbc"},
		{"since in another zone", spanrec.CallFilter{Since: at(30).In(time.FixedZone("X", -5*3600))}, "ed"},
		{"since far past", spanrec.CallFilter{Since: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)}, "edbca"},
		{"until far future", spanrec.CallFilter{Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, "edbca"},
		{"direction", spanrec.CallFilter{Direction: spanrec.Outbound}, "ea"},
		{"status", spanrec.CallFilter{Status: spanrec.Answered}, "db"},
		{"direction and status", spanrec.CallFilter{Direction: spanrec.Inbound, Status: spanrec.Answered}, "b"},
		{"limit", spanrec.CallFilter{Limit: 2}, "ed"},
		{"limit offset", spanrec.CallFilter{Limit: 2, Offset: 2}, "bc"},
		{"offset only", spanrec.CallFilter{Offset: 3}, "ca"},
		{"offset past end", spanrec.CallFilter{Offset: 9}, ""},
		{"filter and limit", spanrec.CallFilter{Number: "2", Limit: 1, Offset: 1}, "d"},
	}
	kinds(t, func(t *testing.T, db *sqlite.DB) {
		calls := filterCalls()
		put(t, db, calls...)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.Calls(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var ids strings.Builder
				for _, c := range got {
					ids.WriteByte(c.ID[0])
					if len(c.Streams) != 1 || c.Streams[0].SSRC != uint32(c.Start.Sub(t0)/time.Minute) {
						t.Errorf("call %s: streams %+v", c.ID, c.Streams)
					}
					if len(c.DTMF) != 1 || c.DTMF[0].Digit != string(c.ID[:1]) {
						t.Errorf("call %s: dtmf %+v", c.ID, c.DTMF)
					}
				}
				if ids.String() != tt.want {
					t.Errorf("Calls = %q, want %q", ids.String(), tt.want)
				}
				n, err := db.Count(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				nf := tt.f
				nf.Limit, nf.Offset = 0, 0
				all, err := db.Calls(ctx, nf)
				if err != nil {
					t.Fatal(err)
				}
				if n != len(all) {
					t.Errorf("Count = %d, want %d", n, len(all))
				}
			})
		}
	})
}

func TestCallsEmpty(t *testing.T) {
	db := open(t, ":memory:")
	got, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("Calls = %v, %v; want empty non-nil slice", got, err)
	}
}

func TestCallByPrefix(t *testing.T) {
	ctx := context.Background()
	db := open(t, ":memory:")
	for _, id := range []string{"abcdef0123", "abcdef4567", "abcde\xff", "1234567890", "123456"} {
		put(t, db, &spanrec.Call{ID: spanrec.CallID(id), Start: t0})
	}
	tests := []struct {
		id   string
		want string // "" for an error
		kind string
	}{
		{"abcdef0123", "abcdef0123", ""},
		{"abcdef0", "abcdef0123", ""},
		{"abcdef4", "abcdef4567", ""},
		{"abcdef", "", spanrec.EINVALID},
		{"abcde\xff", "abcde\xff", ""},
		{"123456", "123456", ""}, // exact match wins over the prefix of 1234567890
		{"1234567", "1234567890", ""},
		{"abcde", "", spanrec.ENOTFOUND}, // too short to be a prefix
		{"abcdef9", "", spanrec.ENOTFOUND},
		{"zzzzzzzz", "", spanrec.ENOTFOUND},
		{"", "", spanrec.EINVALID},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.id), func(t *testing.T) {
			got, err := db.Call(ctx, spanrec.CallID(tt.id))
			if tt.kind != "" {
				if k := spanrec.ErrorKind(err); k != tt.kind {
					t.Fatalf("Call = %v, %v; want error of kind %s", got, err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.ID) != tt.want {
				t.Errorf("Call.ID = %q, want %q", got.ID, tt.want)
			}
		})
	}
}

func TestDeleteCall(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	db := open(t, path)
	c := fullCall(time.UTC)
	other := fullCall(time.UTC)
	other.ID = "other"
	put(t, db, c, other)
	if err := db.DeleteCall(ctx, c.ID[:8]); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("DeleteCall(prefix) = %v, want ENOTFOUND", err)
	}
	if err := db.DeleteCall(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Call(ctx, c.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("Call after delete: %v, want ENOTFOUND", err)
	}
	if err := db.DeleteCall(ctx, c.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("second DeleteCall = %v, want ENOTFOUND", err)
	}
	raw := rawOpen(t, path)
	for _, table := range []string{"streams", "dtmf"} {
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM `+table+` WHERE call_id = ?`, c.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d %s rows left after delete", n, table)
		}
		if err := raw.QueryRow(`SELECT count(*) FROM ` + table + ` WHERE call_id = 'other'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("other call has %d %s rows, want 2", n, table)
		}
	}
}

func TestInvalid(t *testing.T) {
	ctx := context.Background()
	db := open(t, ":memory:")
	tooLate := fullCall(time.UTC)
	tooLate.End = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	tooEarlyDTMF := fullCall(time.UTC)
	tooEarlyDTMF.DTMF[0].At = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range map[string]*spanrec.Call{
		"nil": nil, "no id": {}, "end after 2262": tooLate, "dtmf before 1678": tooEarlyDTMF,
	} {
		if err := db.PutCall(ctx, c); spanrec.ErrorKind(err) != spanrec.EINVALID {
			t.Errorf("PutCall(%s) = %v, want EINVALID", name, err)
		}
	}
	if n, _ := db.Count(ctx, spanrec.CallFilter{}); n != 0 {
		t.Errorf("%d calls stored after invalid puts", n)
	}
	for _, f := range []spanrec.CallFilter{{Limit: -1}, {Offset: -1}} {
		if _, err := db.Calls(ctx, f); spanrec.ErrorKind(err) != spanrec.EINVALID {
			t.Errorf("Calls(%+v) = %v, want EINVALID", f, err)
		}
		if _, err := db.Count(ctx, f); spanrec.ErrorKind(err) != spanrec.EINVALID {
			t.Errorf("Count(%+v) = %v, want EINVALID", f, err)
		}
	}
}

func TestTwoProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	w, r := open(t, path), open(t, path)
	c := fullCall(time.UTC)
	put(t, w, c)
	got, err := r.Call(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("reader got %+v, want %+v", got, c)
	}
	c.Status = spanrec.Failed
	put(t, w, c)
	calls, err := r.Calls(ctx, spanrec.CallFilter{Status: spanrec.Failed})
	if err != nil || len(calls) != 1 {
		t.Fatalf("reader Calls = %v, %v; want the updated call", calls, err)
	}
	// The reader's DB can write too, and the first one sees it.
	other := fullCall(time.UTC)
	other.ID = "from-the-other"
	put(t, r, other)
	if n, err := w.Count(ctx, spanrec.CallFilter{}); err != nil || n != 2 {
		t.Errorf("Count = %d, %v; want 2", n, err)
	}
	var mode string
	if err := rawOpen(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.db")
	db := open(t, path)
	put(t, db, fullCall(time.UTC))
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o640 {
			t.Errorf("%s: mode %o, want 640", filepath.Base(p), m)
		}
	}
}

func TestAwkwardPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%20d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "index.db")
	db := open(t, path)
	put(t, db, fullCall(time.UTC))
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	c := fullCall(time.UTC)
	for i := range 3 {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if i == 0 {
			put(t, db, c)
		}
		got, err := db.Call(ctx, c.ID)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("open %d: Call = %+v, %v", i, got, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// One schema version per migration file.
	files, _ := filepath.Glob("migrations/*.sql")
	var v int
	if err := rawOpen(t, path).QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != len(files) || v < 2 {
		t.Errorf("user_version = %d, %v; want %d", v, err, len(files))
	}
}

func TestNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	db := open(t, path)
	put(t, db, fullCall(time.UTC))
	if _, err := rawOpen(t, path).Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db2, err := sqlite.Open(ctx, path)
	if err == nil {
		db2.Close()
		t.Fatal("Open of a newer database succeeded")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error %q does not say the schema is newer", err)
	}
}

// rawOpen opens the database at path directly, to inspect what sqlite
// stores.
func rawOpen(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func TestCanceledContext(t *testing.T) {
	db := open(t, ":memory:")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.PutCall(ctx, fullCall(time.UTC)); err == nil {
		t.Error("PutCall with a canceled context succeeded")
	}
	if n, err := db.Count(context.Background(), spanrec.CallFilter{}); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0", n, err)
	}
}
