package api_test

import (
	"bytes"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spanrec/spanrec/pcaptest"
)

// TestCallsByInteraction: a B2BUA conversation (two legs, direct media)
// beside the demo's calls is one row with group=interaction, and
// interaction=ID lists its legs.
func TestCallsByInteraction(t *testing.T) {
	f := newFixture(t, false, nil)
	b := pcaptest.B2BUA{
		Caller: pcaptest.Endpoint{Number: "3001", SIP: netip.MustParseAddr("10.9.1.1")},
		Callee: pcaptest.Endpoint{Number: "3002", SIP: netip.MustParseAddr("10.9.2.1")},
		PBX:    netip.MustParseAddr("10.9.0.5"), DirectMedia: true,
	}
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 3, Start: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), Calls: b.Legs(0)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b2bua.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	importInto(t, f.db, f.dir, path)
	c := f.login(t, "sue")

	type page struct {
		Calls []struct {
			ID          string   `json:"id"`
			Caller      string   `json:"caller"`
			Interaction string   `json:"interaction"`
			Legs        []string `json:"legs"`
		} `json:"calls"`
		Total int `json:"total"`
	}
	var all, grouped, legs page
	c.getJSON("/api/calls?limit=500", http.StatusOK, &all)
	c.getJSON("/api/calls?limit=500&group=interaction", http.StatusOK, &grouped)
	if grouped.Total != all.Total-1 || len(grouped.Calls) != all.Total-1 {
		t.Errorf("group=interaction: total %d, %d calls; want %d (the two legs as one)", grouped.Total, len(grouped.Calls), all.Total-1)
	}
	var first string
	for _, x := range all.Calls {
		if x.Caller == "3001" {
			first = x.ID
			if len(x.Legs) != 1 {
				t.Errorf("leg A %s: legs %v, want leg B", x.ID, x.Legs)
			}
		}
	}
	if first == "" {
		t.Fatal("leg A not indexed")
	}
	c.getJSON("/api/calls?interaction="+first, http.StatusOK, &legs)
	if legs.Total != 2 || len(legs.Calls) != 2 {
		t.Errorf("interaction=%s: %d calls, want 2", first, legs.Total)
	}
	for _, x := range legs.Calls {
		if x.Interaction != first {
			t.Errorf("call %s: interaction %q, want %s", x.ID, x.Interaction, first)
		}
	}
	for _, q := range []string{"group=caller", "interaction=", "group=interaction&group=interaction"} {
		res, body := c.do("GET", "/api/calls?"+q, nil)
		wantError(t, q, res, body, http.StatusBadRequest)
	}
}
