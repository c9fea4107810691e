package indextest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spanrec/spanrec"
)

// Searcher is what BenchQueries runs: a call index's search, count and
// dashboard aggregates.
type Searcher interface {
	Calls(ctx context.Context, f spanrec.CallFilter) ([]*spanrec.Call, error)
	CountUpTo(ctx context.Context, f spanrec.CallFilter, max int) (int, bool, error)
	SearchStop(ctx context.Context, f spanrec.CallFilter) (*spanrec.SearchStop, error)
	Stats(ctx context.Context, q spanrec.StatsQuery) (*spanrec.CallStats, error)
}

// BenchCall returns the i-th call of a benchmark index that PutCall
// fills: a full call with two streams and two key presses, a minute after
// the one before, with outcomes that differ from call to call (for the
// sorts' indexes).
func BenchCall(i int) *spanrec.Call {
	c := FullCall(time.UTC)
	c.ID = spanrec.NewCallID(fmt.Sprint("bench-", i), T0)
	c.Start = T0.Add(time.Duration(i) * time.Minute)
	c.Caller.Number = fmt.Sprintf("+49301%06d", i)
	c.PDD = time.Duration(100+i*7919%4000) * time.Millisecond
	c.HangupBy = []spanrec.Hangup{spanrec.HangupCaller, spanrec.HangupCallee, spanrec.HangupSystem}[i%3]
	for j := range c.Streams {
		c.Streams[j].MOS = 1 + float64(i*31%350)/100
	}
	return c
}

// BenchCalls returns the number of calls the search benchmarks generate:
// $SPANREC_BENCH_CALLS, or def.
func BenchCalls(def int) int {
	if v, err := strconv.Atoi(os.Getenv("SPANREC_BENCH_CALLS")); err == nil && v > 0 {
		return v
	}
	return def
}

// benchTotalCap is where GET /api/calls stops counting (api's totalCap).
const benchTotalCap = 10_000

// BenchQueries runs the web UI's searches — a page of 50 calls with the
// total counted up to 10,000, as GET /api/calls answers — and the dashboard's aggregates
// (GET /api/dashboard: a day and a week per hour, 30 days per day) on
// db, which holds n generated calls, and reports each one's p50 and p99
// latency in ms over $SPANREC_BENCH_RUNS runs (default 20; with fewer than
// 100, p99 is the slowest run), and for searches the same of the page
// (page-…) and of the total (total-…) apart.
//
// Call i (of n) has the ID i in 20 digits and starts i s after T0; its
// caller is +4930 and i mod 100 000 in six digits, its callee 2 and
// i mod 1000 in three; every fifth is inbound; a third (i mod 3 = 0) are
// unanswered (i mod 9 = 0, 3, 6: no answer 480, busy 486, cancelled 487;
// talk time 0, no codec, no streams, no PDD, no MOS); the others have a
// talk time of i mod 600 s, a PDD of i mod 5000 ms, and two streams
// (caller's from 192.0.2.(i mod 250 + 1), callee's from
// 198.51.100.(i mod 250 + 1)) of 50 packets a second of talk time,
// (i mod 7)·(i mod 3) lost each, with the call's MOS 1 + (i mod 350)/100,
// in G.722 (codecs G722 and PCMA offered) if i mod 5 = 0, PCMU if 1, else
// PCMA; one in 50 has capture loss; sensor-(i mod 4) recorded it; the
// caller hung up if i mod 7 is 1–3, the callee if 4–5, the system if 6,
// unknown if 0. Each call is an interaction of its own (one leg: legs 1). Its
// caller's user agent is "Yealink SIP-T46S 66.86.0." and i mod 100, its
// callee's "Asterisk PBX 18." and i mod 20 ".0"; every tenth INVITE has the
// header field x-account: acct- and i mod 1000; every hundredth call has
// the tag review and the note "customer asked for a callback". (PostgreSQL
// calls kept by $SPANREC_BENCH_PG from before the eleventh session are all
// PCMA, 480 when unanswered, of no known hang-up side, and lack user
// agents, headers, tags and notes: the searches for them are those whose
// answer may be empty.) The searches for an absent value (a value no call
// has: the worst case of a filter an index does not serve, which reads
// every row for its page and its total) must find no call.
//
// Sorted searches marked next also run the keyset page after the first
// (CallFilter.After its last call, as the CSV export pages). The deep-…
// queries are the 1000th page of 100 of a sort (CallFilter.After the
// 99 900th call, found once by an offset before the runs: what the CSV
// export of a large search reads at its 100 000th call), the page alone.
//
// With $SPANREC_BENCH_WRITERS, db (then also a Writer) takes new calls
// from that many sensors while the queries run (benchWriters).
//
// Every search runs as GET /api/calls runs it: bounded by
// spanrec.MaxUnindexedScan (CallFilter.ScanLimit), its SearchStop asked
// first and timed with the page (page-…); those marked stops (a text of
// fewer than 3 characters) must say that they stopped, the others must
// not.
func BenchQueries(b *testing.B, db Searcher, n int) {
	ctx := context.Background()
	bw := startWriters(b, db, n)
	defer bw.stop(b)
	runs := 20
	if v, err := strconv.Atoi(os.Getenv("SPANREC_BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	mid := T0.Add(time.Duration(n/2) * time.Second)
	yes := true
	// want: the search must find calls (some), none (an absent value),
	// or either (data an index generated before may lack).
	const (
		some = iota
		none
		either
	)
	for _, q := range []struct {
		name string
		f    spanrec.CallFilter
		want int
		next bool // the keyset page after the first (CallFilter.After its last call)
	}{
		{"newest", spanrec.CallFilter{}, some, false},
		{"page100", spanrec.CallFilter{Offset: 5000}, some, false},
		{"day", spanrec.CallFilter{Since: mid, Until: mid.Add(24 * time.Hour)}, some, false},
		{"number", spanrec.CallFilter{Number: "12345"}, some, false},
		{"extension", spanrec.CallFilter{Extensions: []string{"2042"}}, some, false},
		{"inbound-answered", spanrec.CallFilter{Direction: spanrec.Inbound, Status: spanrec.Answered}, some, false},
		{"has-loss", spanrec.CallFilter{HasLoss: &yes}, some, false},
		{"sensor", spanrec.CallFilter{Sensor: "sensor-2"}, some, false},
		{"sensor-day", spanrec.CallFilter{Sensor: "sensor-2", Since: mid, Until: mid.Add(24 * time.Hour)}, some, false},
		{"oldest", spanrec.CallFilter{Sort: "start"}, some, false},
		{"longest", spanrec.CallFilter{Sort: spanrec.SortDurationDesc}, some, false},
		{"shortest", spanrec.CallFilter{Sort: "duration"}, some, false},
		{"caller", spanrec.CallFilter{Sort: "caller"}, some, false},
		{"caller-desc", spanrec.CallFilter{Sort: "-caller"}, some, false},
		{"direction", spanrec.CallFilter{Sort: "direction"}, some, false},
		{"direction-desc", spanrec.CallFilter{Sort: "-direction"}, some, false},
		{"status", spanrec.CallFilter{Sort: "status"}, some, false},
		{"hangup-by", spanrec.CallFilter{Sort: "hangup_by"}, some, false},
		{"worst-mos", spanrec.CallFilter{Sort: "mos"}, some, false},
		{"longest-pdd", spanrec.CallFilter{Sort: "-pdd"}, some, false},
		// Every filter of the call list, each with an absent value and,
		// where the generated calls have one, a common one.
		{"ua", spanrec.CallFilter{UserAgent: "t46s"}, either, false},
		{"ua-rare", spanrec.CallFilter{UserAgent: "PBX 18.7.0"}, either, false},
		{"ua-absent", spanrec.CallFilter{UserAgent: "Zoiper 5"}, none, false},
		{"ua-short-absent", spanrec.CallFilter{UserAgent: "zq"}, none, false},
		{"ua-short", spanrec.CallFilter{UserAgent: "18"}, either, false},
		{"number-short", spanrec.CallFilter{Number: "42"}, some, false},
		{"number-short-absent", spanrec.CallFilter{Number: "#9"}, none, false},
		{"note", spanrec.CallFilter{NoteText: "CALLBACK"}, either, false},
		{"note-absent", spanrec.CallFilter{NoteText: "escalated to legal"}, none, false},
		{"note-short-absent", spanrec.CallFilter{NoteText: "zq"}, none, false},
		{"tag", spanrec.CallFilter{Tag: "review"}, either, false},
		{"tag-absent", spanrec.CallFilter{Tag: "fraud"}, none, false},
		{"header", spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "acct-42"}, either, false},
		{"header-absent", spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "acct-none"}, none, false},
		{"header-wild", spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "acct-1*"}, either, false},
		{"header-wild-rare", spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "*-999"}, either, false},
		{"header-wild-absent", spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "*none*"}, none, false},
		{"header-wild-short-absent", spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "*zq*"}, none, false},
		{"call-id", spanrec.CallFilter{SIPCallID: fmt.Sprint("c", n/3)}, some, false},
		{"call-id-absent", spanrec.CallFilter{SIPCallID: "absent@example.com"}, none, false},
		{"addr-absent", spanrec.CallFilter{Addr: netip.MustParseAddr("203.0.113.9")}, none, false},
		{"codec", spanrec.CallFilter{Codec: "pcma"}, some, false},
		{"codec-absent", spanrec.CallFilter{Codec: "G729"}, none, false},
		{"hangup-unknown", spanrec.CallFilter{HangupBy: "unknown"}, some, false},
		{"hangup-caller", spanrec.CallFilter{HangupBy: string(spanrec.HangupCaller)}, either, false},
		{"status-code", spanrec.CallFilter{StatusCode: 480}, some, false},
		{"status-code-absent", spanrec.CallFilter{StatusCode: 503}, none, false},
		{"pdd-range", spanrec.CallFilter{MinPDD: time.Second, MaxPDD: 2 * time.Second}, some, false},
		{"pdd-range-rare", spanrec.CallFilter{MinPDD: 4999 * time.Millisecond}, some, false},
		{"pdd-range-absent", spanrec.CallFilter{MinPDD: time.Minute}, none, false},
		{"ring-range-absent", spanrec.CallFilter{MinRing: time.Second, MaxRing: 5 * time.Second}, none, false},
		{"duration-range", spanrec.CallFilter{MinDuration: time.Minute, MaxDuration: 2 * time.Minute}, some, false},
		{"duration-rare", spanrec.CallFilter{MinDuration: 599 * time.Second}, some, false},
		{"duration-absent", spanrec.CallFilter{MinDuration: time.Hour}, none, false},
		{"signalling-absent", spanrec.CallFilter{Signalling: spanrec.SignallingNone}, none, false},
		{"interaction", spanrec.CallFilter{Interaction: spanrec.CallID(fmt.Sprintf("%020d", n/3))}, some, false},
		{"interaction-absent", spanrec.CallFilter{Interaction: "absent"}, none, false},
		{"group", spanrec.CallFilter{GroupInteraction: true}, some, false},
		{"group-day", spanrec.CallFilter{GroupInteraction: true, Since: mid, Until: mid.Add(24 * time.Hour)}, some, false},
		// Every sort key but those above, each way, and the keyset page
		// after the first of those an index serves since the eleventh session.
		{"status-desc", spanrec.CallFilter{Sort: "-status"}, some, false},
		{"by-status-code", spanrec.CallFilter{Sort: "status_code"}, some, false},
		{"by-status-code-desc", spanrec.CallFilter{Sort: "-status_code"}, some, false},
		{"by-status-code-next", spanrec.CallFilter{Sort: "status_code"}, some, true},
		{"by-status-code-desc-next", spanrec.CallFilter{Sort: "-status_code"}, some, true},
		{"by-codec", spanrec.CallFilter{Sort: "codec"}, some, false},
		{"by-codec-desc", spanrec.CallFilter{Sort: "-codec"}, some, false},
		{"by-codec-next", spanrec.CallFilter{Sort: "codec"}, some, true},
		{"by-codec-desc-next", spanrec.CallFilter{Sort: "-codec"}, some, true},
		{"hangup-by-desc", spanrec.CallFilter{Sort: "-hangup_by"}, some, false},
		{"hangup-by-next", spanrec.CallFilter{Sort: "hangup_by"}, some, true},
		{"hangup-by-desc-next", spanrec.CallFilter{Sort: "-hangup_by"}, some, true},
		{"by-sensor", spanrec.CallFilter{Sort: "sensor"}, some, false},
		{"by-sensor-desc", spanrec.CallFilter{Sort: "-sensor"}, some, false},
		{"by-sensor-next", spanrec.CallFilter{Sort: "sensor"}, some, true},
		{"by-sensor-desc-next", spanrec.CallFilter{Sort: "-sensor"}, some, true},
		{"legs", spanrec.CallFilter{Sort: "legs"}, some, false},
		{"legs-desc", spanrec.CallFilter{Sort: "-legs"}, some, false},
		{"legs-next", spanrec.CallFilter{Sort: "legs"}, some, true},
		{"legs-desc-next", spanrec.CallFilter{Sort: "-legs"}, some, true},
	} {
		b.Run(q.name, func(b *testing.B) {
			f := q.f
			if f.Limit == 0 {
				f.Limit = 50
			}
			f.ScanLimit = spanrec.MaxUnindexedScan
			stops := f.UnindexedTerm(func(s string) (bool, string) { return utf8.RuneCountInString(s) >= 3, "short" }) != ""
			if q.next {
				first, err := db.Calls(ctx, f)
				if err != nil || len(first) == 0 {
					b.Fatalf("%s: first page: %d calls, %v", q.name, len(first), err)
				}
				f.After = first[len(first)-1]
			}
			var lat, page, total []time.Duration
			for b.Loop() {
				for range runs {
					t := time.Now()
					stop, err := db.SearchStop(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					calls, err := db.Calls(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					if stop != nil && !stops || stop == nil && stops && n > spanrec.MaxUnindexedScan {
						b.Fatalf("%s: search stopped %+v", q.name, stop)
					}
					t1 := time.Now()
					count, _, err := db.CountUpTo(ctx, f, benchTotalCap)
					if err != nil {
						b.Fatal(err)
					}
					t2 := time.Now()
					lat, page, total = append(lat, t2.Sub(t)), append(page, t1.Sub(t)), append(total, t2.Sub(t1))
					switch {
					case q.want == some && (len(calls) == 0 || count == 0):
						b.Fatalf("%s: no calls", q.name)
					case q.want == none && (len(calls) != 0 || count != 0):
						b.Fatalf("%s: %d calls (%d counted), want none", q.name, len(calls), count)
					}
				}
			}
			report(b, "", lat)
			report(b, "page-", page)
			report(b, "total-", total)
		})
	}
	for _, q := range []struct{ name, sort string }{
		// Sorts of many distinct values, and of few (a page inside a tie
		// of hundreds of thousands of calls), each way.
		{"deep-newest", ""},
		{"deep-oldest", "start"},
		{"deep-longest", spanrec.SortDurationDesc},
		{"deep-caller-desc", "-caller"},
		{"deep-worst-mos", "mos"},
		{"deep-longest-pdd", "-pdd"},
		{"deep-direction", "direction"},
		{"deep-direction-desc", "-direction"},
		{"deep-status", "status"},
		{"deep-status-code-desc", "-status_code"},
		{"deep-codec", "codec"},
		{"deep-hangup-by-desc", "-hangup_by"},
		{"deep-sensor", "sensor"},
		{"deep-legs-desc", "-legs"},
	} {
		b.Run(q.name, func(b *testing.B) {
			const size, pages = 100, 1000
			at := spanrec.CallFilter{Sort: q.sort, Limit: 1, Offset: size*(pages-1) - 1}
			last, err := db.Calls(ctx, at)
			if err != nil || len(last) != 1 {
				b.Fatalf("%s: call %d: %d calls, %v", q.name, at.Offset+1, len(last), err)
			}
			f := spanrec.CallFilter{Sort: q.sort, Limit: size, After: last[0]}
			var lat []time.Duration
			for b.Loop() {
				for range runs {
					t := time.Now()
					calls, err := db.Calls(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
					if len(calls) != size {
						b.Fatalf("%s: %d calls, want %d", q.name, len(calls), size)
					}
				}
			}
			report(b, "", lat)
		})
	}
	for _, q := range []struct {
		name   string
		days   int
		bucket time.Duration
	}{
		{"dashboard-day", 1, time.Hour},
		{"dashboard-week", 7, time.Hour},
		{"dashboard-30days", 30, 24 * time.Hour},
	} {
		b.Run(q.name, func(b *testing.B) {
			to := mid.Truncate(time.Hour).Add(time.Hour)
			sq := spanrec.StatsQuery{From: to.Add(-time.Duration(q.days) * 24 * time.Hour), To: to, Bucket: q.bucket, Top: 10}
			var lat []time.Duration
			for b.Loop() {
				for range runs {
					t := time.Now()
					st, err := db.Stats(ctx, sq)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
					if st.Calls == 0 || len(st.Loss) == 0 {
						b.Fatalf("%s: no calls or no loss", q.name)
					}
				}
			}
			report(b, "", lat)
		})
	}
}

// report reports the p50 and p99 of lat in ms, as prefix+"p50-ms" and
// prefix+"p99-ms".
func report(b *testing.B, prefix string, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(lat[len(lat)/2]), prefix+"p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), prefix+"p99-ms")
}
