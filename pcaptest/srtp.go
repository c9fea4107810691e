package pcaptest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	pionsrtp "github.com/pion/srtp/v3"

	"github.com/spanrec/spanrec"
)

// SRTP protects a generated call's media with SRTP (RFC 3711) keyed by
// SDES (RFC 4568): each party announces a=crypto in its SDP (profile
// RTP/SAVP) and encrypts what it sends with its own key, with pion/srtp's
// encryption side. Keys are derived from the capture's seed, the call,
// the side and the key generation, so a capture and its plain twin (the
// same Options without SRTP) carry the same RTP headers and the same
// audio.
type SRTP struct {
	// Suite is an RFC 4568 / RFC 7714 suite name pion/srtp can encrypt:
	// AES_CM_128_HMAC_SHA1_80 (default), AES_CM_128_HMAC_SHA1_32,
	// AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32,
	// AEAD_AES_128_GCM or AEAD_AES_256_GCM.
	Suite string
	// MKILen, if not 0, adds a master key identifier of that many bytes
	// to every packet (RFC 3711 §3.1) and "|MKI:len" to the key.
	MKILen int
	// Decoys is the number of extra a=crypto lines (other keys, tags
	// 1..Decoys) the caller offers before its real one; the callee's
	// answer picks the real one by its tag (RFC 4568 §7.1.1).
	Decoys int
	// Rekey makes every re-INVITE (Hold) announce new keys for both
	// sides, used from the re-INVITE's answer on.
	Rekey bool
	// OutOfBand leaves the keys out of the SDP (RTP/SAVP without
	// a=crypto), as when SDES runs inside SIP over TLS: KeyFile lists
	// them for spanrec's --keys.
	OutOfBand bool
	// Unannounced makes the SDP say plain RTP (RTP/AVP, no a=crypto)
	// while the media is SRTP, as after a ZRTP handshake whose packets
	// were not captured: only the payload betrays it.
	Unannounced bool
	// ZRTP keys the media by ZRTP (RFC 6189) instead: the SDP says plain
	// RTP with a=zrtp-hash, each party sends a ZRTP Hello before its
	// SRTP, and no key is ever on the wire.
	ZRTP bool
	// WrapAfter, if not 0, starts each party's sequence numbers so that
	// they wrap this far into its stream, so that the rollover counter
	// (RFC 3711 §3.3.1) must advance.
	WrapAfter time.Duration
}

// srtpSuite is what the generator knows of a suite.
type srtpSuite struct {
	name    string
	profile pionsrtp.ProtectionProfile
	keyLen  int
	saltLen int
}

var srtpSuites = []srtpSuite{
	{"AES_CM_128_HMAC_SHA1_80", pionsrtp.ProtectionProfileAes128CmHmacSha1_80, 16, 14},
	{"AES_CM_128_HMAC_SHA1_32", pionsrtp.ProtectionProfileAes128CmHmacSha1_32, 16, 14},
	{"AES_256_CM_HMAC_SHA1_80", pionsrtp.ProtectionProfileAes256CmHmacSha1_80, 32, 14},
	{"AES_256_CM_HMAC_SHA1_32", pionsrtp.ProtectionProfileAes256CmHmacSha1_32, 32, 14},
	{"AEAD_AES_128_GCM", pionsrtp.ProtectionProfileAeadAes128Gcm, 16, 12},
	{"AEAD_AES_256_GCM", pionsrtp.ProtectionProfileAeadAes256Gcm, 32, 12},
}

func srtpSuiteOf(name string) (srtpSuite, bool) {
	if name == "" {
		name = srtpSuites[0].name
	}
	for _, s := range srtpSuites {
		if strings.EqualFold(s.name, name) {
			return s, true
		}
	}
	return srtpSuite{}, false
}

// srtpKey returns the master key and salt, and the MKI, that side uses in
// key generation gen (the SDP version that announced it) of call index;
// decoy > 0 gives the caller's decoy keys.
func srtpKey(seed int64, index int, side spanrec.Side, gen, decoy int, s srtpSuite, mkiLen int) (key, mki []byte) {
	h := sha256.New()
	fmt.Fprintf(h, "pcaptest srtp %d %d %s %d %d", seed, index, side, gen, decoy)
	sum := h.Sum(nil)
	more := sha256.Sum256(sum)
	sum = append(sum, more[:]...)
	key = sum[:s.keyLen+s.saltLen]
	if mkiLen > 0 {
		// The MKI's value is the generation, in mkiLen bytes.
		mki = make([]byte, mkiLen)
		for i, v := mkiLen-1, gen; i >= 0; i, v = i-1, v>>8 {
			mki[i] = byte(v)
		}
	}
	return key, mki
}

// keyParams returns the RFC 4568 §9.2 key parameter of a key.
func keyParams(key, mki []byte) string {
	kp := "inline:" + base64.StdEncoding.EncodeToString(key)
	if len(mki) > 0 {
		var v uint64
		for _, x := range mki {
			v = v<<8 | uint64(x)
		}
		kp += fmt.Sprintf("|2^31|%d:%d", v, len(mki))
	}
	return kp
}

// cryptoLines returns the a=crypto lines of side's SDP of version gen.
func (p *callPlan) cryptoLines(side spanrec.Side, version int) string {
	o := p.c.SRTP
	if o == nil || o.OutOfBand {
		return ""
	}
	gen := p.keyGen(version)
	var b strings.Builder
	tag := 1
	if side == spanrec.CallerSide {
		for i := 1; i <= o.Decoys; i++ {
			k, m := srtpKey(p.seed, p.index, side, gen, i, p.srtp, o.MKILen)
			fmt.Fprintf(&b, "a=crypto:%d %s %s\r\n", tag, p.srtp.name, keyParams(k, m))
			tag++
		}
	} else {
		tag += o.Decoys // the answer picks the caller's last line by its tag
	}
	k, m := srtpKey(p.seed, p.index, side, gen, 0, p.srtp, o.MKILen)
	fmt.Fprintf(&b, "a=crypto:%d %s %s\r\n", tag, p.srtp.name, keyParams(k, m))
	return b.String()
}

// keyGen returns the key generation an SDP of version announces.
func (p *callPlan) keyGen(version int) int {
	if p.c.SRTP == nil || !p.c.SRTP.Rekey {
		return 1
	}
	return version
}

// KeyFile returns the lines of a spanrec key file (--keys) that give the
// SDES keys of the calls of o that have SRTP with OutOfBand set, by
// Call-ID and side: "SDES callid:<Call-ID>/<side> <suite> inline:<key>".
func KeyFile(o Options) (string, error) {
	ps, err := plan(o)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range ps {
		if p.c.SRTP == nil || !p.c.SRTP.OutOfBand {
			continue
		}
		gens := []int{1}
		if p.c.SRTP.Rekey && p.c.Hold != nil {
			gens = append(gens, 2, 3)
		}
		for _, side := range []spanrec.Side{spanrec.CallerSide, spanrec.CalleeSide} {
			for _, g := range gens {
				k, m := srtpKey(p.seed, p.index, side, g, 0, p.srtp, p.c.SRTP.MKILen)
				fmt.Fprintf(&b, "SDES callid:%s/%s %s %s\n", p.c.CallID, side, p.srtp.name, keyParams(k, m))
			}
		}
	}
	return b.String(), nil
}

// srtpSender encrypts what one party sends, switching keys at the times
// the re-INVITEs that announced new ones were answered.
type srtpSender struct {
	ctxs []*pionsrtp.Context // by key generation - 1
	from []time.Duration     // ctxs[i] is used from from[i] on
	out  []byte
	cur  int
}

func newSRTPSender(p *callPlan, side spanrec.Side) (*srtpSender, error) {
	o := p.c.SRTP
	s := &srtpSender{}
	gens := 1
	if o.Rekey {
		gens = 1 + len(p.rekeys)
	}
	for g := 1; g <= gens; g++ {
		k, mki := srtpKey(p.seed, p.index, side, g, 0, p.srtp, o.MKILen)
		var opts []pionsrtp.ContextOption
		if len(mki) > 0 {
			opts = append(opts, pionsrtp.MasterKeyIndicator(mki))
		}
		ctx, err := pionsrtp.CreateContext(k[:p.srtp.keyLen], k[p.srtp.keyLen:], p.srtp.profile, opts...)
		if err != nil {
			return nil, fmt.Errorf("pcaptest: srtp context: %w", err)
		}
		s.ctxs = append(s.ctxs, ctx)
		if g == 1 {
			s.from = append(s.from, 0)
		} else {
			s.from = append(s.from, p.rekeys[g-2])
		}
	}
	return s, nil
}

// encrypt returns the SRTP packet of the RTP packet b sent at t; it is
// valid until the next call.
func (s *srtpSender) encrypt(b []byte, t time.Duration) []byte {
	for s.cur+1 < len(s.ctxs) && t >= s.from[s.cur+1] {
		s.cur++
	}
	out, err := s.ctxs[s.cur].EncryptRTP(s.out[:0], b, nil)
	if err != nil {
		panic(fmt.Sprintf("pcaptest: encrypt rtp: %v", err)) // the generator's own packets are valid
	}
	s.out = out
	return out
}

// zrtpHello returns a ZRTP Hello packet (RFC 6189 §5: version bits 0,
// sequence number, magic cookie, source identifier; §5.2 message).
func zrtpHello(ssrc uint32) []byte {
	b := []byte{0x10, 0, 0, 1, 'Z', 'R', 'T', 'P', byte(ssrc >> 24), byte(ssrc >> 16), byte(ssrc >> 8), byte(ssrc)}
	b = append(b, 0x50, 0x5a, 0, 22)
	b = append(b, "Hello   1.10pcaptest        "...)
	for len(b) < 12+22*4 {
		b = append(b, 0)
	}
	return append(b, 0, 0, 0, 0) // CRC (not checked by spanrec)
}
