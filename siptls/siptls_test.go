package siptls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spanrec/spanrec/keys"
)

// chunk is bytes one side wrote on the wire.
type chunk struct {
	fromClient bool
	data       []byte
}

// wire records what both ends of a net.Pipe write, in order.
type wire struct {
	mu     sync.Mutex
	chunks []chunk
}

type tapConn struct {
	net.Conn
	w      *wire
	client bool
}

func (c *tapConn) Write(b []byte) (int, error) {
	c.w.mu.Lock()
	c.w.chunks = append(c.w.chunks, chunk{c.client, append([]byte(nil), b...)})
	c.w.mu.Unlock()
	return c.Conn.Write(b)
}

// converse runs a real crypto/tls connection over net.Pipe: the client
// sends req, the server answers resp, the client sends more; it returns
// the wire bytes and the client's NSS key log.
func converse(t testing.TB, min, max uint16, suites []uint16, msgs []chunk) ([]chunk, []byte) {
	t.Helper()
	cert := testCert(t)
	w := &wire{}
	cp, sp := net.Pipe()
	var log bytes.Buffer
	srv := tls.Server(&tapConn{sp, w, false}, &tls.Config{Certificates: []tls.Certificate{cert},
		MinVersion: min, MaxVersion: max, CipherSuites: suites, SessionTicketsDisabled: true})
	cli := tls.Client(&tapConn{cp, w, true}, &tls.Config{InsecureSkipVerify: true, MinVersion: min, MaxVersion: max,
		CipherSuites: suites, KeyLogWriter: &log})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); io.Copy(io.Discard, srv) }()
	go func() { defer wg.Done(); io.Copy(io.Discard, cli) }()
	for _, m := range msgs {
		c := srv
		if m.fromClient {
			c = cli
		}
		if _, err := c.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	cp.Close()
	sp.Close()
	wg.Wait()
	return w.chunks, log.Bytes()
}

func testCert(t testing.TB) tls.Certificate {
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

var sipMsgs = []chunk{
	{true, []byte("INVITE sip:2000@pbx.test SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.1.1:5061\r\nContent-Length: 0\r\n\r\n")},
	{false, []byte("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")},
	{true, []byte(strings.Repeat("A", 40000))}, // several records
	{true, []byte("BYE sip:2000@pbx.test SIP/2.0\r\n\r\n")},
}

// decrypt feeds the wire to a Conn in pieces of size step and returns the
// plaintext of each direction.
func decrypt(t *testing.T, chunks []chunk, log []byte, step int) (*Conn, [2][]byte) {
	t.Helper()
	set, err := keys.Load(bytes.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	c := New(&set.TLS)
	var out [2][]byte
	for _, ch := range chunks {
		i := 1
		if ch.fromClient {
			i = 0
		}
		for b := ch.data; len(b) > 0; {
			k := min(step, len(b))
			c.Write(ch.fromClient, b[:k], func(p []byte) { out[i] = append(out[i], p...) })
			b = b[k:]
		}
	}
	return c, out
}

func want(msgs []chunk) [2][]byte {
	var w [2][]byte
	for _, m := range msgs {
		i := 1
		if m.fromClient {
			i = 0
		}
		w[i] = append(w[i], m.data...)
	}
	return w
}

// TestDecryptGo decrypts real crypto/tls connections of TLS 1.2 (AES-GCM,
// ChaCha20-Poly1305, AES-CBC) and TLS 1.3, fed whole and byte by byte.
func TestDecryptGo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		version  uint16
		suite    uint16
		wantVers uint16
	}{
		{"1.3", tls.VersionTLS13, 0, 0x0304},
		{"1.2 aes128gcm", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0x0303},
		{"1.2 aes256gcm", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 0x0303},
		{"1.2 chacha20", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0x0303},
		{"1.2 aes128cbc sha", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, 0x0303},
		{"1.2 aes256cbc sha", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, 0x0303},
		{"1.2 aes128cbc sha256", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, 0x0303},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var suites []uint16
			if tc.suite != 0 {
				suites = []uint16{tc.suite}
			}
			chunks, log := converse(t, tc.version, tc.version, suites, sipMsgs)
			for _, step := range []int{1 << 20, 1, 7} {
				c, got := decrypt(t, chunks, log, step)
				if c.State() != Decrypting || c.Version() != tc.wantVers || (tc.suite != 0 && c.CipherSuite() != tc.suite) {
					t.Fatalf("step %d: state %v version %x suite %x", step, c.State(), c.Version(), c.CipherSuite())
				}
				w := want(sipMsgs)
				if !bytes.Equal(got[0], w[0]) || !bytes.Equal(got[1], w[1]) {
					t.Fatalf("step %d: plaintext differs: %d/%d bytes, want %d/%d", step, len(got[0]), len(got[1]), len(w[0]), len(w[1]))
				}
				if s := c.Stats(); s.AuthFailures != 0 || s.Decrypted < 5 {
					t.Errorf("step %d: stats %+v", step, s)
				}
			}
		})
	}
}

// TestNoKeys checks the states without secrets, with a corrupted record
// and when joined mid-connection.
func TestNoKeys(t *testing.T) {
	chunks, log := converse(t, tls.VersionTLS13, tls.VersionTLS13, nil, sipMsgs)
	c, out := decrypt(t, chunks, nil, 1<<20)
	if c.State() != NoKeys || len(out[0])+len(out[1]) != 0 {
		t.Errorf("no key log: state %v, %d bytes out", c.State(), len(out[0])+len(out[1]))
	}
	if _, ok := c.ClientRandom(); !ok {
		t.Error("client random not read")
	}
	// Flip a bit in the last record of the client: authentication fails.
	bad := append([]chunk(nil), chunks...)
	for i := len(bad) - 1; i >= 0; i-- {
		if bad[i].fromClient {
			d := append([]byte(nil), bad[i].data...)
			d[len(d)-1] ^= 1
			bad[i].data = d
			break
		}
	}
	c, out = decrypt(t, bad, log, 1<<20)
	if c.State() != Broken || c.Stats().AuthFailures != 1 || bytes.Contains(out[0], []byte("BYE")) {
		t.Errorf("corrupt record: state %v, stats %+v", c.State(), c.Stats())
	}
	// Joined after the handshake: the first chunks missing.
	c, _ = decrypt(t, chunks[6:], log, 1<<20)
	if c.State() != Joined {
		t.Errorf("joined: state %v", c.State())
	}
}

func FuzzConn(f *testing.F) {
	chunks, log := converse(f, tls.VersionTLS13, tls.VersionTLS13, nil, sipMsgs[:2])
	set, err := keys.Load(bytes.NewReader(log))
	if err != nil {
		f.Fatal(err)
	}
	var cl, sv []byte
	for _, c := range chunks {
		if c.fromClient {
			cl = append(cl, c.data...)
		} else {
			sv = append(sv, c.data...)
		}
	}
	f.Add(cl, sv, uint8(7))
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0}, []byte{23, 3, 3, 0xff, 0xff}, uint8(1))
	f.Fuzz(func(t *testing.T, client, server []byte, step uint8) {
		c := New(&set.TLS)
		c.Hold = int(step&1) << 16 // odd steps: wait for keys
		s := max(int(step), 1)
		for len(client) > 0 || len(server) > 0 {
			k := min(s, len(client))
			c.Write(true, client[:k], func([]byte) {})
			client = client[k:]
			k = min(s, len(server))
			c.Write(false, server[:k], func([]byte) {})
			server = server[k:]
		}
		for i := range c.dir {
			if len(c.dir[i].buf) > maxRecord || len(c.dir[i].hs) > 4+maxHandshake || len(c.dir[i].queue) > c.Hold {
				t.Fatalf("buffer beyond bounds")
			}
		}
	})
}

// TestWaitForKeys: with Hold, a connection whose keys come after its
// handshake and first messages is decrypted whole once they come, each
// direction's held records on its next Write; beyond Hold it gives up.
func TestWaitForKeys(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		chunks, log := converse(t, v, v, nil, sipMsgs)
		set, err := keys.Load(bytes.NewReader(log))
		if err != nil {
			t.Fatal(err)
		}
		store := keys.NewStore(nil)
		c := New(store)
		c.Hold = 1 << 20
		var out [2][]byte
		clientWrites := 0
		for _, ch := range chunks {
			i := 1
			if ch.fromClient {
				i = 0
				clientWrites++
			}
			c.Write(ch.fromClient, ch.data, func(p []byte) { out[i] = append(out[i], p...) })
			if clientWrites == 4 && store != nil { // handshake done, the INVITE sent
				if c.State() != Waiting {
					t.Fatalf("version %x: state %v before the keys, want waiting", v, c.State())
				}
				store.Add(set)
				store = nil
			}
		}
		// The client's last write came after the keys; the server's
		// records held are decrypted by its next Write, even empty.
		c.Write(false, nil, func(p []byte) { out[1] = append(out[1], p...) })
		w := want(sipMsgs)
		if c.State() != Decrypting || !bytes.Equal(out[0], w[0]) || !bytes.Equal(out[1], w[1]) {
			t.Errorf("version %x: state %v, %d/%d bytes, want %d/%d", v, c.State(), len(out[0]), len(out[1]), len(w[0]), len(w[1]))
		}

		c = New(keys.NewStore(nil))
		c.Hold = 4096
		for _, ch := range chunks {
			c.Write(ch.fromClient, ch.data, func([]byte) {})
		}
		if c.State() != NoKeys {
			t.Errorf("version %x: held beyond Hold: state %v", v, c.State())
		}
	}
}

// BenchmarkDecrypt decrypts the application data of real crypto/tls
// connections (1 MB of SIP-sized 1 KB writes each way), reporting MB/s of
// ciphertext and records/s.
func BenchmarkDecrypt(b *testing.B) {
	msg := []byte(strings.Repeat("x", 1024))
	var msgs []chunk
	for i := range 1024 {
		msgs = append(msgs, chunk{i%2 == 0, msg})
	}
	for _, tc := range []struct {
		name    string
		version uint16
		suite   uint16
	}{
		{"tls13", tls.VersionTLS13, 0},
		{"tls12-aes128gcm", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"tls12-chacha20", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		{"tls12-aes128cbc-sha", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var suites []uint16
			if tc.suite != 0 {
				suites = []uint16{tc.suite}
			}
			chunks, log := converse(b, tc.version, tc.version, suites, msgs)
			set, err := keys.Load(bytes.NewReader(log))
			if err != nil {
				b.Fatal(err)
			}
			total := 0
			for _, ch := range chunks {
				total += len(ch.data)
			}
			b.SetBytes(int64(total))
			b.ReportAllocs()
			records := uint64(0)
			for b.Loop() {
				c := New(&set.TLS)
				for _, ch := range chunks {
					c.Write(ch.fromClient, ch.data, func([]byte) {})
				}
				if c.State() != Decrypting {
					b.Fatalf("state %v", c.State())
				}
				records += c.Stats().Records
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
