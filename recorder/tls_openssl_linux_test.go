package recorder_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/keys"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// Loopback addresses of the OpenSSL call: the PBX (s_server) and the phone
// (s_client).
var (
	osslPBX   = netip.MustParseAddr("127.0.0.61")
	osslPhone = netip.MustParseAddr("127.0.0.62")
)

// TestSIPOverTLSOpenSSL carries a SIP call (INVITE/200/ACK, BYE/200) over
// TLS between real OpenSSL processes (s_client with -keylogfile, s_server)
// on loopback, with RTP between the SDP's addresses, captured by the
// kernel (AF_PACKET on lo, the capture package). Imported with the key
// log OpenSSL wrote, the call is recorded with both tones; without it,
// the connection is counted and no call is made up.
func TestSIPOverTLSOpenSSL(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("capturing on lo needs root (CAP_NET_RAW)")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	for _, v := range []struct {
		name      string
		args      []string
		keyUpdate bool
	}{
		{"1.3 chacha20 keyupdate", []string{"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"}, true},
		{"1.3 aes256gcm", []string{"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"}, false},
		{"1.2 aes128cbc sha256 etm", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"}, false},
		{"1.2 aes256gcm", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"}, false},
	} {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			pcap, keyLog := opensslCall(t, dir, v.args, v.keyUpdate)

			// Without keys only the RTP is recorded, as a signalless call.
			s, sum := importWithKeys(t, pcap, nil)
			if sum.Assembler.Calls != 0 || sum.TLS.Connections != 1 || sum.TLS.NoKeys != 1 {
				t.Errorf("without keys: %d SIP calls, TLS %+v", sum.Assembler.Calls, sum.TLS)
			}
			for _, c := range s {
				if c.Signalling != spanrec.SignallingNone {
					t.Errorf("without keys: call %q followed by its SIP", c.SIPCallID)
				}
			}
			calls, sum := importWithKeys(t, pcap, keyLog)
			if sum.TLS.Decrypted != 1 || sum.TLS.AuthFailures != 0 {
				t.Fatalf("TLS %+v", sum.TLS)
			}
			if len(calls) != 1 {
				t.Fatalf("%d calls recorded, want 1", len(calls))
			}
			c := calls[0]
			if c.Status != spanrec.Answered || c.Caller.Addr != osslPhone || c.Callee.Addr != osslPBX ||
				c.Caller.Number != "1001" || c.Callee.Number != "2001" || !slices.Contains(c.Notes, "SIP over TLS decrypted with the key log") {
				t.Errorf("call %s: %s, caller %s@%v, callee %s@%v, notes %q", c.SIPCallID, c.Status,
					c.Caller.Number, c.Caller.Addr, c.Callee.Number, c.Callee.Addr, c.Notes)
			}
			if c.End.IsZero() || c.Duration < time.Second {
				// The BYE comes after the KeyUpdate: it is read only if
				// the new key was derived.
				t.Errorf("call %s: end %v, duration %v: the BYE was not read", c.SIPCallID, c.End, c.Duration)
			}
			checkTones(t, c, dataOf(c), 440, 1000)
		})
	}
}

// dataDirs maps calls to the data directory they were imported into.
var dataDirs sync.Map

func dataOf(c *spanrec.Call) string {
	d, _ := dataDirs.Load(c.ID)
	s, _ := d.(string)
	return s
}

// importWithKeys imports the capture, with the key log if not nil.
func importWithKeys(t *testing.T, path string, keyLog []byte) ([]*spanrec.Call, recorder.Summary) {
	t.Helper()
	data := t.TempDir()
	cfg := recorder.Config{Call: call.Config{DataDir: data}}
	if keyLog != nil {
		set, err := keys.Load(bytes.NewReader(keyLog))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Keys = keys.NewStore(set)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sum, err := recorder.Import(context.Background(), cfg, src, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		dataDirs.Store(c.ID, data)
	}
	return calls, sum
}

// opensslCall runs the call and returns the capture's path and the key
// log.
func opensslCall(t *testing.T, dir string, tlsArgs []string, keyUpdate bool) (string, []byte) {
	t.Helper()
	certFile, keyFile := writeCert(t, dir)
	keyLogFile := filepath.Join(dir, "keylog.txt")

	// The kernel's view of lo, only the call's addresses.
	src, err := capture.OpenLive(capture.LiveConfig{Interface: "lo", RingMB: 4, NoPromisc: true,
		Filter: &capture.Filter{Hosts: []netip.Prefix{netip.PrefixFrom(osslPBX, 32), netip.PrefixFrom(osslPhone, 32)}}})
	if err != nil {
		t.Skipf("cannot capture on lo: %v", err)
	}
	var frames []capture.Frame
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			fr, err := src.ReadFrame()
			if err == capture.ErrTimeout {
				continue
			}
			if err != nil {
				done <- err
				return
			}
			fr.Data = bytes.Clone(fr.Data)
			frames = append(frames, fr)
		}
	}()
	// stopCapture ends the reader before the source is closed (also when
	// the test fails half-way).
	var once sync.Once
	var readErr error
	stopCapture := func() {
		once.Do(func() {
			close(stop)
			readErr = <-done
			src.Close()
		})
	}
	defer stopCapture()
	time.Sleep(100 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pbxAddr := netip.AddrPortFrom(osslPBX, 5061).String()
	server := exec.CommandContext(ctx, "openssl", append([]string{"s_server", "-accept", pbxAddr, "-naccept", "1",
		"-cert", certFile, "-key", keyFile}, tlsArgs...)...)
	sIn, sOut := pipes(t, server)
	client := exec.CommandContext(ctx, "openssl", append([]string{"s_client", "-connect", pbxAddr,
		"-bind", osslPhone.String() + ":0", "-keylogfile", keyLogFile}, tlsArgs...)...)
	if !keyUpdate {
		client.Args = append(client.Args, "-nocommands")
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer server.Wait()
	sOut.waitFor(t, "ACCEPT")
	cIn, cOut := pipes(t, client)
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	defer client.Wait()

	const callID = "a84b4c76e66710@127.0.0.62"
	phoneRTP := netip.AddrPortFrom(osslPhone, 40000)
	pbxRTP := netip.AddrPortFrom(osslPBX, 40002)
	write(t, cIn, sipInvite(callID, phoneRTP))
	sOut.waitFor(t, "INVITE sip:2001@")
	write(t, sIn, sipOK(callID, 1, "INVITE", pbxRTP))
	cOut.waitFor(t, "SIP/2.0 200 OK")
	write(t, cIn, sipRequest("ACK", callID, 1, ""))
	if keyUpdate {
		// s_client's interactive "k": a TLS 1.3 KeyUpdate (RFC 8446 §4.6.3).
		time.Sleep(50 * time.Millisecond)
		write(t, cIn, "k\n")
		time.Sleep(50 * time.Millisecond)
	}
	sOut.waitFor(t, "ACK sip:2001@")
	sendRTP(t, phoneRTP, pbxRTP, 440, 1000, 1500*time.Millisecond)
	write(t, cIn, sipRequest("BYE", callID, 2, ""))
	sOut.waitFor(t, "BYE sip:2001@")
	write(t, sIn, sipOK(callID, 2, "BYE", netip.AddrPort{}))
	cOut.waitFor(t, "CSeq: 2 BYE")
	cIn.Close()
	sIn.Close()
	client.Wait()
	server.Wait()
	time.Sleep(200 * time.Millisecond)
	stopCapture()
	if readErr != nil {
		t.Fatal(readErr)
	}

	keyLog, err := os.ReadFile(keyLogFile)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "openssl.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(frames) == 0 {
		t.Fatal("nothing captured on lo")
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkType(frames[0].Link)); err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: fr.Time, CaptureLength: len(fr.Data), Length: fr.Orig}
		if err := w.WritePacket(ci, fr.Data); err != nil {
			t.Fatal(err)
		}
	}
	return path, keyLog
}

// outWatch collects a process's output and waits for a string in it.
type outWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // bytes already matched
}

func (o *outWatch) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		o.mu.Lock()
		i := strings.Index(o.buf.String()[o.seen:], s)
		if i >= 0 {
			o.seen += i + len(s)
		}
		o.mu.Unlock()
		if i >= 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t.Fatalf("waited 30 s for %q; output:\n%s", s, o.buf.String())
}

func pipes(t *testing.T, cmd *exec.Cmd) (io.WriteCloser, *outWatch) {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	w := &outWatch{}
	go func() {
		r := bufio.NewReader(out)
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			w.mu.Lock()
			w.buf.Write(b[:n])
			w.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return in, w
}

func write(t *testing.T, w io.Writer, s string) {
	t.Helper()
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
}

func sipSDP(media netip.AddrPort) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio %[2]d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n",
		media.Addr(), media.Port())
}

func sipInvite(callID string, media netip.AddrPort) string {
	body := sipSDP(media)
	return "INVITE sip:2001@127.0.0.61:5061;transport=tls SIP/2.0\r\n" +
		"Via: SIP/2.0/TLS 127.0.0.62:5061;branch=z9hG4bK776asdhds\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Phone\" <sip:1001@127.0.0.62>;tag=1928301774\r\n" +
		"To: <sip:2001@127.0.0.61>\r\n" +
		"Call-ID: " + callID + "\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Contact: <sip:1001@127.0.0.62:5061;transport=tls>\r\n" +
		"Content-Type: application/sdp\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
}

func sipRequest(method, callID string, cseq int, body string) string {
	return method + " sip:2001@127.0.0.61:5061;transport=tls SIP/2.0\r\n" +
		"Via: SIP/2.0/TLS 127.0.0.62:5061;branch=z9hG4bK776as" + method + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: \"Phone\" <sip:1001@127.0.0.62>;tag=1928301774\r\n" +
		"To: <sip:2001@127.0.0.61>;tag=a6c85cf\r\n" +
		"Call-ID: " + callID + "\r\n" +
		fmt.Sprintf("CSeq: %d %s\r\n", cseq, method) +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
}

func sipOK(callID string, cseq int, method string, media netip.AddrPort) string {
	body, ctype := "", ""
	if media.IsValid() {
		body, ctype = sipSDP(media), "Content-Type: application/sdp\r\n"
	}
	return "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/TLS 127.0.0.62:5061;branch=z9hG4bK776as" + method + "\r\n" +
		"From: \"Phone\" <sip:1001@127.0.0.62>;tag=1928301774\r\n" +
		"To: <sip:2001@127.0.0.61>;tag=a6c85cf\r\n" +
		"Call-ID: " + callID + "\r\n" +
		fmt.Sprintf("CSeq: %d %s\r\n", cseq, method) +
		"Contact: <sip:2001@127.0.0.61:5061;transport=tls>\r\n" + ctype +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
}

// sendRTP sends PCMU RTP both ways between a and b for d, paced in real
// time: a sends a sine of toneA, b one of toneB.
func sendRTP(t *testing.T, a, b netip.AddrPort, toneA, toneB int, d time.Duration) {
	t.Helper()
	ca, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	cb, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(b))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := range int(d / (20 * time.Millisecond)) {
		<-tick.C
		if _, err := ca.WriteToUDPAddrPort(rtpPCMU(0x1111, i, toneA), b); err != nil {
			t.Fatal(err)
		}
		if _, err := cb.WriteToUDPAddrPort(rtpPCMU(0x2222, i, toneB), a); err != nil {
			t.Fatal(err)
		}
	}
}

// rtpPCMU returns RTP packet i (20 ms of PCMU) of a stream sending a sine.
func rtpPCMU(ssrc uint32, i, tone int) []byte {
	p := make([]byte, 12+160)
	p[0], p[1] = 0x80, 0
	if i == 0 {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], uint16(1000+i))
	binary.BigEndian.PutUint32(p[4:], uint32(160*i))
	binary.BigEndian.PutUint32(p[8:], ssrc)
	for k := range 160 {
		n := 160*i + k
		p[12+k] = g711.EncodeUlaw(int16(8000 * math.Sin(2*math.Pi*float64(tone)*float64(n)/8000)))
	}
	return p
}

// writeCert writes a self-signed ECDSA certificate and its key as PEM.
func writeCert(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pbx.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"pbx.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}
