package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadGoKeyLog checks the parser on key logs written by Go's crypto/tls
// (Config.KeyLogWriter, the NSS format) for a TLS 1.2 and a TLS 1.3
// handshake: every connection's secrets are found by its client random.
func TestLoadGoKeyLog(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		var log bytes.Buffer
		cr := handshake(t, v, &log)
		s, err := Load(&log)
		if err != nil {
			t.Fatalf("version %x: %v", v, err)
		}
		if s.TLS.Len() != 1 {
			t.Fatalf("version %x: %d connections, want 1", v, s.TLS.Len())
		}
		sec, ok := s.TLS.Lookup(cr)
		if !ok {
			t.Fatalf("version %x: client random not found", v)
		}
		if v == tls.VersionTLS12 {
			if len(sec.Master) != 48 {
				t.Errorf("TLS 1.2 master secret has %d bytes", len(sec.Master))
			}
			continue
		}
		for name, b := range map[string][]byte{"client hs": sec.ClientHandshake, "server hs": sec.ServerHandshake,
			"client app": sec.ClientTraffic, "server app": sec.ServerTraffic} {
			if len(b) != 32 && len(b) != 48 {
				t.Errorf("TLS 1.3 %s secret has %d bytes", name, len(b))
			}
		}
	}
}

// handshake runs a TLS handshake of version v over net.Pipe, writing the
// client's key log to w, and returns the connection's client random.
func handshake(t *testing.T, v uint16, w *bytes.Buffer) ClientRandom {
	t.Helper()
	cert := selfSigned(t)
	var cr ClientRandom
	cc, sc := net.Pipe()
	done := make(chan error, 1)
	go func() {
		s := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: v, MaxVersion: v})
		done <- s.Handshake()
		sc.Close()
	}()
	c := tls.Client(cc, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v, KeyLogWriter: w})
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cc.Close()
	// Every line of a Go key log has the client random as its second field.
	f := strings.Fields(w.String())
	if _, err := hex.Decode(cr[:], []byte(f[1])); err != nil {
		t.Fatal(err)
	}
	return cr
}

func TestLoadLines(t *testing.T) {
	key30 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 30))
	key28 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 28))
	cr := strings.Repeat("ab", 32)
	in := "# operator keys\n\n" +
		"CLIENT_RANDOM " + cr + " " + strings.Repeat("01", 48) + "\n" +
		"CLIENT_EARLY_TRAFFIC_SECRET " + cr + " " + strings.Repeat("02", 32) + "\n" +
		"RSA 0011223344556677 " + strings.Repeat("03", 48) + "\n" +
		"SDES callid:a84b4c76e66710@pc33.example.com/caller AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4\n" +
		"  SDES 192.0.2.10:49170 AEAD_AES_128_GCM inline:" + key28 + "  \n" +
		"SDES [2001:db8::1]:5004 AES_CM_128_HMAC_SHA1_32 inline:" + strings.TrimRight(key30, "=") + "|1048576\n"
	s, err := Load(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.TLS.Len() != 1 || s.TLS.Unknown != 2 {
		t.Errorf("key log: %d connections, %d unknown; want 1, 2", s.TLS.Len(), s.TLS.Unknown)
	}
	var want ClientRandom
	for i := range want {
		want[i] = 0xab
	}
	if sec, ok := s.TLS.Lookup(want); !ok || !bytes.Equal(sec.Master, bytes.Repeat([]byte{1}, 48)) {
		t.Errorf("master secret not found or wrong")
	}
	if len(s.SDES) != 3 {
		t.Fatalf("%d SDES keys, want 3", len(s.SDES))
	}
	k := s.SDES[0]
	if k.CallID != "a84b4c76e66710@pc33.example.com" || k.Side != "caller" || k.Suite != "AES_CM_128_HMAC_SHA1_80" ||
		!bytes.Equal(k.Key, bytes.Repeat([]byte{7}, 30)) || !bytes.Equal(k.MKI, []byte{0, 0, 0, 1}) || k.Addr.IsValid() {
		t.Errorf("SDES 0 = %+v", k)
	}
	if k := s.SDES[1]; k.Addr != netip.MustParseAddrPort("192.0.2.10:49170") || k.CallID != "" || len(k.Key) != 28 || k.MKI != nil {
		t.Errorf("SDES 1 = %+v", k)
	}
	if k := s.SDES[2]; k.Addr != netip.MustParseAddrPort("[2001:db8::1]:5004") || len(k.Key) != 30 {
		t.Errorf("SDES 2 = %+v", k)
	}
}

// TestLoadErrors checks that bad lines are refused with their line number
// and without the secret in the message.
func TestLoadErrors(t *testing.T) {
	const secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0" // 30 bytes of "secret…"
	cr := strings.Repeat("cd", 32)
	hexSecret := strings.Repeat("5e", 47)
	for _, tc := range []struct{ name, line string }{
		{"short master secret", "CLIENT_RANDOM " + cr + " " + hexSecret},
		{"odd hex", "CLIENT_TRAFFIC_SECRET_0 " + cr + " " + hexSecret + "5"},
		{"short random", "CLIENT_RANDOM " + cr[2:] + " " + hexSecret + "5e"},
		{"missing field", "SERVER_TRAFFIC_SECRET_0 " + cr},
		{"garbage", "hello " + hexSecret},
		{"wrong suite length", "SDES 10.0.0.1:4000 AEAD_AES_256_GCM inline:" + secret},
		{"unknown suite", "SDES 10.0.0.1:4000 AES_CM_999 inline:" + secret},
		{"no inline", "SDES 10.0.0.1:4000 AES_CM_128_HMAC_SHA1_80 " + secret},
		{"bad base64", "SDES 10.0.0.1:4000 AES_CM_128_HMAC_SHA1_80 inline:" + secret + "!!"},
		{"bad side", "SDES callid:x@y/both AES_CM_128_HMAC_SHA1_80 inline:" + secret},
		{"no side", "SDES callid:xy AES_CM_128_HMAC_SHA1_80 inline:" + secret},
		{"port 0", "SDES 10.0.0.1:0 AES_CM_128_HMAC_SHA1_80 inline:" + secret},
		{"bare ipv6", "SDES 2001:db8::1:4000 AES_CM_128_HMAC_SHA1_80 inline:" + secret},
		{"bad lifetime", "SDES 10.0.0.1:4000 AES_CM_128_HMAC_SHA1_80 inline:" + secret + "|2^99"},
		{"mki too long", "SDES 10.0.0.1:4000 AES_CM_128_HMAC_SHA1_80 inline:" + secret + "|300:1"},
		{"extra field", "SDES 10.0.0.1:4000 AES_CM_128_HMAC_SHA1_80 inline:" + secret + " more"},
	} {
		_, err := Load(strings.NewReader("# first\n\n" + tc.line + "\n"))
		var le *LineError
		if !errors.As(err, &le) || le.Line != 3 {
			t.Errorf("%s: err %v, want a LineError on line 3", tc.name, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(msg, hexSecret) || strings.Contains(msg, cr) {
			t.Errorf("%s: error shows key material: %s", tc.name, msg)
		}
	}
}

func TestLoadBounds(t *testing.T) {
	_, err := Load(strings.NewReader("# " + strings.Repeat("x", MaxLineLen) + "\n"))
	var le *LineError
	if !errors.As(err, &le) || le.Line != 1 {
		t.Errorf("long line: %v", err)
	}
	_, err = Load(strings.NewReader(strings.Repeat("\n", MaxLines+1)))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("too many lines: %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keys.log")
	line := "CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("01", 48) + "\n"
	if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadFile(p)
	if err != nil || s.TLS.Len() != 1 {
		t.Fatalf("LoadFile: %v", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file loaded")
	}
}

// TestAdd checks that Add keeps a set unchanged when a line is bad.
func TestAdd(t *testing.T) {
	s := &Set{}
	good := "CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("01", 48) + "\n"
	if n, err := s.Add(strings.NewReader(good)); err != nil || n != 1 {
		t.Fatalf("Add: %d, %v", n, err)
	}
	bad := "CLIENT_RANDOM " + strings.Repeat("cd", 32) + " " + strings.Repeat("01", 48) + "\nnonsense\n"
	if _, err := s.Add(strings.NewReader(bad)); err == nil {
		t.Fatal("bad lines added")
	}
	if s.TLS.Len() != 1 {
		t.Errorf("%d connections after a refused Add, want 1", s.TLS.Len())
	}
}

func FuzzLoad(f *testing.F) {
	cr := strings.Repeat("ab", 32)
	f.Add([]byte("CLIENT_RANDOM " + cr + " " + strings.Repeat("01", 48) + "\n"))
	f.Add([]byte("SERVER_TRAFFIC_SECRET_0 " + cr + " " + strings.Repeat("01", 32) + "\n# c\n"))
	f.Add([]byte("SDES callid:abc@h/callee AES_CM_128_HMAC_SHA1_80 inline:" +
		base64.StdEncoding.EncodeToString(make([]byte, 30)) + "|2^31|7:2\n"))
	f.Add([]byte("SDES [::1]:9 AEAD_AES_256_GCM inline:" + base64.StdEncoding.EncodeToString(make([]byte, 44)) + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Load(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, k := range s.SDES {
			kl, sl, ok := KeyLength(k.Suite)
			if !ok || len(k.Key) != kl+sl {
				t.Fatalf("accepted key of %d bytes for %q", len(k.Key), k.Suite)
			}
			if (k.CallID == "") == !k.Addr.IsValid() {
				t.Fatalf("SDES target: call %q addr %v", k.CallID, k.Addr)
			}
		}
	})
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pbx.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"pbx.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
