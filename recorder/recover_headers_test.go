package recorder_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sipmsg"
)

// TestRecoverKeepsHeaders: a call in progress when the recorder dies keeps
// its user agents and INVITE header fields through the journal, so that
// search by user agent or header finds the recovered call. The capture is
// Wireshark's nb6-telephone sample; tshark shows its INVITE (4.906 s after
// the first frame) with User-Agent "neufbox6 - r13507", the 100 Trying
// (4.936 s) with Server "Alcatel-Lucent-HPSS/3.0.3", the 200 at 5.298 s,
// the ACK at 5.447 s and the BYE at 10.428 s. The recorder dies at 8 s.
func TestRecoverKeepsHeaders(t *testing.T) {
	const callID = "1135D8701739D86@10.251.23.139"
	frames := loadFrames(t, filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "nb6-telephone.pcap"))
	feed := func(asm *call.Assembler, until time.Time) {
		dec := packet.NewDecoder(packet.Config{})
		for _, fr := range frames {
			if !until.IsZero() && fr.Time.After(until) {
				break
			}
			p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
			if !ok || p.Proto != packet.ProtoUDP {
				continue
			}
			if sipmsg.Looks(p.Payload) {
				if m, err := sipmsg.Parse(p.Payload); err == nil {
					asm.HandleSIP(m, &p)
				}
				continue
			}
			asm.HandleMedia(&p)
		}
	}

	// The whole call, for reference.
	var whole *spanrec.Call
	ref := call.NewAssembler(call.Config{DataDir: t.TempDir()}, func(f *call.Finished) {
		if f.Call.SIPCallID == callID {
			whole = f.Call
		}
	})
	feed(ref, time.Time{})
	ref.Close()
	if whole == nil {
		t.Fatal("the whole capture gave no call " + callID)
	}
	if whole.CallerUA != "neufbox6 - r13507" || whole.CalleeUA != "Alcatel-Lucent-HPSS/3.0.3" || len(whole.SIPHeaders) < 8 {
		t.Fatalf("whole call: user agents %q, %q, %d headers: not what tshark shows", whole.CallerUA, whole.CalleeUA, len(whole.SIPHeaders))
	}

	// The call until the crash: journal only.
	dir := t.TempDir()
	asm := call.NewAssembler(call.Config{DataDir: dir, Journal: true}, func(f *call.Finished) {
		t.Errorf("call %s finished before the crash", f.Call.SIPCallID)
	})
	feed(asm, frames[0].Time.Add(8*time.Second))
	asm.Flush()
	if asm.Active() != 1 {
		t.Fatalf("%d calls open at the crash, want 1", asm.Active())
	}
	db := openIndex(t, dir)
	if n, err := recorder.Recover(context.Background(), recorder.Config{Call: call.Config{DataDir: dir}}, db, nil); n != 1 || err != nil {
		t.Fatalf("recovered %d calls: %v", n, err)
	}
	found := func(what string, f spanrec.CallFilter) *spanrec.Call {
		t.Helper()
		cs, err := db.Calls(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].SIPCallID != callID {
			t.Errorf("search by %s: %d calls, want the recovered one", what, len(cs))
			return nil
		}
		return cs[0]
	}
	c := found("Call-ID", spanrec.CallFilter{SIPCallID: callID})
	if c == nil {
		t.FailNow()
	}
	if c.CallerUA != whole.CallerUA || c.CalleeUA != whole.CalleeUA {
		t.Errorf("recovered call's user agents %q, %q; the whole call's %q, %q", c.CallerUA, c.CalleeUA, whole.CallerUA, whole.CalleeUA)
	}
	found("the caller's user agent", spanrec.CallFilter{UserAgent: "neufbox6"})
	found("the callee's user agent", spanrec.CallFilter{UserAgent: "alcatel-lucent"})
	// Every INVITE header field the whole call keeps finds the recovered
	// call (the index does not return them; search reads them).
	for _, h := range whole.SIPHeaders {
		found("header "+h.Name+": "+h.Value, spanrec.CallFilter{HeaderName: h.Name, HeaderValue: h.Value})
	}
	if c.HeadersCut != whole.HeadersCut {
		t.Errorf("recovered call: %d header fields cut, the whole call %d", c.HeadersCut, whole.HeadersCut)
	}
	if !slices.Contains(c.Notes, recorder.InterruptedNote) {
		t.Errorf("notes %q lack the interruption", c.Notes)
	}
}
