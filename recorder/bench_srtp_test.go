package recorder

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/spanrec/spanrec/pcaptest"
)

// benchSRTPCalls is the size of BenchmarkImportSRTP's captures: 100
// concurrent answered calls of 15 s talk, about 150,000 frames.
const benchSRTPCalls = 100

var srtpCaptures [3]generated

// BenchmarkImportSRTP compares the import of SDES-SRTP calls (keys in
// the SDP, AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM) with their
// plain twins (BenchmarkImport's calls, 100 of them): the difference is
// the cost of authenticating and decrypting every packet. The goal is
// SRTP at most 1.3× the plain import's CPU time.
func BenchmarkImportSRTP(b *testing.B) {
	for i, suite := range []string{"plain", "AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"} {
		b.Run("media="+suite, func(b *testing.B) {
			calls := pcaptest.Concurrent(benchSRTPCalls, benchSpread, benchTalk)
			if suite != "plain" {
				for k := range calls {
					calls[k].SRTP = &pcaptest.SRTP{Suite: suite}
				}
			}
			name := fmt.Sprintf("srtp-%s-c%d-s%v-t%v-seed%d", suite, benchSRTPCalls, benchSpread, benchTalk, benchSeed)
			data := srtpCaptures[i].get(b, name, pcaptest.Options{Seed: benchSeed, Calls: calls})
			benchImport(b, data, benchSRTPCalls, runtime.GOMAXPROCS(0))
		})
	}
}
