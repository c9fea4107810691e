// Package srtp decrypts the SRTP and SRTCP media (RFC 3711) of a call
// whose keys are known, and recognises the media it cannot decrypt.
//
// It sits between the RTP stream tracker and the codecs: the call
// assembler gives each sending direction of a call a Stream, fed with the
// SDES keys (RFC 4568) that the sending party announced in its SDP or that
// the operator supplied in a key file. A Stream is a synchronous stage
// value: it owns the rollover counters and replay windows (per SSRC) and
// the authentication-failure counters, and it hands on only packets that
// one of its keys authenticated, decrypted. Ciphertext never reaches a
// codec: a packet no key authenticates is counted and dropped.
//
// The AES counter-mode and AES-GCM suites that github.com/pion/srtp/v3
// implements are decrypted with it; the AES-192 suites of RFC 6188, which
// it lacks, with a small counter-mode implementation over the standard
// library (aes192.go).
//
// DTLS-SRTP (RFC 5764, WebRTC) and ZRTP (RFC 6189) agree their keys in a
// Diffie–Hellman exchange: the keys are never on the wire, so such media
// is only recognised (Detect, IsZRTP) and flagged, never decoded.
package srtp
