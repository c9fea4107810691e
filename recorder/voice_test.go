package recorder_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/pcaptest"
)

// TestVoiceCopyChoice: when one side's audio is captured twice (before and
// after a media relay), the recording keeps the copy with the voice, not
// the one with more packets.
func TestVoiceCopyChoice(t *testing.T) {
	t.Run("silent-copy-has-more-packets", func(t *testing.T) {
		relay := mustAddrPort("10.0.9.9:40000")
		s := record(t, pcaptest.Call{Talk: 4 * time.Second, SilentCopy: relay})
		c := s.call(t, 0)
		var own, copied int
		for _, st := range c.Streams {
			switch {
			case st.Side == spanrec.CalleeSide && st.Src == relay:
				copied += st.Packets
			case st.Side == spanrec.CalleeSide:
				own += st.Packets
			}
		}
		if own == 0 || copied <= own {
			t.Fatalf("callee streams: %d packets of its own, %d of the relay's silent copy; want a copy with more", own, copied)
		}
		s.checkAll(t) // metadata, streams, and no note: the copy left out had no voice
		r := s.checkRecording(t, 0, 8000)
		s.checkTalk(t, 0, r) // the callee channel carries the callee's tone
	})

	t.Run("SIP_DTMF2", func(t *testing.T) {
		// The answered call has two copies of the caller's audio: 192.168.105.110:4374 →
		// .172:4376 (665 packets, near silence, RMS ≈ 48) and .172:4376 → .110:4376 (631
		// audio packets, fewer, and the RFC 4733 digits).
		path := filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "SIP_DTMF2.pcap")
		data, calls, _ := importFile(t, path)
		var c *spanrec.Call
		for _, k := range calls {
			if k.Status == spanrec.Answered {
				c = k
			}
		}
		if c == nil || c.Audio == "" || len(c.DTMF) != 7 {
			t.Fatalf("no answered call with audio and 7 digits in %s: %+v", path, c)
		}
		for _, n := range c.Notes {
			if strings.Contains(n, "two copies") {
				t.Errorf("note %q: the copy left out carries no voice", n)
			}
		}
		f, err := os.Open(filepath.Join(data, c.Audio))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		info, pcm, err := wav.ReadPCM16(f)
		if err != nil {
			t.Fatal(err)
		}
		left := make([]int16, len(pcm)/2)
		for i := range left {
			left[i] = pcm[2*i]
		}
		// The loud copy has 113 packets of 30 ms at −45 dBFS or more (speech and the clicks
		// of the key presses around its RFC 4733 digits); the other has none.
		block := info.SampleRate / 50
		loud := 0
		for i := 0; i+block <= len(left); i += block {
			if audio.RMS(left[i:i+block]) >= 184 {
				loud++
			}
		}
		if loud < 100 {
			t.Errorf("caller channel: %d blocks of 20 ms at −45 dBFS or more, want the voiced copy's (≥ 100)", loud)
		}
	})
}
