package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/keys"
)

// TestAddKeys checks POST /api/keys: admins only, the keys reach the
// store, the answer and the audit trail never show them, a bad line is
// refused by number, and without a running recorder the route is 404.
func TestAddKeys(t *testing.T) {
	store := keys.NewStore(nil)
	f := newFixture(t, false, func(c *api.Config) { c.Keys = store })
	secret := strings.Repeat("5e", 48)
	random := strings.Repeat("ab", 32)
	lines := "# from the PBX\nCLIENT_RANDOM " + random + " " + secret + "\n"

	agnes := f.login(t, "agnes")
	res, body := agnes.do("POST", "/api/keys", map[string]string{"key_log": lines})
	wantError(t, "agent adds keys", res, body, http.StatusForbidden)
	sue := f.login(t, "sue")
	res, body = sue.do("POST", "/api/keys", map[string]string{"key_log": lines})
	wantError(t, "supervisor adds keys", res, body, http.StatusForbidden)
	if n, _ := store.Len(); n != 0 {
		t.Fatalf("refused requests added %d connections", n)
	}

	ada := f.login(t, "ada")
	res, body = ada.do("POST", "/api/keys", map[string]string{"key_log": lines})
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"tls_connections":1`) {
		t.Fatalf("admin adds keys: %d %s", res.StatusCode, body)
	}
	if strings.Contains(string(body), secret) || strings.Contains(string(body), random) {
		t.Errorf("the answer echoes key material: %s", body)
	}
	var cr keys.ClientRandom
	for i := range cr {
		cr[i] = 0xab
	}
	if s, ok := store.Lookup(cr); !ok || len(s.Master) != 48 {
		t.Errorf("the store lacks the master secret")
	}

	bad := "CLIENT_RANDOM " + random + " " + secret + "\nCLIENT_RANDOM " + random + " " + secret[:90] + "\n"
	res, body = ada.do("POST", "/api/keys", map[string]string{"key_log": bad})
	wantError(t, "bad line", res, body, http.StatusBadRequest)
	if !strings.Contains(string(body), "line 2") || strings.Contains(string(body), secret[:90]) {
		t.Errorf("bad line: %s", body)
	}
	res, body = ada.do("POST", "/api/keys", map[string]string{"key_log": "# nothing\n"})
	wantError(t, "no keys", res, body, http.StatusBadRequest)

	es, _, err := f.db.Events(context.Background(), auth.EventFilter{Action: auth.ActionKeysAdd})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].User != "ada" || strings.Contains(es[0].Detail, secret) {
		t.Errorf("audit: %+v", es)
	}

	g := newFixture(t, false, nil)
	res, body = g.login(t, "ada").do("POST", "/api/keys", map[string]string{"key_log": lines})
	wantError(t, "no recorder", res, body, http.StatusNotFound)
}
