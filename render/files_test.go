package render_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec/render"
)

// TestFilesBound: files written round robin through a Files of 3 hold at
// most 3 descriptors, and every byte lands where it was written (Write in
// order, WriteAt at its offset) across the closes and reopens.
func TestFilesBound(t *testing.T) {
	dir := t.TempDir()
	fs := render.NewFiles(3)
	var hs []*render.File
	want := make([][]byte, 10)
	for i := range want {
		f, err := os.Create(filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, fs.Adopt(f))
	}
	for round := range 20 {
		for i, h := range hs {
			b := []byte(fmt.Sprintf("%d:%d;", i, round))
			if _, err := h.Write(b); err != nil {
				t.Fatal(err)
			}
			want[i] = append(want[i], b...)
			if st := fs.Stats(); st.Open > 3 {
				t.Fatalf("%d files open", st.Open)
			}
		}
	}
	if _, err := hs[0].WriteAt([]byte("XX"), 0); err != nil {
		t.Fatal(err)
	}
	copy(want[0], "XX")
	for i, h := range hs {
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(h.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[i]) {
			t.Errorf("file %d: %q, want %q", i, got, want[i])
		}
	}
	if st := fs.Stats(); st.Open != 0 || st.Reopens == 0 || st.Closes == 0 {
		t.Errorf("stats %+v", st)
	}
}
