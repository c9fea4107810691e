package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec/audio/wav"
)

// SetTotalCap sets the cap of GET /api/calls' total to n for the test t
// (the package's tests run one at a time): its tests of the cap then need
// n calls, not 10,000 (under -race, storing them took minutes).
func SetTotalCap(t testing.TB, n int) {
	old := totalCap
	totalCap = n
	t.Cleanup(func() { totalCap = old })
}

func TestOpenAPI(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	s := &Server{mux: http.NewServeMux()}
	s.routes()
	seen := map[string]bool{}
	for _, p := range s.patterns {
		method, path, _ := strings.Cut(p, " ")
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s is not in openapi.json", p)
			continue
		}
		if _, ok := ops[strings.ToLower(method)]; !ok {
			t.Errorf("route %s: no %s operation in openapi.json", p, strings.ToLower(method))
		}
		seen[strings.ToLower(method)+" "+path] = true
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" && !seen[m+" "+path] {
				t.Errorf("openapi.json has %s %s, which the server does not serve", m, path)
			}
		}
	}
	// Every $ref resolves.
	var all map[string]any
	json.Unmarshal(openAPIDoc, &all)
	for _, ref := range regexp.MustCompile(`"\$ref":\s*"#/([^"]+)"`).FindAllStringSubmatch(string(openAPIDoc), -1) {
		var node any = all
		for _, part := range strings.Split(ref[1], "/") {
			m, ok := node.(map[string]any)
			if !ok || m[part] == nil {
				t.Errorf("unresolved $ref %s", ref[1])
				break
			}
			node = m[part]
		}
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newLimiter(3, time.Minute)
	for i := range 3 {
		if _, _, _, ok := l.reserve("bob", "ip", t0.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("blocked after %d attempts", i)
		}
	}
	_, wait, scope, ok := l.reserve("bob", "ip", t0.Add(10*time.Second))
	if ok || wait != 50*time.Second || scope != scopeNameAddress {
		t.Errorf("after 3 attempts: ok %v, wait %v, scope %s; want blocked 50s name_address", ok, wait, scope)
	}
	if _, _, _, ok := l.reserve("bob", "ip", t0.Add(time.Minute+time.Second)); !ok {
		t.Error("still blocked after the first attempt left the window")
	}
	// A released attempt (not checked) does not count.
	l2 := newLimiter(1, time.Minute)
	tk, _, _, _ := l2.reserve("bob", "ip", t0)
	l2.release(tk)
	if _, _, _, ok := l2.reserve("bob", "ip", t0); !ok {
		t.Error("blocked by a released attempt")
	}
	// Success clears the name-address key and exempts the address from
	// the name's limit.
	l3 := newLimiter(2, time.Minute)
	tk, _, _, _ = l3.reserve("eve", "home", t0)
	l3.succeed(tk, t0)
	for i := range 8 { // name limit: 2 × 4
		l3.reserve("eve", "a"+strconv.Itoa(i), t0)
	}
	if _, _, scope, ok := l3.reserve("eve", "elsewhere", t0); ok || scope != scopeName {
		t.Errorf("name not blocked after 8 attempts from 8 addresses: %v %s", ok, scope)
	}
	if _, _, _, ok := l3.reserve("eve", "home", t0); !ok {
		t.Error("the known address is blocked by the name limit")
	}
	// The address limit: 3 × 6 = 18 names from one address.
	l4 := newLimiter(3, time.Minute)
	for i := range 18 {
		if _, _, _, ok := l4.reserve("n"+strconv.Itoa(i), "ip2", t0); !ok {
			t.Fatalf("address blocked after %d attempts", i)
		}
	}
	if _, _, scope, ok := l4.reserve("new", "ip2", t0); ok || scope != scopeAddress {
		t.Errorf("address not blocked after 18 attempts: %v %s", ok, scope)
	}
}

func TestLimiterBounded(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newLimiter(5, time.Minute)
	for i := range maxKeys {
		l.reserve("n"+strconv.Itoa(i), "a"+strconv.Itoa(i), t0)
	}
	if n := len(l.fails) + len(l.known); n > maxKeys {
		t.Errorf("%d keys, bound %d", n, maxKeys)
	}
	if l.evictions() == 0 {
		t.Error("no eviction counted")
	}
}

func TestLimitAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1": "192.0.2.1", "2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "::ffff:192.0.2.1": "::ffff:192.0.2.1", "x": "x",
	} {
		if got := limitAddr(in); got != want {
			t.Errorf("limitAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRange(t *testing.T) {
	const size = 1000
	for _, tc := range []struct {
		in      string
		want    string // canonical header, "" for none
		verdict rangeVerdict
	}{
		{"bytes=0-", "bytes=0-999", rangeOK},
		{"bytes=00-", "bytes=0-999", rangeOK},
		{"BYTES=0-9", "bytes=0-9", rangeOK},
		{"bytes=-0", "", rangeUnsatisfiable},
		{"bytes=-5", "bytes=995-999", rangeOK},
		{"bytes=-99999999999999999999999", "bytes=0-999", rangeOK},
		{"bytes=1000-", "", rangeUnsatisfiable},
		{"bytes=999-5000", "bytes=999-999", rangeOK},
		{"bytes=1-1,0-", "bytes=1-1,0-999", rangeOK},
		{"bytes=-0,5-9", "bytes=5-9", rangeOK},
		{"bytes= 1-2 , 3-4 ", "bytes=1-2,3-4", rangeOK},
		{"bytes=,,1-2", "bytes=1-2", rangeOK},
		{"bytes=5-4", "", rangeNone},
		{"bytes=x-", "", rangeNone},
		{"bytes=1", "", rangeNone},
		{"bytes=", "", rangeNone},
		{"items=0-", "", rangeNone},
		{"0-", "", rangeNone},
		{"bytes=" + strings.Repeat("1-2,", maxRanges) + "1-2", "", rangeUnsatisfiable},
	} {
		rs, v := parseRange(tc.in, size)
		got := ""
		if rs != nil {
			got = rangeHeader(rs)
		}
		if got != tc.want || v != tc.verdict {
			t.Errorf("parseRange(%q) = %q, %d; want %q, %d", tc.in, got, v, tc.want, tc.verdict)
		}
	}
	if _, v := parseRange("bytes=0-", 0); v != rangeUnsatisfiable {
		t.Errorf("empty file: %d", v)
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-", "bytes=-0", "bytes=1-1,0-", "BYTES= 5-", "bytes=99999999999999999999-"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		rs, v := parseRange(h, size)
		if (v == rangeOK) != (len(rs) > 0) || len(rs) > maxRanges {
			t.Fatalf("%q: %d ranges, verdict %d", h, len(rs), v)
		}
		for _, r := range rs {
			if r.first < 0 || r.last < r.first || r.last >= size {
				t.Fatalf("%q size %d: range %+v", h, size, r)
			}
		}
		if v == rangeOK {
			// The canonical form parses to the same ranges.
			again, v2 := parseRange(rangeHeader(rs), size)
			if v2 != rangeOK || len(again) != len(rs) {
				t.Fatalf("%q: canonical %q parses to %v %d", h, rangeHeader(rs), again, v2)
			}
		}
	})
}

func FuzzClientAddr(f *testing.F) {
	f.Add("203.0.113.7, 10.0.0.1", "")
	f.Add("", "2001:db8::1")
	f.Add("garbage,,, ", "x")
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, xff, real string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = "127.0.0.1:1234"
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("X-Real-IP", real)
		got := clientAddr(r, trusted)
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("client %q from %q / %q is not an address", got, xff, real)
		}
	})
}

func writeWAV(t testing.TB, rate, channels int, samples []int16) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.wav")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wav.NewWriter(f, rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(samples); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestPeaks(t *testing.T) {
	// 8 stereo frames: left ramps up, right is constant.
	var s []int16
	for i := range 8 {
		s = append(s, int16(i*4096), -16384)
	}
	f, err := os.Open(writeWAV(t, 8000, 2, s))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		points int
		left   [][2]float64
	}{
		{4, [][2]float64{{0, 0.125}, {0.25, 0.375}, {0.5, 0.625}, {0.75, 0.875}}},
		{1, [][2]float64{{0, 0.875}}},
		{3, [][2]float64{{0, 0.25}, {0.375, 0.625}, {0.75, 0.875}}},
		{100, nil}, // capped at 8 frames
	}
	for _, tt := range tests {
		f.Seek(0, io.SeekStart)
		wf, err := Peaks(f, tt.points)
		if err != nil {
			t.Fatal(err)
		}
		if wf.Channels != 2 || wf.Rate != 8000 || wf.DurationMS != 1 {
			t.Errorf("points %d: %+v", tt.points, wf)
		}
		if tt.left == nil {
			if wf.Points != 8 || len(wf.Peaks[0]) != 8 || wf.Peaks[0][7] != [2]float64{0.875, 0.875} {
				t.Errorf("points %d: %d points, %v", tt.points, wf.Points, wf.Peaks[0])
			}
			continue
		}
		for i, want := range tt.left {
			if wf.Peaks[0][i] != want || wf.Peaks[1][i] != [2]float64{-0.5, -0.5} {
				t.Errorf("points %d, bucket %d: left %v right %v; want left %v", tt.points, i, wf.Peaks[0][i], wf.Peaks[1][i], want)
			}
		}
	}
	empty, _ := os.Open(writeWAV(t, 16000, 2, nil))
	defer empty.Close()
	if wf, err := Peaks(empty, 10); err != nil || wf.Points != 0 || len(wf.Peaks) != 2 || len(wf.Peaks[0]) != 0 {
		t.Errorf("empty recording: %+v, %v", wf, err)
	}
}

func FuzzPeaks(f *testing.F) {
	p := writeWAV(f, 8000, 2, []int16{1, 2, 3, 4, -5, -6})
	b, _ := os.ReadFile(p)
	f.Add(b, 3)
	f.Add(b[:40], 1)
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"), 10)
	f.Fuzz(func(t *testing.T, data []byte, points int) {
		if points < 1 || points > maxPoints {
			return
		}
		wf, err := Peaks(strings.NewReader(string(data)), points)
		if err != nil {
			return
		}
		for _, ch := range wf.Peaks {
			if len(ch) != wf.Points {
				t.Fatalf("%d peaks, Points %d", len(ch), wf.Points)
			}
		}
	})
}

func BenchmarkPeaks(b *testing.B) {
	const rate, secs = 16000, 60
	s := make([]int16, 2*rate*secs)
	for i := range s {
		s[i] = int16(i * 7)
	}
	f, err := os.Open(writeWAV(b, rate, 2, s))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Peaks(f, defaultPoints); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*secs/b.Elapsed().Seconds(), "audio-s/s")
}
