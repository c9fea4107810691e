package ship_test

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// dropFrom is a capture source that drops the packets sent from drop:
// what a sensor sees whose mirror has only one direction of a call.
type dropFrom struct {
	capture.Source
	dec  *packet.Decoder
	drop netip.AddrPort
}

func (d *dropFrom) ReadFrame() (capture.Frame, error) {
	for {
		f, err := d.Source.ReadFrame()
		if err != nil || !d.drop.IsValid() {
			return f, err
		}
		if p, ok := d.dec.Decode(f.Data, packet.LinkType(f.Link), f.Time, f.Orig); !ok || p.Src != d.drop {
			return f, nil
		}
	}
}

// mirrored is one recorder: its data directory and local index.
type mirrored struct {
	name, data string
	local      *sqlite.DB
}

func newMirrored(t *testing.T, name string) *mirrored {
	t.Helper()
	data, local := sensorDir(t)
	return &mirrored{name: name, data: data, local: local}
}

// record imports the capture rel as the sensor, without the packets sent
// from drop.
func (s *mirrored) record(t *testing.T, rel string, drop netip.AddrPort) {
	t.Helper()
	f, err := capture.OpenFile(filepath.Join(pcaptest.CapturesDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	src := &dropFrom{Source: f, dec: packet.NewDecoder(packet.Config{}), drop: drop}
	defer src.Close()
	cfg := recorder.Config{Call: call.Config{DataDir: s.data, Sensor: s.name}, Logger: slog.New(slog.DiscardHandler)}
	if sum, err := recorder.Import(context.Background(), cfg, src, s.local, nil); err != nil || sum.Errors > 0 {
		t.Fatalf("%s: import %s: %v (%d errors)", s.name, rel, err, sum.Errors)
	}
}

// TestShipTwoSensors: two sensors record one real call (the Wireshark
// sample nb6-telephone, G.711 A-law both ways) from the same packets,
// switch-b without the callee's RTP, so that both give it the same call
// ID, and both ship to one PostgreSQL index and one S3 bucket. Neither
// replaces the other: switch-b's copy is kept under ID.ForSensor, with
// its files under names of that ID, and the central index names the two
// rows as copies of one call, switch-a's (both directions) played first.
// Shipping again changes nothing, and each sensor finds its copy verified.
func TestShipTwoSensors(t *testing.T) {
	ctx := context.Background()
	_, store, central := centralSide(t, "central")
	const rel = "wireshark-samples/nb6-telephone.pcap"

	a := newMirrored(t, "switch-a")
	a.record(t, rel, netip.AddrPort{})
	calls, err := a.local.Calls(ctx, spanrec.CallFilter{Status: spanrec.Answered})
	if err != nil || len(calls) != 1 {
		t.Fatalf("switch-a: %d answered calls, %v", len(calls), err)
	}
	ca := calls[0]
	var calleeRTP netip.AddrPort
	for _, st := range ca.Streams {
		if st.Side == spanrec.CalleeSide {
			calleeRTP = st.Src
		}
	}
	b := newMirrored(t, "switch-b")
	b.record(t, rel, calleeRTP)
	cb, err := b.local.Call(ctx, ca.ID)
	if err != nil || !calleeRTP.IsValid() {
		t.Fatalf("switch-b has no call %s (callee's RTP from %v): %v", ca.ID, calleeRTP, err)
	}
	if cb.AudioSHA256 == ca.AudioSHA256 || cb.Audio != ca.Audio {
		t.Fatalf("the two sensors' recordings: %s %s, %s %s; want one name, different bytes", ca.Audio, ca.AudioSHA256, cb.Audio, cb.AudioSHA256)
	}

	shipA := &ship.Shipper{Outbox: a.local, Index: central, Store: store, DataDir: a.data}
	shipB := &ship.Shipper{Outbox: b.local, Index: central, Store: store, DataDir: b.data}
	for _, sh := range []*ship.Shipper{shipA, shipB, shipA, shipB} {
		if err := sh.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if st := shipB.Stats(); st.Renamed != 1 {
		t.Errorf("switch-b's shipper: %+v; want one call renamed", st)
	}
	bID := ca.ID.ForSensor("switch-b")
	gotA, err := central.Call(ctx, ca.ID)
	if err != nil {
		t.Fatal(err)
	}
	gotB, err := central.Call(ctx, bID)
	if err != nil {
		t.Fatal(err)
	}
	if gotA.Sensor != "switch-a" || gotA.AudioSHA256 != ca.AudioSHA256 || len(gotA.Streams) != len(ca.Streams) {
		t.Errorf("switch-a's call in the central index: sensor %s, audio %s, %d streams", gotA.Sensor, gotA.AudioSHA256, len(gotA.Streams))
	}
	if gotB.Sensor != "switch-b" || gotB.AudioSHA256 != cb.AudioSHA256 || len(gotB.Streams) != len(cb.Streams) ||
		gotB.Audio == ca.Audio || filepath.Base(gotB.Audio) != string(bID)+".wav" {
		t.Errorf("switch-b's call in the central index: sensor %s, audio %s %s, %d streams", gotB.Sensor, gotB.Audio, gotB.AudioSHA256, len(gotB.Streams))
	}
	for _, c := range []*spanrec.Call{gotA, gotB} {
		for _, f := range [][2]string{{c.Audio, c.AudioSHA256}, {c.PCAP, c.PCAPSHA256}} {
			blob, err := store.Open(ctx, f[0])
			if err != nil {
				t.Errorf("%s: %s: %v", c.Sensor, f[0], err)
				continue
			}
			if err := blob.Verify(f[1]); err != nil {
				t.Errorf("%s: %s: %v", c.Sensor, f[0], err)
			}
			blob.Close()
		}
		if len(c.Copies) != 2 || c.Copies[0].ID != ca.ID || c.Copies[1].ID != bID ||
			c.AudioFrom[spanrec.CallerSide] != ca.ID || c.AudioFrom[spanrec.CalleeSide] != ca.ID ||
			!slices.Equal(c.Copies[1].Sides, []spanrec.Side{spanrec.CallerSide}) {
			t.Errorf("%s: copies %+v, audio from %v; want switch-a's first and played", c.Sensor, c.Copies, c.AudioFrom)
		}
		if c.Interaction != gotA.Interaction {
			t.Errorf("%s: interaction %s, switch-a's %s", c.Sensor, c.Interaction, gotA.Interaction)
		}
	}
	// Each sensor finds its own copy verified centrally (its local copy
	// may go), and neither is queued again.
	if err := shipA.Verify(ctx, ca); err != nil {
		t.Errorf("switch-a's copy: %v", err)
	}
	if err := shipB.Verify(ctx, cb); err != nil {
		t.Errorf("switch-b's copy (kept as %s): %v", bID, err)
	}
	if n, _, _ := b.local.OutboxBacklog(ctx); n != 0 {
		t.Errorf("switch-b's outbox after Verify: %d calls queued again", n)
	}
	// The central index refuses switch-b's call under switch-a's ID.
	if err := central.PutCall(ctx, cb); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Errorf("PutCall of switch-b's call under switch-a's ID: %v, want a conflict", err)
	}
	if n, err := central.Count(ctx, spanrec.CallFilter{SIPCallID: ca.SIPCallID}); err != nil || n != 2 {
		t.Errorf("central rows of %s: %d, %v; want 2", ca.SIPCallID, n, err)
	}
}
