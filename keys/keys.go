// Package keys reads the keys an operator supplies to spanrec: NSS key log
// lines (the SSLKEYLOGFILE format that browsers, Go's crypto/tls and
// OpenSSL ≥ 3.5 write) for decrypting SIP over TLS, and SDES lines giving
// SRTP master keys for calls or streams whose SDP does not carry them in
// the clear.
//
// One file holds both kinds of lines:
//
//	# comment
//	CLIENT_RANDOM <client random, 64 hex> <master secret, 96 hex>
//	CLIENT_HANDSHAKE_TRAFFIC_SECRET <client random> <secret hex>
//	SERVER_HANDSHAKE_TRAFFIC_SECRET <client random> <secret hex>
//	CLIENT_TRAFFIC_SECRET_0 <client random> <secret hex>
//	SERVER_TRAFFIC_SECRET_0 <client random> <secret hex>
//	EXPORTER_SECRET <client random> <secret hex>
//	SDES callid:<Call-ID>/<caller|callee> <suite> inline:<base64>[|lifetime][|MKI:len]
//	SDES <ip>:<port> <suite> inline:<base64>[|lifetime][|MKI:len]
//
// (IPv6 addresses in brackets.) Other key log labels (RSA,
// CLIENT_EARLY_TRAFFIC_SECRET, …) are skipped and counted in
// KeyLog.Unknown.
//
// Keys are a source, never a guess: the package parses and validates what
// the operator gave and nothing else. No error or log line it produces
// carries key material: errors name the line number and the kind of
// problem only.
package keys

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Limits on what Load accepts, so that a wrong file (a capture, a disk
// image) cannot fill memory.
const (
	MaxFileSize = 64 << 20  // bytes
	MaxLines    = 1_000_000 // lines, comments included
	MaxLineLen  = 4096      // bytes in one line
)

// SDES is one SRTP master key (RFC 4568 SDES crypto attribute form) given
// by the operator, for the streams of a call side or for one RTP source.
type SDES struct {
	CallID string         // SIP Call-ID the key belongs to ("" when Addr is set)
	Side   string         // "caller" or "callee": whose sending the key encrypts (with CallID)
	Addr   netip.AddrPort // or: source address of the RTP stream the key encrypts
	Suite  string         // e.g. "AES_CM_128_HMAC_SHA1_80" (RFC 4568 / RFC 7714 names)
	Key    []byte         // master key || master salt
	MKI    []byte         // optional
}

// Set is what one key file gives.
type Set struct {
	SDES []SDES
	TLS  KeyLog
}

// Suite lengths: master key and master salt bytes of each SRTP crypto
// suite name that may appear in SDES (RFC 4568 §6.2, RFC 6188 §7.1,
// RFC 7714 §12).
var suites = map[string][2]int{
	"AES_CM_128_HMAC_SHA1_80": {16, 14},
	"AES_CM_128_HMAC_SHA1_32": {16, 14},
	"F8_128_HMAC_SHA1_80":     {16, 14},
	"AES_192_CM_HMAC_SHA1_80": {24, 14},
	"AES_192_CM_HMAC_SHA1_32": {24, 14},
	"AES_256_CM_HMAC_SHA1_80": {32, 14},
	"AES_256_CM_HMAC_SHA1_32": {32, 14},
	"AEAD_AES_128_GCM":        {16, 12},
	"AEAD_AES_256_GCM":        {32, 12},
}

// KeyLength returns the master key and master salt lengths of an SRTP
// suite name, and false for a name it does not know.
func KeyLength(suite string) (key, salt int, ok bool) {
	l, ok := suites[suite]
	return l[0], l[1], ok
}

// LineError is an error in one line of a key file. Its message names the
// line and the problem, never the line's content.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrTooLarge is returned for input beyond MaxFileSize or MaxLines.
var ErrTooLarge = errors.New("key file too large")

// LoadFile reads a key file. It logs a warning (without content) to the
// default logger when the file may be read by its group or by anyone: key
// files are secrets.
func LoadFile(path string) (*Set, error) {
	return LoadFileLog(path, slog.Default())
}

// LoadFileLog is LoadFile logging to log.
func LoadFileLog(path string, log *slog.Logger) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // "open PATH: …"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		if st.Mode().Perm()&0o077 != 0 {
			log.Warn("key file is readable by group or others; chmod 600 it", "file", path, "mode", st.Mode().Perm().String())
		}
		if st.Size() > MaxFileSize {
			return nil, fmt.Errorf("%w: %s is %d bytes, at most %d", ErrTooLarge, path, st.Size(), MaxFileSize)
		}
	}
	s, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Load reads key lines from r: every line must parse, or Load returns the
// first error (a *LineError for a bad line).
func Load(r io.Reader) (*Set, error) {
	s := &Set{}
	err := s.read(r)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Add parses key lines from r into s, as Load does; s is changed only
// when every line is good. It is how keys given to a running recorder are
// added to the ones it has. It returns how many lines gave keys.
func (s *Set) Add(r io.Reader) (int, error) {
	n := &Set{}
	if err := n.read(r); err != nil {
		return 0, err
	}
	s.SDES = append(s.SDES, n.SDES...)
	s.TLS.Merge(&n.TLS)
	return len(n.SDES) + n.TLS.lines, nil
}

func (s *Set) read(r io.Reader) error {
	lr := &io.LimitedReader{R: r, N: MaxFileSize + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 512), MaxLineLen)
	line := 0
	for sc.Scan() {
		line++
		if line > MaxLines {
			return fmt.Errorf("%w: more than %d lines", ErrTooLarge, MaxLines)
		}
		if err := s.parseLine(sc.Bytes()); err != nil {
			return &LineError{Line: line, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &LineError{Line: line + 1, Err: fmt.Errorf("line longer than %d bytes", MaxLineLen)}
		}
		return fmt.Errorf("keys: read: %w", err)
	}
	if lr.N <= 0 {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxFileSize)
	}
	return nil
}

func (s *Set) parseLine(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == '#' {
		return nil
	}
	f := strings.Fields(string(b))
	if f[0] == "SDES" {
		k, err := parseSDES(f[1:])
		if err != nil {
			return err
		}
		s.SDES = append(s.SDES, k)
		return nil
	}
	return s.TLS.parse(f)
}

// parseSDES parses the fields after "SDES": target, suite, key params.
func parseSDES(f []string) (SDES, error) {
	var k SDES
	if len(f) != 3 {
		return k, fmt.Errorf("SDES line needs 3 fields (target, suite, inline:key), has %d", len(f))
	}
	target, suite, params := f[0], f[1], f[2]
	if rest, ok := strings.CutPrefix(target, "callid:"); ok {
		slash := strings.LastIndexByte(rest, '/')
		if slash <= 0 {
			return k, errors.New("SDES target callid:<Call-ID>/<caller|callee> lacks the side")
		}
		k.CallID, k.Side = rest[:slash], rest[slash+1:]
		if k.Side != "caller" && k.Side != "callee" {
			return k, errors.New(`SDES side must be "caller" or "callee"`)
		}
	} else {
		ap, err := netip.ParseAddrPort(target)
		if err != nil {
			return k, errors.New("SDES target is neither callid:<Call-ID>/<side> nor <ip>:<port> (IPv6 in brackets)")
		}
		if ap.Port() == 0 || !ap.Addr().IsValid() {
			return k, errors.New("SDES address needs a non-zero port")
		}
		k.Addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	klen, slen, ok := KeyLength(suite)
	if !ok {
		return k, fmt.Errorf("unknown SRTP suite %q", suite)
	}
	k.Suite = suite
	key, mki, err := parseInline(params)
	if err != nil {
		return k, err
	}
	if len(key) != klen+slen {
		return k, fmt.Errorf("%s needs a %d-byte key and salt, the inline key has %d bytes", suite, klen+slen, len(key))
	}
	k.Key, k.MKI = key, mki
	return k, nil
}

// parseInline parses RFC 4568 §6.1 key-params with one key:
// "inline:" key-salt ["|" lifetime] ["|" mki ":" length].
func parseInline(p string) (key, mki []byte, err error) {
	rest, ok := strings.CutPrefix(p, "inline:")
	if !ok {
		return nil, nil, errors.New(`key must start with "inline:"`)
	}
	parts := strings.Split(rest, "|")
	if len(parts) > 3 {
		return nil, nil, errors.New("inline key has more than lifetime and MKI after it")
	}
	b64 := parts[0]
	key, err = base64.StdEncoding.DecodeString(b64)
	if err != nil {
		// Some PBXs drop the padding.
		key, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
		if err != nil {
			return nil, nil, errors.New("inline key is not valid base64")
		}
	}
	for i, part := range parts[1:] {
		if v, l, isMKI := strings.Cut(part, ":"); isMKI {
			mki, err = parseMKI(v, l)
			if err != nil {
				return nil, nil, err
			}
			continue
		}
		if i > 0 || mki != nil {
			return nil, nil, errors.New("lifetime must come before the MKI")
		}
		if err := checkLifetime(part); err != nil {
			return nil, nil, err
		}
	}
	return key, mki, nil
}

// checkLifetime validates an RFC 4568 lifetime: decimal, or "2^" exponent.
func checkLifetime(s string) error {
	if e, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := strconv.Atoi(e)
		if err != nil || n < 1 || n > 64 {
			return errors.New("key lifetime must be 2^1..2^64 or a decimal number")
		}
		return nil
	}
	if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return errors.New("key lifetime must be 2^1..2^64 or a decimal number")
	}
	return nil
}

// parseMKI turns "value:length" (RFC 4568: decimal value, length 1..128
// bytes) into the MKI bytes, big-endian.
func parseMKI(v, l string) ([]byte, error) {
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > 128 {
		return nil, errors.New("MKI length must be 1..128")
	}
	val, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return nil, errors.New("MKI value must be a decimal number")
	}
	if n < 8 && val >= 1<<(8*uint(n)) {
		return nil, errors.New("MKI value does not fit its length")
	}
	mki := make([]byte, n)
	for i := n - 1; i >= 0 && val > 0; i-- {
		mki[i] = byte(val)
		val >>= 8
	}
	return mki, nil
}

// ClientRandom is the 32-byte random of a TLS ClientHello, the key of
// every key log line.
type ClientRandom [32]byte

// Secrets are the key log secrets of one TLS connection, by its client
// random. A field is nil when the log did not give it.
type Secrets struct {
	Master          []byte // TLS 1.2 and older: CLIENT_RANDOM (48 bytes)
	ClientHandshake []byte // TLS 1.3: CLIENT_HANDSHAKE_TRAFFIC_SECRET
	ServerHandshake []byte // TLS 1.3: SERVER_HANDSHAKE_TRAFFIC_SECRET
	ClientTraffic   []byte // TLS 1.3: CLIENT_TRAFFIC_SECRET_0
	ServerTraffic   []byte // TLS 1.3: SERVER_TRAFFIC_SECRET_0
	Exporter        []byte // TLS 1.3: EXPORTER_SECRET
}

// KeyLog holds NSS key log secrets by client random. The zero KeyLog is
// empty and ready to use. Copies of a KeyLog share its entries; a KeyLog
// is not safe for concurrent use while it is changed.
type KeyLog struct {
	m       map[ClientRandom]*Secrets
	lines   int
	Unknown int // lines with a label this package does not use, skipped
}

// Lookup returns the secrets logged for a client random.
func (k *KeyLog) Lookup(cr ClientRandom) (Secrets, bool) {
	s, ok := k.m[cr]
	if !ok {
		return Secrets{}, false
	}
	return *s, true
}

// Len returns how many connections (client randoms) have secrets.
func (k *KeyLog) Len() int { return len(k.m) }

// Merge adds o's secrets to k; o's win where both have one.
func (k *KeyLog) Merge(o *KeyLog) {
	for cr, s := range o.m {
		d := k.entry(cr)
		for _, p := range [...]struct {
			dst *[]byte
			src []byte
		}{
			{&d.Master, s.Master}, {&d.ClientHandshake, s.ClientHandshake},
			{&d.ServerHandshake, s.ServerHandshake}, {&d.ClientTraffic, s.ClientTraffic},
			{&d.ServerTraffic, s.ServerTraffic}, {&d.Exporter, s.Exporter},
		} {
			if p.src != nil {
				*p.dst = p.src
			}
		}
	}
	k.lines += o.lines
	k.Unknown += o.Unknown
}

func (k *KeyLog) entry(cr ClientRandom) *Secrets {
	if k.m == nil {
		k.m = make(map[ClientRandom]*Secrets)
	}
	s := k.m[cr]
	if s == nil {
		s = &Secrets{}
		k.m[cr] = s
	}
	return s
}

// labels are the NSS key log labels used, with the secret lengths each
// may have (TLS 1.3 secrets are as long as the suite's hash: SHA-256 or
// SHA-384).
var labels = map[string][]int{
	"CLIENT_RANDOM":                   {48},
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET": {32, 48},
	"SERVER_HANDSHAKE_TRAFFIC_SECRET": {32, 48},
	"CLIENT_TRAFFIC_SECRET_0":         {32, 48},
	"SERVER_TRAFFIC_SECRET_0":         {32, 48},
	"EXPORTER_SECRET":                 {32, 48},
}

// parse parses one key log line split in fields.
func (k *KeyLog) parse(f []string) error {
	lens, ok := labels[f[0]]
	if !ok {
		if !isLabel(f[0]) {
			return errors.New("not a key log line (LABEL <client random> <secret>), an SDES line or a # comment")
		}
		k.Unknown++
		return nil
	}
	if len(f) != 3 {
		return fmt.Errorf("%s line needs 3 fields, has %d", f[0], len(f))
	}
	var cr ClientRandom
	if len(f[1]) != 2*len(cr) {
		return fmt.Errorf("%s: client random must be %d hex digits", f[0], 2*len(cr))
	}
	if _, err := hex.Decode(cr[:], []byte(f[1])); err != nil {
		return fmt.Errorf("%s: client random is not hex", f[0])
	}
	secret, err := hex.DecodeString(f[2])
	if err != nil {
		return fmt.Errorf("%s: secret is not hex", f[0])
	}
	good := false
	for _, l := range lens {
		good = good || len(secret) == l
	}
	if !good {
		return fmt.Errorf("%s: secret has %d bytes, want %v", f[0], len(secret), lens)
	}
	s := k.entry(cr)
	switch f[0] {
	case "CLIENT_RANDOM":
		s.Master = secret
	case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
		s.ClientHandshake = secret
	case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
		s.ServerHandshake = secret
	case "CLIENT_TRAFFIC_SECRET_0":
		s.ClientTraffic = secret
	case "SERVER_TRAFFIC_SECRET_0":
		s.ServerTraffic = secret
	case "EXPORTER_SECRET":
		s.Exporter = secret
	}
	k.lines++
	return nil
}

// isLabel reports whether s looks like a key log label: upper-case
// letters, digits and underscores.
func isLabel(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
