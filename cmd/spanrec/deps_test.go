package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

type listedPackage struct {
	ImportPath string
	Standard   bool
	CgoFiles   []string
	Deps       []string
}

// goList runs "go list -deps -json" on patterns with CGO_ENABLED=0.
func goList(t *testing.T, patterns ...string) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json"}, patterns...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestDependencyGraph guards the architecture (docs/ARCHITECTURE.md): the
// domain package imports only the standard library, the pipeline stages
// never reach a store, HTTP or the orchestrator, and the default build has
// no cgo.
func TestDependencyGraph(t *testing.T) {
	const mod = "github.com/spanrec/spanrec"
	pkgs := goList(t, "github.com/spanrec/spanrec/...")
	byPath := map[string]listedPackage{}
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
		if len(p.CgoFiles) > 0 {
			t.Errorf("%s uses cgo in the default build", p.ImportPath)
		}
	}
	for _, dep := range byPath[mod].Deps {
		if !byPath[dep].Standard {
			t.Errorf("the domain package %s imports %s (only the standard library is allowed)", mod, dep)
		}
	}
	stages := []string{"packet", "sipmsg", "dialog", "rtpstream", "call", "codec", "codec/g711", "codec/g722", "codec/g726", "codec/gsm",
		"codec/l16", "audio", "audio/wav", "render", "limits"}
	forbidden := []string{"net/http", "database/sql", mod + "/sqlite", mod + "/api", mod + "/recorder", mod + "/auth"}
	for _, s := range stages {
		p, ok := byPath[mod+"/"+s]
		if !ok {
			t.Errorf("package %s not found", s)
			continue
		}
		for _, dep := range p.Deps {
			for _, f := range forbidden {
				if dep == f {
					t.Errorf("stage package %s depends on %s", s, f)
				}
			}
		}
	}
}
