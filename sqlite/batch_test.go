package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// batchCalls returns calls that exercise every row PutCall writes: full
// calls with INVITE headers and quality series, legs that link with each
// other (some stored before the legs they link to, one stored twice with
// other keys), and a call stored again with fewer rows.
func batchCalls() []*spanrec.Call {
	leg := func(id string, start, end int, keys ...string) *spanrec.Call {
		c := indextest.FullCall(time.UTC)
		c.ID, c.Interaction, c.LinkKeys = spanrec.CallID(id), "", keys
		c.Start, c.End = t0.Add(time.Duration(start)*time.Second), t0.Add(time.Duration(end)*time.Second)
		return c
	}
	const media = "media:10.0.0.5:20000|10.0.2.11:30000"
	calls := []*spanrec.Call{importedCall(1), importedCall(2)}
	calls = append(calls,
		leg("b-leg", 1, 60, "cid:b", media),
		leg("a-leg", 0, 61, "cid:a", media),
		leg("c-next", 61, 90, "cid:c", media),
		leg("d-xfer", 95, 120, "cid:d", "xfer:c>300"),
		leg("e-xfer", 0, 0, "cid:e"),
		importedCall(3),
		leg("e-xfer", 95, 130, "cid:e", "cid:c", "xfer:c>300"),
	)
	again := importedCall(2)
	again.SIPHeaders = again.SIPHeaders[:3]
	again.Streams = again.Streams[:1]
	again.DTMF = nil
	again.Notes = append(again.Notes, "stored again")
	return append(calls, again)
}

// rowsOf returns every row PutCall writes in the database at path, each
// table in key order, as text.
func rowsOf(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][]string{}
	for table, q := range map[string]string{
		"calls":          `SELECT * FROM calls ORDER BY id`,
		"streams":        `SELECT * FROM streams ORDER BY call_id, seq`,
		"dtmf":           `SELECT * FROM dtmf ORDER BY call_id, seq`,
		"call_headers":   `SELECT * FROM call_headers ORDER BY call_id, seq`,
		"call_addrs":     `SELECT * FROM call_addrs ORDER BY call_id, addr`,
		"stream_quality": `SELECT * FROM stream_quality ORDER BY call_id, seq`,
		"call_links":     `SELECT * FROM call_links ORDER BY call_id, key`,
		"outbox":         `SELECT call_id, end_ns FROM outbox ORDER BY call_id`, // queued_ns: the time
		// What triggers keep: the dashboard's aggregates, and the
		// numbers' trigrams (by the calls they find).
		"stats_hours":       `SELECT * FROM stats_hours ORDER BY hour_ns, sensor`,
		"stats_hosts":       `SELECT * FROM stats_hosts ORDER BY hour_ns, host`,
		"stats_numbers":     `SELECT * FROM stats_numbers ORDER BY number, hour_ns`,
		"stats_host_days":   `SELECT * FROM stats_host_days ORDER BY day_ns, host`,
		"stats_number_days": `SELECT * FROM stats_number_days ORDER BY number, day_ns`,
		"calls_number":      `SELECT id FROM calls WHERE rowid IN (SELECT rowid FROM calls_number WHERE calls_number MATCH '"301000"') ORDER BY id`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], fmt.Sprintf("%q", vals))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestPutCallsAsOneByOne: PutCalls stores the same rows as PutCall of
// each call in turn, whatever the batches: the same calls, streams, DTMF,
// header and address rows, quality series, link keys and interactions,
// and outbox entries.
func TestPutCallsAsOneByOne(t *testing.T) {
	ctx := context.Background()
	calls := batchCalls()
	dir := t.TempDir()
	one := filepath.Join(dir, "one.db")
	put(t, open(t, one), calls...)
	want := rowsOf(t, one)
	for table, n := range map[string]int{"calls": 8, "call_headers": 2*12 + 3, "stream_quality": 2*2 + 1, "call_links": 17, "calls_number": 3, "stats_hours": 1} {
		if len(want[table]) != n {
			t.Fatalf("PutCall one by one: %d rows in %s, want %d", len(want[table]), table, n)
		}
	}
	for _, size := range []int{len(calls), 3, 1} {
		t.Run(fmt.Sprintf("batch=%d", size), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("batch%d.db", size))
			db := open(t, path)
			for c := range slices.Chunk(calls, size) {
				if err := db.PutCalls(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			got := rowsOf(t, path)
			for table, rows := range want {
				if !slices.Equal(got[table], rows) {
					t.Errorf("%s:\n got %s\nwant %s", table, strings.Join(got[table], "\n     "), strings.Join(rows, "\n     "))
				}
			}
			c, err := db.Call(ctx, "e-xfer")
			if err != nil || c.Interaction != "c-next" || !slices.Equal(c.Legs, []spanrec.CallID{"c-next", "d-xfer"}) {
				t.Errorf("e-xfer: %+v, %v", c, err)
			}
		})
	}
}

// TestPutCallsAllOrNothing: a batch with a call PutCall refuses stores
// none of its calls, and says which call it was.
func TestPutCallsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "index.db"))
	bad := importedCall(2)
	bad.ID = "bad"
	bad.Start = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC) // before what Unix nanoseconds hold
	err := db.PutCalls(ctx, []*spanrec.Call{importedCall(1), bad, importedCall(3)})
	if spanrec.ErrorKind(err) != spanrec.EINVALID || !strings.Contains(err.Error(), "bad") {
		t.Fatalf("PutCalls with a bad call: %v, want EINVALID naming it", err)
	}
	if n, err := db.Count(ctx, spanrec.CallFilter{}); err != nil || n != 0 {
		t.Fatalf("after a refused batch: %d calls, %v; want none", n, err)
	}
	if err := db.PutCalls(ctx, []*spanrec.Call{importedCall(1), nil}); spanrec.ErrorKind(err) != spanrec.EINVALID {
		t.Fatalf("PutCalls with a nil call: %v, want EINVALID", err)
	}
	if err := db.PutCalls(ctx, nil); err != nil {
		t.Fatalf("PutCalls(nil): %v", err)
	}
	if n, err := db.Count(ctx, spanrec.CallFilter{}); err != nil || n != 0 {
		t.Fatalf("%d calls, %v; want none", n, err)
	}
}
