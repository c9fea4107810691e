// Package s3 keeps recordings' files (audio, pcap) in an S3-compatible
// object store (AWS S3, MinIO, SeaweedFS, Ceph RGW, Cloudflare R2), through
// github.com/minio/minio-go/v7 (Apache-2.0): the central store that
// several sensors ship their calls to.
//
// An object is written once under its key (the file's path relative to
// the data directory, so a call's files keep the names the index gives
// them) with its SHA-256 in the object's metadata; a second Put of the
// same key and content is a no-op (shipping is retried, and must be
// idempotent), and what was uploaded is verified against the SHA-256 the
// index holds: by the store itself, which refuses a payload without the
// SHA-256 its request was signed with (the index's), when a probe at the
// first Put shows that it does so; else by hashing the bytes sent. Reads are ranged GETs (Blob is an io.ReadSeeker that asks
// for what is read), so the UI's audio player seeks in a recording stored
// here as in a local file.
//
// Credentials come from the standard AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN variables or from Config;
// they are never part of the store's URL or of any error or log line.
package s3

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Config is where the store is and how to reach it.
type Config struct {
	// URL is s3://BUCKET[/PREFIX][?endpoint=http://host:port&region=R]:
	// without endpoint, AWS S3 (https://s3.amazonaws.com). The bucket must
	// exist.
	URL string
	// AccessKey, SecretKey and SessionToken, if AccessKey is set, are the
	// credentials; else the AWS_* environment variables are used.
	AccessKey, SecretKey, SessionToken string
	// Transport, if set, is the HTTP transport (tests).
	Transport http.RoundTripper
}

// Store is an S3 bucket (and key prefix) holding recordings. It is safe for
// concurrent use.
type Store struct {
	client *minio.Client
	bucket string
	prefix string // "" or "a/b/"
	url    string // the URL without query secrets, for messages

	probeMu sync.Mutex
	probed  bool // checksPayload found out
	checks  bool // the store checks a payload's signed SHA-256
}

// metaSHA256 is the user metadata key of an object's SHA-256 (hex); S3
// sends it as the X-Amz-Meta-Sha256 header.
const metaSHA256 = "Sha256"

// ParseURL splits an s3:// URL into bucket, key prefix (ending in "/" if
// not empty), endpoint URL and region. It rejects credentials in the URL:
// they belong in the environment or the configuration file, never in a
// string that ends up in command lines and logs.
func ParseURL(raw string) (bucket, prefix string, endpoint *url.URL, region string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", nil, "", fmt.Errorf("s3: store URL: %w", redactErr(err))
	}
	if u.Scheme != "s3" || u.Host == "" {
		return "", "", nil, "", errors.New("s3: store URL: want s3://BUCKET/PREFIX?endpoint=http://host:port&region=R")
	}
	if u.User != nil {
		return "", "", nil, "", errors.New("s3: store URL: credentials do not go in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or store_credentials in the configuration)")
	}
	bucket = u.Host
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	q := u.Query()
	region = q.Get("region")
	ep := q.Get("endpoint")
	if ep == "" {
		ep = "https://s3.amazonaws.com"
	}
	endpoint, err = url.Parse(ep)
	if err != nil || (endpoint.Scheme != "http" && endpoint.Scheme != "https") || endpoint.Host == "" || endpoint.User != nil {
		return "", "", nil, "", fmt.Errorf("s3: store URL: endpoint %q: want http://host:port or https://host", redact(ep))
	}
	return bucket, prefix, endpoint, region, nil
}

// redact drops any user information from a URL string.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparseable)"
		}
		return s
	}
	u.User = nil
	return u.String()
}

// redactErr keeps url.Error's message from quoting the URL (which could
// hold a secret).
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Open connects to the store of cfg. It checks that the bucket exists.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	bucket, prefix, ep, region, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	creds := credentials.NewEnvAWS()
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	}
	c, err := minio.New(ep.Host, &minio.Options{
		Creds:        creds,
		Secure:       ep.Scheme == "https",
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	s := &Store{client: c, bucket: bucket, prefix: prefix, url: "s3://" + bucket + "/" + prefix + " at " + ep.Scheme + "://" + ep.Host}
	ok, err := c.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("s3: %s: %w", s.url, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3: %s: bucket %q does not exist", s.url, bucket)
	}
	return s, nil
}

// String describes the store without credentials.
func (s *Store) String() string { return s.url }

// objectKey maps a data-directory-relative path to the object's key. It
// refuses paths that could leave the prefix.
func (s *Store) objectKey(key string) (string, error) {
	clean := path.Clean("/" + key)[1:]
	if key == "" || clean != key || strings.HasPrefix(key, "../") || key == ".." {
		return "", fmt.Errorf("s3: bad key %q", key)
	}
	return s.prefix + key, nil
}

// ErrMismatch is returned when the content uploaded or found under a key
// does not have the SHA-256 the index holds.
var ErrMismatch = errors.New("s3: content does not match its SHA-256")

// Put stores the size bytes of r under key, unless the object is there
// already with the same SHA-256 (sum, hex): shipping a call again uploads
// nothing. An object found under key with another SHA-256 is an error
// (objects are written once), as is content whose SHA-256 is not sum:
// nothing is kept.
//
// The check of the content costs the sensor no hashing when the store
// checks payloads (see checksPayload; AWS S3, MinIO and SeaweedFS do): the
// request is signed with sum as its payload's SHA-256
// (x-amz-content-sha256, covered by the signature, so no one on the way
// can change the bytes either), and the store refuses bytes that do not
// have it before it keeps them. Otherwise, and for objects too large for
// one PUT, the bytes are hashed here while they are sent (minio-go signs
// them chunk by chunk over plain HTTP) and the object is removed if they
// do not match.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, sum string) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	sum = strings.ToLower(sum)
	if len(sum) != 64 {
		return fmt.Errorf("s3: put %s: SHA-256 %q is not 64 hex digits", key, sum)
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return fmt.Errorf("s3: put %s: SHA-256 %q is not 64 hex digits", key, sum)
	}
	switch have, err := s.stat(ctx, k); {
	case err != nil:
		return fmt.Errorf("s3: put %s: %w", key, err)
	case have == sum:
		return nil
	case have != "":
		return fmt.Errorf("s3: put %s: an object with SHA-256 %s is there already: %w", key, have, ErrMismatch)
	}
	if size <= maxSinglePut {
		checks, err := s.checksPayload(ctx)
		if err != nil {
			return fmt.Errorf("s3: put %s: %w", key, err)
		}
		if checks {
			if err := s.putSigned(ctx, k, r, size, sum); err != nil {
				return fmt.Errorf("s3: put %s: %w", key, err)
			}
			return nil
		}
	}
	h := sha256.New()
	info, err := s.client.PutObject(ctx, s.bucket, k, io.TeeReader(r, h), size, s.putOptions(key, sum))
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum || info.Size != size {
		_ = s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{})
		return fmt.Errorf("s3: put %s: %d bytes with SHA-256 %s uploaded, want %d with %s: %w", key, info.Size, got, size, sum, ErrMismatch)
	}
	return nil
}

// maxSinglePut is the largest object put in one request (S3's limit);
// larger ones go in parts, hashed here.
const maxSinglePut = 5 << 30

func (s *Store) putOptions(key, sum string) minio.PutObjectOptions {
	return minio.PutObjectOptions{
		ContentType:  contentType(key),
		UserMetadata: map[string]string{metaSHA256: sum},
	}
}

// putSigned puts the size bytes of r as object k in one PUT whose
// signature names sum as the payload's SHA-256: the store checks it.
func (s *Store) putSigned(ctx context.Context, k string, r io.Reader, size int64, sum string) error {
	opts := s.putOptions(k, sum)
	// No streaming signature (it would hash every chunk): the payload's
	// SHA-256 is sum, known already.
	opts.DisableContentSha256 = true
	_, err := minio.Core{Client: s.client}.PutObject(ctx, s.bucket, k, r, size, "", sum, opts)
	if isDigestError(err) {
		return fmt.Errorf("the store found another SHA-256 than %s in the %d bytes sent (%s): %w", sum, size, minio.ToErrorResponse(err).Code, ErrMismatch)
	}
	return err
}

// isDigestError reports whether err is the store's refusal of a payload
// that does not have the SHA-256 (or MD5) it was sent with.
func isDigestError(err error) bool {
	if err == nil {
		return false
	}
	switch minio.ToErrorResponse(err).Code {
	case "XAmzContentSHA256Mismatch", "BadDigest", "InvalidDigest":
		return true
	}
	return false
}

// checksPayload reports whether the store refuses a payload whose SHA-256
// is not the one its request was signed with, as S3's signature version 4
// asks of it. It is found out once per Store, at the first Put: one byte
// put under a probe key with the SHA-256 of another byte must be refused
// (if it is kept, it is removed again, and every Put hashes its bytes
// here).
func (s *Store) checksPayload(ctx context.Context) (bool, error) {
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	if s.probed {
		return s.checks, nil
	}
	var n [8]byte
	if _, err := rand.Read(n[:]); err != nil {
		return false, err
	}
	k := s.prefix + ".spanrec-probe-" + hex.EncodeToString(n[:])
	wrong := sha256.Sum256([]byte("y"))
	opts := minio.PutObjectOptions{DisableContentSha256: true}
	_, err := minio.Core{Client: s.client}.PutObject(ctx, s.bucket, k, strings.NewReader("x"), 1, "", hex.EncodeToString(wrong[:]), opts)
	switch {
	case isDigestError(err):
		s.checks = true
	case err == nil:
		s.checks = false
		if rerr := s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); rerr != nil {
			return false, fmt.Errorf("probing whether the store checks payloads: removing %s: %w", k, rerr)
		}
	default:
		return false, fmt.Errorf("probing whether the store checks payloads: %w", err)
	}
	s.probed = true
	return s.checks, nil
}

// ChecksPayload reports whether Put lets the store check its bytes' SHA-256
// (true) or hashes them itself (false), once the first Put found out;
// known is false before.
func (s *Store) ChecksPayload() (checks, known bool) {
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	return s.checks, s.probed
}

// stat returns the SHA-256 recorded on object k, "" if there is no such
// object.
func (s *Store) stat(ctx context.Context, k string) (string, error) {
	info, err := s.client.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" || minio.ToErrorResponse(err).StatusCode == http.StatusNotFound {
			return "", nil
		}
		return "", err
	}
	for name, v := range info.UserMetadata {
		if strings.EqualFold(name, metaSHA256) || strings.EqualFold(name, "X-Amz-Meta-"+metaSHA256) {
			return strings.ToLower(v), nil
		}
	}
	return "unknown", nil
}

// Has reports whether key is stored with SHA-256 sum.
func (s *Store) Has(ctx context.Context, key, sum string) (bool, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return false, err
	}
	have, err := s.stat(ctx, k)
	if err != nil {
		return false, fmt.Errorf("s3: stat %s: %w", key, err)
	}
	return have != "" && have == strings.ToLower(sum), nil
}

// Delete removes key. Removing a key that is not there is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("s3: delete %s: %w", key, err)
	}
	return nil
}

// ErrNotFound is returned by Open for a key with no object. It is also
// fs.ErrNotExist (errors.Is), as a missing file's error is: readers of
// recordings treat a file missing from the data directory and an object
// missing from the store alike.
var ErrNotFound error = notFound{}

type notFound struct{}

func (notFound) Error() string        { return "s3: no such object" }
func (notFound) Is(target error) bool { return target == fs.ErrNotExist }

// A Blob is one stored object opened for reading. Reads are ranged GETs
// of exactly the bytes asked for ahead, so that a connection is reused: a
// stretch announced with Expect (what http.ServeContent will send) is one
// GET; otherwise the first read at an offset fetches a window of 64 KiB
// and each window read through to its end doubles the next, up to 8 MiB.
type Blob struct {
	ctx     context.Context
	core    minio.Core
	bucket  string
	key     string // the object's key
	size    int64
	modTime time.Time
	sum     string

	off    int64         // offset of the next Read
	body   io.ReadCloser // the current window, nil if none
	bodyAt int64         // offset of the body's next byte
	end    int64         // end of the current window (exclusive)
	window int64         // size of the next window

	// expect is the stretch [expectAt, expectEnd) the reader said it
	// will read in order (Expect): one GET covers it.
	expectAt, expectEnd int64
}

// Expect says that the next reads are of the n bytes at off, in order
// (an HTTP range, a whole download): a read that starts a window inside
// them fetches up to their end in one GET, however long. It fetches
// nothing by itself.
func (b *Blob) Expect(off, n int64) {
	b.expectAt, b.expectEnd = off, min(off+n, b.size)
}

// Blob windows: the first at an offset, and the largest.
const (
	minWindow = 64 << 10
	maxWindow = 8 << 20
)

// Open opens key for reading; ctx bounds its reads.
func (s *Store) Open(ctx context.Context, key string) (*Blob, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return nil, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" || minio.ToErrorResponse(err).StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("s3: open %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("s3: open %s: %w", key, err)
	}
	b := &Blob{ctx: ctx, core: minio.Core{Client: s.client}, bucket: s.bucket, key: k,
		size: info.Size, modTime: info.LastModified, window: minWindow}
	for name, v := range info.UserMetadata {
		if strings.EqualFold(name, metaSHA256) || strings.EqualFold(name, "X-Amz-Meta-"+metaSHA256) {
			b.sum = strings.ToLower(v)
		}
	}
	return b, nil
}

// Read reads from the current offset.
func (b *Blob) Read(p []byte) (int, error) {
	if b.off >= b.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.body == nil || b.bodyAt != b.off || b.bodyAt >= b.end {
		sequential := b.body != nil && b.bodyAt == b.off && b.bodyAt >= b.end
		b.drop()
		if sequential {
			b.window = min(2*b.window, maxWindow)
		} else {
			b.window = minWindow
		}
		end := min(b.off+max(b.window, int64(len(p))), b.size)
		if b.expectAt <= b.off && b.off < b.expectEnd {
			end = b.expectEnd
		}
		if err := b.get(b.off, end); err != nil {
			return 0, err
		}
	}
	n, err := b.body.Read(p[:min(int64(len(p)), b.end-b.bodyAt)])
	b.bodyAt += int64(n)
	b.off += int64(n)
	if err == io.EOF {
		if b.bodyAt < b.end {
			return n, fmt.Errorf("s3: read %s: %w", b.key, io.ErrUnexpectedEOF)
		}
		err = nil
	}
	if err != nil {
		b.drop()
		return n, fmt.Errorf("s3: read %s: %w", b.key, err)
	}
	return n, nil
}

// get starts a ranged GET of [start, end).
func (b *Blob) get(start, end int64) error {
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(start, end-1); err != nil {
		return fmt.Errorf("s3: read %s: %w", b.key, err)
	}
	body, _, _, err := b.core.GetObject(b.ctx, b.bucket, b.key, opts)
	if err != nil {
		if minio.ToErrorResponse(err).StatusCode == http.StatusNotFound {
			return fmt.Errorf("s3: read %s: %w", b.key, ErrNotFound)
		}
		return fmt.Errorf("s3: read %s: %w", b.key, err)
	}
	b.body, b.bodyAt, b.end = body, start, end
	return nil
}

// drop closes the current window's body, reading what is left of it
// first when that is little, so that the connection can be reused.
func (b *Blob) drop() {
	if b.body == nil {
		return
	}
	if b.end-b.bodyAt <= minWindow {
		_, _ = io.Copy(io.Discard, b.body)
	}
	b.body.Close()
	b.body = nil
}

// Seek sets the offset of the next Read (io.Seeker).
func (b *Blob) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.size
	default:
		return 0, fmt.Errorf("s3: seek %s: bad whence %d", b.key, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("s3: seek %s: negative offset", b.key)
	}
	b.off = offset
	return offset, nil
}

// ReadAt reads len(p) bytes at off (io.ReaderAt): one ranged GET.
func (b *Blob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("s3: read %s: negative offset", b.key)
	}
	if off >= b.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), b.size)
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, end-1); err != nil {
		return 0, fmt.Errorf("s3: read %s: %w", b.key, err)
	}
	body, _, _, err := b.core.GetObject(b.ctx, b.bucket, b.key, opts)
	if err != nil {
		return 0, fmt.Errorf("s3: read %s: %w", b.key, err)
	}
	defer body.Close()
	n, err := io.ReadFull(body, p[:end-off])
	if err != nil {
		return n, fmt.Errorf("s3: read %s: %w", b.key, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close releases the object.
func (b *Blob) Close() error {
	b.drop()
	return nil
}

// Size is the object's length in bytes.
func (b *Blob) Size() int64 { return b.size }

// ModTime is when the object was written.
func (b *Blob) ModTime() time.Time { return b.modTime }

// SHA256 is the SHA-256 recorded with the object (hex), "" if none.
func (b *Blob) SHA256() string { return b.sum }

// Verify reads the whole object and checks it against sum (hex), leaving
// the offset at the end: what a sensor does before deleting its local
// copy.
func (b *Blob) Verify(sum string) error {
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		return err
	}
	b.Expect(0, b.size)
	h := sha256.New()
	return verify(h, b, sum)
}

func verify(h hash.Hash, r io.Reader, sum string) error {
	if _, err := io.Copy(h, r); err != nil {
		return fmt.Errorf("s3: verify: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(sum) {
		return fmt.Errorf("s3: verify: SHA-256 %s, want %s: %w", got, sum, ErrMismatch)
	}
	return nil
}

// contentType names what a recording's file holds, for clients that read
// the bucket directly.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".wav":
		return "audio/wav"
	case ".pcap", ".pcapng":
		return "application/vnd.tcpdump.pcap"
	}
	return "application/octet-stream"
}
