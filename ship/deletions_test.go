package ship_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// sensorNamed is a sensor's data directory and local index whose calls
// carry the sensor's name.
type sensorNamed struct {
	name, data string
	local      *sqlite.DB
}

func newSensorNamed(t *testing.T, name string) *sensorNamed {
	t.Helper()
	data, local := sensorDir(t)
	return &sensorNamed{name: name, data: data, local: local}
}

// record imports the third-party capture rel as this sensor.
func (s *sensorNamed) record(t *testing.T, rel string) {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join(pcaptest.CapturesDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg := recorder.Config{Call: call.Config{DataDir: s.data, Sensor: s.name}, Logger: discard}
	if _, err := recorder.Import(context.Background(), cfg, src, s.local, nil); err != nil {
		t.Fatalf("import %s: %v", rel, err)
	}
}

// shippedRowsOnly returns a sensor named name that recorded the calls of
// two Wireshark samples and shipped them rows only (no store) to a new
// central index in real PostgreSQL, its Shipper, the central index and the
// calls.
func shippedRowsOnly(t *testing.T, name string) (*sensorNamed, *ship.Shipper, *postgres.DB, map[spanrec.CallID]*spanrec.Call) {
	t.Helper()
	central, err := postgres.Open(context.Background(), pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { central.Close() })
	s := newSensorNamed(t, name)
	sh := &ship.Shipper{Outbox: ship.Local{DB: s.local}, Index: central, DataDir: s.data, Log: discard}
	s.record(t, "wireshark-samples/sip-rtp-g722.pcap")
	s.record(t, "wireshark-samples/nb6-telephone.pcap")
	if err := sh.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, sh, central, allCalls(t, s.local)
}

// checkToldOnce checks, after a drain, that no deletion of the sensor s
// is still queued and that each of calls is in the central index with no
// file named, one note containing note and one sensor_delete event.
func checkToldOnce(t *testing.T, s *sensorNamed, central *postgres.DB, calls map[spanrec.CallID]*spanrec.Call, note string) {
	t.Helper()
	ctx := context.Background()
	if n, _ := s.local.OutboxDeletionsBacklog(ctx); n != 0 {
		t.Errorf("%d deletions still queued after the drain", n)
	}
	events := sensorEvents(t, central)
	for id := range calls {
		cc, err := central.Call(ctx, id)
		if err != nil || cc.Audio != "" || cc.PCAP != "" {
			t.Errorf("call %s: central row %+v, %v", id, cc, err)
			continue
		}
		n := 0
		for _, text := range cc.Notes {
			if strings.Contains(text, note) {
				n++
			}
		}
		if n != 1 || len(events[string(id)]) != 1 {
			t.Errorf("call %s: %d notes, %d audit events of the deletion; want one each: %q", id, n, len(events[string(id)]), cc.Notes)
		}
	}
}

// sensorEvents returns the central audit trail's sensor_delete events by
// call.
func sensorEvents(t *testing.T, central *postgres.DB) map[string][]auth.Event {
	t.Helper()
	es, _, err := central.Events(context.Background(), auth.EventFilter{Action: auth.ActionSensorDelete})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]auth.Event{}
	for _, e := range es {
		out[e.CallID] = append(out[e.CallID], e)
	}
	return out
}

// TestSensorDeletionsWithoutStore: a sensor that ships rows only (no
// store: its files stay on its disk, and the central rows name them)
// deletes shipped calls by a retention rule, after the central copy is
// verified; the central index is told through the outbox: each row stays,
// its audio and pcap cleared, with a note and an audit event saying where,
// by whom and why. Told twice (a crash before the outbox row went), it
// changes nothing more. Calls of two Wireshark samples, real PostgreSQL.
func TestSensorDeletionsWithoutStore(t *testing.T) {
	ctx := context.Background()
	s, sh, central, calls := shippedRowsOnly(t, "berlin-1")
	withFiles := 0
	for id, c := range calls {
		cc, err := central.Call(ctx, id)
		if err != nil || cc.PCAP != c.PCAP || cc.PCAP == "" {
			t.Fatalf("call %s shipped: %+v, %v", id, cc, err)
		}
		withFiles++
	}
	// The rule deletes every call (the captures are years old); the
	// central copies are verified first.
	sw := retention.New(retention.Config{Rules: []retention.Rule{{Name: "short", MaxAge: 24 * time.Hour}}, MinFree: -1, Archive: sh, Logger: discard}, s.local, s.data)
	vs, err := sw.Sweep(ctx, false)
	if err != nil || len(vs) != len(calls) {
		t.Fatalf("sweep: %d victims of %d calls, %v", len(vs), len(calls), err)
	}
	if n, err := s.local.OutboxDeletionsBacklog(ctx); err != nil || n != len(calls) {
		t.Fatalf("deletions queued: %d, %v; want %d", n, err, len(calls))
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.local.OutboxDeletionsBacklog(ctx); n != 0 {
		t.Errorf("%d deletions still queued after shipping", n)
	}
	if st := sh.Stats(); st.Deletions != len(calls) {
		t.Errorf("stats: %d deletions told, want %d", st.Deletions, len(calls))
	}
	events := sensorEvents(t, central)
	for id, c := range calls {
		if exists := fileExists(s.data, c.PCAP); exists {
			t.Errorf("call %s: its pcap is still on the sensor", id)
		}
		cc, err := central.Call(ctx, id)
		if err != nil {
			t.Fatalf("call %s: gone from the central index: %v", id, err)
		}
		if cc.Audio != "" || cc.PCAP != "" || cc.AudioSHA256 != "" || cc.PCAPSHA256 != "" {
			t.Errorf("call %s: the central row still names files deleted on the sensor: %q %q", id, cc.Audio, cc.PCAP)
		}
		note := cc.Notes[len(cc.Notes)-1]
		if !strings.Contains(note, "deleted on sensor berlin-1 by retention") || !strings.Contains(note, "retention rule short") || !strings.Contains(note, "pcap") {
			t.Errorf("call %s: note %q", id, note)
		}
		if es := events[string(id)]; len(es) != 1 || es[0].User != "retention@berlin-1" || es[0].Detail != note {
			t.Errorf("call %s: sensor_delete events %+v", id, es)
		}
	}
	// A deletion told twice (a sensor that crashed before it took the
	// deletion off its outbox) is applied once.
	id := vs[0].Call.ID
	d := spanrec.SensorDeletion{Deletion: spanrec.Deletion{Call: id, At: time.Now(), By: "ada", Reason: "deleted by an admin"}, Sensor: "berlin-1", FilesGone: true}
	did, err := central.SensorDeleted(ctx, d)
	if err != nil || !strings.Contains(did, "deleted on sensor berlin-1 by ada") {
		t.Errorf("told once: %q, %v", did, err)
	}
	before, _ := central.Call(ctx, id)
	if did, err := central.SensorDeleted(ctx, d); err != nil || did != "" {
		t.Errorf("told twice: %q, %v", did, err)
	}
	if after, _ := central.Call(ctx, id); len(after.Notes) != len(before.Notes) || len(sensorEvents(t, central)[string(id)]) != 2 {
		t.Errorf("told twice: notes %d then %d", len(before.Notes), len(after.Notes))
	}
	t.Logf("%d calls deleted on the sensor; e.g. the central note %q", withFiles, before.Notes[len(before.Notes)-2])
}

// fileExists reports whether the data directory has the file rel.
func fileExists(data, rel string) bool {
	if rel == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(data, filepath.FromSlash(rel)))
	return err == nil
}

// TestSensorDeletionsByUser: on a sensor shipping rows and files (real
// PostgreSQL, real SeaweedFS), an admin deletes calls through the sensor's
// own index (as DELETE /api/calls/{id} does): a call not shipped yet never
// reaches the central index, which gets an audit event saying it was
// deleted on the sensor before it was shipped; a call whose deletion has
// begun and not finished (a crash between) is not shipped half-deleted,
// and its deletion is told once finished; a shipped call keeps its central
// copy whole (its files are in the store), with a note and an audit event;
// a retention rule's deletion of a shipped call changes nothing
// centrally.
func TestSensorDeletionsByUser(t *testing.T) {
	ctx := context.Background()
	_, store, central := centralSide(t, "archive")
	s := newSensorNamed(t, "paris-1")
	sh := &ship.Shipper{Outbox: ship.Local{DB: s.local}, Index: central, Store: store, DataDir: s.data, Log: discard}
	// A first drain marks the sensor as shipping (nothing to ship yet).
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	s.record(t, "wireshark-samples/sip-rtp-g722.pcap")
	s.record(t, "wireshark-samples/nb6-telephone.pcap")
	s.record(t, "wireshark-samples/SIP_DTMF2.pcap")
	calls := allCalls(t, s.local)
	ids := make([]spanrec.CallID, 0, len(calls))
	for id := range calls {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) < 4 {
		t.Fatalf("%d calls recorded", len(ids))
	}
	del := &retention.Deleter{Index: s.local, DataDir: s.data, Logger: discard}
	// Not shipped yet, deleted by an admin.
	unshipped := calls[ids[0]]
	if err := del.Delete(ctx, unshipped, "ada", "192.0.2.9", "deleted by an admin"); err != nil {
		t.Fatal(err)
	}
	// Deletion begun, not finished (its files half gone).
	half := calls[ids[1]]
	var files []string
	for _, f := range []string{half.Audio, half.PCAP} {
		if f != "" {
			files = append(files, f)
		}
	}
	if err := s.local.BeginDeletion(ctx, spanrec.Deletion{Call: half.ID, At: time.Now(), By: "ada", Reason: "deleted by an admin", Files: files}); err != nil {
		t.Fatal(err)
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []spanrec.CallID{unshipped.ID, half.ID} {
		if _, err := central.Call(ctx, id); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("call %s, deleted (or being deleted) on the sensor before it was shipped, is in the central index: %v", id, err)
		}
	}
	events := sensorEvents(t, central)
	if es := events[string(unshipped.ID)]; len(es) != 1 || es[0].User != "ada@paris-1" || es[0].Remote != "192.0.2.9" ||
		!strings.Contains(es[0].Detail, "before it was shipped") || !strings.Contains(es[0].Detail, "deleted by an admin") {
		t.Errorf("central audit of the unshipped call's deletion: %+v", es)
	}
	// The crashed deletion finished (the next start's Recover): told too.
	if n, err := del.Recover(ctx); err != nil || n != 1 {
		t.Fatalf("recover: %d, %v", n, err)
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if es := sensorEvents(t, central)[string(half.ID)]; len(es) != 1 || !strings.Contains(es[0].Detail, "before it was shipped") {
		t.Errorf("central audit of the interrupted deletion: %+v", es)
	}
	// Shipped calls: one deleted by an admin, one by a rule.
	byUser, byRule := calls[ids[2]], calls[ids[3]]
	for _, c := range []*spanrec.Call{byUser, byRule} {
		if cc, err := central.Call(ctx, c.ID); err != nil || cc.PCAP != c.PCAP {
			t.Fatalf("call %s not shipped: %v", c.ID, err)
		}
	}
	if err := del.Delete(ctx, byUser, "ada", "192.0.2.9", "deleted by an admin"); err != nil {
		t.Fatal(err)
	}
	if err := del.Delete(ctx, byRule, retention.ByRule, "", "retention rule short: older than 1d"); err != nil {
		t.Fatal(err)
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	cc, err := central.Call(ctx, byUser.ID)
	if err != nil || cc.Audio != byUser.Audio || cc.PCAP != byUser.PCAP || cc.PCAPSHA256 != byUser.PCAPSHA256 {
		t.Fatalf("the central copy of the call an admin deleted on the sensor: %+v, %v", cc, err)
	}
	if ok, err := store.Has(ctx, byUser.PCAP, byUser.PCAPSHA256); err != nil || !ok {
		t.Errorf("the store lost the pcap of the call deleted on the sensor: %v, %v", ok, err)
	}
	if note := cc.Notes[len(cc.Notes)-1]; !strings.Contains(note, "deleted on sensor paris-1 by ada") || !strings.Contains(note, "central copy is kept") {
		t.Errorf("central note: %q", note)
	}
	if es := sensorEvents(t, central)[string(byUser.ID)]; len(es) != 1 {
		t.Errorf("central audit of the admin's deletion of a shipped call: %+v", es)
	}
	cr, err := central.Call(ctx, byRule.ID)
	if err != nil || cr.PCAP != byRule.PCAP || !slices.Equal(cr.Notes, calls[byRule.ID].Notes) {
		t.Errorf("the central copy of a call a rule deleted on the sensor changed: %+v, %v", cr, err)
	}
	if es := sensorEvents(t, central)[string(byRule.ID)]; len(es) != 0 {
		t.Errorf("a rule's deletion on the sensor is in the central audit trail: %+v", es)
	}
	if n, _ := s.local.OutboxDeletionsBacklog(ctx); n != 0 {
		t.Errorf("%d deletions still queued", n)
	}
}

// TestNoDeletionsQueuedWithoutShipping: a recorder that never shipped
// keeps no deletion for a central side.
func TestNoDeletionsQueuedWithoutShipping(t *testing.T) {
	ctx := context.Background()
	s := newSensorNamed(t, "alone")
	s.record(t, "wireshark-samples/sip-rtp-g722.pcap")
	del := &retention.Deleter{Index: s.local, DataDir: s.data, Logger: discard}
	for _, c := range allCalls(t, s.local) {
		if err := del.Delete(ctx, c, "ada", "", "deleted by an admin"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.local.OutboxDeletionsBacklog(ctx); err != nil || n != 0 {
		t.Errorf("a recorder that never shipped queued %d deletions (%v)", n, err)
	}
}
