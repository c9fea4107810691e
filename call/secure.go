package call

import (
	"fmt"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sipmsg"
	"github.com/spanrec/spanrec/srtp"
)

// sideSecurity is what one side's latest SDP says of the encryption of
// the audio it sends.
type sideSecurity struct {
	enc spanrec.Encryption
	// crypto holds the a=crypto values of its audio (RFC 4568): the keys
	// that encrypt what this side sends.
	crypto []string
}

func sideIndex(s spanrec.Side) int {
	if s == spanrec.CalleeSide {
		return 1
	}
	return 0
}

// secureSDP records what side's SDP says of its audio's encryption: the
// first audio stream that is not disabled (port 0) decides.
func (c *state) secureSDP(side spanrec.Side, sdp *sipmsg.SDP) {
	for i := range sdp.Media {
		m := &sdp.Media[i]
		if m.Type != "audio" || m.Addr.Port() == 0 {
			continue
		}
		c.secure[sideIndex(side)] = sideSecurity{enc: srtp.Detect(m), crypto: m.CryptoLines}
		return
	}
}

// encryption returns the encryption of the media that sender sends: what
// its SDP says, else what the other side's says (the two agree on a
// profile, RFC 3264). An a=zrtp-hash only announces that ZRTP may be
// used: the media counts as ZRTP once ZRTP packets are seen, and ZRTP
// packets mean ZRTP whatever the SDP said.
func (c *state) encryption(sender spanrec.Side) spanrec.Encryption {
	e := c.secure[sideIndex(sender)].enc
	if e == spanrec.Plain {
		e = c.secure[sideIndex(other(sender))].enc
	}
	switch {
	case e == spanrec.ZRTP && !c.zrtp:
		return spanrec.Plain
	case e == spanrec.Plain && c.zrtp:
		return spanrec.ZRTP
	}
	return e
}

// encryptionNote explains why the encrypted stream st sent by side has no
// audio.
func encryptionNote(st *spanrec.Stream, haveKeys bool) string {
	from := fmt.Sprintf("%s's stream (%s → %s)", st.Side, st.Src, st.Dst)
	switch st.Encryption {
	case spanrec.DTLSSRTP:
		return "media encrypted with DTLS-SRTP (WebRTC): keys are agreed in the DTLS handshake and are not visible on the wire, so its audio cannot be decrypted; the packets are kept in the call's pcap"
	case spanrec.ZRTP:
		return "media encrypted with ZRTP: keys are agreed in a Diffie-Hellman exchange and are not visible on the wire, so its audio cannot be decrypted; the packets are kept in the call's pcap"
	case spanrec.SRTP:
		if haveKeys && st.AuthFailures == 0 {
			return fmt.Sprintf("%s is encrypted with SRTP (keys in the SDP, a=crypto): this build does not decrypt SRTP yet; the packets are kept in the call's pcap", from)
		}
		if !haveKeys {
			return fmt.Sprintf("%s is encrypted with SRTP and its keys were not in the signalling: supply them with --keys (key file) to decrypt it", from)
		}
		return fmt.Sprintf("%s is encrypted with SRTP and no key it announced authenticated its packets (%d failures): its audio is not recorded", from, st.AuthFailures)
	}
	return fmt.Sprintf("%s decodes to white noise (encrypted media, or not %s): its audio is not recorded", from, st.Codec)
}
