package pcaptest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec/render"
)

// SpoolEntries lists the spool directory of the data directory data (the
// calls a recorder has in progress), without the pool of recycled files
// (render.PoolDir); none when there is no spool.
func SpoolEntries(tb testing.TB, data string) []string {
	tb.Helper()
	ents, err := os.ReadDir(filepath.Join(data, "spool"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Name() != render.PoolDir {
			names = append(names, e.Name())
		}
	}
	return names
}
