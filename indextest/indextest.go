// Package indextest is the conformance test suite of the call index: every
// backend (sqlite, postgres) runs Run, so that the CLI, the API and the
// recorder see the same behaviour whichever index holds the calls —
// storing and returning every field of a call, search filters, sort
// orders and paging, ID prefixes, linking the legs of a conversation, the
// indexing-order feed of the live view, the dashboard's aggregates (on
// third-party captures, against tshark's view of them), legal holds and
// the deletions of package retention, and the accounts, sessions, tokens
// and audit trail of the web UI.
package indextest

import (
	"context"
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// Index is what a backend offers: the call index with the methods the API
// and the CLI use, and the accounts of the web UI.
type Index interface {
	spanrec.CallIndex
	Count(ctx context.Context, f spanrec.CallFilter) (int, error)
	CountUpTo(ctx context.Context, f spanrec.CallFilter, max int) (int, bool, error)
	SearchStop(ctx context.Context, f spanrec.CallFilter) (*spanrec.SearchStop, error)
	DeleteCall(ctx context.Context, id spanrec.CallID) error
	SetLegalHold(ctx context.Context, id spanrec.CallID, h *spanrec.LegalHold) error
	BeginDeletion(ctx context.Context, d spanrec.Deletion) error
	FinishDeletion(ctx context.Context, id spanrec.CallID) error
	PendingDeletions(ctx context.Context) ([]spanrec.Deletion, error)
	CallsAfter(ctx context.Context, seq int64, limit int) ([]*spanrec.Call, int64, error)
	LastSeq(ctx context.Context) (int64, error)
	Stats(ctx context.Context, q spanrec.StatsQuery) (*spanrec.CallStats, error)
	AddTag(ctx context.Context, id spanrec.CallID, tag, user string, t time.Time) (bool, error)
	RemoveTag(ctx context.Context, id spanrec.CallID, tag string) (bool, error)
	TagCount(ctx context.Context, id spanrec.CallID) (int, error)
	CallTags(ctx context.Context, id spanrec.CallID) ([]spanrec.CallTag, error)
	SIPHeaders(ctx context.Context, id spanrec.CallID) ([]spanrec.SIPHeader, error)
	AddNote(ctx context.Context, n spanrec.CallNote) (spanrec.CallNote, error)
	Notes(ctx context.Context, id spanrec.CallID) ([]spanrec.CallNote, error)
	DeleteNote(ctx context.Context, id spanrec.CallID, noteID int64) (spanrec.CallNote, error)
	StreamQuality(ctx context.Context, id spanrec.CallID) ([]*spanrec.StreamQuality, error)

	AddUser(ctx context.Context, u auth.User) error
	User(ctx context.Context, name string) (*auth.User, error)
	Users(ctx context.Context) ([]auth.User, error)
	SetPassword(ctx context.Context, name, hash string) error
	SetDisabled(ctx context.Context, name string, disabled bool) error
	DeleteUser(ctx context.Context, name string) error
	PutSession(ctx context.Context, s auth.Session) error
	Session(ctx context.Context, idHash string) (*auth.Session, error)
	DeleteSession(ctx context.Context, idHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
	AddToken(ctx context.Context, t auth.Token) (int64, error)
	TokenByHash(ctx context.Context, hash string) (*auth.Token, error)
	Tokens(ctx context.Context, user string) ([]auth.Token, error)
	TouchToken(ctx context.Context, id int64, now time.Time) error
	DeleteToken(ctx context.Context, id int64) error
	AddEvent(ctx context.Context, e auth.Event) error
	Events(ctx context.Context, f auth.EventFilter) ([]auth.Event, int, error)
	SavedSearches(ctx context.Context, user string) ([]auth.SavedSearch, error)
	SaveSearch(ctx context.Context, s auth.SavedSearch, max int) (auth.SavedSearch, error)
	DeleteSavedSearch(ctx context.Context, user string, id int64) error

	Close() error
}

// Backend opens indexes for the suite.
type Backend struct {
	// Open opens (creating it if new) the index store called name, a
	// short lower-case identifier: the same name opens the same store
	// again, as another process would. The suite closes what it opens.
	Open func(t *testing.T, name string) (Index, error)
	// Central is set for an index that gathers many sensors' calls
	// (postgres): its PutCall refuses another sensor's call under an ID
	// it holds (ECONFLICT), where a sensor's own index (sqlite), whose
	// rows go with its data directory's files, replaces it.
	Central bool
	// Only, when set, names the tests to run (a second run of the
	// searches under other plan choices, say); nil runs every test.
	Only []string
	// Skip names tests not to run (the slowest, single-threaded ones
	// under -race, run apart without it).
	Skip []string
}

// Run runs the conformance suite against b. Every test uses stores of its
// own.
func Run(t *testing.T, b Backend) {
	s := &suite{b: b}
	tests := []suiteTest{
		{"RoundTrip", s.testRoundTrip},
		{"NoChildren", s.testNoChildren},
		{"NaN", s.testNaN},
		{"Upsert", s.testUpsert},
		{"Filter", s.testFilter},
		{"Search", s.testSearch},
		{"NumberSearch", s.testNumberSearch},
		{"SearchSIP", s.testSearchSIP},
		{"SearchTexts", s.testSearchTexts},
		{"SearchInvalid", s.testSearchInvalid},
		{"CountUpTo", s.testCountUpTo},
		{"CountPerCall", s.testCountPerCall},
		{"SearchStop", s.testSearchStop},
		{"SearchStopGrouped", s.testSearchStopGrouped},
		{"Paged", s.testPaged},
		{"PagedDeep", s.testPagedDeep},
		{"Empty", s.testEmpty},
		{"ByPrefix", s.testByPrefix},
		{"DeleteCall", s.testDeleteCall},
		{"DeleteRegroupsLegs", s.testDeleteRegroupsLegs},
		{"LegalHoldDeletion", s.testLegalHoldDeletion},
		{"Invalid", s.testInvalid},
		{"HostileStrings", s.testHostileStrings},
		{"TwoHandles", s.testTwoHandles},
		{"Reopen", s.testReopen},
		{"CallsAfter", s.testCallsAfter},
		{"Legs", s.testLegs},
		{"LegsCount", s.testLegsCount},
		{"GroupInteraction", s.testGroupInteraction},
		{"GroupInteractionPages", s.testGroupInteractionPages},
		{"RangePages", s.testRangePages},
		{"GroupNoStart", s.testGroupNoStart},
		{"SensorConflict", s.testSensorConflict},
		{"Copies", s.testCopies},
		{"TwoSensors", s.testTwoSensors},
		{"CanceledContext", s.testCanceledContext},
		{"Annotations", s.testAnnotations},
		{"StreamQuality", s.testStreamQuality},
		{"Stats", s.testStats},
		{"StatsBounds", s.testStatsBounds},
		{"StatsBuckets", s.testStatsBuckets},
		{"Users", s.testUsers},
		{"Disabled", s.testDisabled},
		{"SessionsExpire", s.testSessionsExpire},
		{"Tokens", s.testTokens},
		{"Audit", s.testAudit},
		{"SavedSearches", s.testSavedSearches},
	}
	for _, name := range slices.Concat(b.Only, b.Skip) {
		if !slices.ContainsFunc(tests, func(tc suiteTest) bool { return tc.name == name }) {
			t.Fatalf("Backend.Only or Skip names %q, which the suite has no test of", name)
		}
	}
	for _, tc := range tests {
		if b.Only != nil && !slices.Contains(b.Only, tc.name) || slices.Contains(b.Skip, tc.name) {
			continue
		}
		t.Run(tc.name, tc.fn)
	}
}

// suiteTest is one test of the suite.
type suiteTest struct {
	name string
	fn   func(*testing.T)
}

type suite struct {
	b Backend
	n int
}

// store returns a fresh store name.
func (s *suite) store() string {
	s.n++
	return "idx" + string(rune('a'+s.n/26%26)) + string(rune('a'+s.n%26))
}

// open opens the store called name and closes it at the end of t.
func (s *suite) open(t *testing.T, name string) Index {
	t.Helper()
	db, err := s.b.Open(t, name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// fresh opens a new empty store.
func (s *suite) fresh(t *testing.T) Index {
	t.Helper()
	return s.open(t, s.store())
}

// T0 is the start time of the suite's calls.
var T0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// FullCall returns a call with every field set, its times in zone loc.
func FullCall(loc *time.Location) *spanrec.Call {
	at := func(d time.Duration) time.Time { return T0.Add(d).In(loc) }
	return &spanrec.Call{
		ID:          spanrec.NewCallID("a84b4c76e66710@pc33.example.com", T0),
		Interaction: spanrec.NewCallID("a84b4c76e66710@pc33.example.com", T0), // no other leg
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
				Encryption: spanrec.SRTP, AuthFailures: 7, ConcealedMS: 140,
			},
		},
		CaptureLoss: true,
		Notes:       []string{"codec G729 not decoded", "one-way audio: callee → caller"},
		Holds: []spanrec.Hold{
			{Side: spanrec.CalleeSide, Start: at(20 * time.Second), End: at(30 * time.Second)},
			{Side: spanrec.CallerSide, Start: at(40 * time.Second), End: at(63 * time.Second)},
		},
		Signalling: spanrec.SignallingSIP,
		Sensor:     "sensor-berlin-1",
		CallerTag:  "1928301774",
		CalleeTag:  "a6c85cf",
	}
}

// UTC returns a copy of c with every time in UTC, as an index returns it.
func UTC(c *spanrec.Call) *spanrec.Call {
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

// put stores the calls or fails t.
func put(t testing.TB, db Index, cs ...*spanrec.Call) {
	t.Helper()
	for _, c := range cs {
		if err := db.PutCall(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
}

// idList returns the IDs of calls, separated by spaces.
func idList(calls []*spanrec.Call) string {
	l := make([]string, len(calls))
	for i, c := range calls {
		l[i] = string(c.ID)
	}
	return strings.Join(l, " ")
}

// ids returns the IDs of calls joined, or with first set their first bytes.
func ids(calls []*spanrec.Call, first bool) string {
	var b strings.Builder
	for _, c := range calls {
		if first {
			b.WriteByte(c.ID[0])
		} else {
			b.WriteString(string(c.ID))
		}
	}
	return b.String()
}
