package siptls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// cipherKind is how records are protected.
type cipherKind int

const (
	gcm cipherKind = iota
	chacha
	cbc
)

// suite is what the record layer needs of a cipher suite.
type suite struct {
	kind   cipherKind
	keyLen int
	mac    func() hash.Hash // CBC: the record MAC's hash
	prf    func() hash.Hash // TLS 1.2 PRF hash; TLS 1.3 HKDF hash
}

// suites are the cipher suites decrypted, by IANA number (RFC 8446 §B.4,
// RFC 5288, RFC 5289, RFC 7905, RFC 5246 §A.5, RFC 4492).
var suites = map[uint16]suite{
	// TLS 1.3
	0x1301: {gcm, 16, nil, sha256.New},
	0x1302: {gcm, 32, nil, sha512.New384},
	0x1303: {chacha, 32, nil, sha256.New},
	// TLS 1.2 AEAD
	0xC02F: {gcm, 16, nil, sha256.New},    // ECDHE_RSA_WITH_AES_128_GCM_SHA256
	0xC030: {gcm, 32, nil, sha512.New384}, // ECDHE_RSA_WITH_AES_256_GCM_SHA384
	0xC02B: {gcm, 16, nil, sha256.New},    // ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	0xC02C: {gcm, 32, nil, sha512.New384}, // ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	0x009C: {gcm, 16, nil, sha256.New},    // RSA_WITH_AES_128_GCM_SHA256
	0x009D: {gcm, 32, nil, sha512.New384}, // RSA_WITH_AES_256_GCM_SHA384
	0x009E: {gcm, 16, nil, sha256.New},    // DHE_RSA_WITH_AES_128_GCM_SHA256
	0x009F: {gcm, 32, nil, sha512.New384}, // DHE_RSA_WITH_AES_256_GCM_SHA384
	0xCCA8: {chacha, 32, nil, sha256.New}, // ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	0xCCA9: {chacha, 32, nil, sha256.New}, // ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	0xCCAA: {chacha, 32, nil, sha256.New}, // DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	// TLS 1.2 CBC
	0x002F: {cbc, 16, sha1.New, sha256.New},         // RSA_WITH_AES_128_CBC_SHA
	0x0035: {cbc, 32, sha1.New, sha256.New},         // RSA_WITH_AES_256_CBC_SHA
	0x003C: {cbc, 16, sha256.New, sha256.New},       // RSA_WITH_AES_128_CBC_SHA256
	0x003D: {cbc, 32, sha256.New, sha256.New},       // RSA_WITH_AES_256_CBC_SHA256
	0xC009: {cbc, 16, sha1.New, sha256.New},         // ECDHE_ECDSA_WITH_AES_128_CBC_SHA
	0xC00A: {cbc, 32, sha1.New, sha256.New},         // ECDHE_ECDSA_WITH_AES_256_CBC_SHA
	0xC013: {cbc, 16, sha1.New, sha256.New},         // ECDHE_RSA_WITH_AES_128_CBC_SHA
	0xC014: {cbc, 32, sha1.New, sha256.New},         // ECDHE_RSA_WITH_AES_256_CBC_SHA
	0xC023: {cbc, 16, sha256.New, sha256.New},       // ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
	0xC024: {cbc, 32, sha512.New384, sha512.New384}, // ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
	0xC027: {cbc, 16, sha256.New, sha256.New},       // ECDHE_RSA_WITH_AES_128_CBC_SHA256
	0xC028: {cbc, 32, sha512.New384, sha512.New384}, // ECDHE_RSA_WITH_AES_256_CBC_SHA384
	0x0033: {cbc, 16, sha1.New, sha256.New},         // DHE_RSA_WITH_AES_128_CBC_SHA
	0x0039: {cbc, 32, sha1.New, sha256.New},         // DHE_RSA_WITH_AES_256_CBC_SHA
	0x0067: {cbc, 16, sha256.New, sha256.New},       // DHE_RSA_WITH_AES_128_CBC_SHA256
	0x006B: {cbc, 32, sha256.New, sha256.New},       // DHE_RSA_WITH_AES_256_CBC_SHA256
}

// suiteHash returns the hash of a known suite.
func suiteHash(id uint16) func() hash.Hash { return suites[id].prf }

// protection decrypts the records of one direction under one key.
type protection struct {
	tls13   bool
	aead    cipher.AEAD
	iv      []byte // AEAD: TLS 1.2 GCM salt (4 bytes), else the 12-byte IV
	explict bool   // TLS 1.2 GCM: 8-byte explicit nonce before the ciphertext
	block   cipher.Block
	macKey  []byte
	mac     hash.Hash // CBC: HMAC with macKey
	etm     bool
	seq     uint64
	cbcDec  cipher.BlockMode // CBC decrypter, its IV set per record
	sum     []byte           // MAC scratch
	out     []byte           // plaintext scratch
	nonce   [12]byte
	aad     [13]byte
}

// open authenticates and decrypts one record (header included) and
// returns its plaintext and content type; ok is false when the record
// fails authentication or is malformed.
func (p *protection) open(rec []byte) (plain []byte, typ byte, ok bool) {
	defer func() { p.seq++ }()
	if p.aead != nil {
		return p.openAEAD(rec)
	}
	return p.openCBC(rec)
}

func (p *protection) openAEAD(rec []byte) ([]byte, byte, bool) {
	body := rec[5:]
	var aad []byte
	if p.explict {
		if len(body) < 8+p.aead.Overhead() {
			return nil, 0, false
		}
		copy(p.nonce[:4], p.iv)
		copy(p.nonce[4:], body[:8])
		body = body[8:]
	} else {
		copy(p.nonce[:], p.iv)
		for i := range 8 {
			p.nonce[4+i] ^= byte(p.seq >> (56 - 8*i))
		}
	}
	if len(body) < p.aead.Overhead() {
		return nil, 0, false
	}
	if p.tls13 {
		aad = rec[:5]
	} else {
		aad = p.header12(rec[0], rec[1:3], len(body)-p.aead.Overhead())
	}
	out, err := p.aead.Open(p.out[:0], p.nonce[:], body, aad)
	if err != nil {
		return nil, 0, false
	}
	p.out = out
	if !p.tls13 {
		return out, rec[0], true
	}
	// RFC 8446 §5.2: TLSInnerPlaintext is content, type, zero padding.
	i := len(out) - 1
	for i >= 0 && out[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, false
	}
	return out[:i], out[i], true
}

// header12 returns the TLS 1.2 additional data / MAC header: seq_num,
// type, version, length (RFC 5246 §6.2.3.1, §6.2.3.3).
func (p *protection) header12(typ byte, version []byte, n int) []byte {
	binary.BigEndian.PutUint64(p.aad[:8], p.seq)
	p.aad[8] = typ
	p.aad[9], p.aad[10] = version[0], version[1]
	binary.BigEndian.PutUint16(p.aad[11:], uint16(n))
	return p.aad[:]
}

// openCBC handles TLS 1.2 AES-CBC records: IV, then ciphertext of
// content, MAC and padding (RFC 5246 §6.2.3.2), or with encrypt-then-MAC
// the MAC over IV and ciphertext after them (RFC 7366 §3).
func (p *protection) openCBC(rec []byte) ([]byte, byte, bool) {
	body := rec[5:]
	bs, ms := p.block.BlockSize(), p.mac.Size()
	if p.etm {
		if len(body) < bs+bs+ms {
			return nil, 0, false
		}
		ct, tag := body[:len(body)-ms], body[len(body)-ms:]
		p.mac.Reset()
		p.mac.Write(p.header12(rec[0], rec[1:3], len(ct)))
		p.mac.Write(ct)
		p.sum = p.mac.Sum(p.sum[:0])
		if !hmac.Equal(p.sum, tag) {
			return nil, 0, false
		}
		out, ok := p.decryptCBC(ct)
		if !ok {
			return nil, 0, false
		}
		return out, rec[0], true
	}
	if len(body) < bs+max(bs, ms+1) {
		return nil, 0, false
	}
	out, ok := p.decryptCBC(body)
	if !ok || len(out) < ms {
		return nil, 0, false
	}
	content, tag := out[:len(out)-ms], out[len(out)-ms:]
	p.mac.Reset()
	p.mac.Write(p.header12(rec[0], rec[1:3], len(content)))
	p.mac.Write(content)
	p.sum = p.mac.Sum(p.sum[:0])
	if subtle.ConstantTimeCompare(p.sum, tag) != 1 {
		return nil, 0, false
	}
	return content, rec[0], true
}

// decryptCBC decrypts IV || ciphertext and removes the padding.
func (p *protection) decryptCBC(b []byte) ([]byte, bool) {
	bs := p.block.BlockSize()
	if len(b) < 2*bs || len(b)%bs != 0 {
		return nil, false
	}
	iv, ct := b[:bs], b[bs:]
	p.out = append(p.out[:0], ct...)
	if s, ok := p.cbcDec.(interface{ SetIV([]byte) }); ok {
		s.SetIV(iv)
	} else {
		p.cbcDec = cipher.NewCBCDecrypter(p.block, iv)
	}
	p.cbcDec.CryptBlocks(p.out, p.out)
	pad := int(p.out[len(p.out)-1])
	if pad+1 > len(p.out) {
		return nil, false
	}
	for _, c := range p.out[len(p.out)-1-pad:] {
		if int(c) != pad {
			return nil, false
		}
	}
	return p.out[:len(p.out)-1-pad], true
}

// tls12Keys sets direction i's protection from the master secret
// (RFC 5246 §6.3), on its ChangeCipherSpec.
func (c *Conn) tls12Keys(i int) {
	s, ok := suites[c.suite]
	if !ok || c.version != 0x0303 || c.sec.Master == nil {
		if c.state == Handshake {
			c.state = Joined
			c.release()
		}
		return
	}
	macLen, ivLen := 0, 16
	switch s.kind {
	case gcm:
		ivLen = 4
	case chacha:
		ivLen = 12
	case cbc:
		macLen = s.mac().Size()
	}
	var seed [64]byte
	copy(seed[:32], c.serverRandom[:])
	copy(seed[32:], c.clientRandom[:])
	kb := prf12(s.prf, c.sec.Master, "key expansion", seed[:], 2*(macLen+s.keyLen+ivLen))
	macKey := kb[i*macLen : (i+1)*macLen]
	kb = kb[2*macLen:]
	key := kb[i*s.keyLen : (i+1)*s.keyLen]
	kb = kb[2*s.keyLen:]
	iv := kb[i*ivLen : (i+1)*ivLen]
	p := &protection{iv: iv, macKey: macKey}
	switch s.kind {
	case gcm:
		b, err := aes.NewCipher(key)
		if err != nil {
			c.state = Broken
			return
		}
		p.aead, _ = cipher.NewGCM(b)
		p.explict = true
	case chacha:
		p.aead, _ = chacha20poly1305.New(key)
	case cbc:
		b, err := aes.NewCipher(key)
		if err != nil {
			c.state = Broken
			return
		}
		p.block, p.mac, p.etm = b, hmac.New(s.mac, macKey), c.etm
	}
	if p.aead == nil && p.block == nil {
		c.state = Broken
		return
	}
	c.dir[i].prot = p
	c.state = Decrypting
}

// tls13Keys sets direction i's protection from a traffic secret (RFC 8446
// §7.3); app says it is an application traffic secret.
func (c *Conn) tls13Keys(i int, secret []byte, app bool) {
	s, ok := suites[c.suite]
	h := s.prf
	if !ok || secret == nil || len(secret) != h().Size() {
		c.state = NoKeys
		c.release()
		return
	}
	key := expandLabel(h, secret, "key", nil, s.keyLen)
	iv := expandLabel(h, secret, "iv", nil, 12)
	p := &protection{tls13: true, iv: iv}
	var err error
	switch s.kind {
	case gcm:
		var b cipher.Block
		if b, err = aes.NewCipher(key); err == nil {
			p.aead, err = cipher.NewGCM(b)
		}
	case chacha:
		p.aead, err = chacha20poly1305.New(key)
	default:
		c.state = Unsupported
		c.release()
		return
	}
	if err != nil || key == nil {
		c.state = Broken
		c.release()
		return
	}
	d := &c.dir[i]
	d.prot, d.secret, d.app = p, secret, app
	c.state = Decrypting
}

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1); nil on error.
func expandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) []byte {
	info := make([]byte, 0, 4+6+len(label)+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(h, secret, string(info), length)
	if err != nil {
		return nil
	}
	return out
}

// prf12 is the TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label + seed).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	mac := hmac.New(h, secret)
	out := make([]byte, 0, n+mac.Size())
	mac.Write(ls)
	a := mac.Sum(nil) // A(1)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}
