package indextest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

func (s *suite) testUsers(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	{
		if us, err := db.Users(ctx); err != nil || len(us) != 0 {
			t.Fatalf("Users of a new index = %v, %v", us, err)
		}
		alice := auth.User{Name: "alice", Role: auth.Admin, PasswordHash: "$argon2id$x", Created: T0}
		bob := auth.User{Name: "bob", Role: auth.Agent, Extensions: []string{"201", "1001"}, Created: T0}
		for _, u := range []auth.User{bob, alice} {
			if err := db.AddUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AddUser(ctx, bob); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
			t.Errorf("second bob: %v, want conflict", err)
		}
		for name, u := range map[string]auth.User{"no name": {Role: auth.Admin}, "bad role": {Name: "x", Role: "root"}} {
			if err := db.AddUser(ctx, u); spanrec.ErrorKind(err) != spanrec.EINVALID {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		us, err := db.Users(ctx)
		if err != nil || len(us) != 2 || us[0].Name != "alice" || us[1].Name != "bob" {
			t.Fatalf("Users = %+v, %v", us, err)
		}
		if len(us[0].Extensions) != 0 || us[0].Extensions == nil || !us[0].Created.Equal(T0) {
			t.Errorf("alice = %+v", us[0])
		}
		got, err := db.User(ctx, "bob")
		if err != nil || got.Role != auth.Agent || len(got.Extensions) != 2 || got.Extensions[1] != "1001" {
			t.Errorf("User(bob) = %+v, %v", got, err)
		}
		if _, err := db.User(ctx, "carol"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("User(carol): %v", err)
		}

		// Sessions and tokens go with their user.
		sess := auth.Session{IDHash: "h1", User: "bob", CSRF: "c", Created: T0, Expires: T0.Add(time.Hour), Remote: "192.0.2.1"}
		if err := db.PutSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if gs, err := db.Session(ctx, "h1"); err != nil || *gs != sess {
			t.Errorf("Session = %+v, %v; want %+v", gs, err, sess)
		}
		id, err := db.AddToken(ctx, auth.Token{User: "bob", Name: "crm", Hash: "th", Created: T0})
		if err != nil || id <= 0 {
			t.Fatalf("AddToken = %d, %v", id, err)
		}
		if _, err := db.AddToken(ctx, auth.Token{User: "carol", Hash: "th2"}); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("token for nobody: %v", err)
		}
		if err := db.SetPassword(ctx, "bob", "$new"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Session(ctx, "h1"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("session survived a password change: %v", err)
		}
		if err := db.SetPassword(ctx, "carol", "$new"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("SetPassword(carol): %v", err)
		}
		if err := db.PutSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteUser(ctx, "alice"); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
			t.Errorf("deleting the last admin: %v, want conflict", err)
		}
		if err := db.DeleteUser(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteUser(ctx, "bob"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("second delete: %v", err)
		}
		if _, err := db.Session(ctx, "h1"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("session of a deleted user: %v", err)
		}
		if _, err := db.TokenByHash(ctx, "th"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("token of a deleted user: %v", err)
		}
	}
}

func (s *suite) testSessionsExpire(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	if err := db.AddUser(ctx, auth.User{Name: "a", Role: auth.Supervisor, Created: T0}); err != nil {
		t.Fatal(err)
	}
	for i, exp := range []time.Time{T0.Add(-time.Minute), T0.Add(time.Minute)} {
		if err := db.PutSession(ctx, auth.Session{IDHash: string(rune('x' + i)), User: "a", Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteExpiredSessions(ctx, T0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "x"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("expired session kept: %v", err)
	}
	if _, err := db.Session(ctx, "y"); err != nil {
		t.Errorf("live session deleted: %v", err)
	}
	if err := db.DeleteSession(ctx, "y"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "y"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("deleted session kept: %v", err)
	}
}

func (s *suite) testTokens(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	for _, n := range []string{"a", "b"} {
		if err := db.AddUser(ctx, auth.User{Name: n, Role: auth.Supervisor, Created: T0}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for i, u := range []string{"a", "b", "a"} {
		id, err := db.AddToken(ctx, auth.Token{User: u, Name: "t", Hash: string(rune('p' + i)), Created: T0})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := db.AddToken(ctx, auth.Token{User: "a", Hash: "p"}); err == nil {
		t.Error("a second token with the same hash was stored")
	}
	if ts, err := db.Tokens(ctx, ""); err != nil || len(ts) != 3 {
		t.Errorf("Tokens() = %v, %v", ts, err)
	}
	ts, err := db.Tokens(ctx, "a")
	if err != nil || len(ts) != 2 || ts[0].ID != ids[0] || ts[1].ID != ids[2] || !ts[0].LastUsed.IsZero() {
		t.Errorf("Tokens(a) = %+v, %v", ts, err)
	}
	if err := db.TouchToken(ctx, ids[0], T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tok, err := db.TokenByHash(ctx, "p")
	if err != nil || tok.ID != ids[0] || tok.User != "a" || !tok.LastUsed.Equal(T0.Add(time.Hour)) {
		t.Errorf("TokenByHash = %+v, %v", tok, err)
	}
	if err := db.DeleteToken(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteToken(ctx, ids[0]); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("second revoke: %v", err)
	}
	if _, err := db.TokenByHash(ctx, "p"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("revoked token found: %v", err)
	}
}

func (s *suite) testAudit(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	for i, e := range []auth.Event{
		{User: "a", Action: auth.ActionPlay, CallID: "c1", Remote: "192.0.2.1"},
		{User: "b", Action: auth.ActionDownload, CallID: "c1", Detail: "c1.wav"},
		{User: "a", Action: auth.ActionDelete, CallID: "c2"},
		{User: "a", Action: auth.ActionPlay, CallID: "c3"},
	} {
		e.At = T0.Add(time.Duration(i) * time.Second)
		if err := db.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		f     auth.EventFilter
		calls string
		total int
	}{
		{auth.EventFilter{}, "c3 c2 c1 c1", 4},
		{auth.EventFilter{User: "a"}, "c3 c2 c1", 3},
		{auth.EventFilter{Action: auth.ActionPlay}, "c3 c1", 2},
		{auth.EventFilter{User: "a", Action: auth.ActionPlay, Limit: 1, Offset: 1}, "c1", 2},
		{auth.EventFilter{User: "nobody"}, "", 0},
		{auth.EventFilter{From: T0.Add(time.Second)}, "c3 c2 c1", 3},
		{auth.EventFilter{From: T0.Add(time.Second), To: T0.Add(3 * time.Second)}, "c2 c1", 2},
		{auth.EventFilter{To: T0.Add(time.Second).In(time.FixedZone("X", 3600))}, "c1", 1},
	}
	for _, tt := range tests {
		es, total, err := db.Events(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.CallID)
		}
		if joined := strings.Join(got, " "); joined != tt.calls || total != tt.total {
			t.Errorf("Events(%+v) = %q, %d; want %q, %d", tt.f, joined, total, tt.calls, tt.total)
		}
	}
	es, _, _ := db.Events(ctx, auth.EventFilter{Limit: 1, Offset: 3})
	if len(es) != 1 || es[0].Remote != "192.0.2.1" || !es[0].At.Equal(T0) || es[0].Action != auth.ActionPlay || es[0].ID <= 0 {
		t.Errorf("oldest event = %+v", es)
	}
	// Pages before an ID do not move when events are added meanwhile.
	page, _, err := db.Events(ctx, auth.EventFilter{Limit: 2})
	if err != nil || len(page) != 2 {
		t.Fatalf("first page: %v, %v", page, err)
	}
	if err := db.AddEvent(ctx, auth.Event{User: "c", Action: auth.ActionPlay, CallID: "c4", At: T0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	next, total, err := db.Events(ctx, auth.EventFilter{BeforeID: page[1].ID, Limit: 2})
	if err != nil || len(next) != 2 || next[0].CallID != "c1" || next[1].CallID != "c1" || total != 2 {
		t.Errorf("page before ID %d = %+v, %d, %v; want the two c1 events", page[1].ID, next, total, err)
	}
	if _, _, err := db.Events(ctx, auth.EventFilter{Limit: -1}); spanrec.ErrorKind(err) != spanrec.EINVALID {
		t.Errorf("negative limit: %v", err)
	}
}

func (s *suite) testDisabled(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	for _, u := range []auth.User{
		{Name: "a1", Role: auth.Admin, Created: T0},
		{Name: "a2", Role: auth.Admin, Created: T0},
		{Name: "bob", Role: auth.Agent, Extensions: []string{"201"}, Created: T0},
		{Name: "off", Role: auth.Supervisor, Created: T0, Disabled: true},
	} {
		if err := db.AddUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if u, err := db.User(ctx, "off"); err != nil || !u.Disabled {
		t.Errorf("User(off) = %+v, %v; want disabled", u, err)
	}
	if err := db.SetDisabled(ctx, "carol", true); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("SetDisabled(carol): %v, want not found", err)
	}
	if err := db.PutSession(ctx, auth.Session{IDHash: "bs", User: "bob", Expires: T0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddToken(ctx, auth.Token{User: "bob", Name: "crm", Hash: "bt", Created: T0}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetDisabled(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	if u, err := db.User(ctx, "bob"); err != nil || !u.Disabled {
		t.Errorf("User(bob) = %+v, %v; want disabled", u, err)
	}
	if _, err := db.Session(ctx, "bs"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("session of a disabled user kept: %v", err)
	}
	if _, err := db.TokenByHash(ctx, "bt"); err != nil {
		t.Errorf("token of a disabled user deleted: %v", err)
	}
	if err := db.SetDisabled(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.User(ctx, "bob"); u == nil || u.Disabled {
		t.Errorf("bob after enabling: %+v", u)
	}
	// One enabled admin must remain, whether disabled or deleted.
	if err := db.SetDisabled(ctx, "a1", true); err != nil {
		t.Fatal(err)
	}
	if err := db.SetDisabled(ctx, "a2", true); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Errorf("disabling the last enabled admin: %v, want conflict", err)
	}
	if err := db.DeleteUser(ctx, "a2"); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Errorf("deleting the last enabled admin: %v, want conflict", err)
	}
	if err := db.SetDisabled(ctx, "a1", false); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, "a2"); err != nil {
		t.Errorf("deleting one of two enabled admins: %v", err)
	}
}

// testSavedSearches: a user's saved searches, bounded per user, replaced by
// name, deleted only by their user, and gone with the user.
func (s *suite) testSavedSearches(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	for _, u := range []string{"ann", "bob"} {
		if err := db.AddUser(ctx, auth.User{Name: u, Role: auth.Supervisor, Created: T0}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := db.SaveSearch(ctx, auth.SavedSearch{User: "ann", Name: "busy", Query: "status=busy", Created: T0}, 2)
	if err != nil || a.ID == 0 {
		t.Fatalf("save: %+v, %v", a, err)
	}
	b, err := db.SaveSearch(ctx, auth.SavedSearch{User: "ann", Name: "answered", Query: "status=answered", Created: T0}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Past the bound a new name is refused, the same name replaced.
	if _, err := db.SaveSearch(ctx, auth.SavedSearch{User: "ann", Name: "third", Query: "x=1", Created: T0}, 2); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Errorf("third search: %v, want conflict", err)
	}
	a2, err := db.SaveSearch(ctx, auth.SavedSearch{User: "ann", Name: "busy", Query: "status=busy&number=2", Created: T0}, 2)
	if err != nil || a2.ID != a.ID {
		t.Errorf("replace: %+v, %v (was ID %d)", a2, err, a.ID)
	}
	if _, err := db.SaveSearch(ctx, auth.SavedSearch{User: "nobody", Name: "x", Query: "", Created: T0}, 2); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("unknown user: %v", err)
	}
	got, err := db.SavedSearches(ctx, "ann")
	if err != nil || len(got) != 2 || got[0].Name != "answered" || got[1].Query != "status=busy&number=2" || !got[1].Created.Equal(T0.Truncate(0)) {
		t.Errorf("ann's searches: %+v, %v", got, err)
	}
	if err := db.DeleteSavedSearch(ctx, "bob", b.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("bob deleting ann's search: %v", err)
	}
	if err := db.DeleteSavedSearch(ctx, "ann", b.ID); err != nil {
		t.Error(err)
	}
	// A user's searches go with the user.
	if err := db.DeleteUser(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	if err := db.AddUser(ctx, auth.User{Name: "ann", Role: auth.Agent, Created: T0}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SavedSearches(ctx, "ann"); err != nil || len(got) != 0 {
		t.Errorf("a new ann inherits %+v, %v", got, err)
	}
}
