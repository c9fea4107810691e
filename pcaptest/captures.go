package pcaptest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FindCaptures locates the third-party capture corpus: $SPANREC_CAPTURES
// if set, else ../shared/captures beside the repository root (the directory
// holding go.mod, found from the working directory). It returns an error
// saying why when the folder is absent (a clone outside the workplace).
func FindCaptures() (string, error) {
	if d := os.Getenv("SPANREC_CAPTURES"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("SPANREC_CAPTURES=%s: %w", d, err)
		}
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "captures")
	if _, err := os.Stat(d); err != nil {
		return "", fmt.Errorf("%s (set SPANREC_CAPTURES): %w", d, err)
	}
	return d, nil
}

// CapturesDir returns FindCaptures' folder, or skips tb with the reason.
func CapturesDir(tb testing.TB) string {
	tb.Helper()
	d, err := FindCaptures()
	if err != nil {
		tb.Skipf("third-party captures not found: %v", err)
	}
	return d
}
