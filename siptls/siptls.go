// Package siptls decrypts SIP carried over TLS (RFC 3261 §26.2, RFC 5630;
// port 5061) with secrets from an NSS key log (package keys), so that a
// passive recorder can follow calls whose signalling is encrypted.
//
// A Conn follows one TLS connection, both directions, from the bytes of
// each direction in order (the recorder's TCP reassembly gives them). It
// parses the record layer (RFC 8446 §5, RFC 5246 §6.2), reads the client
// and server randoms, the version (TLS 1.3 by the supported_versions
// extension) and the cipher suite from the ClientHello and ServerHello,
// looks the connection's secrets up by its client random, derives the
// record keys (TLS 1.2: the PRF of RFC 5246 §5 from the master secret;
// TLS 1.3: HKDF-Expand-Label of RFC 8446 §7 from the handshake and
// application traffic secrets, following KeyUpdate), and hands the
// plaintext of application data records to its caller, which frames SIP
// messages from it.
//
// Supported record protection: AES-128-GCM, AES-256-GCM and
// ChaCha20-Poly1305 (TLS 1.2 and 1.3), and the TLS 1.2 AES-CBC suites with
// HMAC-SHA1/SHA256/SHA384 (MAC-then-encrypt, or encrypt-then-MAC of
// RFC 7366). Other suites are counted as unsupported.
//
// Why the record layer is written here: crypto/tls is an endpoint and
// cannot be handed keys to decrypt a connection it did not take part in,
// and no maintained Go package does passive decryption of both directions
// from a key log. Only crypto/* of the standard library and
// golang.org/x/crypto are used for the ciphers and hashes.
//
// Bytes from the wire are hostile: every buffer is bounded, a connection
// whose bytes cannot be parsed or authenticated stops being decrypted (and
// is counted), and nothing panics. Plaintext is never produced from a
// record that fails authentication.
package siptls

import (
	"encoding/binary"

	"github.com/spanrec/spanrec/keys"
)

// Secrets looks up the key log secrets of a connection by client random;
// *keys.KeyLog is one.
type Secrets interface {
	Lookup(keys.ClientRandom) (keys.Secrets, bool)
}

// Record layer limits (RFC 8446 §5.1, §5.2; RFC 5246 §6.2.3).
const (
	maxPlaintext  = 1 << 14
	maxCiphertext = maxPlaintext + 2048
	maxRecord     = 5 + maxCiphertext
	// maxHandshake bounds a cleartext handshake message kept to be parsed
	// (ClientHello, ServerHello); larger ones are skipped.
	maxHandshake = 1 << 16
)

// Content types (RFC 8446 §5.1).
const (
	typeCCS       = 20
	typeAlert     = 21
	typeHandshake = 22
	typeAppData   = 23
)

// Handshake message types (RFC 8446 §4).
const (
	hsClientHello = 1
	hsServerHello = 2
	hsFinished    = 20
	hsKeyUpdate   = 24
)

// State is how far a Conn got.
type State int

// States of a Conn.
const (
	Handshake   State = iota // waiting for the hellos
	Decrypting               // keys found: plaintext flows
	NoKeys                   // the key log has no secrets for this connection
	Unsupported              // version or cipher suite not supported
	Broken                   // bytes that are not TLS, or a record failing authentication
	Joined                   // the connection was joined after its handshake: no client random
	Waiting                  // no secrets yet: records are held (Conn.Hold) until the key log has them
)

func (s State) String() string {
	switch s {
	case Handshake:
		return "handshake"
	case Decrypting:
		return "decrypting"
	case NoKeys:
		return "no keys"
	case Unsupported:
		return "unsupported"
	case Broken:
		return "broken"
	case Joined:
		return "joined after the handshake"
	case Waiting:
		return "waiting for keys"
	}
	return "unknown"
}

// Stats counts what a Conn did.
type Stats struct {
	Records      uint64 // records parsed, both directions
	Decrypted    uint64 // application data records decrypted
	AuthFailures uint64 // records failing authentication (wrong key, corruption, lost bytes)
	Oversized    uint64 // records longer than the protocol allows
	Plaintext    uint64 // bytes of application data handed on
}

// Conn follows one TLS connection. The zero Conn is not usable; use New.
// A Conn is not safe for concurrent use.
type Conn struct {
	// Hold, when not 0, is how many bytes of records per direction a
	// connection whose secrets the key log lacks at its ServerHello keeps
	// (state Waiting) while it looks them up again at each record: a
	// running recorder may be given the keys a moment after the
	// handshake. Beyond Hold it gives up (NoKeys).
	Hold int

	secrets Secrets
	state   State
	stats   Stats

	clientRandom keys.ClientRandom
	serverRandom [32]byte
	haveClient   bool
	haveServer   bool
	version      uint16 // negotiated: 0x0303 TLS 1.2, 0x0304 TLS 1.3
	suite        uint16
	etm          bool // TLS 1.2 encrypt_then_mac negotiated (RFC 7366)
	sec          keys.Secrets

	dir [2]direction // 0: client to server, 1: server to client
}

// direction is the record layer state of one direction.
type direction struct {
	buf []byte // bytes of an incomplete record
	// off is the stream offset of the next byte; recStart that of the
	// record being handled.
	off, recStart int64

	// Handshake message reassembly over records.
	hs     []byte
	hsSkip int // bytes of a too-large handshake message still to skip

	ccs  bool // TLS 1.2: ChangeCipherSpec seen, records are protected
	prot *protection
	// queue holds the whole records that came while Waiting.
	queue []byte
	// TLS 1.3 traffic secret in use, for KeyUpdate; app says it is the
	// application one.
	secret []byte
	app    bool
}

// New returns a Conn that takes secrets from s.
func New(s Secrets) *Conn {
	return &Conn{secrets: s}
}

// State returns how far the Conn got.
func (c *Conn) State() State { return c.state }

// Stats returns the counts so far.
func (c *Conn) Stats() Stats { return c.stats }

// Version returns the negotiated TLS version (0x0303, 0x0304), 0 before
// the ServerHello.
func (c *Conn) Version() uint16 { return c.version }

// CipherSuite returns the negotiated cipher suite, 0 before the
// ServerHello.
func (c *Conn) CipherSuite() uint16 { return c.suite }

// ClientRandom returns the connection's client random, and false before
// the ClientHello.
func (c *Conn) ClientRandom() (keys.ClientRandom, bool) { return c.clientRandom, c.haveClient }

// Write takes the next bytes of one direction (fromClient: the client to
// server one) and calls emit with the plaintext of each application data
// record it completes. plain is valid only during emit. Write keeps at
// most one record of each direction.
func (c *Conn) Write(fromClient bool, data []byte, emit func(plain []byte)) {
	i := 1
	if fromClient {
		i = 0
	}
	d := &c.dir[i]
	if c.state == Waiting {
		c.retry()
	}
	if c.state != Waiting && len(d.queue) > 0 {
		c.drain(i, emit)
	}
	for len(data) > 0 && c.live() {
		if len(d.buf) == 0 && len(data) >= 5 {
			n := recordLen(data)
			if n < 0 {
				c.fail(n)
				return
			}
			if len(data) >= n {
				d.recStart = d.off
				d.off += int64(n)
				c.record(i, data[:n], emit)
				data = data[n:]
				continue
			}
		}
		// Complete the record in buf: first its header, then the rest.
		need := 5
		if len(d.buf) >= 5 {
			need = recordLen(d.buf)
		}
		k := min(need-len(d.buf), len(data))
		if len(d.buf) == 0 {
			d.recStart = d.off
		}
		d.off += int64(k)
		d.buf = append(d.buf, data[:k]...)
		data = data[k:]
		if len(d.buf) < 5 {
			continue
		}
		n := recordLen(d.buf)
		if n < 0 {
			c.fail(n)
			return
		}
		if len(d.buf) == n {
			c.record(i, d.buf, emit)
			d.buf = d.buf[:0]
		}
	}
}

// RecordStart returns the offset in the stream of one direction (the
// bytes given to Write so far) of the first byte of the record whose
// plaintext Write hands to emit, or the last one it handled.
func (c *Conn) RecordStart(fromClient bool) int64 {
	if fromClient {
		return c.dir[0].recStart
	}
	return c.dir[1].recStart
}

// Queued reports whether records of one direction wait, held while the
// connection was Waiting, to be decrypted by the next Write of that
// direction (which may have no data).
func (c *Conn) Queued(fromClient bool) bool {
	if fromClient {
		return len(c.dir[0].queue) > 0
	}
	return len(c.dir[1].queue) > 0
}

// Buffered returns the bytes one direction holds: an incomplete record, a
// handshake message, and records held while Waiting.
func (c *Conn) Buffered(fromClient bool) int {
	d := &c.dir[1]
	if fromClient {
		d = &c.dir[0]
	}
	return len(d.buf) + len(d.hs) + len(d.queue)
}

// GiveUp stops a connection that is Waiting for keys: it becomes NoKeys
// and drops what it held.
func (c *Conn) GiveUp() {
	if c.state == Waiting {
		c.state = NoKeys
		c.release()
	}
}

// live reports whether bytes are still worth parsing.
func (c *Conn) live() bool {
	return c.state == Handshake || c.state == Decrypting || c.state == Waiting
}

// recordLen returns the length of the record whose header starts p
// (len(p) ≥ 5), or -1 when it is not a TLS record, -2 when too long.
func recordLen(p []byte) int {
	if p[0] < typeCCS || p[0] > typeAppData || p[1] != 3 || p[2] > 4 {
		return -1
	}
	n := int(binary.BigEndian.Uint16(p[3:5]))
	if n > maxCiphertext {
		return -2
	}
	return 5 + n
}

func (c *Conn) fail(n int) {
	if n == -2 {
		c.stats.Oversized++
	}
	c.state = Broken
	c.release()
}

// release drops the buffers of a Conn that will parse nothing more.
func (c *Conn) release() {
	for i := range c.dir {
		c.dir[i] = direction{}
	}
}

// record handles one whole record of direction i.
func (c *Conn) record(i int, rec []byte, emit func([]byte)) {
	c.stats.Records++
	d := &c.dir[i]
	if c.state == Waiting {
		if len(d.queue)+len(rec) > c.Hold {
			c.state = NoKeys
			c.release()
			return
		}
		d.queue = append(d.queue, rec...)
		if c.retry() {
			c.drain(i, emit)
		}
		return
	}
	typ, body := rec[0], rec[5:]
	if typ == typeCCS && (d.prot == nil || c.version == 0x0304) {
		// TLS 1.2: the records after it are protected. TLS 1.3: a
		// middlebox compatibility record, never protected (RFC 8446 §D.4).
		if c.version != 0x0304 {
			d.ccs = true
			c.tls12Keys(i)
		}
		return
	}
	if d.prot == nil {
		if d.ccs || (c.version == 0x0304 && typ == typeAppData) {
			// Protected, but no keys: either none were found (state says
			// so) or the handshake was not seen.
			if c.state == Handshake {
				c.state = Joined
				c.release()
			}
			return
		}
		if typ == typeHandshake {
			c.handshake(i, body)
		}
		if c.state == Handshake && !c.haveClient && typ == typeAppData {
			c.state = Joined
			c.release()
		}
		return
	}
	plain, inner, ok := d.prot.open(rec)
	if !ok {
		c.stats.AuthFailures++
		c.state = Broken
		c.release()
		return
	}
	switch inner {
	case typeAppData:
		c.stats.Decrypted++
		c.stats.Plaintext += uint64(len(plain))
		if len(plain) > 0 {
			emit(plain)
		}
	case typeHandshake:
		c.handshake(i, plain)
	case typeAlert:
		// close_notify or an error: the connection ends; nothing to do.
	}
}

// handshake feeds handshake-layer bytes of direction i: messages may
// span records and a record may hold several.
func (c *Conn) handshake(i int, b []byte) {
	d := &c.dir[i]
	for len(b) > 0 && c.live() {
		if d.hsSkip > 0 {
			k := min(d.hsSkip, len(b))
			d.hsSkip -= k
			b = b[k:]
			continue
		}
		if len(d.hs) < 4 {
			k := min(4-len(d.hs), len(b))
			d.hs = append(d.hs, b[:k]...)
			b = b[k:]
			if len(d.hs) < 4 {
				return
			}
		}
		n := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
		typ := d.hs[0]
		if n > maxHandshake {
			// A certificate chain or garbage: only the type matters.
			d.hs, d.hsSkip = d.hs[:0], n
			c.message(i, typ, nil)
			continue
		}
		k := min(4+n-len(d.hs), len(b))
		d.hs = append(d.hs, b[:k]...)
		b = b[k:]
		if len(d.hs) == 4+n {
			c.message(i, typ, d.hs[4:])
			d.hs = d.hs[:0]
		}
	}
}

// message handles one handshake message of direction i. body is nil for
// a skipped one.
func (c *Conn) message(i int, typ byte, body []byte) {
	d := &c.dir[i]
	switch {
	case typ == hsClientHello && i == 0 && !c.haveClient && body != nil:
		if len(body) < 34 {
			c.state = Broken
			return
		}
		copy(c.clientRandom[:], body[2:34])
		c.haveClient = true
	case typ == hsServerHello && i == 1 && body != nil && c.version == 0:
		c.serverHello(body)
	case typ == hsFinished && c.version == 0x0304 && d.prot != nil && !d.app:
		// RFC 8446 §7.1: after its Finished each side protects with its
		// application traffic secret.
		sec := c.sec.ClientTraffic
		if i == 1 {
			sec = c.sec.ServerTraffic
		}
		c.tls13Keys(i, sec, true)
	case typ == hsKeyUpdate && c.version == 0x0304 && d.app:
		// RFC 8446 §7.2: application_traffic_secret_N+1.
		next := expandLabel(suiteHash(c.suite), d.secret, "traffic upd", nil, len(d.secret))
		c.tls13Keys(i, next, true)
	}
}

// hrrRandom is the ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3).
var hrrRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// serverHello parses a ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3):
// legacy_version, random, session id, cipher suite, compression,
// extensions (supported_versions, encrypt_then_mac).
func (c *Conn) serverHello(b []byte) {
	r := reader{b: b}
	legacy := r.u16()
	random := r.bytes(32)
	r.bytes(int(r.u8())) // session id
	suite := r.u16()
	r.u8() // compression
	if r.bad {
		c.state = Broken
		return
	}
	if [32]byte(random) == hrrRandom {
		// HelloRetryRequest: a second ClientHello (same random) and the
		// real ServerHello follow.
		return
	}
	version := legacy
	etm := false
	if r.left() >= 2 {
		ext := reader{b: r.bytes(int(r.u16()))}
		for !ext.bad && ext.left() >= 4 {
			typ, data := ext.u16(), ext.bytes(int(ext.u16()))
			switch typ {
			case 43: // supported_versions: the selected version
				if len(data) == 2 {
					version = binary.BigEndian.Uint16(data)
				}
			case 22: // encrypt_then_mac
				etm = true
			}
		}
	}
	copy(c.serverRandom[:], random)
	c.haveServer, c.version, c.suite, c.etm = true, version, suite, etm
	if version != 0x0303 && version != 0x0304 {
		c.state = Unsupported
		c.release()
		return
	}
	if _, ok := suites[suite]; !ok {
		c.state = Unsupported
		c.release()
		return
	}
	if !c.haveClient {
		c.state = Joined
		c.release()
		return
	}
	if !c.lookup() {
		if c.Hold > 0 && c.state == Handshake {
			c.state = Waiting
			return
		}
		if c.live() {
			c.state = NoKeys
			c.release()
		}
	}
}

// lookup looks the connection's secrets up and, when the key log has what
// the version needs, sets the handshake keys (TLS 1.3) and reports true.
func (c *Conn) lookup() bool {
	sec, ok := c.secrets.Lookup(c.clientRandom)
	if !ok {
		return false
	}
	if c.version == 0x0304 {
		if sec.ClientHandshake == nil || sec.ServerHandshake == nil {
			return false
		}
		c.sec = sec
		c.tls13Keys(0, sec.ClientHandshake, false)
		c.tls13Keys(1, sec.ServerHandshake, false)
		return c.state == Decrypting
	}
	if sec.Master == nil {
		return false
	}
	c.sec = sec
	if c.state == Waiting {
		c.state = Handshake
	}
	return true
}

// retry looks the secrets of a Waiting connection up again; it reports
// whether they were found.
func (c *Conn) retry() bool {
	if c.state != Waiting || !c.lookup() {
		return false
	}
	if c.state == Waiting {
		c.state = Handshake
	}
	return true
}

// drain handles the records direction i queued while Waiting.
func (c *Conn) drain(i int, emit func([]byte)) {
	q := c.dir[i].queue
	c.dir[i].queue = nil
	for len(q) >= 5 && c.live() {
		n := recordLen(q)
		if n < 0 || n > len(q) {
			break
		}
		c.dir[i].recStart = c.dir[i].off - int64(len(q)) // approximate: the queued bytes precede off
		c.record(i, q[:n], emit)
		q = q[n:]
	}
}

// reader reads a handshake message; bad turns true on a short read, after
// which every read returns zero values.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) left() int { return len(r.b) }

func (r *reader) bytes(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() byte {
	if p := r.bytes(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if p := r.bytes(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}
