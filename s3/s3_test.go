package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/s3/s3test"
)

func TestParseURL(t *testing.T) {
	for _, tt := range []struct {
		url, bucket, prefix, endpoint, region string
		bad                                   string // part of the error, "" if valid
	}{
		{url: "s3://calls", bucket: "calls", endpoint: "https://s3.amazonaws.com"},
		{url: "s3://calls/site-a/?endpoint=http://127.0.0.1:8333&region=eu-west-1", bucket: "calls", prefix: "site-a/", endpoint: "http://127.0.0.1:8333", region: "eu-west-1"},
		{url: "s3://calls/a/b?endpoint=https://minio.example:9000", bucket: "calls", prefix: "a/b/", endpoint: "https://minio.example:9000"},
		{url: "s3://AKIA:secret@calls/x", bad: "credentials do not go in the URL"},
		{url: "s3://calls?endpoint=http://user:pw@host:1", bad: "want http://host:port"},
		{url: "s3://calls?endpoint=ftp://host", bad: "want http://host:port"},
		{url: "file:/tmp/x", bad: "want s3://BUCKET"},
		{url: "s3:///prefix", bad: "want s3://BUCKET"},
	} {
		bucket, prefix, ep, region, err := s3.ParseURL(tt.url)
		if tt.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tt.bad) {
				t.Errorf("%s: error %v, want one saying %q", tt.url, err, tt.bad)
			}
			if err != nil && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "pw@")) {
				t.Errorf("%s: the error quotes the credentials: %v", tt.url, err)
			}
			continue
		}
		if err != nil || bucket != tt.bucket || prefix != tt.prefix || ep.String() != tt.endpoint || region != tt.region {
			t.Errorf("%s: %q %q %v %q %v", tt.url, bucket, prefix, ep, region, err)
		}
	}
}

// countingTransport counts the GETs and the bytes of their bodies.
type countingTransport struct {
	mu     sync.Mutex
	gets   int
	ranged int
	bytes  int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/recordings/") {
		c.mu.Lock()
		c.gets++
		if r.Header.Get("Range") != "" {
			c.ranged++
		}
		c.mu.Unlock()
		resp.Body = &countingBody{ReadCloser: resp.Body, c: c}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	c *countingTransport
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.mu.Lock()
	b.c.bytes += int64(n)
	b.c.mu.Unlock()
	return n, err
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestStore runs the store against a real SeaweedFS: upload once,
// idempotent re-upload, refusal of other content under the same key and
// of content that does not match its SHA-256, ranged reads (through
// http.ServeContent, as the API serves audio), verification, deletion.
func TestStore(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	tr := &countingTransport{}
	st, err := s3.Open(ctx, s3.Config{URL: srv.URL("central"), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	// A real recording's bytes: a third-party capture stands for a call's
	// pcap, 400 kB or so.
	content, err := os.ReadFile(filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "sip-rtp-g722.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	key, h := "recordings/2026/11/01/abc.pcap", sum(content)
	if err := st.Put(ctx, key, bytes.NewReader(content), int64(len(content)), h); err != nil {
		t.Fatal(err)
	}
	cl := srv.Client(t)
	info, err := cl.StatObject(ctx, srv.Bucket, "central/"+key, minio.StatObjectOptions{})
	if err != nil || info.Size != int64(len(content)) {
		t.Fatalf("object: %+v, %v", info, err)
	}
	// Again: nothing is uploaded (the object keeps its ETag and time).
	if err := st.Put(ctx, key, bytes.NewReader(content), int64(len(content)), strings.ToUpper(h)); err != nil {
		t.Fatal(err)
	}
	info2, _ := cl.StatObject(ctx, srv.Bucket, "central/"+key, minio.StatObjectOptions{})
	if info2.ETag != info.ETag || !info2.LastModified.Equal(info.LastModified) {
		t.Errorf("a second Put rewrote the object: %v %v → %v %v", info.ETag, info.LastModified, info2.ETag, info2.LastModified)
	}
	if ok, err := st.Has(ctx, key, h); !ok || err != nil {
		t.Errorf("Has = %v, %v", ok, err)
	}
	// Other content under the same key: refused, the object unchanged.
	other := append([]byte(nil), content...)
	other[100] ^= 1
	if err := st.Put(ctx, key, bytes.NewReader(other), int64(len(other)), sum(other)); !errors.Is(err, s3.ErrMismatch) {
		t.Errorf("other content under the same key: %v", err)
	}
	// Content that is not what the index says: refused and removed.
	if err := st.Put(ctx, "recordings/bad.wav", bytes.NewReader(other), int64(len(other)), h); !errors.Is(err, s3.ErrMismatch) {
		t.Errorf("content with another SHA-256: %v", err)
	}
	if _, err := st.Open(ctx, "recordings/bad.wav"); !errors.Is(err, s3.ErrNotFound) {
		t.Errorf("the mismatched upload was kept: %v", err)
	}

	// Ranged reads, as the API serves audio: only the range is fetched.
	b, err := st.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Size() != int64(len(content)) || b.SHA256() != h {
		t.Errorf("blob: size %d, SHA-256 %q", b.Size(), b.SHA256())
	}
	tr.mu.Lock()
	tr.bytes, tr.gets, tr.ranged = 0, 0, 0
	tr.mu.Unlock()
	req := httptest.NewRequest(http.MethodGet, "/audio", nil)
	req.Header.Set("Range", "bytes=100000-100999")
	w := httptest.NewRecorder()
	http.ServeContent(w, req, "abc.pcap", b.ModTime(), b)
	if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), content[100000:101000]) {
		t.Errorf("Range 100000-100999: status %d, %d bytes, equal %v", w.Code, w.Body.Len(), bytes.Equal(w.Body.Bytes(), content[100000:101000]))
	}
	tr.mu.Lock()
	t.Logf("ranged read of 1000 bytes: %d GETs (%d with Range), %d bytes fetched of %d", tr.gets, tr.ranged, tr.bytes, len(content))
	if tr.ranged == 0 || tr.bytes > 64<<10 {
		t.Errorf("a 1000-byte range fetched %d bytes in %d GETs (%d ranged): not a ranged read", tr.bytes, tr.gets, tr.ranged)
	}
	tr.mu.Unlock()
	// Announced (as the API does for the range it serves): one GET of
	// exactly those bytes (plus what was left of the previous window,
	// drained so that the connection is reused).
	tr.mu.Lock()
	tr.bytes, tr.gets, tr.ranged = 0, 0, 0
	tr.mu.Unlock()
	b.Expect(20000, 50000)
	req = httptest.NewRequest(http.MethodGet, "/audio", nil)
	req.Header.Set("Range", "bytes=20000-69999")
	w = httptest.NewRecorder()
	http.ServeContent(w, req, "abc.pcap", b.ModTime(), b)
	tr.mu.Lock()
	if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), content[20000:70000]) || tr.gets != 1 || tr.bytes < 50000 || tr.bytes > 50000+64<<10 {
		t.Errorf("announced range: status %d, equal %v, %d GETs, %d bytes fetched", w.Code, bytes.Equal(w.Body.Bytes(), content[20000:70000]), tr.gets, tr.bytes)
	}
	tr.mu.Unlock()
	p := make([]byte, 500)
	if n, err := b.ReadAt(p, int64(len(content))-500); n != 500 || err != nil && err != io.EOF || !bytes.Equal(p, content[len(content)-500:]) {
		t.Errorf("ReadAt the end: %d, %v", n, err)
	}
	if err := b.Verify(h); err != nil {
		t.Error(err)
	}
	if err := b.Verify(sum(other)); !errors.Is(err, s3.ErrMismatch) {
		t.Errorf("Verify against another SHA-256: %v", err)
	}

	for _, k := range []string{"", "../x", "/abs", "a/../../b", "a//b"} {
		if err := st.Put(ctx, k, bytes.NewReader(content), int64(len(content)), h); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Open(ctx, key); !errors.Is(err, s3.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open after delete: %v (want s3.ErrNotFound, which is fs.ErrNotExist)", err)
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Errorf("deleting again: %v", err)
	}

	// Wrong credentials: a clear error that does not quote the secret.
	_, err = s3.Open(ctx, s3.Config{URL: srv.URL("central"), AccessKey: srv.AccessKey, SecretKey: "not-the-secret-0123"})
	if err == nil {
		t.Error("wrong secret key accepted")
	} else if strings.Contains(err.Error(), "not-the-secret") || strings.Contains(err.Error(), srv.SecretKey) {
		t.Errorf("the error quotes a secret: %v", err)
	}
	// A bucket that does not exist.
	if _, err := s3.Open(ctx, s3.Config{URL: "s3://nope?endpoint=" + srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
}

// tamperTransport changes PUT requests on their way to the store, as a
// faulty link or a store that does not do what S3 asks of it would:
// flip flips one byte of the body of the PUT of each key it names;
// probe, if set, replaces the body of the store probe's PUT with that
// byte (so that the store finds the SHA-256 it was signed with and keeps
// it, as a store that checks nothing would). It records the payload
// SHA-256 header of each PUT.
type tamperTransport struct {
	mu      sync.Mutex
	flip    map[string]bool // object paths ending so
	probe   string
	signed  map[string]string // path → X-Amz-Content-Sha256
	probeAt string            // the probe's path
}

func (t *tamperTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPut || r.Body == nil {
		return http.DefaultTransport.RoundTrip(r)
	}
	t.mu.Lock()
	if t.signed == nil {
		t.signed = map[string]string{}
	}
	t.signed[r.URL.Path] = r.Header.Get("X-Amz-Content-Sha256")
	probe := strings.Contains(r.URL.Path, ".spanrec-probe-")
	if probe {
		t.probeAt = r.URL.Path
	}
	flip := false
	for k := range t.flip {
		flip = flip || strings.HasSuffix(r.URL.Path, k)
	}
	repl := t.probe
	t.mu.Unlock()
	switch {
	case probe && repl != "":
		r.Body.Close()
		r.Body = io.NopCloser(strings.NewReader(repl))
	case flip:
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		b[len(b)/2] ^= 0x20
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	r.GetBody = nil
	return http.DefaultTransport.RoundTrip(r)
}

// TestPutChecked: a store that checks payloads (SeaweedFS, as S3) gets
// each file signed with the SHA-256 the index holds and no hashing by the
// sensor; a byte changed on the way is refused by the store and nothing is
// kept. A store that keeps what the probe sends (it checks nothing) gets
// the bytes hashed by the sensor, which refuses and removes a mismatch.
func TestPutChecked(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	content, err := os.ReadFile(filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "sip-rtp-g722.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	h := sum(content)
	cl := srv.Client(t)
	for _, tt := range []struct {
		name   string
		probe  string // what the probe's PUT carries instead
		checks bool
	}{
		{"store-checks", "", true},
		{"store-does-not-check", "y", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := &tamperTransport{probe: tt.probe, flip: map[string]bool{"/flipped.pcap": true}}
			st, err := s3.Open(ctx, s3.Config{URL: srv.URL(tt.name), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			if _, known := st.ChecksPayload(); known {
				t.Error("the probe ran before the first Put")
			}
			if err := st.Put(ctx, "a/good.pcap", bytes.NewReader(content), int64(len(content)), h); err != nil {
				t.Fatal(err)
			}
			if checks, known := st.ChecksPayload(); checks != tt.checks || !known {
				t.Errorf("ChecksPayload = %v, %v; want %v, true", checks, known, tt.checks)
			}
			tr.mu.Lock()
			got := tr.signed["/"+srv.Bucket+"/"+tt.name+"/a/good.pcap"]
			probeAt := tr.probeAt
			tr.mu.Unlock()
			if tt.checks && got != h {
				t.Errorf("the PUT was signed with payload SHA-256 %q, want the index's %s", got, h)
			}
			if !tt.checks && got == h {
				t.Errorf("a store that checks nothing was trusted with the payload SHA-256")
			}
			// The probe leaves nothing behind.
			if probeAt == "" {
				t.Fatal("no probe")
			}
			if _, err := cl.StatObject(ctx, srv.Bucket, strings.TrimPrefix(probeAt, "/"+srv.Bucket+"/"), minio.StatObjectOptions{}); minio.ToErrorResponse(err).StatusCode != http.StatusNotFound {
				t.Errorf("the probe object %s is still there: %v", probeAt, err)
			}
			b, err := st.Open(ctx, "a/good.pcap")
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Verify(h); err != nil {
				t.Errorf("stored content: %v", err)
			}
			b.Close()
			// A byte changed on the way: refused by the store (against the
			// signed SHA-256, or the chunk signatures minio-go sends when
			// the sensor hashes), nothing kept.
			err = st.Put(ctx, "a/flipped.pcap", bytes.NewReader(content), int64(len(content)), h)
			if tt.checks && !errors.Is(err, s3.ErrMismatch) || err == nil {
				t.Errorf("a byte changed in transit: %v, want an error (ErrMismatch when the store checks)", err)
			}
			if _, err := st.Open(ctx, "a/flipped.pcap"); !errors.Is(err, s3.ErrNotFound) {
				t.Errorf("the changed upload was kept: %v", err)
			}
			// The file differs from what the index says: refused, nothing kept.
			other := append([]byte(nil), content...)
			other[7] ^= 1
			if err := st.Put(ctx, "a/other.pcap", bytes.NewReader(other), int64(len(other)), h); !errors.Is(err, s3.ErrMismatch) {
				t.Errorf("content with another SHA-256: %v, want ErrMismatch", err)
			}
			if _, err := st.Open(ctx, "a/other.pcap"); !errors.Is(err, s3.ErrNotFound) {
				t.Errorf("the mismatched upload was kept: %v", err)
			}
		})
	}
}
