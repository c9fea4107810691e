package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the Argon2id cost parameters (RFC 9106 §3.1).
type Params struct {
	Time      uint32 // passes over memory (t)
	MemoryKiB uint32 // memory size in KiB (m)
	Threads   uint8  // lanes (p)
}

// DefaultParams are OWASP's Password Storage Cheat Sheet minimum for
// Argon2id (19 MiB, 2 passes, 1 lane): about 30 ms on one core, with memory
// hardness that makes GPU guessing costly.
var DefaultParams = Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

const (
	saltLen = 16 // bytes; RFC 9106 §3.1 recommends 16
	keyLen  = 32 // bytes; RFC 9106 §3.1 recommends a 256-bit tag
)

// ErrHash is returned by VerifyPassword for a stored hash it cannot read.
var ErrHash = errors.New("auth: malformed password hash")

// HashPassword returns the PHC string of the Argon2id key of password with a
// new random salt and the parameters p (DefaultParams when p is zero).
func HashPassword(password string, p Params) (string, error) {
	if p == (Params{}) {
		p = DefaultParams
	}
	if p.Time == 0 || p.Threads == 0 || p.MemoryKiB < 8*uint32(p.Threads) {
		return "", fmt.Errorf("auth: invalid argon2id parameters %+v", p)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC string hash made
// by HashPassword. The comparison takes the same time wherever the keys
// differ. It returns ErrHash if hash is not an Argon2id PHC string this
// package can read.
func VerifyPassword(hash, password string) (bool, error) {
	p, salt, key, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// maxMemoryKiB bounds the memory a stored hash may ask for (4 GiB), so a
// tampered row cannot exhaust the server.
const maxMemoryKiB = 4 << 20

func parsePHC(s string) (Params, []byte, []byte, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, ErrHash
	}
	var p Params
	for kv := range strings.SplitSeq(f[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Params{}, nil, nil, ErrHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Params{}, nil, nil, ErrHash
		}
		switch k {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return Params{}, nil, nil, ErrHash
			}
			p.Threads = uint8(n)
		default:
			return Params{}, nil, nil, ErrHash
		}
	}
	if p.Time == 0 || p.Threads == 0 || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB || p.Time > 100 {
		return Params{}, nil, nil, ErrHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(f[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, ErrHash
	}
	key, err := b64.DecodeString(f[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, ErrHash
	}
	return p, salt, key, nil
}
