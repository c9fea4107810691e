package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUserCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data") // no import yet: the first user comes first
	pw := []byte("a long password\n")
	code, out, errs := runCLI(t, pw, "user", "add", "ada", "--role", "admin", "--data", data)
	if code != 0 || !strings.Contains(out, "User ada added (admin)") {
		t.Fatalf("user add: %d %q %q", code, out, errs)
	}
	code, out, _ = runCLI(t, nil, "user", "add", "agnes", "--role", "agent", "--extension", "201", "--extension", "1001,1002", "--generate", "--data", data)
	m := regexp.MustCompile(`Password: (\S+)\n`).FindStringSubmatch(out)
	if code != 0 || m == nil || len(m[1]) != 20 || !strings.Contains(out, "extensions 201, 1001, 1002") {
		t.Fatalf("user add --generate: %d %q", code, out)
	}

	code, out, _ = runCLI(t, nil, "user", "list", "--data", data)
	if code != 0 || !regexp.MustCompile(`(?m)^ada +admin +- `).MatchString(out) ||
		!regexp.MustCompile(`(?m)^agnes +agent +201,1001,1002 `).MatchString(out) {
		t.Errorf("user list: %d\n%s", code, out)
	}

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"duplicate", "another password\n", []string{"user", "add", "ada", "--role", "admin"}, 1, "exists"},
		{"bad role", "", []string{"user", "add", "bob", "--role", "root", "--generate"}, 2, "--role"},
		{"no role", "", []string{"user", "add", "bob", "--generate"}, 2, "--role"},
		{"short password", "short\n", []string{"user", "add", "bob", "--role", "agent", "--extension", "201"}, 2, "at least 10"},
		{"empty stdin", "", []string{"user", "add", "bob", "--role", "agent", "--extension", "201"}, 2, "at least 10"},
		{"agent without extension", "", []string{"user", "add", "bob", "--role", "agent", "--generate"}, 2, "give at least one --extension"},
		{"bad name", "", []string{"user", "add", "bob smith", "--role", "agent", "--generate"}, 2, "user name"},
		{"bad extension", "", []string{"user", "add", "bob", "--role", "agent", "--extension", "1 2", "--generate"}, 2, "--extension"},
		{"no name", "", []string{"user", "add", "--role", "agent"}, 2, "NAME"},
		{"no subcommand", "", []string{"user"}, 2, "subcommand"},
		{"unknown subcommand", "", []string{"user", "frobnicate"}, 2, "frobnicate"},
		{"delete unknown", "", []string{"user", "delete", "bob"}, 1, "no user bob"},
		{"delete last admin", "", []string{"user", "delete", "ada"}, 1, "last admin"},
	} {
		code, _, errs := runCLI(t, []byte(tc.stdin), append(tc.args, "--data", data)...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%s: exit %d, %q; want %d and %q", tc.name, code, errs, tc.code, tc.msg)
		}
	}

	code, out, _ = runCLI(t, []byte("a new long password\n"), "user", "password", "agnes", "--data", data)
	if code != 0 || !strings.Contains(out, "changed") {
		t.Errorf("user password: %d %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "user", "delete", "agnes", "--data", data)
	if code != 0 || !strings.Contains(out, "agnes deleted") {
		t.Errorf("user delete: %d %q", code, out)
	}
	if _, out, _ = runCLI(t, nil, "user", "list", "--data", data); strings.Contains(out, "agnes") {
		t.Errorf("agnes still listed:\n%s", out)
	}
	if code, _, errs := runCLI(t, nil, "user", "list", "--data", filepath.Join(t.TempDir(), "none")); code != 1 || !strings.Contains(errs, "data directory") {
		t.Errorf("user list without a data directory: %d %q", code, errs)
	}
}

func TestTokenCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errs := runCLI(t, nil, "user", "add", "crm", "--role", "supervisor", "--generate", "--data", data); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := runCLI(t, nil, "token", "create", "crm", "--name", "nightly export", "--data", data)
	tok := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(tok, "spanrec_") || strings.Contains(tok, "\n") || !strings.Contains(errs, "shown only this once") {
		t.Fatalf("token create: %d %q %q", code, out, errs)
	}
	code, out, _ = runCLI(t, nil, "token", "list", "--data", data)
	if code != 0 || !regexp.MustCompile(`(?m)^1 +crm +nightly export +\S+ \S+ +never$`).MatchString(out) || strings.Contains(out, tok) {
		t.Errorf("token list: %d\n%s", code, out)
	}
	if code, _, errs := runCLI(t, nil, "token", "create", "nobody", "--data", data); code != 1 || !strings.Contains(errs, "no user nobody") {
		t.Errorf("token for an unknown user: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, nil, "token", "revoke", "x", "--data", data); code != 2 || !strings.Contains(errs, "token ID") {
		t.Errorf("revoke x: %d %q", code, errs)
	}
	if code, out, _ := runCLI(t, nil, "token", "revoke", "1", "--data", data); code != 0 || !strings.Contains(out, "Token 1 revoked") {
		t.Errorf("revoke 1: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, nil, "token", "revoke", "1", "--data", data); code != 1 || !strings.Contains(errs, "no token 1") {
		t.Errorf("revoke 1 again: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, nil, "token", "list", "--user", "crm", "--data", data); code != 0 || !strings.Contains(errs, "no tokens") {
		t.Errorf("token list after revoke: %d %q", code, errs)
	}
}

// syncBuffer is a bytes.Buffer safe for the serve goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve runs "spanrec serve" until the test ends and returns its base URL
// and standard output so far.
func serve(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), nil, &out, &errb)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d: %s", code, errb.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	re := regexp.MustCompile(`on (https?://127\.0\.0\.1:\d+)/`)
	for range 500 {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], &out
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve printed no URL: %q %q", out.String(), errb.String())
	return "", nil
}

func TestServe(t *testing.T) {
	data := importDemo(t)
	base, out := serve(t, "--data", data)
	if !strings.Contains(out.String(), "No user exists yet") || !strings.Contains(out.String(), "spanrec user add NAME --role admin") {
		t.Errorf("no first-user hint: %q", out.String())
	}
	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	if res, _ := http.Get(base + "/api/calls"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("calls without login: %d", res.StatusCode)
	}

	// Users and tokens made on the command line work against the server.
	if code, _, errs := runCLI(t, []byte("sup3rvisor password\n"), "user", "add", "sue", "--role", "supervisor", "--data", data); code != 0 {
		t.Fatal(errs)
	}
	body := strings.NewReader(`{"user":"sue","password":"sup3rvisor password"}`)
	res, err = http.Post(base+"/api/login", "application/json", body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login: %v %v", res, err)
	}
	res.Body.Close()
	_, tok, _ := runCLI(t, nil, "token", "create", "sue", "--data", data)
	req, _ := http.NewRequest("GET", base+"/api/calls", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Total int }
	json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || page.Total != 7 {
		t.Errorf("calls by token: %d, total %d", res.StatusCode, page.Total)
	}

	// The live view sees calls imported while serve runs (another process
	// in real life).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", base+"/api/live", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := bufio.NewReader(res.Body)
	r.ReadString('\n') // the stream is open: "retry: ..."
	caps := filepath.Join(capturesDirForTest(t), "wireshark-samples", "sip-rtp-g722.pcap")
	if _, err := os.Stat(caps); err != nil {
		t.Skipf("live view part skipped: %v", err)
	}
	if code, _, errs := runCLI(t, nil, "import", caps, "--data", data, "--no-progress"); code != 0 {
		t.Fatal(errs)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "event: ") {
			if line == "event: snapshot\n" { // the calls in progress when the stream opens (none)
				continue
			}
			if line != "event: end\n" {
				t.Errorf("live event %q", line)
			}
			break
		}
	}
}

func capturesDirForTest(t *testing.T) string {
	if d := os.Getenv("SPANREC_CAPTURES"); d != "" {
		return d
	}
	abs, err := filepath.Abs("../../../shared/captures")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestServeErrors(t *testing.T) {
	data := importDemo(t)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve", "--tls-cert", "x.pem", "--data", data}, 2, "both a certificate and a key"},
		{[]string{"serve", "--tls-cert", "x.pem", "--tls-key", "y.pem", "--data", data}, 1, "TLS certificate"},
		{[]string{"serve", "extra", "--data", data}, 2, "no arguments"},
		{[]string{"serve", "--data", filepath.Join(t.TempDir(), "none")}, 1, "data directory"},
		{[]string{"serve", "--listen", "256.0.0.1:0", "--data", data}, 1, "256.0.0.1"},
	} {
		code, _, errs := runCLI(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}

func TestServeTLSFromConfig(t *testing.T) {
	data := importDemo(t)
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	cfg := filepath.Join(dir, "spanrec.yaml")
	os.WriteFile(cfg, []byte("http:\n  listen: 127.0.0.1:0\n  tls_cert: "+certFile+"\n  tls_key: "+keyFile+"\n"), 0o600)
	if code, _, errs := runCLI(t, nil, "user", "add", "ada", "--role", "admin", "--generate", "--data", data); code != 0 {
		t.Fatal(errs)
	}
	base, out := serve(t, "--data", data, "--config", cfg)
	if !strings.HasPrefix(base, "https://") || strings.Contains(out.String(), "No user exists") {
		t.Fatalf("serve over TLS: %s %q", base, out.String())
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := hc.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("https healthz: %d %v", res.StatusCode, res.Header)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "spanrec test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTrustedProxies: behind a proxy listed in http.trusted_proxies,
// the login limits (here http.login_failures: 2) count the client named by
// X-Forwarded-For, so one client's failures do not lock out another.
func TestServeTrustedProxies(t *testing.T) {
	data := importDemo(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "spanrec.yaml")
	os.WriteFile(cfg, []byte("http:\n  trusted_proxies: [127.0.0.1, \"::1/128\"]\n  login_failures: 2\n  password_checks: 1\n  max_connections: 8\n"), 0o600)
	base, _ := serve(t, "--data", data, "--config", cfg)
	login := func(client string) int {
		req, _ := http.NewRequest("POST", base+"/api/login", strings.NewReader(`{"user":"nobody","password":"guess"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for i, want := range []int{401, 401, 429} {
		if got := login("203.0.113.1"); got != want {
			t.Errorf("attempt %d from the first client: %d, want %d", i, got, want)
		}
	}
	if got := login("203.0.113.2"); got != http.StatusUnauthorized {
		t.Errorf("another client behind the proxy: %d, want 401", got)
	}

	for _, bad := range []string{"trusted_proxies: [not-a-prefix]", "password_checks: -1", "login_window: -1s", "max_connections: -5"} {
		os.WriteFile(cfg, []byte("http:\n  "+bad+"\n"), 0o600)
		code, _, errs := runCLI(t, nil, "serve", "--data", data, "--config", cfg)
		if code == 0 || !strings.Contains(errs, "http.") {
			t.Errorf("config %q: exit %d, %q", bad, code, errs)
		}
	}
}
