package recorder_test

import (
	"testing"
	"time"

	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/pcaptest"
)

// g729Frames returns the 10-byte G.729 frames of the real call
// wireshark-samples/sip-rtp-g729a.pcap (10.0.2.15:28120 -> 10.0.2.20:6000,
// 425 packets of two frames): pcaptest has no G.729 encoder, so the
// synthetic G.729 calls send these.
func g729Frames(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range pcaptest.RTPPayloads(t, "wireshark-samples/sip-rtp-g729a.pcap", 28120, 18) {
		for ; len(p) >= 10; p = p[10:] {
			out = append(out, p[:10:10])
		}
	}
	if len(out) != 850 {
		t.Fatalf("%d G.729 frames in the capture, want 850", len(out))
	}
	return out
}

// TestSyntheticG729 records generated G.729 calls whose frames come from a
// real call, in both directions: one plain, one with Annex B (a SID frame
// and 590 ms of discontinuous transmission every 1.6 s) and 5% packet
// loss. Both channels must carry the speech; the silences of the Annex B
// call comfort noise, quieter than the speech but not silent.
func TestSyntheticG729(t *testing.T) {
	frames := g729Frames(t)
	var dtx [][]byte
	for i := 0; i+100 <= len(frames); i += 100 {
		dtx = append(dtx, frames[i:i+100]...)
		dtx = append(dtx, []byte{0x0d, 0x54}) // SID: MA 0, L1 3, L2 5, gain index 10
		for range 59 {
			dtx = append(dtx, nil)
		}
	}
	s := record(t,
		pcaptest.Call{Codec: "G729", G729Frames: frames, Talk: 4 * time.Second},
		pcaptest.Call{Codec: "g729", G729Frames: dtx, G729AnnexB: true, Loss: 0.05, Talk: 5 * time.Second, Start: 6 * time.Second},
	)
	s.checkAll(t)
	if s.sum.Errors != 0 || s.sum.WithAudio != 2 {
		t.Errorf("summary: %d errors, %d calls with audio; want 0, 2", s.sum.Errors, s.sum.WithAudio)
	}
	for i := range s.exp {
		c := s.call(t, i)
		r := s.checkRecording(t, i, 8000)
		e := &s.exp[i].Call
		for ch := range 2 {
			first := e.Streams[ch].First
			if rms := audio.RMS(r.window(ch, first, e.End)); rms < 200 {
				t.Errorf("%s: channel %d RMS %.0f, want speech", c.SIPCallID, ch, rms)
			}
		}
		if i == 0 {
			continue
		}
		// The caller's first silence: after 1 s of speech and the SID frame.
		first := e.Streams[0].First
		speech := audio.RMS(r.window(0, first, first.Add(time.Second)))
		noise := audio.RMS(r.window(0, first.Add(1100*time.Millisecond), first.Add(1550*time.Millisecond)))
		t.Logf("Annex B call: speech RMS %.0f, comfort noise RMS %.1f", speech, noise)
		if noise < 1 || noise > speech/4 {
			t.Errorf("comfort noise RMS %.1f (speech %.0f): want quieter than speech, not silence", noise, speech)
		}
	}
}
