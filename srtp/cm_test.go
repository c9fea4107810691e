package srtp

import (
	"bytes"
	"encoding/binary"
	"testing"

	pionsrtp "github.com/pion/srtp/v3"
)

// rtpPacket returns an RTP packet with payload bytes derived from seq.
func rtpPacket(seq uint16, ts, ssrc uint32, n int) []byte {
	b := []byte{0x80, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	for i := range n {
		b = append(b, byte(int(seq)*7+i))
	}
	return b
}

// TestCMKeyMatchesPion checks the stdlib counter-mode implementation (used
// for AES-192, which pion/srtp lacks) against pion/srtp on the suites
// both implement, the same construction with other key sizes: SRTP across
// a sequence number wrap (rollover counter), with and without MKI, and
// SRTCP.
func TestCMKeyMatchesPion(t *testing.T) {
	for _, suite := range []Suite{AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32} {
		for _, mki := range [][]byte{nil, {0, 0, 0, 9}} {
			t.Run(suite.String(), func(t *testing.T) {
				kl, sl := suite.KeyLen()
				material := make([]byte, kl+sl)
				for i := range material {
					material[i] = byte(i*31 + 5)
				}
				var opts []pionsrtp.ContextOption
				if mki != nil {
					opts = append(opts, pionsrtp.MasterKeyIndicator(mki))
				}
				enc, err := pionsrtp.CreateContext(material[:kl], material[kl:], suite.info().profile, opts...)
				if err != nil {
					t.Fatal(err)
				}
				dec, err := newCMKey(Key{Suite: suite, Material: material, MKI: mki})
				if err != nil {
					t.Fatal(err)
				}
				seq := uint16(65500)
				for i := range 100 { // wraps at i = 36
					plain := rtpPacket(seq, uint32(i*160), 0xdeadbeef, 160)
					ct, err := enc.EncryptRTP(nil, plain, nil)
					if err != nil {
						t.Fatal(err)
					}
					got, err := dec.rtp(nil, ct)
					if err != nil {
						t.Fatalf("packet %d (seq %d): %v", i, seq, err)
					}
					if !bytes.Equal(got, plain) {
						t.Fatalf("packet %d (seq %d): plaintext differs", i, seq)
					}
					ct[len(ct)-1] ^= 1
					if _, err := dec.rtp(nil, ct); err == nil {
						t.Fatalf("packet %d: a damaged tag authenticated", i)
					}
					seq++
				}
				// SRTCP: a sender report.
				sr := []byte{0x80, 200, 0, 6, 0xde, 0xad, 0xbe, 0xef}
				sr = append(sr, make([]byte, 20)...)
				for i := range 3 {
					sr[10] = byte(i)
					ct, err := enc.EncryptRTCP(nil, sr, nil)
					if err != nil {
						t.Fatal(err)
					}
					got, err := dec.rtcp(nil, ct)
					if err != nil || !bytes.Equal(got, sr) {
						t.Fatalf("SRTCP %d: %v, equal %v", i, err, bytes.Equal(got, sr))
					}
				}
			})
		}
	}
}

// TestCMKeyJoinAfterWrap: the rollover counter search works with our
// counter-mode code too (here with an AES-128 key, so that pion/srtp can
// encrypt the packets).
func TestCMKeyJoinAfterWrap(t *testing.T) {
	suite := AES_CM_128_HMAC_SHA1_32
	material := make([]byte, 30)
	for i := range material {
		material[i] = byte(3 * i)
	}
	enc, err := pionsrtp.CreateContext(material[:16], material[16:], suite.info().profile)
	if err != nil {
		t.Fatal(err)
	}
	enc.SetROC(9, 3)
	k := Key{Suite: suite, Material: material}
	dec, err := newCMKey(k)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stream{keys: []*streamKey{{key: k, dec: dec}}}
	for i := range 200 {
		plain := rtpPacket(uint16(65500+i), uint32(i), 9, 160)
		ct, err := enc.EncryptRTP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, st := s.DecryptRTP(ct); st != Decrypted || !bytes.Equal(got, plain) {
			t.Fatalf("packet %d: %v", i, st)
		}
	}
	if s.stats.ROCFound != 1 {
		t.Errorf("stats %+v", s.stats)
	}
}
