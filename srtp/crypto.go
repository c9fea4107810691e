package srtp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Key is one SRTP master key: what encrypts the media one party sends.
type Key struct {
	Suite Suite
	// Material is the master key followed by the master salt.
	Material []byte
	// MKI is the master key identifier carried in each packet (RFC 3711
	// §3.1), nil when the packets carry none.
	MKI []byte
	// UnencryptedSRTP and UnencryptedSRTCP: the session parameters of
	// RFC 4568 §6.3.2: the payloads are authenticated but sent in the
	// clear.
	UnencryptedSRTP, UnencryptedSRTCP bool
}

// Errors of ParseCrypto and NewKey.
var (
	errCryptoSyntax = errors.New("srtp: a=crypto is not \"tag suite inline:key\"")
	errSuite        = errors.New("srtp: crypto suite not supported")
	errKeyLength    = errors.New("srtp: key and salt have the wrong length for the suite")
	errKeyParams    = errors.New("srtp: bad key parameters")
	errSessionParam = errors.New("srtp: session parameter not supported")
)

// maxKeyParams bounds the keys one a=crypto line may carry (RFC 4568
// §9.2 allows a list, each with its own MKI).
const maxKeyParams = 4

// NewKey returns the Key of suite name with material and mki, checking
// the suite is one a Stream decrypts and the material's length.
func NewKey(name string, material, mki []byte) (Key, error) {
	s, ok := ParseSuite(name)
	if !ok {
		return Key{}, fmt.Errorf("%w: %q", errSuite, name)
	}
	k, salt := s.KeyLen()
	if len(material) != k+salt {
		return Key{}, fmt.Errorf("%w: %s needs %d bytes, got %d", errKeyLength, s, k+salt, len(material))
	}
	return Key{Suite: s, Material: material, MKI: mki}, nil
}

// ParseCrypto parses the value of an SDP a=crypto attribute (RFC 4568
// §9.1): "tag suite key-params[;key-params…] [session-params]", where
// key-params is "inline:<base64 key||salt>[|lifetime][|MKI:length]". It
// returns the tag and the keys; the suite name is returned too when it is
// not one a Stream decrypts (with errSuite), so that a note can name it.
// It never panics and copies what it keeps.
func ParseCrypto(v string) (tag int, suite string, keys []Key, err error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return 0, "", nil, errCryptoSyntax
	}
	tag, err = strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return 0, "", nil, errCryptoSyntax
	}
	suite = f[1]
	s, ok := ParseSuite(suite)
	if !ok {
		return tag, suite, nil, fmt.Errorf("%w: %q", errSuite, suite)
	}
	var noRTP, noRTCP bool
	for _, p := range f[3:] {
		switch {
		case p == "UNENCRYPTED_SRTP":
			noRTP = true
		case p == "UNENCRYPTED_SRTCP":
			noRTCP = true
		case p == "UNAUTHENTICATED_SRTP", strings.HasPrefix(p, "KDR=") && p != "KDR=0",
			strings.HasPrefix(p, "FEC_ORDER="), strings.HasPrefix(p, "FEC_KEY="):
			return tag, suite, nil, fmt.Errorf("%w: %s", errSessionParam, p)
		}
	}
	params := strings.Split(f[2], ";")
	if len(params) > maxKeyParams {
		params = params[:maxKeyParams]
	}
	for _, kp := range params {
		material, mki, err := parseKeyParams(kp)
		if err != nil {
			return tag, suite, nil, err
		}
		k, err := NewKey(s.String(), material, mki)
		if err != nil {
			return tag, suite, nil, err
		}
		k.UnencryptedSRTP, k.UnencryptedSRTCP = noRTP, noRTCP
		keys = append(keys, k)
	}
	return tag, suite, keys, nil
}

// parseKeyParams parses "inline:<base64>[|lifetime][|MKI:length]" (RFC
// 4568 §6.1).
func parseKeyParams(kp string) (material, mki []byte, err error) {
	rest, ok := strings.CutPrefix(kp, "inline:")
	if !ok {
		return nil, nil, fmt.Errorf("%w: no inline: key", errKeyParams)
	}
	parts := strings.SplitN(rest, "|", 4)
	if len(parts) > 3 || len(parts[0]) > 128 {
		return nil, nil, fmt.Errorf("%w: too long", errKeyParams)
	}
	material, err = base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		// Some PBXs leave the padding out.
		material, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(parts[0], "="))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: key is not base64", errKeyParams)
		}
	}
	for _, p := range parts[1:] {
		val, length, isMKI := strings.Cut(p, ":")
		if !isMKI {
			continue // lifetime: passive decryption has no use for it
		}
		n, err1 := strconv.Atoi(length)
		v, err2 := strconv.ParseUint(val, 10, 64)
		if err1 != nil || err2 != nil || n < 1 || n > 128 || (n < 8 && v >= 1<<(8*uint(n))) {
			return nil, nil, fmt.Errorf("%w: bad MKI", errKeyParams)
		}
		mki = make([]byte, n)
		for i := n - 1; i >= 0 && v > 0; i-- {
			mki[i] = byte(v)
			v >>= 8
		}
	}
	return material, mki, nil
}
