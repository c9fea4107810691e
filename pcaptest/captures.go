package pcaptest

import (
	"encoding/binary"
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

// RTPPayloads returns copies of the RTP payloads of one stream of the
// corpus capture rel (relative to CapturesDir): the UDP datagrams from
// source port srcPort with payload type pt, in an Ethernet/IPv4 capture
// without IP options, RTP headers without CSRCs or extensions (what the
// Wireshark codec samples are). It skips tb when the corpus is absent.
// Tests of codecs spanrec has no encoder for send these real frames.
func RTPPayloads(tb testing.TB, rel string, srcPort uint16, pt uint8) [][]byte {
	tb.Helper()
	f, err := os.Open(filepath.Join(CapturesDir(tb), rel))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	frames, err := ReadFrames(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, b := range frames {
		if len(b) < 54 || b[12] != 0x08 || b[13] != 0 || b[14] != 0x45 || b[23] != 17 ||
			binary.BigEndian.Uint16(b[34:]) != srcPort || b[43]&0x7f != pt {
			continue
		}
		out = append(out, append([]byte(nil), b[54:]...))
	}
	return out
}
