package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// TokenPrefix starts every API token, so that secret scanners and people
// can recognise one.
const TokenPrefix = "spanrec_"

// NewSecret returns a new random secret of 32 bytes (256 bits), base64url
// without padding: session identifiers and CSRF tokens.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never returns an error (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewToken returns a new API token and the hash a store keeps of it.
func NewToken() (token, hash string) {
	token = TokenPrefix + NewSecret()
	return token, HashSecret(token)
}

// HashSecret returns the hex SHA-256 of a session identifier or API token.
// The secrets have 256 bits of entropy, so an unsalted fast hash is enough
// to keep a stolen database from being used to log in.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// passwordAlphabet leaves out characters that are easily confused (0/O,
// 1/l/I) when a generated password is read off a screen.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random password of 20 characters from a
// 57-character alphabet: about 116 bits.
func GeneratePassword() string {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 20 {
		rand.Read(buf)
		// Rejection sampling keeps the choice uniform: 57*4 = 228.
		if int(buf[0]) < 4*len(passwordAlphabet) {
			b.WriteByte(passwordAlphabet[int(buf[0])%len(passwordAlphabet)])
		}
	}
	return b.String()
}
