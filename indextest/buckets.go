package indextest

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// statsModel is what the suite stored, to count the dashboard's
// aggregates from in Go: the reference the index's Stats (which reads
// per-hour aggregates for whole hours) must equal exactly.
type statsModel struct {
	mu    sync.Mutex
	calls map[spanrec.CallID]*spanrec.Call
}

func (m *statsModel) put(c *spanrec.Call) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[c.ID] = c
}

func (m *statsModel) delete(id spanrec.CallID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.calls, id)
}

// hostOf is the host of a stream's source as the index groups it: the
// text form without the port (IPv6 in brackets).
func hostOf(a netip.AddrPort) string {
	b, _ := a.MarshalText()
	t := strings.TrimRight(string(b), "0123456789")
	if t == "" {
		return ""
	}
	return t[:len(t)-1]
}

// mosBin returns the MOS histogram bin of m, -1 for none.
func mosBin(m float64) int {
	switch {
	case math.IsNaN(m) || m <= 0:
		return -1
	case m >= 4.5:
		return spanrec.MOSBins - 1
	}
	return max(0, int((m-1)*2))
}

// stats counts the CallStats of q from the model.
func (m *statsModel) stats(q spanrec.StatsQuery) *spanrec.CallStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	from, to := q.From.UnixNano(), q.To.UnixNano()
	n := (to - from + int64(q.Bucket) - 1) / int64(q.Bucket)
	st := &spanrec.CallStats{From: q.From, To: q.To, Bucket: q.Bucket, Buckets: make([]spanrec.StatsBucket, n)}
	for i := range st.Buckets {
		st.Buckets[i].Start = time.Unix(0, from+int64(i)*int64(q.Bucket)).UTC()
	}
	hosts, sensors := map[string]*spanrec.HostLoss{}, map[string]*spanrec.HostLoss{}
	talkers := map[string]*spanrec.Talker{}
	for _, c := range m.calls {
		if c.Start.IsZero() {
			continue
		}
		if st.First.IsZero() || c.Start.Before(st.First) {
			st.First = c.Start
		}
		if c.Start.After(st.Last) {
			st.Last = c.Start
		}
		ns := c.Start.UnixNano()
		if ns < from || ns >= to {
			continue
		}
		b := &st.Buckets[(ns-from)/int64(q.Bucket)]
		b.Calls++
		st.Calls++
		if c.Status == spanrec.Answered {
			b.Answered++
			st.Answered++
		}
		for _, s := range c.Streams {
			if bin := mosBin(s.MOS); bin < 0 {
				st.NoMOS++
			} else {
				st.MOS[bin]++
			}
			for _, l := range []struct {
				m   map[string]*spanrec.HostLoss
				key string
			}{{hosts, hostOf(s.Src)}, {sensors, c.Sensor}} {
				h := l.m[l.key]
				if h == nil {
					h = &spanrec.HostLoss{Host: l.key}
					l.m[l.key] = h
				}
				h.Streams++
				h.Packets += s.Packets
				h.Lost += s.Lost
			}
		}
		nums := []string{c.Caller.Number}
		if c.Callee.Number != c.Caller.Number {
			nums = append(nums, c.Callee.Number)
		}
		for _, num := range nums {
			if num == "" {
				continue
			}
			tk := talkers[num]
			if tk == nil {
				tk = &spanrec.Talker{Number: num}
				talkers[num] = tk
			}
			tk.Calls++
			tk.Talk += c.Duration
			if c.Status == spanrec.Answered {
				tk.Answered++
			}
		}
	}
	top := func(m map[string]*spanrec.HostLoss) []spanrec.HostLoss {
		var l []spanrec.HostLoss
		for _, h := range m {
			l = append(l, *h)
		}
		slices.SortFunc(l, func(a, b spanrec.HostLoss) int {
			if a.Lost != b.Lost {
				return b.Lost - a.Lost
			}
			if a.Packets != b.Packets {
				return b.Packets - a.Packets
			}
			return strings.Compare(a.Host, b.Host)
		})
		return l[:min(len(l), q.Top)]
	}
	st.Loss, st.LossBySensor = top(hosts), top(sensors)
	for _, tk := range talkers {
		st.Talkers = append(st.Talkers, *tk)
	}
	slices.SortFunc(st.Talkers, func(a, b spanrec.Talker) int {
		if a.Calls != b.Calls {
			return b.Calls - a.Calls
		}
		return strings.Compare(a.Number, b.Number)
	})
	st.Talkers = st.Talkers[:min(len(st.Talkers), q.Top)]
	return st
}

// bucketCall returns call i of a generated set: starts over three days
// (some on the hour exactly, some just before), three sensors and none,
// a status of three, zero to three streams from a few hosts (IPv4, IPv6
// and none) with MOS values across every bin (none, NaN, below 1, 4.5, 5).
func bucketCall(set string, i int, sensor string) *spanrec.Call {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	start := base.Add(time.Duration(i*7919%(72*60)) * time.Minute).Add(time.Duration(i%3) * 17 * time.Second)
	switch i % 11 {
	case 0:
		start = start.Truncate(time.Hour)
	case 1:
		start = start.Truncate(time.Hour).Add(-time.Nanosecond)
	}
	status := []spanrec.Status{spanrec.Answered, spanrec.Status("no-answer"), spanrec.Status("busy")}[i%3]
	c := &spanrec.Call{
		ID:        spanrec.CallID(fmt.Sprintf("%s-%04d", set, i)),
		SIPCallID: fmt.Sprintf("%s-%d@example.com", set, i),
		Caller:    spanrec.Party{Number: fmt.Sprintf("+4930%03d", i%13)},
		Callee:    spanrec.Party{Number: fmt.Sprintf("2%03d", i%5)},
		Direction: spanrec.Outbound,
		Status:    status,
		Start:     start,
		End:       start.Add(time.Minute),
		Duration:  time.Duration(i%60) * time.Second,
		Sensor:    sensor,
	}
	if i%17 == 0 {
		c.Callee.Number = c.Caller.Number
	}
	mos := []float64{0, math.NaN(), 0.4, 1, 1.49, 2.5, 3.99, 4.4, 4.5, 5, 4.31}
	hosts := []string{"192.0.2.10:40000", "198.51.100.7:20000", "[2001:db8::20]:30000", "192.0.2.11:4000"}
	for k := range i % 4 {
		c.Streams = append(c.Streams, spanrec.Stream{
			SSRC: uint32(i*4 + k), Src: netip.MustParseAddrPort(hosts[(i+k)%len(hosts)]),
			Dst: netip.MustParseAddrPort(hosts[(i+k+1)%len(hosts)]), Side: spanrec.CallerSide,
			Codec: "PCMA", ClockRate: 8000, First: start, Last: start.Add(time.Minute),
			Packets: 100 + i*3 + k, Lost: (i * (k + 1)) % 9, MOS: mos[(i+k)%len(mos)],
		})
	}
	if i%13 == 5 && len(c.Streams) > 0 {
		c.Streams[0].Src = netip.AddrPort{} // not known: the host ""
	}
	return c
}

// bucketQueries are the ranges the buckets are checked on: whole hours
// per hour, days per day, edges that are not on the hour (per hour and
// per 20 minutes), a range inside one hour, a short top list, and ranges
// with whole UTC days between whole and partial hours (30 days per day,
// three days from 13:00, a day and a half from 05:17, a day and a minute
// on each side).
func bucketQueries() []spanrec.StatsQuery {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	return []spanrec.StatsQuery{
		{From: base, To: base.Add(72 * time.Hour), Bucket: time.Hour, Top: 100},
		{From: base.Add(-24 * time.Hour), To: base.Add(96 * time.Hour), Bucket: 24 * time.Hour, Top: 100},
		{From: base.Add(5 * time.Hour), To: base.Add(29 * time.Hour), Bucket: time.Hour, Top: 3},
		{From: base, To: base.Add(24 * time.Hour), Bucket: time.Hour, Top: 2},
		{From: base.Add(9*time.Hour + 30*time.Minute), To: base.Add(20*time.Hour + 10*time.Minute), Bucket: time.Hour, Top: 4},
		{From: base.Add(3*time.Hour + 17*time.Minute + 5), To: base.Add(40*time.Hour + 3*time.Minute), Bucket: time.Hour, Top: 100},
		{From: base.Add(3*time.Hour + 17*time.Minute), To: base.Add(40*time.Hour + 3*time.Minute), Bucket: 20 * time.Minute, Top: 2},
		{From: base.Add(2 * time.Hour), To: base.Add(50*time.Hour - time.Nanosecond), Bucket: 2 * time.Hour, Top: 100},
		{From: base.Add(7*time.Hour + time.Minute), To: base.Add(7*time.Hour + 59*time.Minute), Bucket: time.Hour, Top: 100},
		{From: base.Add(-time.Hour), To: base.Add(time.Hour), Bucket: time.Hour, Top: 100},
		// Whole UTC days (per-day aggregates) with whole hours and
		// partial hours around them.
		{From: base.Add(5*time.Hour + 17*time.Minute), To: base.Add(62*time.Hour + 3*time.Minute), Bucket: time.Hour, Top: 5},
		{From: base.Add(13 * time.Hour), To: base.Add(85 * time.Hour), Bucket: time.Hour, Top: 3},
		{From: base.Add(-10 * 24 * time.Hour), To: base.Add(20 * 24 * time.Hour), Bucket: 24 * time.Hour, Top: 4},
		{From: base.Add(24 * time.Hour), To: base.Add(48 * time.Hour), Bucket: 20 * time.Minute, Top: 2},
		{From: base, To: base.Add(48*time.Hour + 30*time.Minute), Bucket: time.Hour, Top: 10},
		{From: base.Add(23*time.Hour + 59*time.Minute), To: base.Add(48*time.Hour + time.Minute), Bucket: time.Hour, Top: 1},
	}
}

// checkBuckets compares the index's Stats with the model's on every
// bucketQueries range.
func checkBuckets(t *testing.T, db Index, m *statsModel, when string) {
	t.Helper()
	for _, q := range bucketQueries() {
		got, err := db.Stats(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: Stats(%v..%v): %v", when, q.From, q.To, err)
		}
		want := m.stats(q)
		got.First, got.Last = got.First.UTC(), got.Last.UTC()
		want.First, want.Last = want.First.UTC(), want.Last.UTC()
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("%s: Stats %v..%v per %v:\n got  %+v\n want %+v", when, q.From, q.To, q.Bucket, got, want)
		}
	}
}

// testStatsBuckets checks that Stats, which reads per-hour aggregates
// kept as calls are stored, gives what the calls themselves give, through
// inserts, replacements that move a call to another hour, sensor or
// status or change its streams, deletions (DeleteCall and a retention
// deletion) and, last, concurrent writers.
func (s *suite) testStatsBuckets(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	m := &statsModel{calls: map[spanrec.CallID]*spanrec.Call{}}
	sensors := []string{"", "sensor-a", "sensor-b", "sensor-c"}
	for i := range 300 {
		c := bucketCall("c", i, sensors[i%4])
		put(t, db, c)
		m.put(c)
	}
	// Busy numbers: enough calls in a few hours for the top talkers to
	// be found from a bound (spanrec.TopTalkers) rather than by counting
	// every number.
	for i := range 90 {
		c := bucketCall("busy", i, sensors[i%4])
		c.Caller.Number = fmt.Sprintf("+4989%03d", i%3)
		c.Start = time.Date(2026, 3, 1, 10+i%3, i%60, 0, 0, time.UTC)
		put(t, db, c)
		m.put(c)
	}
	// Two calls without a start time: in no range.
	for i := range 2 {
		c := bucketCall("nostart", i, "sensor-a")
		c.Start, c.End = time.Time{}, time.Time{}
		for k := range c.Streams {
			c.Streams[k].First, c.Streams[k].Last = time.Time{}, time.Time{}
		}
		put(t, db, c)
		m.put(c)
	}
	checkBuckets(t, db, m, "after inserts")

	// Replacements: another hour (and status, streams); an unnamed
	// sensor's call now named; the same call stored again unchanged; a
	// call losing its start time and one gaining it.
	for i := 0; i < 300; i += 7 {
		old := m.calls[spanrec.CallID(fmt.Sprintf("c-%04d", i))]
		c := bucketCall("c", i+1000, old.Sensor)
		c.ID, c.SIPCallID = old.ID, old.SIPCallID
		if old.Sensor == "" && i%2 == 0 {
			c.Sensor = "sensor-d"
		}
		switch i % 5 {
		case 0:
			c.Start, c.End, c.Streams = time.Time{}, time.Time{}, nil
		case 1:
			*c = *old
		}
		put(t, db, c)
		m.put(c)
	}
	c := bucketCall("nostart", 0, "sensor-a")
	put(t, db, c)
	m.put(c)
	checkBuckets(t, db, m, "after replacements")

	// Deletions: the API's and retention's.
	for i := 3; i < 300; i += 10 {
		id := spanrec.CallID(fmt.Sprintf("c-%04d", i))
		if i%20 == 3 {
			if err := db.DeleteCall(ctx, id); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := db.BeginDeletion(ctx, spanrec.Deletion{Call: id, At: time.Now(), By: "retention", Reason: "test"}); err != nil {
				t.Fatal(err)
			}
			if err := db.FinishDeletion(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		m.delete(id)
	}
	checkBuckets(t, db, m, "after deletions")

	// Concurrent writers: two sensors, two writers each, storing,
	// replacing (to another hour) and deleting calls of the same hours
	// whose streams come from the same hosts in different orders.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			sensor := fmt.Sprintf("writer-%d", w/2) // two writers a sensor
			set := fmt.Sprintf("w%d", w)
			for i := range 60 {
				c := bucketCall(set, i*4+w, sensor)
				c.ID = spanrec.CallID(fmt.Sprintf("%s-%04d", set, i))
				if err := db.PutCall(ctx, c); err != nil {
					errs <- fmt.Errorf("%s: put: %w", sensor, err)
					return
				}
				m.put(c)
				switch i % 3 {
				case 1:
					r := bucketCall(set, i*4+w+500, sensor)
					r.ID = c.ID
					if err := db.PutCall(ctx, r); err != nil {
						errs <- fmt.Errorf("%s: replace: %w", sensor, err)
						return
					}
					m.put(r)
				case 2:
					if err := db.DeleteCall(ctx, c.ID); err != nil {
						errs <- fmt.Errorf("%s: delete: %w", sensor, err)
						return
					}
					m.delete(c.ID)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkBuckets(t, db, m, "after concurrent writers")
}
