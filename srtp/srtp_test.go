package srtp_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	pionsrtp "github.com/pion/srtp/v3"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/codec"
	_ "github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/render"
	"github.com/spanrec/spanrec/srtp"
)

// marseillaiseKey is the key of wireshark's marseillaise-srtp.pcap
// (AES_CM_128_HMAC_SHA1_80, "i know all your little secrets"), from
// the capture's SOURCES.md.
const marseillaiseKey = "aSBrbm93IGFsbCB5b3VyIGxpdHRsZSBzZWNyZXRz"

// marseillaise returns the UDP payloads of the capture's SRTP stream
// (SSRC 0xDEADBEEF), in capture order.
func marseillaise(tb testing.TB) [][]byte {
	tb.Helper()
	frames, err := capture.ReadAll(filepath.Join(pcaptest.CapturesDir(tb), "wireshark-samples", "marseillaise-srtp.pcap"))
	if err != nil {
		tb.Fatal(err)
	}
	d := packet.NewDecoder(packet.Config{})
	var out [][]byte
	for _, fr := range frames {
		p, ok := d.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if !ok || len(p.Payload) < 12 || binary.BigEndian.Uint32(p.Payload[8:12]) != 0xdeadbeef {
			continue
		}
		out = append(out, append([]byte(nil), p.Payload...))
	}
	return out
}

// TestMarseillaise decrypts the SRTP capture with its key and checks that
// (nearly) every packet authenticates and that the PCMA decodes to music:
// energy present and a shaped spectrum, not the white noise that the
// ciphertext decodes to.
func TestMarseillaise(t *testing.T) {
	pkts := marseillaise(t)
	if len(pkts) < 10000 {
		t.Fatalf("%d SRTP packets with SSRC 0xDEADBEEF, want ~11,888", len(pkts))
	}
	material, err := base64.StdEncoding.DecodeString(marseillaiseKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := srtp.NewKey("AES_CM_128_HMAC_SHA1_80", material, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s srtp.Stream
	if err := s.AddKey(key); err != nil {
		t.Fatal(err)
	}
	pcma, _ := codec.Lookup("PCMA", 8000, 1)
	dec, raw := pcma.New(), pcma.New()
	// The render noise guard must take the music for what it is.
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr, err := render.NewTrack(nil, filepath.Join(t.TempDir(), "1"+render.SpoolExt(pcma)), spanrec.CallerSide, pcma, start)
	if err != nil {
		t.Fatal(err)
	}
	var pcm, noise []int16
	for i, b := range pkts {
		plain, st := s.DecryptRTP(b)
		if st != srtp.Decrypted {
			continue
		}
		tr.Add(0xdeadbeef, binary.BigEndian.Uint16(plain[2:]), binary.BigEndian.Uint32(plain[4:]),
			start.Add(time.Duration(i)*20*time.Millisecond), plain[12:])
		if plain[1]&0x7f != 8 {
			t.Fatalf("payload type %d after decryption, want 8 (PCMA)", plain[1]&0x7f)
		}
		pcm, _ = dec.Decode(pcm, plain[12:])
		noise, _ = raw.Decode(noise, b[12:len(b)-10])
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if tr.Noise {
		t.Error("the noise guard took La Marseillaise for noise")
	}
	st := s.Stats()
	t.Logf("%d packets: %+v", len(pkts), st)
	if st.Decrypted < len(pkts)*99/100 || st.AuthFailures > len(pkts)/100 {
		t.Errorf("decrypted %d of %d packets (%d authentication failures), want ≥ 99%%", st.Decrypted, len(pkts), st.AuthFailures)
	}
	loud, flat, windows := 0, 0.0, 0
	for i := 0; i+320 <= len(pcm); i += 320 {
		w := pcm[i : i+320]
		if audio.RMS(w) < 300 {
			continue
		}
		loud++
		flat += audio.Flatness(w)
		windows++
	}
	if loud < len(pcm)/320/2 {
		t.Errorf("only %d of %d windows have audio: not the anthem", loud, len(pcm)/320)
	}
	if m := flat / float64(max(windows, 1)); m > 0.35 {
		t.Errorf("mean spectral flatness %.3f, want music (< 0.35)", m)
	}
	var nflat float64
	for i := 0; i+320 <= len(noise) && i < 320*100; i += 320 {
		nflat += audio.Flatness(noise[i : i+320])
	}
	if m := nflat / 100; m < 0.8 {
		t.Errorf("the ciphertext decoded as PCMA has flatness %.3f; the test cannot tell music from noise", m)
	}
}

// encryptor returns a pion/srtp encryption context for key.
func encryptor(t testing.TB, suite pionsrtp.ProtectionProfile, key srtp.Key) *pionsrtp.Context {
	kl, _ := key.Suite.KeyLen()
	var opts []pionsrtp.ContextOption
	if key.MKI != nil {
		opts = append(opts, pionsrtp.MasterKeyIndicator(key.MKI))
	}
	c, err := pionsrtp.CreateContext(key.Material[:kl], key.Material[kl:], suite, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rtpPacket(seq uint16, ssrc uint32) []byte {
	b := []byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], uint32(seq)*160)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	for i := range 160 {
		b = append(b, byte(i)^byte(seq))
	}
	return b
}

func testKey(t testing.TB, suite string, seed byte, mki []byte) srtp.Key {
	s, ok := srtp.ParseSuite(suite)
	if !ok {
		t.Fatalf("suite %s", suite)
	}
	kl, sl := s.KeyLen()
	m := make([]byte, kl+sl)
	for i := range m {
		m[i] = seed + byte(i)
	}
	k, err := srtp.NewKey(suite, m, mki)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestStreamKeys: a Stream with several keys (decoys offered in other
// a=crypto lines, an old and a new key around a re-INVITE) decrypts with
// whichever authenticates; a duplicate is dropped once; a wrong key and
// a damaged packet are counted as authentication failures, never passed
// on.
func TestStreamKeys(t *testing.T) {
	profiles := map[string]pionsrtp.ProtectionProfile{
		"AES_CM_128_HMAC_SHA1_80": pionsrtp.ProtectionProfileAes128CmHmacSha1_80,
		"AES_CM_128_HMAC_SHA1_32": pionsrtp.ProtectionProfileAes128CmHmacSha1_32,
		"AES_256_CM_HMAC_SHA1_80": pionsrtp.ProtectionProfileAes256CmHmacSha1_80,
		"AES_256_CM_HMAC_SHA1_32": pionsrtp.ProtectionProfileAes256CmHmacSha1_32,
		"AEAD_AES_128_GCM":        pionsrtp.ProtectionProfileAeadAes128Gcm,
		"AEAD_AES_256_GCM":        pionsrtp.ProtectionProfileAeadAes256Gcm,
	}
	for name, prof := range profiles {
		for _, mki := range [][]byte{nil, {1, 2}} {
			t.Run(name, func(t *testing.T) {
				decoy := testKey(t, name, 100, mki)
				old := testKey(t, name, 1, mki)
				cur := testKey(t, name, 50, mki)
				var s srtp.Stream
				for _, k := range []srtp.Key{decoy, old, cur} {
					if err := s.AddKey(k); err != nil {
						t.Fatal(err)
					}
				}
				encOld, encNew := encryptor(t, prof, old), encryptor(t, prof, cur)
				want := 0
				for i := range 200 {
					seq := uint16(65400 + i)
					enc := encOld
					if i >= 100 {
						enc = encNew
					}
					plain := rtpPacket(seq, 42)
					ct, err := enc.EncryptRTP(nil, plain, nil)
					if err != nil {
						t.Fatal(err)
					}
					got, st := s.DecryptRTP(ct)
					if st != srtp.Decrypted || !bytes.Equal(got, plain) {
						t.Fatalf("packet %d: %v, equal %v", i, st, bytes.Equal(got, plain))
					}
					want++
					if i%50 == 7 {
						if _, st := s.DecryptRTP(ct); st != srtp.Replayed {
							t.Fatalf("duplicate of packet %d: %v, want Replayed", i, st)
						}
						bad := append([]byte(nil), ct...)
						bad[20] ^= 0x40
						bad[2] ^= 0x40 // another sequence number, not seen yet
						if out, st := s.DecryptRTP(bad); st != srtp.AuthFailed || out != nil {
							t.Fatalf("damaged packet %d: %v", i, st)
						}
					}
				}
				st := s.Stats()
				if st.Decrypted != want || st.Replayed != 4 || st.AuthFailures != 4 || st.KeySwitches != 1 {
					t.Errorf("stats %+v; want %d decrypted, 4 replayed, 4 failures, 1 key switch", st, want)
				}
				// SRTCP with the new key.
				sr := append([]byte{0x80, 200, 0, 6, 0, 0, 0, 42}, make([]byte, 20)...)
				ct, err := encNew.EncryptRTCP(nil, sr, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got, st := s.DecryptRTCP(ct); st != srtp.Decrypted || !bytes.Equal(got, sr) {
					t.Errorf("SRTCP: %v", st)
				}
			})
		}
	}
}

func TestParseCrypto(t *testing.T) {
	tag, suite, keys, err := srtp.ParseCrypto("2 AES_CM_128_HMAC_SHA1_32 inline:" + marseillaiseKey + "|2^20|1:4;inline:" + marseillaiseKey + "|2:4 UNENCRYPTED_SRTCP")
	if err != nil || tag != 2 || suite != "AES_CM_128_HMAC_SHA1_32" || len(keys) != 2 {
		t.Fatalf("tag %d suite %s %d keys, %v", tag, suite, len(keys), err)
	}
	if !bytes.Equal(keys[0].MKI, []byte{0, 0, 0, 1}) || !bytes.Equal(keys[1].MKI, []byte{0, 0, 0, 2}) || !keys[0].UnencryptedSRTCP || keys[0].UnencryptedSRTP {
		t.Errorf("keys %+v", keys)
	}
	for _, bad := range []string{"", "1", "1 AES_CM_128_HMAC_SHA1_80", "x AES_CM_128_HMAC_SHA1_80 inline:" + marseillaiseKey,
		"1 F8_128_HMAC_SHA1_80 inline:" + marseillaiseKey, "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + marseillaiseKey + "|300:1", "1 AES_CM_128_HMAC_SHA1_80 inline:" + marseillaiseKey + " KDR=4"} {
		if _, _, _, err := srtp.ParseCrypto(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzStream feeds garbage to a keyed Stream as SRTP and SRTCP: it must
// never panic, and never return a packet that no key authenticated.
func FuzzStream(f *testing.F) {
	material, _ := base64.StdEncoding.DecodeString(marseillaiseKey)
	key, _ := srtp.NewKey("AES_CM_128_HMAC_SHA1_80", material, nil)
	enc, _ := pionsrtp.CreateContext(material[:16], material[16:], pionsrtp.ProtectionProfileAes128CmHmacSha1_80)
	good, _ := enc.EncryptRTP(nil, rtpPacket(7, 1), nil)
	f.Add(good, uint8(0))
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, uint8(1))
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		var s srtp.Stream
		for i, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32", "AEAD_AES_128_GCM"} {
			k := key
			if i > 0 {
				k = testKey(t, suite, which, nil)
			}
			if err := s.AddKey(k); err != nil {
				t.Fatal(err)
			}
		}
		out, st := s.DecryptRTP(b)
		if st == srtp.Decrypted && !bytes.Equal(b, good) {
			t.Fatalf("garbage authenticated: %x", b)
		}
		if st != srtp.Decrypted && out != nil {
			t.Fatal("output without Decrypted")
		}
		if out, st := s.DecryptRTCP(b); st == srtp.Decrypted || out != nil {
			t.Fatalf("garbage SRTCP authenticated: %x", b)
		}
	})
}

// FuzzParseCrypto: a=crypto values from the wire never panic, and every
// key returned has its suite's length.
func FuzzParseCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + marseillaiseKey + "|2^20|1:4")
	f.Add("2 AEAD_AES_256_GCM inline:" + marseillaiseKey + ";inline:AAAA UNENCRYPTED_SRTP")
	f.Add("3 AES_192_CM_HMAC_SHA1_32 inline:" + marseillaiseKey + "|1:200")
	f.Fuzz(func(t *testing.T, v string) {
		_, _, keys, err := srtp.ParseCrypto(v)
		if err != nil && keys != nil {
			t.Fatal("keys with an error")
		}
		for _, k := range keys {
			kl, sl := k.Suite.KeyLen()
			if len(k.Material) != kl+sl {
				t.Fatalf("%s key of %d bytes", k.Suite, len(k.Material))
			}
		}
	})
}

// TestJoinAfterWrap: a capture that starts after the sender's sequence
// numbers wrapped (rollover counter 1 or 2, unknown to the receiver) is
// decrypted by the rollover counter search, for pion's suites and our
// AES-192; without the right key, nothing is.
func TestJoinAfterWrap(t *testing.T) {
	for _, tt := range []struct {
		suite string
		prof  pionsrtp.ProtectionProfile
	}{
		{"AES_CM_128_HMAC_SHA1_80", pionsrtp.ProtectionProfileAes128CmHmacSha1_80},
		{"AEAD_AES_128_GCM", pionsrtp.ProtectionProfileAeadAes128Gcm},
	} {
		for _, roc := range []uint32{1, 2} {
			key := testKey(t, tt.suite, 21, nil)
			enc := encryptor(t, tt.prof, key)
			enc.SetROC(77, roc) // the sender has wrapped roc times
			var s, wrong srtp.Stream
			if err := s.AddKey(key); err != nil {
				t.Fatal(err)
			}
			if err := wrong.AddKey(testKey(t, tt.suite, 22, nil)); err != nil {
				t.Fatal(err)
			}
			for i := range 300 {
				seq := uint16(65400 + i) // wraps again, to roc+1
				plain := rtpPacket(seq, 77)
				ct, err := enc.EncryptRTP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got, st := s.DecryptRTP(ct); st != srtp.Decrypted || !bytes.Equal(got, plain) {
					t.Fatalf("%s, ROC %d: packet %d: %v", tt.suite, roc, i, st)
				}
				if _, st := wrong.DecryptRTP(ct); st != srtp.AuthFailed {
					t.Fatalf("wrong key: packet %d: %v", i, st)
				}
			}
			if st := s.Stats(); st.ROCFound != 1 || st.Decrypted != 300 {
				t.Errorf("%s, ROC %d: %+v", tt.suite, roc, st)
			}
		}
	}
}
