package ship_test

import (
	"context"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/ship"
)

// tellChecked is the Shipper as a sweeper's Archive, checking at each
// TellDeletion that the call's files are still on the sensor and that the
// central row names them no more once told.
type tellChecked struct {
	*ship.Shipper
	t       *testing.T
	data    string
	central *postgres.DB
	calls   map[spanrec.CallID]*spanrec.Call
	told    int
}

func (a *tellChecked) TellDeletion(ctx context.Context, id spanrec.CallID) error {
	if err := a.Shipper.TellDeletion(ctx, id); err != nil {
		return err
	}
	a.told++
	if c := a.calls[id]; !fileExists(a.data, c.PCAP) {
		a.t.Errorf("call %s: its pcap was removed before the central index was told", id)
	}
	if cc, err := a.central.Call(ctx, id); err != nil || cc.Audio != "" || cc.PCAP != "" {
		a.t.Errorf("call %s told: the central row names %+v (%v)", id, cc, err)
	}
	return nil
}

// TestTellBeforeFilesGo: a sensor that ships rows only (no store) tells
// the central index of a rule's deletion of a shipped call before its
// files are removed, so the central row never names removed files; the
// deletion queued in the outbox is told again at the next drain and
// changes nothing more (one note, one audit event). Calls of two
// Wireshark samples, real PostgreSQL.
func TestTellBeforeFilesGo(t *testing.T) {
	ctx := context.Background()
	s, sh, central, calls := shippedRowsOnly(t, "oslo-1")
	arch := &tellChecked{Shipper: sh, t: t, data: s.data, central: central, calls: calls}
	sw := retention.New(retention.Config{Rules: []retention.Rule{{Name: "short", MaxAge: 24 * time.Hour}}, MinFree: -1, Archive: arch, Logger: discard}, s.local, s.data)
	if vs, err := sw.Sweep(ctx, false); err != nil || len(vs) != len(calls) {
		t.Fatalf("sweep: %d victims of %d calls, %v", len(vs), len(calls), err)
	}
	if arch.told != len(calls) {
		t.Fatalf("%d deletions told before the files went, want %d", arch.told, len(calls))
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	checkToldOnce(t, s, central, calls, "deleted on sensor oslo-1 by retention")
}

// TestStoreThenNoStore: a sensor ships calls with their files to the
// store, then (its --store taken away) ships others rows only; a rule
// deletes them all on the sensor. The central rows of the calls shipped
// to the store keep naming their objects (still in the store, same
// SHA-256); those shipped rows only no longer name the sensor's files.
// Real PostgreSQL and SeaweedFS, two Wireshark samples.
func TestStoreThenNoStore(t *testing.T) {
	ctx := context.Background()
	_, store, central := centralSide(t, "switch")
	s := newSensorNamed(t, "rome-1")
	withStore := &ship.Shipper{Outbox: ship.Local{DB: s.local}, Index: central, Store: store, DataDir: s.data, Log: discard}
	s.record(t, "wireshark-samples/sip-rtp-g722.pcap")
	if err := withStore.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	stored := allCalls(t, s.local)
	rowsOnly := &ship.Shipper{Outbox: ship.Local{DB: s.local}, Index: central, DataDir: s.data, Log: discard}
	s.record(t, "wireshark-samples/nb6-telephone.pcap")
	if err := rowsOnly.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	all := allCalls(t, s.local)
	if len(stored) == 0 || len(all) <= len(stored) {
		t.Fatalf("%d calls shipped with the store, %d in all", len(stored), len(all))
	}
	sw := retention.New(retention.Config{Rules: []retention.Rule{{Name: "short", MaxAge: 24 * time.Hour}}, MinFree: -1, Archive: rowsOnly, Logger: discard}, s.local, s.data)
	if vs, err := sw.Sweep(ctx, false); err != nil || len(vs) != len(all) {
		t.Fatalf("sweep: %d victims of %d calls, %v", len(vs), len(all), err)
	}
	if err := rowsOnly.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	for id, c := range all {
		cc, err := central.Call(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := stored[id]; !ok {
			if cc.Audio != "" || cc.PCAP != "" {
				t.Errorf("call %s shipped rows only: the central row still names the deleted files %q %q", id, cc.Audio, cc.PCAP)
			}
			continue
		}
		if cc.PCAP != c.PCAP || cc.PCAPSHA256 != c.PCAPSHA256 || cc.Audio != c.Audio || cc.AudioSHA256 != c.AudioSHA256 {
			t.Errorf("call %s shipped to the store: the central row lost its files: %q %q, want %q %q", id, cc.Audio, cc.PCAP, c.Audio, c.PCAP)
		}
		for _, f := range [][2]string{{c.Audio, c.AudioSHA256}, {c.PCAP, c.PCAPSHA256}} {
			if f[0] == "" {
				continue
			}
			if ok, err := store.Has(ctx, f[0], f[1]); err != nil || !ok {
				t.Errorf("call %s: %s not in the store (%v)", id, f[0], err)
			}
		}
	}
}
