package srtp_test

import (
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sipmsg"
	"github.com/spanrec/spanrec/srtp"
)

func TestDetect(t *testing.T) {
	for _, tt := range []struct {
		name string
		sdp  string
		want spanrec.Encryption
	}{
		{"plain", "v=0\r\nm=audio 4000 RTP/AVP 0\r\n", spanrec.Plain},
		{"SDES", "v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n", spanrec.SRTP},
		{"SAVP without keys", "v=0\r\nm=audio 4000 RTP/SAVP 0\r\n", spanrec.SRTP},
		{"SAVPF", "v=0\r\nm=audio 4000 RTP/SAVPF 0\r\n", spanrec.SRTP},
		{"WebRTC", "v=0\r\na=fingerprint:sha-256 AB:CD\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", spanrec.DTLSSRTP},
		{"fingerprint over SAVP", "v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=fingerprint:sha-256 AB:CD\r\n", spanrec.DTLSSRTP},
		{"SDES and fingerprint", "v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=fingerprint:sha-256 AB:CD\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n", spanrec.SRTP},
		{"ZRTP", "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=zrtp-hash:1.10 fe30efd0\r\n", spanrec.ZRTP},
	} {
		sdp, err := sipmsg.ParseSDP([]byte(tt.sdp))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := srtp.Detect(&sdp.Media[0]); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestIsZRTP(t *testing.T) {
	// RFC 6189 §5: 0x10 (version 0, X), sequence, "ZRTP", source
	// identifier, then the message ("PZ" preamble, length, "Hello   ").
	hello := []byte{0x10, 0, 0, 1, 'Z', 'R', 'T', 'P', 1, 2, 3, 4, 0x50, 0x5a, 0, 0x1e, 'H', 'e', 'l', 'l', 'o', ' ', ' ', ' '}
	if !srtp.IsZRTP(hello) {
		t.Error("ZRTP Hello not recognised")
	}
	rtp := []byte{0x80, 0, 0, 1, 'Z', 'R', 'T', 'P', 1, 2, 3, 4, 0}
	if srtp.IsZRTP(rtp) || srtp.IsZRTP(hello[:8]) {
		t.Error("RTP (version 2) or a short packet taken for ZRTP")
	}
}
