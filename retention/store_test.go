package retention_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/s3/s3test"
)

// TestDeleteFromStore: the central archive's deletions (serve --store over
// the central index, whose data directory holds no recording) remove the
// calls' objects from a real S3 store (SeaweedFS) before their rows; with
// the store down the deletion stays begun and Recover finishes it once
// the store is back; a call under legal hold keeps its objects. The calls
// are a Wireshark sample's.
func TestDeleteFromStore(t *testing.T) {
	ctx := context.Background()
	sensor := t.TempDir()
	db := openIndex(t, sensor)
	importCapture(t, sensor, db, nil, "wireshark-samples/SIP_DTMF2.pcap")
	importCapture(t, sensor, db, nil, "wireshark-samples/sip-rtp-g722.pcap")
	srv := s3test.Start(t)
	st, err := s3.Open(ctx, s3.Config{URL: srv.URL("archive"), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	calls := allCalls(t, db)
	if len(calls) < 3 {
		t.Fatalf("%d calls: the captures are missing", len(calls))
	}
	type object struct{ key, sum string }
	objects := func(c *spanrec.Call) []object {
		var out []object
		for _, o := range []object{{c.Audio, c.AudioSHA256}, {c.PCAP, c.PCAPSHA256}} {
			if o.key != "" {
				out = append(out, o)
			}
		}
		return out
	}
	for _, c := range calls {
		for _, o := range objects(c) {
			b, err := os.ReadFile(filepath.Join(sensor, o.key))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Put(ctx, o.key, bytes.NewReader(b), int64(len(b)), o.sum); err != nil {
				t.Fatal(err)
			}
		}
	}
	stored := func(c *spanrec.Call) int {
		t.Helper()
		n := 0
		for _, o := range objects(c) {
			ok, err := st.Has(ctx, o.key, o.sum)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				n++
			}
		}
		return n
	}
	d := &retention.Deleter{Index: db, DataDir: t.TempDir(), Logger: quiet, Store: st}

	// Calls with audio first: the deleted ones have two objects each.
	slices.SortStableFunc(calls, func(a, b *spanrec.Call) int {
		return cmp.Compare(len(objects(b)), len(objects(a)))
	})
	gone, down, held := calls[0], calls[1], calls[2]
	if down.Audio == "" {
		t.Fatal("fewer than two calls with audio")
	}
	if err := d.Delete(ctx, gone, "ada", "192.0.2.1", "test"); err != nil {
		t.Fatal(err)
	}
	if n := stored(gone); n != 0 {
		t.Errorf("deleted call %s: %d objects left in the store", gone.ID, n)
	}
	if _, err := db.Call(ctx, gone.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("deleted call still indexed: %v", err)
	}
	// The sensor's own copies are the sensor's: not this Deleter's.
	if _, err := os.Stat(filepath.Join(sensor, gone.PCAP)); err != nil {
		t.Errorf("the sensor's copy: %v", err)
	}

	// A legal hold keeps the call and its objects.
	if err := db.SetLegalHold(ctx, held.ID, &spanrec.LegalHold{By: "ada"}); err != nil {
		t.Fatal(err)
	}
	held, _ = db.Call(ctx, held.ID)
	if err := d.Delete(ctx, held, "ada", "", "test"); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Errorf("call under legal hold: %v", err)
	}
	if n := stored(held); n != len(objects(held)) {
		t.Errorf("call under legal hold: %d of %d objects left", n, len(objects(held)))
	}

	// The store down: the deletion fails and stays begun, the row stays.
	srv.Kill()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = d.Delete(tctx, down, "ada", "", "test")
	cancel()
	if err == nil {
		t.Fatal("deleting with the store down succeeded")
	}
	if p, err := db.PendingDeletions(ctx); err != nil || len(p) != 1 || p[0].Call != down.ID {
		t.Errorf("pending deletions with the store down: %v, %v", p, err)
	}
	if _, err := db.Call(ctx, down.ID); err != nil {
		t.Errorf("the call's row went before its objects: %v", err)
	}
	srv.Restart(t)
	if n, err := d.Recover(ctx); n != 1 || err != nil {
		t.Fatalf("Recover: %d, %v", n, err)
	}
	if n := stored(down); n != 0 {
		t.Errorf("after Recover: %d objects of call %s left", n, down.ID)
	}
	if _, err := st.Open(ctx, down.Audio); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open a deleted object: %v", err)
	}
	if _, err := db.Call(ctx, down.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("after Recover the call is still indexed: %v", err)
	}
	for _, c := range calls[3:] {
		if n := stored(c); n != len(objects(c)) {
			t.Errorf("call %s, not deleted: %d of %d objects", c.ID, n, len(objects(c)))
		}
	}
}
