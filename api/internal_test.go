package api

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec/audio/wav"
)

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
	keys := []string{"u\x00bob\x00ip", "a\x00ip"}
	for i := range 3 {
		if _, b := l.blocked(keys, t0); b {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail(keys, t0.Add(time.Duration(i)*time.Second))
	}
	wait, b := l.blocked(keys, t0.Add(10*time.Second))
	if !b || wait != 50*time.Second {
		t.Errorf("after 3 failures: blocked %v, wait %v; want 50s", b, wait)
	}
	if _, b := l.blocked(keys, t0.Add(time.Minute+time.Second)); b {
		t.Error("still blocked after the first failure left the window")
	}
	l.reset(keys[0])
	if _, b := l.blocked(keys[:1], t0.Add(10*time.Second)); b {
		t.Error("blocked after reset")
	}
	// The address key has a higher limit: 3 names × 6 = 18 failures.
	for i := range 17 {
		l.fail([]string{"u\x00n" + string(rune('a'+i)) + "\x00ip2", "a\x00ip2"}, t0)
	}
	if _, b := l.blocked([]string{"u\x00new\x00ip2", "a\x00ip2"}, t0); b {
		t.Error("address blocked after 17 failures")
	}
	l.fail([]string{"a\x00ip2"}, t0)
	if _, b := l.blocked([]string{"u\x00new\x00ip2", "a\x00ip2"}, t0); !b {
		t.Error("address not blocked after 18 failures")
	}
}

func TestFromStart(t *testing.T) {
	for rng, want := range map[string]bool{
		"": true, "bytes=0-": true, "bytes=0-1": true, "bytes=0-10,20-30": true, " bytes=0-": true,
		"bytes=1-": false, "bytes=100-200": false, "bytes=-500": false, "bytes=10-20,0-5": false,
	} {
		if fromStart(rng) != want {
			t.Errorf("fromStart(%q) != %v", rng, want)
		}
	}
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
