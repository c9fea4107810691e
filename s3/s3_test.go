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
