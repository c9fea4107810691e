package srtp

import (
	"strings"

	pionsrtp "github.com/pion/srtp/v3"
)

// Suite is an SRTP crypto suite (RFC 4568 §6.2, RFC 6188 §7.1, RFC 7714
// §14.2).
type Suite uint8

// The suites a Stream decrypts. The zero Suite is none.
const (
	AES_CM_128_HMAC_SHA1_80 Suite = iota + 1 //nolint:revive // RFC names
	AES_CM_128_HMAC_SHA1_32
	AES_192_CM_HMAC_SHA1_80
	AES_192_CM_HMAC_SHA1_32
	AES_256_CM_HMAC_SHA1_80
	AES_256_CM_HMAC_SHA1_32
	AEAD_AES_128_GCM
	AEAD_AES_256_GCM
)

type suiteInfo struct {
	name    string
	alias   string // another spelling seen in the field (FreeSWITCH)
	keyLen  int    // master key bytes
	saltLen int    // master salt bytes
	tagLen  int    // SRTP authentication tag bytes (GCM: in the payload)
	profile pionsrtp.ProtectionProfile
}

var suites = [...]suiteInfo{
	AES_CM_128_HMAC_SHA1_80: {"AES_CM_128_HMAC_SHA1_80", "", 16, 14, 10, pionsrtp.ProtectionProfileAes128CmHmacSha1_80},
	AES_CM_128_HMAC_SHA1_32: {"AES_CM_128_HMAC_SHA1_32", "", 16, 14, 4, pionsrtp.ProtectionProfileAes128CmHmacSha1_32},
	// pion/srtp (v3.1.3, the newest) has no AES-192 profile: aes192.go.
	AES_192_CM_HMAC_SHA1_80: {"AES_192_CM_HMAC_SHA1_80", "AES_CM_192_HMAC_SHA1_80", 24, 14, 10, 0},
	AES_192_CM_HMAC_SHA1_32: {"AES_192_CM_HMAC_SHA1_32", "AES_CM_192_HMAC_SHA1_32", 24, 14, 4, 0},
	AES_256_CM_HMAC_SHA1_80: {"AES_256_CM_HMAC_SHA1_80", "AES_CM_256_HMAC_SHA1_80", 32, 14, 10, pionsrtp.ProtectionProfileAes256CmHmacSha1_80},
	AES_256_CM_HMAC_SHA1_32: {"AES_256_CM_HMAC_SHA1_32", "AES_CM_256_HMAC_SHA1_32", 32, 14, 4, pionsrtp.ProtectionProfileAes256CmHmacSha1_32},
	AEAD_AES_128_GCM:        {"AEAD_AES_128_GCM", "", 16, 12, 0, pionsrtp.ProtectionProfileAeadAes128Gcm},
	AEAD_AES_256_GCM:        {"AEAD_AES_256_GCM", "", 32, 12, 0, pionsrtp.ProtectionProfileAeadAes256Gcm},
}

// ParseSuite returns the suite of an RFC 4568 / RFC 6188 / RFC 7714 name
// (case-insensitive; FreeSWITCH's AES_CM_192/AES_CM_256 spellings too),
// and false for a name it does not decrypt (F8_128_HMAC_SHA1_80, NULL
// suites, unknown names).
func ParseSuite(name string) (Suite, bool) {
	for i := 1; i < len(suites); i++ {
		s := &suites[i]
		if strings.EqualFold(name, s.name) || (s.alias != "" && strings.EqualFold(name, s.alias)) {
			return Suite(i), true
		}
	}
	return 0, false
}

func (s Suite) info() *suiteInfo {
	if int(s) >= len(suites) {
		return &suites[0]
	}
	return &suites[s]
}

// String returns the suite's RFC name, or "" for the zero Suite.
func (s Suite) String() string { return s.info().name }

// KeyLen returns the master key and master salt lengths in bytes.
func (s Suite) KeyLen() (key, salt int) { return s.info().keyLen, s.info().saltLen }
