package recorder_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
)

// importGenerated writes a capture of o and imports it into a fresh data
// directory.
func importGenerated(t *testing.T, o pcaptest.Options) (string, []*spanrec.Call, recorder.Summary) {
	t.Helper()
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gen.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return importFile(t, path)
}

// wavSamples returns the samples of a call's recording, nil if it has
// none.
func wavSamples(t *testing.T, data string, c *spanrec.Call) []int16 {
	t.Helper()
	if c.Audio == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(data, c.Audio))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, pcm, err := wav.ReadPCM16(f)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// TestEncryptedWithoutKeys: SRTP whose keys are not in the SDP (nor in a
// key file) is flagged, never decoded: no WAV, no "with audio", the
// encryption on each stream, a note that says what to do.
func TestEncryptedWithoutKeys(t *testing.T) {
	calls := []pcaptest.Call{{
		CallID: "srtp-oob@test", Talk: 2 * time.Second,
		SRTP: &pcaptest.SRTP{OutOfBand: true},
	}}
	data, got, sum := importGenerated(t, pcaptest.Options{Seed: 3, Calls: calls})
	if len(got) != 1 {
		t.Fatalf("%d calls, want 1", len(got))
	}
	c := got[0]
	if c.Audio != "" || sum.WithAudio != 0 || wavSamples(t, data, c) != nil {
		t.Errorf("an encrypted call was recorded with audio %q (summary: %d with audio)", c.Audio, sum.WithAudio)
	}
	if len(c.Streams) != 2 {
		t.Fatalf("%d streams, want 2", len(c.Streams))
	}
	for _, s := range c.Streams {
		if s.Decoded || s.Encryption != spanrec.SRTP || s.Packets < 90 {
			t.Errorf("stream %s: decoded %v, encryption %q, %d packets; want not decoded, srtp, ~100", s.Side, s.Decoded, s.Encryption, s.Packets)
		}
	}
	if !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "--keys") }) {
		t.Errorf("no note tells to supply keys: %q", c.Notes)
	}
	if sum.Encrypted != 2 || sum.Undecryptable != 2 || sum.Decrypted != 0 || sum.EncryptedCalls != 1 || sum.UndecryptableCalls != 1 || sum.Undecodable != 0 {
		t.Errorf("summary: %+v", sum)
	}
}

// TestNoiseGuard: SRTP media that the SDP calls plain RTP (nothing in the
// signalling tells) decodes to white noise; the noise guard keeps it out
// of the recording and flags the streams.
func TestNoiseGuard(t *testing.T) {
	for _, codec := range []string{"PCMU", "PCMA", "G722"} {
		t.Run(codec, func(t *testing.T) {
			calls := []pcaptest.Call{{
				CallID: "srtp-unannounced@test", Codec: codec, Talk: 3 * time.Second,
				SRTP: &pcaptest.SRTP{Unannounced: true},
			}}
			data, got, sum := importGenerated(t, pcaptest.Options{Seed: 4, Calls: calls})
			if len(got) != 1 {
				t.Fatalf("%d calls, want 1", len(got))
			}
			c := got[0]
			if c.Audio != "" || sum.WithAudio != 0 || wavSamples(t, data, c) != nil {
				t.Errorf("noise recorded as audio %q", c.Audio)
			}
			for _, s := range c.Streams {
				if s.Decoded || s.Encryption != spanrec.Encrypted {
					t.Errorf("stream %s: decoded %v, encryption %q; want not decoded, unknown", s.Side, s.Decoded, s.Encryption)
				}
			}
			if !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "white noise") }) {
				t.Errorf("no note about noise: %q", c.Notes)
			}
		})
	}
}

// TestNoiseGuardSpares: the noise guard never trips on real audio: every
// third-party capture with calls and every generated scenario (tones,
// ringback, DTMF, silence on hold, loss, G.722) keep all their streams.
func TestNoiseGuardSpares(t *testing.T) {
	dir := pcaptest.CapturesDir(t)
	check := func(name string, calls []*spanrec.Call) {
		for _, c := range calls {
			for _, s := range c.Streams {
				if s.Encryption == spanrec.Encrypted {
					t.Errorf("%s: call %s: stream %s (%s) taken for noise", name, c.SIPCallID, s.Src, s.Codec)
				}
			}
			for _, n := range c.Notes {
				if strings.Contains(n, "white noise") {
					t.Errorf("%s: call %s: %s", name, c.SIPCallID, n)
				}
			}
		}
	}
	for _, name := range corpus {
		_, calls, _ := importFile(t, filepath.Join(dir, name))
		check(name, calls)
	}
	_, calls, _ := importGenerated(t, pcaptest.Options{Seed: 5, Calls: pcaptest.Demo()})
	check("demo", calls)
	_, calls, _ = importGenerated(t, pcaptest.Options{Seed: 6, Calls: []pcaptest.Call{
		{Codec: "G722", Loss: 0.1, Reorder: 0.1, DTMF: "159#", EarlyMedia: true},
		{Codec: "PCMA", Hold: &pcaptest.Hold{At: time.Second}, Talk: 5 * time.Second},
	}})
	check("mix", calls)
}
