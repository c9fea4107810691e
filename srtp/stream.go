package srtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	pionsrtp "github.com/pion/srtp/v3"
)

// Status says what became of one packet handed to a Stream.
type Status uint8

// Packet outcomes.
const (
	Decrypted  Status = iota // a key authenticated it; the plaintext is returned
	NoKey                    // the Stream has no key yet
	AuthFailed               // no key authenticated it (wrong key, damaged packet, unknown MKI)
	Replayed                 // the same packet (SSRC and sequence number) was decrypted already
	Malformed                // too short to hold a header and an authentication tag
)

// Stats counts what a Stream did.
type Stats struct {
	Decrypted    int // SRTP packets authenticated and decrypted
	NoKey        int // packets that came before any key
	AuthFailures int // SRTP packets no key authenticated
	Replayed     int // duplicates of decrypted packets
	Malformed    int
	KeySwitches  int // times a packet authenticated only with another key than the last one's
	ROCFound     int // SSRCs joined past a sequence wrap, decrypted by the rollover counter search

	RTCPDecrypted    int
	RTCPAuthFailures int
}

// MaxKeys bounds the keys a Stream tries: the ones announced in the
// latest SDP and those before it (re-INVITEs), plus the operator's.
// Adding more forgets the oldest key not in use.
const MaxKeys = 8

// maxSSRCs bounds the replay windows a Stream keeps (one per SSRC).
const maxSSRCs = 16

// A Stream decrypts the SRTP and SRTCP packets one party sends, with the
// keys that party announced (RFC 4568 §6.1: the key in a party's SDP
// encrypts what that party sends). It tries the key that last worked
// first, then the others newest first, so that keys offered in several
// a=crypto lines, re-keying by re-INVITE and packets still in flight under
// the previous key all decrypt without knowing which answer took effect
// when. Each key keeps its own rollover counters (RFC 3711 §3.3.1); the
// Stream keeps a replay window of 64 packets per SSRC, so that a packet
// captured twice is decrypted once.
//
// A Stream is a synchronous stage value: it is not safe for concurrent
// use. Decrypting does not allocate once its buffer has grown to the
// largest packet.
type Stream struct {
	keys  []*streamKey // oldest first
	cur   *streamKey
	ssrcs []replay
	buf   []byte
	stats Stats
}

// streamKey is one key with its decryption state.
type streamKey struct {
	key Key
	dec decrypter
}

// decrypter decrypts with one key: pion/srtp, or cmKey for AES-192.
type decrypter interface {
	// rtp returns the plaintext RTP packet of pkt in dst's storage.
	rtp(dst, pkt []byte) ([]byte, error)
	// rtpROC is rtp assuming rollover counter roc for an SSRC the key
	// has not authenticated yet; it fails for one it has.
	rtpROC(dst, pkt []byte, roc int64) ([]byte, error)
	rtcp(dst, pkt []byte) ([]byte, error)
}

// replay is the replay window of one SSRC: bit k of seen says whether
// extended sequence number top-k was decrypted.
type replay struct {
	ssrc uint32
	last uint16
	top  int64
	seen uint64
	// authenticated: a packet of the SSRC was decrypted; searched: how
	// many of its packets the rollover counter search was tried on.
	authenticated bool
	searched      int
}

// The rollover counter search (RFC 3711 §3.3.1 assumes the receiver saw
// the stream from its start; a capture may join it after sequence
// numbers wrapped): while no packet of an SSRC has authenticated, its
// first rocSearchPackets packets are also tried with rollover counters
// 1..rocSearchMax (each 65,536 packets, 22 min at 50 packets/s), so a
// call joined up to 3 hours in is still decrypted.
const (
	rocSearchPackets = 4
	rocSearchMax     = 8
)

// HasKeys reports whether the Stream has a key to try.
func (s *Stream) HasKeys() bool { return len(s.keys) > 0 }

// Stats returns the counters.
func (s *Stream) Stats() Stats { return s.stats }

// AddKey adds k to the keys the Stream tries. A key it has already is
// not added twice. It returns an error, and adds nothing, for a key of a
// suite it cannot decrypt or of the wrong length.
func (s *Stream) AddKey(k Key) error {
	for _, o := range s.keys {
		if o.key.Suite == k.Suite && bytes.Equal(o.key.Material, k.Material) && bytes.Equal(o.key.MKI, k.MKI) &&
			o.key.UnencryptedSRTP == k.UnencryptedSRTP && o.key.UnencryptedSRTCP == k.UnencryptedSRTCP {
			return nil
		}
	}
	dec, err := newDecrypter(k)
	if err != nil {
		return err
	}
	if len(s.keys) >= MaxKeys {
		for i, o := range s.keys {
			if o != s.cur {
				s.keys = append(s.keys[:i], s.keys[i+1:]...)
				break
			}
		}
	}
	s.keys = append(s.keys, &streamKey{key: k, dec: dec})
	return nil
}

func newDecrypter(k Key) (decrypter, error) {
	info := k.Suite.info()
	if info.name == "" {
		return nil, errSuite
	}
	if len(k.Material) != info.keyLen+info.saltLen {
		return nil, errKeyLength
	}
	if info.profile == 0 {
		return newCMKey(k)
	}
	var opts []pionsrtp.ContextOption
	if len(k.MKI) > 0 {
		opts = append(opts, pionsrtp.MasterKeyIndicator(k.MKI))
	}
	if k.UnencryptedSRTP {
		opts = append(opts, pionsrtp.SRTPNoEncryption())
	}
	if k.UnencryptedSRTCP {
		opts = append(opts, pionsrtp.SRTCPNoEncryption())
	}
	ctx, err := pionsrtp.CreateContext(k.Material[:info.keyLen], k.Material[info.keyLen:], info.profile, opts...)
	if err != nil {
		return nil, fmt.Errorf("srtp: %s context: %w", info.name, err)
	}
	return &pionKey{ctx: ctx}, nil
}

// pionKey decrypts with pion/srtp. Its replay protection is off (the
// Stream keeps its own window, and a failed trial of one key must not
// mark a packet seen); its Context keeps the rollover counter per SSRC
// and commits it only for packets that authenticate.
type pionKey struct {
	ctx   *pionsrtp.Context
	hdr   rtp.Header
	rhdr  rtcp.Header
	ssrcs []uint32 // the SSRCs it authenticated, for the rollover counter search
}

func (p *pionKey) rtp(dst, pkt []byte) ([]byte, error) {
	out, err := p.ctx.DecryptRTP(dst, pkt, &p.hdr)
	if err == nil {
		p.authenticated(binary.BigEndian.Uint32(pkt[8:12]))
	}
	return out, err
}

func (p *pionKey) rtpROC(dst, pkt []byte, roc int64) ([]byte, error) {
	ssrc := binary.BigEndian.Uint32(pkt[8:12])
	if slices.Contains(p.ssrcs, ssrc) {
		return nil, errAuth
	}
	p.ctx.SetROC(ssrc, uint32(roc))
	out, err := p.ctx.DecryptRTP(dst, pkt, &p.hdr)
	if err != nil {
		// Back to what an SSRC never seen has: index 0, no packet
		// processed.
		p.ctx.SetROC(ssrc, 0)
		return nil, err
	}
	p.authenticated(ssrc)
	return out, nil
}

// authenticated notes that the key authenticated a packet of ssrc.
func (p *pionKey) authenticated(ssrc uint32) {
	if slices.Contains(p.ssrcs, ssrc) {
		return
	}
	if len(p.ssrcs) >= maxSSRCs {
		p.ssrcs = p.ssrcs[1:]
	}
	p.ssrcs = append(p.ssrcs, ssrc)
}

func (p *pionKey) rtcp(dst, pkt []byte) ([]byte, error) {
	return p.ctx.DecryptRTCP(dst, pkt, &p.rhdr)
}

// DecryptRTP decrypts the SRTP packet pkt (a whole UDP payload). It
// returns the plain RTP packet (header and payload, without MKI and
// authentication tag) with Decrypted, or nil and why not. The result is
// valid until the next call; pkt is not modified.
func (s *Stream) DecryptRTP(pkt []byte) ([]byte, Status) {
	if len(pkt) < 12+4 {
		s.stats.Malformed++
		return nil, Malformed
	}
	if len(s.keys) == 0 {
		s.stats.NoKey++
		return nil, NoKey
	}
	ssrc := binary.BigEndian.Uint32(pkt[8:12])
	seq := binary.BigEndian.Uint16(pkt[2:4])
	w, ext := s.window(ssrc, seq)
	if w.has(ext) {
		s.stats.Replayed++
		return nil, Replayed
	}
	out, k := s.try(pkt, false)
	if k == nil && !w.authenticated && w.searched < rocSearchPackets {
		w.searched++
		out, k = s.searchROC(pkt)
	}
	if k == nil {
		s.stats.AuthFailures++
		return nil, AuthFailed
	}
	w.authenticated = true
	w.mark(ext, seq)
	s.stats.Decrypted++
	return out, Decrypted
}

// DecryptRTCP decrypts the SRTCP packet pkt (RFC 3711 §3.4) and returns
// the plain compound RTCP packet, valid until the next call.
func (s *Stream) DecryptRTCP(pkt []byte) ([]byte, Status) {
	if len(pkt) < 8+4+4 {
		s.stats.Malformed++
		return nil, Malformed
	}
	if len(s.keys) == 0 {
		s.stats.NoKey++
		return nil, NoKey
	}
	out, k := s.try(pkt, true)
	if k == nil {
		s.stats.RTCPAuthFailures++
		return nil, AuthFailed
	}
	s.stats.RTCPDecrypted++
	return out, Decrypted
}

// try decrypts pkt with the current key, else the others newest first.
func (s *Stream) try(pkt []byte, isRTCP bool) ([]byte, *streamKey) {
	if k := s.cur; k != nil {
		if out, ok := s.with(k, pkt, isRTCP); ok {
			return out, k
		}
	}
	for i := len(s.keys) - 1; i >= 0; i-- {
		k := s.keys[i]
		if k == s.cur {
			continue
		}
		if out, ok := s.with(k, pkt, isRTCP); ok {
			if s.cur != nil {
				s.stats.KeySwitches++
			}
			s.cur = k
			return out, k
		}
	}
	return nil, nil
}

// searchROC tries pkt with every key and rollover counters
// 1..rocSearchMax.
func (s *Stream) searchROC(pkt []byte) ([]byte, *streamKey) {
	for roc := int64(1); roc <= rocSearchMax; roc++ {
		for i := len(s.keys) - 1; i >= 0; i-- {
			k := s.keys[i]
			out, err := k.dec.rtpROC(s.buf[:0], pkt, roc)
			if err != nil {
				continue
			}
			if cap(out) > cap(s.buf) {
				s.buf = out[:0]
			}
			s.stats.ROCFound++
			s.cur = k
			return out, k
		}
	}
	return nil, nil
}

func (s *Stream) with(k *streamKey, pkt []byte, isRTCP bool) ([]byte, bool) {
	var out []byte
	var err error
	if isRTCP {
		out, err = k.dec.rtcp(s.buf[:0], pkt)
	} else {
		out, err = k.dec.rtp(s.buf[:0], pkt)
	}
	if err != nil {
		return nil, false
	}
	if cap(out) > cap(s.buf) {
		s.buf = out[:0]
	}
	return out, true
}

// window returns the replay window of ssrc and the extended sequence
// number of seq in it.
func (s *Stream) window(ssrc uint32, seq uint16) (*replay, int64) {
	for i := range s.ssrcs {
		if w := &s.ssrcs[i]; w.ssrc == ssrc {
			return w, w.top + int64(int16(seq-w.last))
		}
	}
	if len(s.ssrcs) >= maxSSRCs {
		s.ssrcs = s.ssrcs[1:]
	}
	s.ssrcs = append(s.ssrcs, replay{ssrc: ssrc, last: seq, top: int64(seq), seen: 0})
	w := &s.ssrcs[len(s.ssrcs)-1]
	return w, int64(seq)
}

func (w *replay) has(ext int64) bool {
	d := w.top - ext
	return d >= 0 && d < 64 && w.seen&(1<<uint(d)) != 0
}

func (w *replay) mark(ext int64, seq uint16) {
	switch d := ext - w.top; {
	case d > 0:
		if d >= 64 {
			w.seen = 0
		} else {
			w.seen <<= uint(d)
		}
		w.seen |= 1
		w.top, w.last = ext, seq
	case d > -64:
		w.seen |= 1 << uint(-d)
	}
}

// errShort is returned by cmKey for packets too short for their suite.
var errShort = errors.New("srtp: packet too short")
