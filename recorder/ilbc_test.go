package recorder_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/pcaptest"
)

// ilbcFrames returns the 50-byte (30 ms) iLBC frames of the real call
// wireshark-samples/sip-rtp-ilbc.pcap (10.0.2.15:25256 -> 10.0.2.20:6000,
// payload type 99, 284 packets): there is no iLBC encoder at hand, so the
// synthetic iLBC calls send these.
func ilbcFrames(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range pcaptest.RTPPayloads(t, "wireshark-samples/sip-rtp-ilbc.pcap", 25256, 99) {
		if len(p) == 50 {
			out = append(out, p)
		}
	}
	if len(out) != 284 {
		t.Fatalf("%d iLBC frames in the capture, want 284", len(out))
	}
	return out
}

// TestSyntheticILBC records generated iLBC calls (30 ms frames of a real
// call, the callee sending them from the middle on): one clean, one with
// 5% packet loss, which the decoder conceals. Both channels carry the
// speech, the stream is decoded as iLBC, and the lossy call's recording
// is as long as the clean one's.
func TestSyntheticILBC(t *testing.T) {
	frames := ilbcFrames(t)
	caller := bytes.Join(frames, nil)
	callee := bytes.Join(append(append([][]byte(nil), frames[142:]...), frames[:142]...), nil)
	// The rtpmap says ILBC/8000: recordings name codecs in upper case
	// (codec.Canonical) and pcaptest expects the name as given.
	enc := &pcaptest.Encoded{PT: 99, PacketBytes: 50, Caller: caller, Callee: callee}
	s := record(t,
		pcaptest.Call{Codec: "ILBC", Encoded: enc, PTime: 30 * time.Millisecond, Talk: 5 * time.Second},
		pcaptest.Call{Codec: "ILBC", Encoded: enc, PTime: 30 * time.Millisecond, Talk: 5 * time.Second, Loss: 0.05, Start: 7 * time.Second},
	)
	s.checkAll(t)
	if s.sum.Errors != 0 || s.sum.WithAudio != 2 {
		t.Errorf("summary: %d errors, %d calls with audio; want 0, 2", s.sum.Errors, s.sum.WithAudio)
	}
	var zeroRuns [2][2]int
	for i := range s.exp {
		c := s.call(t, i)
		for _, st := range c.Streams {
			if !st.Decoded || st.Codec != "ILBC" {
				t.Errorf("call %d: stream %s codec %q decoded %v", i, st.Side, st.Codec, st.Decoded)
			}
			// Each lost 30 ms packet is concealed, but one lost at the
			// very end (no packet after it to close the gap).
			t.Logf("call %d: stream %s lost %d, concealed %d ms", i, st.Side, st.Lost, st.ConcealedMS)
			if want := 30 * st.Lost; st.ConcealedMS > want || st.ConcealedMS < want-30 {
				t.Errorf("call %d: stream %s lost %d packets of 30 ms, concealed %d ms", i, st.Side, st.Lost, st.ConcealedMS)
			}
		}
		r := s.checkRecording(t, i, 8000)
		e := &s.exp[i].Call
		for ch := range 2 {
			first := e.Streams[ch].First
			rms := audio.RMS(r.window(ch, first, e.End))
			zeroRuns[i][ch] = silentRuns(r.window(ch, first, e.End), 200)
			t.Logf("call %d channel %d: RMS %.0f, %d runs of 200 zero samples", i, ch, rms, zeroRuns[i][ch])
			if rms < 200 {
				t.Errorf("call %d: channel %d RMS %.0f, want speech", i, ch, rms)
			}
		}
	}
	// The lost packets of the second call (9 and 13) are concealed, not
	// left silent: no more runs of digital silence than the clean call.
	for ch := range 2 {
		if zeroRuns[1][ch] > zeroRuns[0][ch]+1 {
			t.Errorf("channel %d: %d runs of digital silence with 5%% loss, %d without: lost packets not concealed", ch, zeroRuns[1][ch], zeroRuns[0][ch])
		}
	}
}

// silentRuns counts the runs of at least n zero samples in x.
func silentRuns(x []int16, n int) int {
	runs, z := 0, 0
	for _, v := range x {
		if v != 0 {
			z = 0
			continue
		}
		if z++; z == n {
			runs++
		}
	}
	return runs
}
