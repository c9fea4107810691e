package capture

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// writerFrames are frames of four link types, interleaved, so that interfaces
// are added after packets of other interfaces.
func writerFrames() []Frame {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 987654321, time.UTC)
	links := []uint32{1, 101, 1, 113, 0, 101, 1}
	var out []Frame
	for i, link := range links {
		data := make([]byte, 40+i*7) // lengths hit every padding
		for j := range data {
			data[j] = byte(i*31 + j)
		}
		out = append(out, Frame{Data: data, Time: ts.Add(time.Duration(i) * time.Millisecond), Link: link, Orig: len(data) + i%2*100})
	}
	return out
}

func writeFrames(t *testing.T, frames []Frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, f := range frames {
		if err := w.WriteFrame(f.Data, f.Link, f.Time, f.Orig); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestWriterReadBack reads a written file back with this package's reader.
func TestWriterReadBack(t *testing.T) {
	want := writerFrames()
	src, err := NewReader(bytes.NewReader(writeFrames(t, want)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	wantIface := []int{0, 1, 0, 2, 3, 1, 0}
	for i := range got {
		g, w := got[i], want[i]
		if !bytes.Equal(g.Data, w.Data) || !g.Time.Equal(w.Time) || g.Link != w.Link || g.Orig != w.Orig || g.Iface != wantIface[i] {
			t.Errorf("frame %d: %+v\nwant %+v (iface %d)", i, g, w, wantIface[i])
		}
	}
}

// TestWriterPcapgo reads a written file back with gopacket's pcapng reader.
func TestWriterPcapgo(t *testing.T) {
	want := writerFrames()
	opts := pcapgo.DefaultNgReaderOptions
	opts.WantMixedLinkType = true
	r, err := pcapgo.NewNgReader(bytes.NewReader(writeFrames(t, want)), opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			if i != len(want) {
				t.Errorf("pcapgo read %d frames, want %d", i, len(want))
			}
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if i >= len(want) {
			t.Fatalf("pcapgo reads more than %d frames", len(want))
		}
		w := want[i]
		link := ci.AncillaryData[0].(layers.LinkType)
		if !bytes.Equal(data, w.Data) || !ci.Timestamp.Equal(w.Time) || uint32(link) != w.Link || ci.Length != w.Orig {
			t.Errorf("frame %d: pcapgo sees %x %v link %d len %d\nwant %x %v link %d len %d",
				i, data, ci.Timestamp, link, ci.Length, w.Data, w.Time, w.Link, w.Orig)
		}
	}
}

// TestWriterTshark checks that Wireshark's reader sees the same frames.
func TestWriterTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed; skipping the Wireshark check of written files")
	}
	want := writerFrames()
	path := filepath.Join(t.TempDir(), "call.pcapng")
	if err := os.WriteFile(path, writeFrames(t, want), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", path, "-T", "json", "-x", "-j", "frame").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("tshark: %v: %s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var pkts []struct {
		Source struct {
			Layers struct {
				FrameRaw []any          `json:"frame_raw"`
				Frame    map[string]any `json:"frame"`
			} `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &pkts); err != nil {
		t.Fatalf("tshark output: %v\n%.500s", err, out)
	}
	if len(pkts) != len(want) {
		t.Fatalf("tshark sees %d frames, want %d", len(pkts), len(want))
	}
	wantIface := []string{"0", "1", "0", "2", "3", "1", "0"}
	for i, p := range pkts {
		l := p.Source.Layers
		var raw []byte
		if len(l.FrameRaw) > 0 {
			s, _ := l.FrameRaw[0].(string)
			raw, _ = hex.DecodeString(s)
		}
		if !bytes.Equal(raw, want[i].Data) {
			t.Errorf("frame %d: tshark bytes %x\nwant %x", i, raw, want[i].Data)
		}
		got := fmt.Sprint(l.Frame["frame.len"], " ", l.Frame["frame.time_epoch"], " ", l.Frame["frame.interface_id"])
		w := want[i]
		if exp := fmt.Sprintf("%d %d.%09d %s", w.Orig, w.Time.Unix(), w.Time.Nanosecond(), wantIface[i]); got != exp {
			t.Errorf("frame %d: tshark len, time, interface %q, want %q", i, got, exp)
		}
	}
}

// TestWriterBuffer checks that records wait in a buffer of at most 4 KiB
// until Flush, and that WriteFrame allocates nothing in steady state.
func TestWriterBuffer(t *testing.T) {
	var sink countingWriter
	w := NewWriter(&sink)
	if err := w.Flush(); err != nil || sink.n != 0 {
		t.Fatalf("Flush with no frame wrote %d bytes: %v", sink.n, err)
	}
	data := make([]byte, 172) // 204-byte blocks
	ts := time.Unix(1700000000, 0)
	if err := w.WriteFrame(data, 1, ts, 0); err != nil {
		t.Fatal(err)
	}
	if sink.n != 0 {
		t.Errorf("%d bytes written before Flush", sink.n)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := w.WriteFrame(data, 1, ts, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per WriteFrame", allocs)
	}
	if sink.n == 0 || sink.max > writeBufSize {
		t.Errorf("after 102 frames: %d bytes written, largest write %d", sink.n, sink.max)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := 44 + 32 + 102*(32+172) // AllocsPerRun adds a warm-up call
	if sink.n != want {
		t.Errorf("%d bytes after Flush, want %d", sink.n, want)
	}
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter(&countingWriter{})
	if err := w.WriteFrame([]byte{1}, 70000, time.Unix(0, 0), 0); err == nil {
		t.Error("link type 70000 accepted")
	}
	if err := w.WriteFrame(make([]byte, maxCapLen+1), 1, time.Unix(0, 0), 0); err == nil {
		t.Error("oversized frame accepted")
	}
	failing := NewWriter(&countingWriter{fail: true})
	if err := failing.WriteFrame(make([]byte, 5000), 1, time.Unix(0, 0), 0); err == nil {
		t.Error("write error not reported")
	}
	if err := failing.Flush(); err == nil {
		t.Error("write error not sticky")
	}
}

type countingWriter struct {
	n, max int
	fail   bool
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.fail {
		return 0, errors.New("disk full")
	}
	c.n += len(p)
	c.max = max(c.max, len(p))
	return len(p), nil
}

// TestWriterBytesAsPcapgo: the Writer's bytes are those pcapgo.NgWriter
// writes for the same frames, set up as the Writer did before it wrote
// its blocks itself (section with the application only, one interface
// per link type with no option but if_tsresol): the per-call pcapngs of
// spanrec stay as they were, frames larger than the buffer included.
func TestWriterBytesAsPcapgo(t *testing.T) {
	frames := writerFrames()
	frames = append(frames, Frame{Data: bytes.Repeat([]byte{7}, 5001), Time: frames[0].Time.Add(time.Second), Link: 1},
		Frame{Data: []byte{1, 2, 3}, Time: time.Unix(0, 1), Link: 113, Orig: 0})
	got := writeFrames(t, frames)

	var want bytes.Buffer
	var ng *pcapgo.NgWriter
	var links []uint32
	for _, f := range frames {
		id := -1
		for i, l := range links {
			if l == f.Link {
				id = i
			}
		}
		if id < 0 {
			intf := pcapgo.NgInterface{LinkType: layers.LinkType(f.Link)}
			var err error
			if ng == nil {
				ng, err = pcapgo.NewNgWriterInterface(&want, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "spanrec"}})
			} else {
				_, err = ng.AddInterface(intf)
			}
			if err != nil {
				t.Fatal(err)
			}
			links = append(links, f.Link)
			id = len(links) - 1
		}
		ci := gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: len(f.Data), Length: max(f.Orig, len(f.Data)), InterfaceIndex: id}
		if err := ng.WritePacket(ci, f.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := ng.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("Writer wrote %d bytes, pcapgo %d; first difference at %d", len(got), want.Len(), firstDiff(got, want.Bytes()))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
