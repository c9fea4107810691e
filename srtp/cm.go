package srtp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
)

// cmKey decrypts the AES counter-mode suites with HMAC-SHA1
// authentication (RFC 3711 §4.1.1, §4.2.1) for the key sizes pion/srtp
// lacks: AES-192 (RFC 6188). It is written from the RFCs over the
// standard library's crypto/aes and crypto/hmac, and checked against
// pion/srtp's AES-128 and AES-256 (the same construction with other key
// sizes) in cm_test.go. Key derivation rate 0 only (RFC 3711 §4.3.1: the
// SDES default).
type cmKey struct {
	tagLen  int // SRTP tag bytes (SRTCP: always 10, RFC 4568 §6.2)
	mki     []byte
	noEnc   bool // UNENCRYPTED_SRTP
	noEncC  bool // UNENCRYPTED_SRTCP
	rtpC    cipher.Block
	rtcpC   cipher.Block
	rtpSalt [14]byte
	rtcpSlt [14]byte
	rtpMAC  hash.Hash
	rtcpMAC hash.Hash
	sum     [sha1.Size]byte
	rocBuf  [4]byte // the ROC as hashed; a field, so that it does not escape per packet
	roc     []rocState
}

// rocState is the rollover counter of one SSRC (RFC 3711 §3.3.1).
type rocState struct {
	ssrc uint32
	roc  uint32
	sl   uint16 // highest sequence number authenticated
}

const srtcpTagLen = 10

// Key derivation labels (RFC 3711 §4.3.2).
const (
	labelRTPEnc = iota
	labelRTPAuth
	labelRTPSalt
	labelRTCPEnc
	labelRTCPAuth
	labelRTCPSalt
)

var errAuth = errors.New("srtp: authentication failed")

func newCMKey(k Key) (*cmKey, error) {
	info := k.Suite.info()
	master, salt := k.Material[:info.keyLen], k.Material[info.keyLen:]
	prf, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	c := &cmKey{tagLen: info.tagLen, mki: k.MKI, noEnc: k.UnencryptedSRTP, noEncC: k.UnencryptedSRTCP}
	if c.rtpC, err = aes.NewCipher(derive(prf, salt, labelRTPEnc, info.keyLen)); err != nil {
		return nil, err
	}
	if c.rtcpC, err = aes.NewCipher(derive(prf, salt, labelRTCPEnc, info.keyLen)); err != nil {
		return nil, err
	}
	copy(c.rtpSalt[:], derive(prf, salt, labelRTPSalt, 14))
	copy(c.rtcpSlt[:], derive(prf, salt, labelRTCPSalt, 14))
	c.rtpMAC = hmac.New(sha1.New, derive(prf, salt, labelRTPAuth, 20))
	c.rtcpMAC = hmac.New(sha1.New, derive(prf, salt, labelRTCPAuth, 20))
	return c, nil
}

// derive is the AES-CM key derivation PRF of RFC 3711 §4.3.1 and §4.3.3
// (RFC 6188 §6 for AES-192 and AES-256: the PRF uses the master key's
// size): x = (label << 48) XOR master salt, the keystream of AES-CM with
// IV x·2^16, its first n bytes.
func derive(prf cipher.Block, salt []byte, label byte, n int) []byte {
	var iv [16]byte
	copy(iv[:], salt)
	iv[7] ^= label
	out := make([]byte, (n+15)/16*16)
	for i := 0; i < len(out); i += 16 {
		binary.BigEndian.PutUint16(iv[14:], uint16(i/16))
		prf.Encrypt(out[i:i+16], iv[:])
	}
	return out[:n]
}

// xorKeystream XORs b with the AES-CM keystream for ssrc and packet index
// (RFC 3711 §4.1.1: IV = (salt·2^16) XOR (SSRC·2^64) XOR (index·2^16)),
// without allocating.
func xorKeystream(c cipher.Block, salt *[14]byte, ssrc uint32, index uint64, b []byte) {
	var iv, ks [16]byte
	copy(iv[:], salt[:])
	for i := range 4 {
		iv[4+i] ^= byte(ssrc >> (24 - 8*i))
	}
	for i := range 6 {
		iv[8+i] ^= byte(index >> (40 - 8*i))
	}
	for off := 0; off < len(b); off += 16 {
		binary.BigEndian.PutUint16(iv[14:], uint16(off/16))
		c.Encrypt(ks[:], iv[:])
		subtle.XORBytes(b[off:], b[off:], ks[:])
	}
}

// guess returns the rollover counter state of ssrc and the ROC of seq
// (RFC 3711 Appendix A).
func (c *cmKey) guess(ssrc uint32, seq uint16) (*rocState, uint32, bool) {
	for i := range c.roc {
		st := &c.roc[i]
		if st.ssrc != ssrc {
			continue
		}
		v := st.roc
		if st.sl < 32768 {
			if int(seq)-int(st.sl) > 32768 {
				v--
			}
		} else if int(st.sl)-32768 > int(seq) {
			v++
		}
		return st, v, true
	}
	return nil, 0, false
}

func (c *cmKey) rtp(dst, pkt []byte) ([]byte, error) { return c.rtpROC(dst, pkt, -1) }

// rtpROC decrypts pkt; a roc ≥ 0 is the rollover counter to assume for
// an SSRC the key has not authenticated yet (Stream's search after a
// capture joined a stream past a sequence wrap).
func (c *cmKey) rtpROC(dst, pkt []byte, forced int64) ([]byte, error) {
	hl, ok := headerLen(pkt)
	end := len(pkt) - c.tagLen - len(c.mki)
	if !ok || end < hl {
		return nil, errShort
	}
	if len(c.mki) > 0 && subtle.ConstantTimeCompare(pkt[end:end+len(c.mki)], c.mki) != 1 {
		return nil, errAuth
	}
	ssrc := binary.BigEndian.Uint32(pkt[8:12])
	seq := binary.BigEndian.Uint16(pkt[2:4])
	st, roc, known := c.guess(ssrc, seq)
	if forced >= 0 {
		if known {
			return nil, errAuth
		}
		roc = uint32(forced)
	}
	binary.BigEndian.PutUint32(c.rocBuf[:], roc)
	c.rtpMAC.Reset()
	c.rtpMAC.Write(pkt[:end])
	c.rtpMAC.Write(c.rocBuf[:])
	if subtle.ConstantTimeCompare(c.rtpMAC.Sum(c.sum[:0])[:c.tagLen], pkt[len(pkt)-c.tagLen:]) != 1 {
		return nil, errAuth
	}
	switch {
	case !known:
		if len(c.roc) >= maxSSRCs {
			c.roc = c.roc[1:]
		}
		c.roc = append(c.roc, rocState{ssrc: ssrc, roc: roc, sl: seq})
	case roc > st.roc || (roc == st.roc && seq > st.sl):
		st.roc, st.sl = roc, seq
	}
	dst = append(dst[:0], pkt[:end]...)
	if !c.noEnc {
		xorKeystream(c.rtpC, &c.rtpSalt, ssrc, uint64(roc)<<16|uint64(seq), dst[hl:])
	}
	return dst, nil
}

func (c *cmKey) rtcp(dst, pkt []byte) ([]byte, error) {
	end := len(pkt) - srtcpTagLen - len(c.mki) // end of E || SRTCP index
	if end < 8+4 {
		return nil, errShort
	}
	if len(c.mki) > 0 && subtle.ConstantTimeCompare(pkt[end:end+len(c.mki)], c.mki) != 1 {
		return nil, errAuth
	}
	c.rtcpMAC.Reset()
	c.rtcpMAC.Write(pkt[:end])
	if subtle.ConstantTimeCompare(c.rtcpMAC.Sum(c.sum[:0])[:srtcpTagLen], pkt[len(pkt)-srtcpTagLen:]) != 1 {
		return nil, errAuth
	}
	ei := binary.BigEndian.Uint32(pkt[end-4 : end])
	dst = append(dst[:0], pkt[:end-4]...)
	if ei>>31 == 1 && !c.noEncC {
		ssrc := binary.BigEndian.Uint32(pkt[4:8])
		xorKeystream(c.rtcpC, &c.rtcpSlt, ssrc, uint64(ei&0x7fffffff), dst[8:])
	}
	return dst, nil
}

// headerLen returns the length of the RTP header of pkt (RFC 3550 §5.1,
// §5.3.1: CSRCs and extension), which SRTP leaves in the clear.
func headerLen(pkt []byte) (int, bool) {
	if len(pkt) < 12 {
		return 0, false
	}
	n := 12 + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 {
		if len(pkt) < n+4 {
			return 0, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
	}
	return n, n <= len(pkt)
}
