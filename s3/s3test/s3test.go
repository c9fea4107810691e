// Package s3test runs a real S3-compatible server for tests: SeaweedFS
// (`weed server -s3`, Apache-2.0), on loopback, in a temporary directory,
// on free ports, with one bucket and one access key. It is imported only
// by tests.
//
// The weed binary is found as $SPANREC_WEED, else `weed` in PATH, else
// $(go env GOPATH)/bin/weed (where test.sh builds it from the
// github.com/seaweedfs/seaweedfs module). Without it the test is skipped,
// or fails when CI is set (CI must run the S3 tests).
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is a running SeaweedFS S3 gateway.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Bucket    string
	AccessKey string
	SecretKey string
	cmd       *exec.Cmd
	log       *syncBuffer
	weed, dir string
	args      []string
}

// syncBuffer is the server's output, written by exec's copiers while the
// test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 1<<20 { // keep the last MiB or so
		b.b.Next(b.b.Len() - 1<<19)
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// URL is the store URL of the server's bucket under prefix.
func (s *Server) URL(prefix string) string {
	return "s3://" + s.Bucket + "/" + prefix + "?endpoint=" + s.Endpoint + "&region=us-east-1"
}

// Weed returns the path of the weed binary, skipping tb (failing it under
// CI) when there is none.
func Weed(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("SPANREC_WEED"); p != "" {
		return p
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(string(bytes.TrimSpace(out)), "bin", "weed")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "SeaweedFS (weed) not found: test.sh builds it (go build ./weed in the github.com/seaweedfs/seaweedfs module), or set SPANREC_WEED"
	if os.Getenv("CI") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// freePorts returns n ports p such that p and p+10000 (SeaweedFS's gRPC
// port for each service) are both free on 127.0.0.1 now.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var ports []int
	seen := map[int]bool{}
	for tries := 0; len(ports) < n && tries < 1000; tries++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p+10000 > 65535 || seen[p] || seen[p+10000] {
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		l2.Close()
		seen[p], seen[p+10000] = true, true
		ports = append(ports, p)
	}
	if len(ports) < n {
		tb.Fatal("no free port pairs for SeaweedFS")
	}
	return ports
}

// Start runs SeaweedFS with a bucket and returns it; it stops when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	weed := Weed(tb)
	dir := tb.TempDir()
	key := make([]byte, 20)
	rand.Read(key)
	s := &Server{Bucket: "spanrec-test", AccessKey: "spanrec" + hex.EncodeToString(key[:4]), SecretKey: hex.EncodeToString(key), log: &syncBuffer{}}
	ids := map[string]any{"identities": []any{map[string]any{
		"name":        "spanrec",
		"credentials": []any{map[string]string{"accessKey": s.AccessKey, "secretKey": s.SecretKey}},
		"actions":     []string{"Admin", "Read", "List", "Tagging", "Write"},
	}}}
	b, _ := json.Marshal(ids)
	idPath := filepath.Join(dir, "identities.json")
	if err := os.WriteFile(idPath, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	ports := freePorts(tb, 4) // master, volume, filer, s3
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		tb.Fatal(err)
	}
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", ports[3])
	args := []string{"server", "-dir=" + data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + strconv.Itoa(ports[0]), "-volume.port=" + strconv.Itoa(ports[1]),
		"-filer.port=" + strconv.Itoa(ports[2]),
		"-s3", "-s3.port=" + strconv.Itoa(ports[3]), "-s3.config=" + idPath,
		"-master.telemetry=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
		"-volume.preStopSeconds=1", "-master.volumeSizeLimitMB=64",
		// As many volumes as the disk holds: the default, 8, caps the
		// store at 512 MB, less than ship's benchmarks upload.
		"-volume.max=0",
		"-filer.localSocket=" + filepath.Join(dir, "filer.sock"),
		"-s3.localSocket=" + filepath.Join(dir, "s3.sock")}
	s.weed, s.dir, s.args = weed, dir, args
	tb.Cleanup(s.stop)
	s.run(tb)
	return s
}

// run starts the server process and waits until it serves the bucket.
func (s *Server) run(tb testing.TB) {
	tb.Helper()
	cmd := exec.Command(s.weed, s.args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start weed: %v", err)
	}
	s.cmd = cmd
	if err := s.ready(90 * time.Second); err != nil {
		tb.Fatalf("SeaweedFS S3 on %s not ready: %v\n%s", s.Endpoint, err, s.tail())
	}
}

// Restart starts the server again after Kill, on the same ports and
// directory: the objects stored before are there again.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Kill()
	s.run(tb)
}

// Client returns a minio client for the server (what tests use to look
// at the bucket behind the store's back).
func (s *Server) Client(tb testing.TB) *minio.Client {
	tb.Helper()
	c, err := minio.New(s.Endpoint[len("http://"):], &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// ready waits until the gateway answers and the bucket is made.
func (s *Server) ready(timeout time.Duration) error {
	c, err := minio.New(s.Endpoint[len("http://"):], &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = c.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: "us-east-1"})
		if err == nil {
			ok, err2 := c.BucketExists(ctx, s.Bucket)
			cancel()
			if err2 == nil && ok {
				return nil
			}
			err = err2
		} else {
			cancel()
			if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
				return nil
			}
		}
		if s.cmd.ProcessState != nil {
			return fmt.Errorf("weed exited: %v", err)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Stop stops the server (SIGTERM to its process group, then SIGKILL).
func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
}

// Kill stops the server at once, as a crash or an outage does.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

func (s *Server) tail() string {
	b := s.log.String()
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return b
}

// CPU returns the CPU time (user and system) the server process has used
// so far (Linux: /proc/PID/stat; 0 elsewhere or when it is not running),
// for benchmarks that count what the store costs the machine.
func (s *Server) CPU() time.Duration {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which is in parentheses and
	// may hold spaces): utime and stime are the 12th and 13th.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	// USER_HZ is 100 on every Linux architecture Go supports.
	return time.Duration(ut+st) * (time.Second / 100)
}
