package recorder_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// importWith imports the capture gen writes with cfg (DataDir set here)
// and returns the summary and the calls indexed.
func importWith(t *testing.T, cfg recorder.Config, gen func(io.Writer) error) (recorder.Summary, []*spanrec.Call) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "hostile.pcap")
	var buf bytes.Buffer
	if err := gen(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	data := filepath.Join(dir, "data")
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg.Call.DataDir = data
	sum, err := recorder.Import(context.Background(), cfg, src, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return sum, calls
}

// TestTCPFloodWithinBudget: flows of SIP over TCP that each announce a
// 60 KB body and never finish it held every byte (4.7 GB for 20,000
// flows); the budget caps them, the oldest incomplete messages go first,
// and the evictions are counted.
func TestTCPFloodWithinBudget(t *testing.T) {
	const budget = 4 << 20
	for _, shards := range []int{1, 3} {
		sum, _ := importWith(t, recorder.Config{Memory: budget, Shards: shards}, func(w io.Writer) error {
			return pcaptest.TCPFlood(w, 400, 60<<10) // 24 MB held without a budget
		})
		m := sum.Memory
		if m.Limit != budget || m.Peak > budget || m.Peak < budget/2 {
			t.Errorf("shards %d: budget %d, peak %d", shards, m.Limit, m.Peak)
		}
		if m.Kinds[limits.TCP].Evictions == 0 {
			t.Errorf("shards %d: no TCP message evicted", shards)
		}
		if m.Used != 0 {
			t.Errorf("shards %d: %d bytes still taken after the import", shards, m.Used)
		}
	}
}

// TestSIPTooLargeCounted: a SIP message over TCP larger than the framer's
// limit is counted, not dropped silently.
func TestSIPTooLargeCounted(t *testing.T) {
	sum, _ := importWith(t, recorder.Config{}, func(w io.Writer) error {
		return pcaptest.TCPFlood(w, 5, 100<<10)
	})
	if sum.SIPTooLarge != 5 {
		t.Errorf("%d SIP messages counted too large, want 5", sum.SIPTooLarge)
	}
}

// TestInviteFloodWithinBudget: unanswered INVITEs each open a call; with
// the budget full the longest-waiting ones are closed early (and still
// written, with a note), so memory stays bounded and no call is lost. A
// shard with no call of its own left to close (the other shard holds the
// whole budget) takes a new call past the limit rather than lose it: one
// call's memory (12 KiB) a shard at most.
func TestInviteFloodWithinBudget(t *testing.T) {
	const n, budget = 400, 1 << 19
	for _, shards := range []int{1, 2} {
		sum, calls := importWith(t, recorder.Config{Memory: budget, Shards: shards, Call: call.Config{}}, func(w io.Writer) error {
			return pcaptest.InviteFlood(w, n)
		})
		if over := int64(shards) * 12 << 10; sum.Memory.Peak > budget+over {
			t.Errorf("shards %d: peak %d over the budget %d and %d", shards, sum.Memory.Peak, budget, over)
		}
		if sum.Assembler.Evicted == 0 || sum.Memory.Kinds[limits.Calls].Evictions == 0 {
			t.Errorf("shards %d: no call evicted (%d calls of %d bytes each fit?)", shards, n, sum.Memory.Peak/n)
		}
		if len(calls) != n || sum.Calls != n {
			t.Errorf("shards %d: %d calls indexed, %d recorded, want %d", shards, len(calls), sum.Calls, n)
		}
	}
}
