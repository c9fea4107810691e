package recorder_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// importFile records path into a fresh data directory and returns the
// calls of the index.
func importFile(t *testing.T, path string) (string, []*spanrec.Call, recorder.Summary) {
	t.Helper()
	data := t.TempDir()
	calls, sum := importInto(t, path, data)
	return data, calls, sum
}

// importIndex records path into the data directory data and the index db.
func importIndex(t *testing.T, path, data string, db *sqlite.DB) recorder.Summary {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sum, err := recorder.Import(context.Background(), recorder.Config{Call: call.Config{DataDir: data}}, src, db, nil)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return sum
}

// corpus lists the third-party captures that hold SIP calls with RTP.
var corpus = []string{
	"wireshark-samples/sip-rtp-g722.pcap",
	"wireshark-samples/sip-rtp-g729a.pcap",
	"wireshark-samples/sip-rtp-gsm.pcap",
	"wireshark-samples/sip-rtp-ilbc.pcap",
	"wireshark-samples/sip-rtp-opus.pcap",
	"wireshark-samples/sip-rtp-speex.pcap",
	"wireshark-samples/sip-rtp-l16.pcap",
	"wireshark-samples/sip-rtp-g726.pcap",
	"wireshark-samples/sip-rtp-lpc.pcap",
	"wireshark-samples/SIP_DTMF2.pcap",
	"wireshark-samples/aaa.pcap",
	"wireshark-samples/nb6-telephone.pcap",
	"ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
	"ndpi/sip.pcap",
}

// tsharkWrong lists the streams where tshark's count is wrong, and why.
var tsharkWrong = map[string]map[uint32]string{
	"ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap": {
		// After the T.38 re-INVITE tshark decodes the port as UDPTL, yet
		// 27 more packets (frames 1436–1488) are still RTP: version 2,
		// PT 8, SSRC 0x0eaf0eaf, consecutive sequence numbers. We count
		// 132 + 27 = 159.
		0x0eaf0eaf: "tshark decodes the last 27 RTP packets as T.38",
	},
}

// decodable is what spanrec decodes; the rest must be reported, not dropped.
var decodable = map[string]bool{"PCMU": true, "PCMA": true, "G722": true, "G729": true, "L16": true, "GSM": true,
	"G726-16": true, "G726-24": true, "G726-32": true, "G726-40": true,
	"AAL2-G726-16": true, "AAL2-G726-24": true, "AAL2-G726-32": true, "AAL2-G726-40": true, "OPUS": true}

// isDecodable says whether spanrec decodes stream s: by codec name, and
// for Speex by clock rate (narrowband and wideband; not ultra-wideband).
func isDecodable(s *spanrec.Stream) bool {
	if s.Codec == "SPEEX" {
		return s.ClockRate == 8000 || s.ClockRate == 16000
	}
	return decodable[s.Codec]
}

func TestCorpusMatchesTshark(t *testing.T) {
	dir := capturesDir(t)
	for _, name := range corpus {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			exp := readExpect(t, path)
			data, calls, sum := importFile(t, path)
			if sum.Frames != exp.frames {
				t.Errorf("frames read = %d, capinfos says %d", sum.Frames, exp.frames)
			}

			// Every Call-ID tshark saw an INVITE for is one recorded call.
			var got []string
			for _, c := range calls {
				got = append(got, c.SIPCallID)
			}
			want := exp.inviteCalls()
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("calls = %q, tshark's INVITE Call-IDs = %q", got, want)
			}

			// Every RTP stream tshark lists is in a call, with its packets.
			for _, es := range exp.streams {
				s, c := findStream(calls, es)
				if s == nil {
					t.Errorf("stream %s → %s SSRC %#x (%d packets, %s) not recorded", es.src, es.dst, es.ssrc, es.packets, es.payload)
					continue
				}
				if why, ok := tsharkWrong[name][es.ssrc]; ok {
					t.Logf("stream SSRC %#x: %d packets, tshark %d: %s", es.ssrc, s.Packets, es.packets, why)
				} else if s.Packets != es.packets {
					t.Errorf("stream %s → %s SSRC %#x: packets = %d, tshark %d", es.src, es.dst, es.ssrc, s.Packets, es.packets)
				}
				if es.lost >= 0 && es.lost < es.packets && s.Lost != es.lost {
					t.Errorf("stream %s → %s SSRC %#x: lost = %d, tshark %d", es.src, es.dst, es.ssrc, s.Lost, es.lost)
				}
				if s.MOS < 1 || s.MOS > 4.5 {
					t.Errorf("stream %s: MOS %.2f outside 1..4.5", es.src, s.MOS)
				}
				checkAudio(t, data, c, s)
			}
		})
	}
}

func findStream(calls []*spanrec.Call, es expectStream) (*spanrec.Stream, *spanrec.Call) {
	for _, c := range calls {
		for i := range c.Streams {
			s := &c.Streams[i]
			if s.Src.String() == es.src && s.Dst.String() == es.dst && s.SSRC == es.ssrc && s.Codec != "telephone-event" {
				return s, c
			}
		}
	}
	return nil, nil
}

// checkAudio checks the recording of call c for stream s: a decodable
// stream's channel carries sound; an undecodable one is reported.
func checkAudio(t *testing.T, data string, c *spanrec.Call, s *spanrec.Stream) {
	t.Helper()
	if !isDecodable(s) {
		if s.Decoded {
			t.Errorf("stream of codec %q marked decoded", s.Codec)
		}
		want := fmt.Sprintf("codec %s: not decodable yet", s.Codec)
		found := false
		for _, n := range c.Notes {
			if len(n) >= len(want) && n[:len(want)] == want {
				found = true
			}
		}
		if !found {
			t.Errorf("call %s: no note %q in %q", c.SIPCallID, want, c.Notes)
		}
		return
	}
	if !s.Decoded {
		t.Errorf("call %s: stream of decodable codec %s not marked decoded", c.SIPCallID, s.Codec)
	}
	if c.Audio == "" {
		t.Errorf("call %s: decodable stream %s but no audio (notes %q)", c.SIPCallID, s.Codec, c.Notes)
		return
	}
	f, err := os.Open(filepath.Join(data, c.Audio))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, pcm, err := wav.ReadPCM16(f)
	if err != nil {
		t.Fatalf("read %s: %v", c.Audio, err)
	}
	if info.Channels != 2 {
		t.Fatalf("%s: %d channels, want 2", c.Audio, info.Channels)
	}
	frames := len(pcm) / 2
	wantFrames := c.End.Sub(c.AudioStart).Seconds() * float64(info.SampleRate)
	if d := float64(frames) - wantFrames; d > 0.02*float64(info.SampleRate) || d < -0.02*float64(info.SampleRate) {
		t.Errorf("%s: %d frames, want %.0f (audio start %v to end %v)", c.Audio, frames, wantFrames, c.AudioStart, c.End)
	}
	ch := 0
	if s.Side == spanrec.CalleeSide {
		ch = 1
	}
	mono := make([]int16, frames)
	for i := range mono {
		mono[i] = pcm[2*i+ch]
	}
	// Idle G.711 codes decode to magnitudes of 8 at most; anything above
	// twice that is sound.
	if rms := audio.RMS(mono); rms < 16 {
		t.Errorf("%s: %s channel of %s stream is silent (RMS %.1f)", c.Audio, s.Side, s.Codec, rms)
	}
}
