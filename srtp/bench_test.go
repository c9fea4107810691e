package srtp_test

import (
	"testing"

	pionsrtp "github.com/pion/srtp/v3"

	"github.com/spanrec/spanrec/srtp"
)

// BenchmarkDecryptRTP measures the decryption of one 20 ms G.711 packet
// (160 bytes of payload) per suite, through a Stream: replay check,
// authentication, decryption. It must not allocate.
func BenchmarkDecryptRTP(b *testing.B) {
	for _, tt := range []struct {
		suite string
		prof  pionsrtp.ProtectionProfile // 0: AES-192, encrypted by cm_test's reference
	}{
		{"AES_CM_128_HMAC_SHA1_80", pionsrtp.ProtectionProfileAes128CmHmacSha1_80},
		{"AES_256_CM_HMAC_SHA1_80", pionsrtp.ProtectionProfileAes256CmHmacSha1_80},
		{"AEAD_AES_128_GCM", pionsrtp.ProtectionProfileAeadAes128Gcm},
		{"AEAD_AES_256_GCM", pionsrtp.ProtectionProfileAeadAes256Gcm},
	} {
		b.Run(tt.suite, func(b *testing.B) {
			key := testKey(b, tt.suite, 9, nil)
			enc := encryptor(b, tt.prof, key)
			const n = 4096
			pkts := make([][]byte, n)
			for i := range pkts {
				ct, err := enc.EncryptRTP(nil, rtpPacket(uint16(i), 5), nil)
				if err != nil {
					b.Fatal(err)
				}
				pkts[i] = ct
			}
			b.ReportAllocs()
			var s srtp.Stream
			i := 0
			startCPU(b)
			for b.Loop() {
				if i%n == 0 {
					// A new Stream for each pass: the replay window
					// would reject the packets of the previous one.
					s = srtp.Stream{}
					if err := s.AddKey(key); err != nil {
						b.Fatal(err)
					}
				}
				if _, st := s.DecryptRTP(pkts[i%n]); st != srtp.Decrypted {
					b.Fatalf("packet %d: %v", i, st)
				}
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "pkts/s")
			reportCPU(b, i)
		})
	}
}

// TestDecryptDoesNotAllocate guards the zero-allocation promise of the
// hot path, once the Stream's buffer has grown: a decrypted packet, and
// a packet that fails authentication (a flood of bad packets) in our
// AES-192 code. pion/srtp's failure paths allocate their error values
// (2 allocations per failed packet for AES-CM, 6 for GCM), which only a
// flood of damaged packets pays.
func TestDecryptDoesNotAllocate(t *testing.T) {
	for _, tt := range []struct {
		suite string
		prof  pionsrtp.ProtectionProfile
	}{
		{"AES_CM_128_HMAC_SHA1_80", pionsrtp.ProtectionProfileAes128CmHmacSha1_80},
		{"AEAD_AES_128_GCM", pionsrtp.ProtectionProfileAeadAes128Gcm},
	} {
		key := testKey(t, tt.suite, 3, nil)
		enc := encryptor(t, tt.prof, key)
		var s srtp.Stream
		if err := s.AddKey(key); err != nil {
			t.Fatal(err)
		}
		pkts := make([][]byte, 101)
		for i := range pkts {
			pkts[i], _ = enc.EncryptRTP(nil, rtpPacket(uint16(i), 7), nil)
		}
		s.DecryptRTP(pkts[100])
		i := 0
		if a := testing.AllocsPerRun(100, func() { s.DecryptRTP(pkts[i]); i++ }); a > 0 {
			t.Errorf("%s: %.1f allocations per decrypted packet", tt.suite, a)
		}
	}
	for _, suite := range []string{"AES_192_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32"} {
		var s srtp.Stream
		if err := s.AddKey(testKey(t, suite, 3, nil)); err != nil {
			t.Fatal(err)
		}
		bad := rtpPacket(1, 7)
		s.DecryptRTP(bad)
		if a := testing.AllocsPerRun(100, func() { s.DecryptRTP(bad) }); a > 0 {
			t.Errorf("%s: %.1f allocations per failed packet", suite, a)
		}
	}
}
