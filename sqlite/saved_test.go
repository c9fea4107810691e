package sqlite_test

import (
	"context"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/sqlite"
)

func TestSavedSearches(t *testing.T) {
	ctx := context.Background()
	kinds(t, func(t *testing.T, db *sqlite.DB) {
		for _, u := range []string{"ann", "bob"} {
			if err := db.AddUser(ctx, auth.User{Name: u, Role: auth.Supervisor, Created: t0}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := db.SaveSearch(ctx, auth.SavedSearch{User: "ann", Name: "busy", Query: "status=busy", Created: t0}, 2)
		if err != nil || a.ID == 0 {
			t.Fatalf("save: %+v, %v", a, err)
		}
		b, err := db.SaveSearch(ctx, auth.SavedSearch{User: "ann", Name: "answered", Query: "status=answered", Created: t0}, 2)
		if err != nil {
			t.Fatal(err)
		}
		// Past the bound a new name is refused, the same name replaced.
		if _, err := db.SaveSearch(ctx, auth.SavedSearch{User: "ann", Name: "third", Query: "x=1", Created: t0}, 2); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
			t.Errorf("third search: %v, want conflict", err)
		}
		a2, err := db.SaveSearch(ctx, auth.SavedSearch{User: "ann", Name: "busy", Query: "status=busy&number=2", Created: t0}, 2)
		if err != nil || a2.ID != a.ID {
			t.Errorf("replace: %+v, %v (was ID %d)", a2, err, a.ID)
		}
		if _, err := db.SaveSearch(ctx, auth.SavedSearch{User: "nobody", Name: "x", Query: "", Created: t0}, 2); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("unknown user: %v", err)
		}
		got, err := db.SavedSearches(ctx, "ann")
		if err != nil || len(got) != 2 || got[0].Name != "answered" || got[1].Query != "status=busy&number=2" || !got[1].Created.Equal(t0.Truncate(0)) {
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
		if err := db.AddUser(ctx, auth.User{Name: "ann", Role: auth.Agent, Created: t0}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.SavedSearches(ctx, "ann"); err != nil || len(got) != 0 {
			t.Errorf("a new ann inherits %+v, %v", got, err)
		}
	})
}
