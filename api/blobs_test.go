package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/s3/s3test"
)

// get sends a GET as c and returns the status and what arrived of the
// body, with the error that ended it early (nil when it all came).
func (c *client) get(path string) (*http.Response, []byte, error) {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// readFailures reads spanrec_recording_read_failures_total{reason} from
// /metrics.
func readFailures(t *testing.T, f *fixture, reason string) int {
	t.Helper()
	res, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^spanrec_recording_read_failures_total\{reason="` + reason + `"\} (\d+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestServeFromStore: the recordings of real captures (the demo and two
// Wireshark samples) put into a real S3 store (SeaweedFS), served by a
// server whose data directory is empty: audio whole and in ranges, the
// waveform and spectrogram, the pcap, the SIP ladder and the ZIP are the
// data directory's bytes and views; an object missing from the store is
// a 404 that says so; an object that is not the file the index names
// (another SHA-256 recorded with it) is served neither whole nor in part.
func TestServeFromStore(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	var st *s3.Store
	f := newFixture(t, true, func(cfg *api.Config) {
		var err error
		st, err = s3.Open(ctx, s3.Config{URL: srv.URL("central"), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		calls, err := cfg.Index.Calls(ctx, spanrec.CallFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			for _, x := range []struct{ rel, sum string }{{c.Audio, c.AudioSHA256}, {c.PCAP, c.PCAPSHA256}} {
				if x.rel == "" {
					continue
				}
				b, err := os.ReadFile(filepath.Join(cfg.DataDir, x.rel))
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Put(ctx, x.rel, bytes.NewReader(b), int64(len(b)), x.sum); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Nothing is read from a data directory.
		cfg.DataDir = t.TempDir()
		cfg.Blobs = api.Opener("the store", st.Open)
	})
	sue := f.login(t, "sue")
	withAudio := 0
	for _, c := range f.calls {
		id := string(c.ID)
		pcap, err := os.ReadFile(filepath.Join(f.dir, c.PCAP))
		if err != nil {
			t.Fatal(err)
		}
		if res, body, err := sue.get("/api/calls/" + id + "/pcap"); err != nil || res.StatusCode != http.StatusOK || !bytes.Equal(body, pcap) {
			t.Errorf("call %s: pcap from the store: %v, %d bytes of %d", id, err, len(body), len(pcap))
		}
		// The ladder from the store's pcap is the one from the file.
		src, err := capture.OpenFile(filepath.Join(f.dir, c.PCAP))
		if err != nil {
			t.Fatal(err)
		}
		want, err := api.Ladder(src)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		var got []api.LadderMessage
		sue.getJSON("/api/calls/"+id+"/ladder", http.StatusOK, &got)
		if len(got) != len(want) || len(got) < 2 {
			t.Errorf("call %s: ladder of %d messages from the store, %d from the file", id, len(got), len(want))
		} else if gj, _ := json.Marshal(got); !bytes.Equal(gj, mustJSON(t, want)) {
			t.Errorf("call %s: the ladders differ", id)
		}
		if c.Audio == "" {
			continue
		}
		withAudio++
		wav, err := os.ReadFile(filepath.Join(f.dir, c.Audio))
		if err != nil {
			t.Fatal(err)
		}
		res, body, err := sue.get("/api/calls/" + id + "/audio")
		if err != nil || res.StatusCode != http.StatusOK || sha(body) != c.AudioSHA256 || res.Header.Get("ETag") != `"`+c.AudioSHA256+`"` {
			t.Errorf("call %s: audio from the store: %v, status %v, %d bytes, SHA-256 %s, want %s", id, err, res.StatusCode, len(body), sha(body), c.AudioSHA256)
		}
		lo, hi := len(wav)/3, len(wav)/3+4095
		sue.header.Set("Range", fmt.Sprintf("bytes=%d-%d", lo, hi))
		res, body, err = sue.get("/api/calls/" + id + "/audio")
		sue.header.Del("Range")
		if err != nil || res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, wav[lo:hi+1]) ||
			res.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", lo, hi, len(wav)) {
			t.Errorf("call %s: range from the store: %v, status %v, %d bytes, %q", id, err, res.StatusCode, len(body), res.Header.Get("Content-Range"))
		}
		wf, err := api.Peaks(bytes.NewReader(wav), 500)
		if err != nil {
			t.Fatal(err)
		}
		var gotWF api.Waveform
		sue.getJSON("/api/calls/"+id+"/waveform?points=500", http.StatusOK, &gotWF)
		if !bytes.Equal(mustJSON(t, gotWF), mustJSON(t, wf)) {
			t.Errorf("call %s: waveform from the store differs from the file's", id)
		}
		sp, err := api.Spectrum(bytes.NewReader(wav), 200)
		if err != nil {
			t.Fatal(err)
		}
		var gotSP api.Spectrogram
		sue.getJSON("/api/calls/"+id+"/spectrogram?columns=200", http.StatusOK, &gotSP)
		if !bytes.Equal(mustJSON(t, gotSP), mustJSON(t, sp)) {
			t.Errorf("call %s: spectrogram from the store differs from the file's", id)
		}
	}
	if withAudio < 3 {
		t.Fatalf("%d calls with audio: the fixture's captures are missing", withAudio)
	}

	// A ZIP of every call with its pcap: the files' bytes.
	var ids []string
	for _, c := range f.calls {
		ids = append(ids, string(c.ID))
	}
	res, body := sue.do("POST", "/api/calls/download.zip", map[string]any{"ids": ids, "pcap": true})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("zip: %d %s", res.StatusCode, body)
	}
	files := unzip(t, body)
	for _, c := range f.calls {
		for _, x := range []struct{ rel, sum, ext string }{{c.Audio, c.AudioSHA256, ".wav"}, {c.PCAP, c.PCAPSHA256, ".pcapng"}} {
			if x.rel == "" {
				continue
			}
			if got, ok := files[fileName(c, x.ext)]; !ok || sha(got) != x.sum {
				t.Errorf("%s in the ZIP: %v, SHA-256 %s, want %s", fileName(c, x.ext), ok, sha(got), x.sum)
			}
		}
	}

	// An object gone from the store: 404, said so; the ZIP lists it.
	gone := f.calls[0]
	for _, c := range f.calls {
		if c.Audio != "" {
			gone = c
			break
		}
	}
	if err := st.Delete(ctx, gone.Audio); err != nil {
		t.Fatal(err)
	}
	before := readFailures(t, f, "missing")
	for _, p := range []string{"/audio", "/waveform", "/spectrogram"} {
		res, body := sue.do("GET", "/api/calls/"+string(gone.ID)+p, nil)
		wantError(t, "missing object "+p, res, body, http.StatusNotFound)
		if !strings.Contains(string(body), "missing from the store") {
			t.Errorf("%s of a missing object: %s", p, body)
		}
	}
	if n := readFailures(t, f, "missing") - before; n != 3 {
		t.Errorf("spanrec_recording_read_failures_total{reason=missing} rose by %d, want 3", n)
	}
	res, body = sue.do("POST", "/api/calls/download.zip", map[string]any{"ids": []string{string(gone.ID)}})
	if res.StatusCode != http.StatusOK || !strings.Contains(string(unzip(t, body)["MISSING.txt"]), gone.Audio+" is missing from the store") {
		t.Errorf("ZIP of a call whose audio is gone: %d, %q", res.StatusCode, unzip(t, body)["MISSING.txt"])
	}

	// Another file under its key (written once, with its own SHA-256):
	// not the recording the index names; neither whole nor a range of it
	// is served, nor the views derived from it.
	var other *spanrec.Call
	for _, c := range f.calls {
		if c.Audio != "" && c.ID != gone.ID {
			other = c
			break
		}
	}
	wav, err := os.ReadFile(filepath.Join(f.dir, other.Audio))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, gone.Audio, bytes.NewReader(wav), int64(len(wav)), other.AudioSHA256); err != nil {
		t.Fatal(err)
	}
	before = readFailures(t, f, "sha256")
	sue.header.Set("Range", "bytes=0-99")
	for _, p := range []string{"/audio", "/waveform"} {
		res, body := sue.do("GET", "/api/calls/"+string(gone.ID)+p, nil)
		wantError(t, "object with another SHA-256 "+p, res, body, http.StatusInternalServerError)
	}
	sue.header.Del("Range")
	res, body = sue.do("GET", "/api/calls/"+string(gone.ID)+"/audio", nil)
	wantError(t, "object with another SHA-256, whole", res, body, http.StatusInternalServerError)
	if n := readFailures(t, f, "sha256") - before; n != 3 {
		t.Errorf("spanrec_recording_read_failures_total{reason=sha256} rose by %d, want 3", n)
	}

	// The store's objects themselves were not touched by serving.
	cl := srv.Client(t)
	n := 0
	for obj := range cl.ListObjects(ctx, srv.Bucket, minio.ListObjectsOptions{Prefix: "central/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		n++
	}
	if n == 0 {
		t.Error("no objects listed in the store")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecordingChanged: a recording changed in the data directory after
// it was indexed (same length, one byte) is not downloaded whole, alone
// or in a ZIP: the connection is cut before its last bytes and the
// failure counted; a range of it, which cannot be checked, is served.
func TestRecordingChanged(t *testing.T) {
	f := newFixture(t, false, nil)
	sue := f.login(t, "sue")
	c := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" })
	path := filepath.Join(f.dir, c.Audio)
	wav, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file's whole bytes pass first.
	if res, body, err := sue.get("/api/calls/" + string(c.ID) + "/audio?download=1"); err != nil || res.StatusCode != http.StatusOK || !bytes.Equal(body, wav) {
		t.Fatalf("download before the change: %v %v", err, res.Status)
	}
	wav[len(wav)/2] ^= 0x55
	if err := os.WriteFile(path, wav, 0o640); err != nil {
		t.Fatal(err)
	}
	before := readFailures(t, f, "sha256")
	res, body, err := sue.get("/api/calls/" + string(c.ID) + "/audio?download=1")
	if err == nil || len(body) >= len(wav) {
		t.Errorf("download of a changed recording: status %v, %d of %d bytes, error %v: want a cut download", res.Status, len(body), len(wav), err)
	}
	if res != nil && res.ContentLength != int64(len(wav)) {
		t.Errorf("Content-Length %d, want %d (the client must see the download short)", res.ContentLength, len(wav))
	}
	sue.header.Set("Range", "bytes=100-1123")
	res, body, err = sue.get("/api/calls/" + string(c.ID) + "/audio")
	sue.header.Del("Range")
	if err != nil || res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, wav[100:1124]) {
		t.Errorf("range of a changed recording: %v %v, %d bytes", err, res.Status, len(body))
	}
	// The ZIP: the archive breaks off (no central directory).
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/calls/download.zip", strings.NewReader(`{"ids":["`+string(c.ID)+`"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", sue.csrf)
	zres, err := sue.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	zb, zerr := io.ReadAll(zres.Body)
	zres.Body.Close()
	if zerr == nil && zres.StatusCode == http.StatusOK && bytes.Contains(zb, []byte("PK\x05\x06")) {
		t.Errorf("ZIP of a changed recording completed (%d bytes)", len(zb))
	}
	if n := readFailures(t, f, "sha256") - before; n != 2 {
		t.Errorf("spanrec_recording_read_failures_total{reason=sha256} rose by %d, want 2", n)
	}
}

// BenchmarkRecording fetches the longest recording of the fixture (a
// Wireshark sample's) through the API as the player and a download do:
// a 64 KiB Range, and the whole file (hashed against the index's
// SHA-256 on the way), from the data directory and from a real S3 store
// (SeaweedFS on loopback: every Range is one ranged GET).
func BenchmarkRecording(b *testing.B) {
	for _, from := range []string{"dir", "store"} {
		var mod func(*api.Config)
		if from == "store" {
			srv := s3test.Start(b)
			mod = func(cfg *api.Config) {
				ctx := context.Background()
				st, err := s3.Open(ctx, s3.Config{URL: srv.URL("bench"), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
				if err != nil {
					b.Fatal(err)
				}
				calls, err := cfg.Index.Calls(ctx, spanrec.CallFilter{})
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range calls {
					if c.Audio == "" {
						continue
					}
					data, err := os.ReadFile(filepath.Join(cfg.DataDir, c.Audio))
					if err != nil {
						b.Fatal(err)
					}
					if err := st.Put(ctx, c.Audio, bytes.NewReader(data), int64(len(data)), c.AudioSHA256); err != nil {
						b.Fatal(err)
					}
				}
				cfg.DataDir = b.TempDir()
				cfg.Blobs = api.Opener("the store", st.Open)
			}
		}
		f := newFixture(b, true, mod)
		var c *spanrec.Call
		for _, x := range f.calls {
			if x.Audio != "" && (c == nil || x.AudioMS > c.AudioMS) {
				c = x
			}
		}
		st, err := os.Stat(filepath.Join(f.dir, c.Audio))
		if err != nil {
			b.Fatal(err)
		}
		hc := benchLogin(b, f, "sue")
		get := func(b *testing.B, rng string, want int64) {
			req, _ := http.NewRequest("GET", f.srv.URL+"/api/calls/"+string(c.ID)+"/audio", nil)
			if rng != "" {
				req.Header.Set("Range", rng)
			}
			res, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode/100 != 2 || n != want {
				b.Fatalf("GET %s: %s, %d bytes, %v", rng, res.Status, n, err)
			}
		}
		const chunk = 64 << 10
		b.Run(from+"/range64k", func(b *testing.B) {
			b.SetBytes(chunk)
			var off int64
			for b.Loop() {
				get(b, fmt.Sprintf("bytes=%d-%d", off, off+chunk-1), chunk)
				off = (off + chunk) % (st.Size() - chunk)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
		b.Run(from+"/whole", func(b *testing.B) {
			b.SetBytes(st.Size())
			for b.Loop() {
				get(b, "", st.Size())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// benchLogin returns an HTTP client logged in to f as name.
func benchLogin(b *testing.B, f *fixture, name string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"user": name, "password": password})
	res, err := hc.Post(f.srv.URL+"/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("login: %s", res.Status)
	}
	return hc
}
