package call_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/sipmsg"
)

// TestFinishedPCAPSHA256 checks that the SHA-256 an Assembler computes
// while it writes each call's pcapng is the hash of the file on disk.
func TestFinishedPCAPSHA256(t *testing.T) {
	src, err := capture.OpenFile("../testdata/demo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var fins []*call.Finished
	a := call.NewAssembler(call.Config{DataDir: t.TempDir()}, func(f *call.Finished) { fins = append(fins, f) })
	dec := packet.NewDecoder(packet.Config{})
	for {
		fr, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if !ok || p.Proto != 17 {
			continue
		}
		a.Expire(p.Time)
		if sipmsg.Looks(p.Payload) {
			if m, err := sipmsg.Parse(p.Payload); err == nil {
				a.HandleSIP(m, &p)
			}
			continue
		}
		a.HandleMedia(&p)
	}
	a.Close()
	if len(fins) < 3 {
		t.Fatalf("%d calls finished, want the demo's calls", len(fins))
	}
	for _, f := range fins {
		for _, tr := range f.Tracks {
			_ = tr.Remove()
		}
		if f.PCAPPath == "" {
			t.Errorf("call %s: no pcapng", f.Call.SIPCallID)
			continue
		}
		b, err := os.ReadFile(f.PCAPPath)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if want := hex.EncodeToString(sum[:]); f.PCAPSHA256 != want {
			t.Errorf("call %s: PCAPSHA256 %q, file's %q (%d bytes)", f.Call.SIPCallID, f.PCAPSHA256, want, len(b))
		}
	}
}
