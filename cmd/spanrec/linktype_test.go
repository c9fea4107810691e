package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestImportCountsUnsupportedLinkTypes: frames of a link type spanrec
// does not decode (here IEEE 802.11 radiotap, 127) are counted per link
// type and the summary says so, instead of an import that reads N
// packets and finds nothing without a word.
func TestImportCountsUnsupportedLinkTypes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wifi.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkType(127)); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 64)
	for i := range 5 {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 0), CaptureLength: len(frame), Length: len(frame)}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	code, out, errs := runCLI(t, nil, "import", path, "--data", filepath.Join(dir, "data"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "link type 127") || !strings.Contains(out, "5 frames") {
		t.Errorf("the summary does not count the 5 frames of link type 127:\n%s", out)
	}
}
