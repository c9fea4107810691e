package api

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// authActions returns the values of the auth package's Action constants.
func authActions(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "../auth/auth.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			v := sp.(*ast.ValueSpec)
			for i, n := range v.Names {
				if !strings.HasPrefix(n.Name, "Action") || i >= len(v.Values) {
					continue
				}
				if lit, ok := v.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, s)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestAuditActionsListed checks that every audit action is offered by the
// audit page's filter and documented for GET /api/audit and
// /api/audit.csv, and nothing else is: actions are added by several
// features, and a missing one could not be filtered on.
func TestAuditActionsListed(t *testing.T) {
	want := authActions(t)
	if len(want) < 10 {
		t.Fatalf("found only %d actions in auth/auth.go", len(want))
	}
	js, err := os.ReadFile("ui/view-audit.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)const ACTIONS = \[(.*?)\];`).FindSubmatch(js)
	if m == nil {
		t.Fatal("no ACTIONS array in view-audit.js")
	}
	var ui []string
	for _, q := range regexp.MustCompile(`'([a-z_]+)'`).FindAllSubmatch(m[1], -1) {
		ui = append(ui, string(q[1]))
	}
	slices.Sort(ui)
	if !slices.Equal(ui, want) {
		t.Errorf("view-audit.js ACTIONS %v\nauth actions          %v", ui, want)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string
				Schema struct{ Enum []string }
			}
		}
	}
	if err := json.Unmarshal(openAPIFile, &doc); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/audit", "/api/audit.csv"} {
		found := false
		for _, p := range doc.Paths[path]["get"].Parameters {
			if p.Name == "action" {
				found = true
				got := slices.Sorted(slices.Values(p.Schema.Enum))
				if !slices.Equal(got, want) {
					t.Errorf("openapi.json %s action enum %v\nauth actions %v", path, got, want)
				}
			}
		}
		if !found {
			t.Errorf("openapi.json %s has no action parameter", path)
		}
	}
}
