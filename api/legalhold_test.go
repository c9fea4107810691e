package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// TestLegalHold: only admins hold and release; a held call cannot be
// deleted (409, files and entry kept); both actions are audited.
func TestLegalHold(t *testing.T) {
	f := newFixture(t, false, nil)
	// A call of agnes's extension 201, with audio.
	call := f.callWith(t, func(c *spanrec.Call) bool {
		return c.Audio != "" && (c.Caller.Number == "201" || c.Callee.Number == "201")
	})
	path := "/api/calls/" + string(call.ID)

	sue := f.login(t, "sue")
	res, body := sue.do("POST", path+"/legal-hold", map[string]string{"reason": "x"})
	wantError(t, "supervisor holds", res, body, http.StatusForbidden)

	ada := f.login(t, "ada")
	res, body = ada.do("POST", path+"/legal-hold", map[string]string{"reason": "case 42"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("hold: %d %s", res.StatusCode, body)
	}
	var got struct {
		LegalHold *struct{ By, At, Reason string } `json:"legal_hold"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.LegalHold == nil || got.LegalHold.By != "ada" || got.LegalHold.Reason != "case 42" || got.LegalHold.At == "" {
		t.Errorf("hold answer: %s", body)
	}
	// An agent sees the call, not the hold.
	agnes := f.login(t, "agnes")
	var seen map[string]any
	agnes.getJSON(path, http.StatusOK, &seen)
	if h, ok := seen["legal_hold"]; !ok || h != nil {
		t.Errorf("agent sees legal_hold %v, want null", h)
	}
	res, body = agnes.do("POST", path+"/legal-hold", nil)
	wantError(t, "agent holds", res, body, http.StatusForbidden)

	res, body = ada.do("POST", path+"/legal-hold", map[string]string{"reason": "x", "other": "y"})
	wantError(t, "unknown field", res, body, http.StatusBadRequest)

	res, body = ada.do("DELETE", path, nil)
	wantError(t, "delete a held call", res, body, http.StatusConflict)
	for _, p := range []string{call.Audio, call.PCAP} {
		if _, err := os.Stat(filepath.Join(f.dir, p)); err != nil {
			t.Errorf("held call's file: %v", err)
		}
	}
	if c, err := f.db.Call(context.Background(), call.ID); err != nil || c.LegalHold == nil {
		t.Errorf("held call: %v", err)
	}
	if n := auditCount(t, f, auth.ActionLegalHold, call.ID); n != 1 {
		t.Errorf("%d legal_hold entries", n)
	}

	res, body = sue.do("DELETE", path+"/legal-hold", nil)
	wantError(t, "supervisor releases", res, body, http.StatusForbidden)
	if res, body := ada.do("DELETE", path+"/legal-hold", nil); res.StatusCode != http.StatusOK || !json.Valid(body) {
		t.Fatalf("release: %d %s", res.StatusCode, body)
	}
	if n := auditCount(t, f, auth.ActionLegalHoldRelease, call.ID); n != 1 {
		t.Errorf("%d legal_hold_release entries", n)
	}
	if res, body := ada.do("DELETE", path, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete after release: %d %s", res.StatusCode, body)
	}
	res, body = ada.do("POST", path+"/legal-hold", nil)
	wantError(t, "hold a deleted call", res, body, http.StatusNotFound)
}
