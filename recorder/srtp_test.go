package recorder_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
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

// importKeyed imports a capture of o with the operator keys of keyFile
// (the key file format of spanrec --keys) into a fresh data directory.
func importKeyed(t *testing.T, o pcaptest.Options, keyFile string) (string, []*spanrec.Call, recorder.Summary) {
	t.Helper()
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return importSourceKeyed(t, src, keyFile)
}

func importSourceKeyed(t *testing.T, src capture.Source, keyFile string) (string, []*spanrec.Call, recorder.Summary) {
	t.Helper()
	defer src.Close()
	ks, err := keys.Load(strings.NewReader(keyFile))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := recorder.Config{Call: call.Config{DataDir: data}, Keys: keys.NewStore(ks)}
	sum, err := recorder.Import(context.Background(), cfg, src, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return data, calls, sum
}

// TestMarseillaiseImport: wireshark's marseillaise-srtp.pcap (SRTP, no
// SIP) imported with its key in a key file (by the stream's source
// address) becomes a signalless call whose recording is the anthem:
// every packet authenticated, audio with a shaped spectrum. Without the
// key, the call has no audio and says to supply keys.
func TestMarseillaiseImport(t *testing.T) {
	path := filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "marseillaise-srtp.pcap")
	for _, keyed := range []bool{false, true} {
		kf := ""
		if keyed {
			kf = "SDES 10.1.1.1:10000 AES_CM_128_HMAC_SHA1_80 inline:aSBrbm93IGFsbCB5b3VyIGxpdHRsZSBzZWNyZXRz\n"
		}
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data, calls, sum := importSourceKeyed(t, src, kf)
		if len(calls) != 1 || len(calls[0].Streams) != 1 {
			t.Fatalf("keyed %v: %d calls, want 1 with 1 stream", keyed, len(calls))
		}
		c, s := calls[0], calls[0].Streams[0]
		if s.Encryption != spanrec.SRTP || s.Packets != 11888 {
			t.Errorf("keyed %v: stream %q with %d packets, want srtp, 11,888", keyed, s.Encryption, s.Packets)
		}
		pcm := wavSamples(t, data, c)
		if !keyed {
			if c.Audio != "" || s.Decoded || !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "--keys") }) {
				t.Errorf("without the key: audio %q, decoded %v, notes %q", c.Audio, s.Decoded, c.Notes)
			}
			continue
		}
		if !s.Decoded || s.AuthFailures != 0 || sum.Assembler.SRTPDecrypted != 11888 || sum.WithAudio != 1 {
			t.Errorf("with the key: decoded %v, %d auth failures, %d decrypted, %d with audio", s.Decoded, s.AuthFailures, sum.Assembler.SRTPDecrypted, sum.WithAudio)
		}
		// The caller's channel of the stereo WAV: music, not noise.
		var flat float64
		n := 0
		for i := 0; i+640 <= len(pcm); i += 640 * 10 {
			ch := make([]int16, 320)
			for k := range ch {
				ch[k] = pcm[i+2*k]
			}
			if audio.RMS(ch) < 300 {
				continue
			}
			flat += audio.Flatness(ch)
			n++
		}
		if n < 300 || flat/float64(n) > 0.35 {
			t.Errorf("with the key: %d loud windows of mean flatness %.3f; want music (≥ 300, < 0.35)", n, flat/float64(max(n, 1)))
		}
	}
}

// TestSRTPTwins: every SDES-SRTP call decodes bit-identical to its plain
// twin (the same call without SRTP): the same WAV samples, the same
// DTMF, every stream decrypted without an authentication failure — over
// every suite pion/srtp encrypts, MKI, decoy a=crypto lines (the answer
// picks one by tag), loss and reordering, a sequence number wrap (the
// rollover counter), re-keying by re-INVITE, G.722, early media, and keys
// given in a key file instead of the SDP.
func TestSRTPTwins(t *testing.T) {
	base := pcaptest.Call{Talk: 2 * time.Second, DTMF: "12"}
	tests := []struct {
		name string
		call pcaptest.Call
		srtp pcaptest.SRTP
	}{
		{"AES_CM_128_HMAC_SHA1_80", base, pcaptest.SRTP{}},
		{"AES_CM_128_HMAC_SHA1_32", base, pcaptest.SRTP{Suite: "AES_CM_128_HMAC_SHA1_32"}},
		{"AES_256_CM_HMAC_SHA1_80", base, pcaptest.SRTP{Suite: "AES_256_CM_HMAC_SHA1_80"}},
		{"AES_256_CM_HMAC_SHA1_32", base, pcaptest.SRTP{Suite: "AES_256_CM_HMAC_SHA1_32"}},
		{"AEAD_AES_128_GCM", base, pcaptest.SRTP{Suite: "AEAD_AES_128_GCM"}},
		{"AEAD_AES_256_GCM", base, pcaptest.SRTP{Suite: "AEAD_AES_256_GCM"}},
		{"MKI", base, pcaptest.SRTP{MKILen: 4}},
		{"decoy crypto lines", base, pcaptest.SRTP{Decoys: 2, Suite: "AES_256_CM_HMAC_SHA1_80"}},
		{"loss and reorder", pcaptest.Call{Talk: 3 * time.Second, Loss: 0.05, Reorder: 0.1}, pcaptest.SRTP{}},
		{"sequence wrap", pcaptest.Call{Talk: 3 * time.Second, Reorder: 0.05}, pcaptest.SRTP{WrapAfter: time.Second}},
		{"re-INVITE with new keys", pcaptest.Call{Talk: 5 * time.Second, Hold: &pcaptest.Hold{At: time.Second}}, pcaptest.SRTP{Rekey: true, MKILen: 2}},
		{"G722 early media", pcaptest.Call{Codec: "G722", EarlyMedia: true, Ring: 2 * time.Second}, pcaptest.SRTP{Suite: "AEAD_AES_128_GCM"}},
		{"key file", base, pcaptest.SRTP{OutOfBand: true}},
		{"key file, re-keyed", pcaptest.Call{Talk: 5 * time.Second, Hold: &pcaptest.Hold{At: time.Second}}, pcaptest.SRTP{OutOfBand: true, Rekey: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plainCall := tt.call
			plainCall.CallID = "twin@test"
			secure := plainCall
			sp := tt.srtp
			secure.SRTP = &sp
			po := pcaptest.Options{Seed: 11, Calls: []pcaptest.Call{plainCall}}
			so := pcaptest.Options{Seed: 11, Calls: []pcaptest.Call{secure}}
			kf, err := pcaptest.KeyFile(so)
			if err != nil {
				t.Fatal(err)
			}
			pdata, pcalls, _ := importGenerated(t, po)
			sdata, scalls, sum := importKeyed(t, so, kf)
			if len(pcalls) != 1 || len(scalls) != 1 {
				t.Fatalf("%d plain calls, %d SRTP calls; want 1 and 1", len(pcalls), len(scalls))
			}
			pc, sc := pcalls[0], scalls[0]
			want, got := wavSamples(t, pdata, pc), wavSamples(t, sdata, sc)
			if len(want) == 0 {
				t.Fatal("the plain twin has no audio")
			}
			if !slices.Equal(got, want) {
				t.Errorf("SRTP recording differs from the plain twin's: %d samples vs %d", len(got), len(want))
			}
			if len(sc.Streams) != len(pc.Streams) {
				t.Fatalf("%d streams, plain twin %d", len(sc.Streams), len(pc.Streams))
			}
			for i, s := range sc.Streams {
				if !s.Decoded || s.Encryption != spanrec.SRTP || s.AuthFailures != 0 || s.Packets != pc.Streams[i].Packets {
					t.Errorf("stream %d (%s): decoded %v, encryption %q, %d auth failures, %d packets (plain %d)",
						i, s.Side, s.Decoded, s.Encryption, s.AuthFailures, s.Packets, pc.Streams[i].Packets)
				}
			}
			if len(sc.DTMF) != len(pc.DTMF) {
				t.Errorf("DTMF %v, plain twin %v", sc.DTMF, pc.DTMF)
			}
			if sum.Decrypted != len(sc.Streams) || sum.Undecryptable != 0 || sum.WithAudio != 1 || sum.Assembler.SRTPAuthFailures != 0 {
				t.Errorf("summary: %+v", sum)
			}
			for _, n := range sc.Notes {
				if strings.Contains(n, "encrypt") || strings.Contains(n, "noise") {
					t.Errorf("note: %s", n)
				}
			}
		})
	}
}

// TestZRTP: media keyed by ZRTP (a=zrtp-hash in plain RTP/AVP SDP, ZRTP
// Hello packets, then SRTP) is flagged zrtp and never decoded: no keys
// are ever on the wire.
func TestZRTP(t *testing.T) {
	calls := []pcaptest.Call{{CallID: "zrtp@test", Talk: 2 * time.Second, SRTP: &pcaptest.SRTP{ZRTP: true}}}
	data, got, sum := importGenerated(t, pcaptest.Options{Seed: 8, Calls: calls})
	if len(got) != 1 {
		t.Fatalf("%d calls", len(got))
	}
	c := got[0]
	if c.Audio != "" || wavSamples(t, data, c) != nil {
		t.Errorf("ZRTP call recorded with audio %q", c.Audio)
	}
	for _, s := range c.Streams {
		if s.Decoded || s.Encryption != spanrec.ZRTP {
			t.Errorf("stream %s: decoded %v, encryption %q; want zrtp, not decoded", s.Side, s.Decoded, s.Encryption)
		}
	}
	if !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "ZRTP") }) {
		t.Errorf("no ZRTP note: %q", c.Notes)
	}
	if sum.Undecryptable != 2 || sum.Assembler.MalformedRTP != 0 {
		t.Errorf("summary %+v", sum)
	}
}

// TestSRTPKeysReloaded: keys that come while the recorder runs (the key
// file read again on SIGHUP) decrypt the calls after them: the first
// call's keys are known from the start, the second's only from 5 s of
// capture time on, before its media.
func TestSRTPKeysReloaded(t *testing.T) {
	o := pcaptest.Options{Seed: 12, Calls: []pcaptest.Call{
		{CallID: "first@test", Talk: 2 * time.Second, SRTP: &pcaptest.SRTP{OutOfBand: true}},
		{CallID: "second@test", Start: 10 * time.Second, Talk: 2 * time.Second, SRTP: &pcaptest.SRTP{OutOfBand: true}},
	}}
	kf, err := pcaptest.KeyFile(o)
	if err != nil {
		t.Fatal(err)
	}
	all, err := keys.Load(strings.NewReader(kf))
	if err != nil {
		t.Fatal(err)
	}
	var first []keys.SDES
	for _, k := range all.SDES {
		if k.CallID == "first@test" {
			first = append(first, k)
		}
	}
	if len(first) != 2 || len(all.SDES) != 4 {
		t.Fatalf("key file: %d keys, %d of the first call", len(all.SDES), len(first))
	}
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	asked := 0
	sdes := func() []keys.SDES {
		// Called at start and once a second of capture time (Expire).
		asked++
		if asked < 6 {
			return first
		}
		return all.SDES
	}
	cfg := recorder.Config{Shards: 1, Call: call.Config{DataDir: data, SDES: sdes}}
	sum, err := recorder.Import(context.Background(), cfg, src, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || sum.Decrypted != 4 || sum.WithAudio != 2 || asked < 6 {
		t.Errorf("%d calls, %d streams decrypted, %d with audio, keys asked %d times; want 2, 4, 2, ≥ 6", len(calls), sum.Decrypted, sum.WithAudio, asked)
	}
}
