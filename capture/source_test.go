package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

func TestPcapVariants(t *testing.T) {
	recs := []rec{
		{data: []byte("first frame"), ts: t0},
		{data: []byte("second"), ts: t0.Add(1500 * time.Millisecond), orig: 1514},
		{data: []byte{}, ts: t0.Add(time.Hour), orig: 60},
	}
	tests := []struct {
		name string
		o    pcapOpts
		link uint32
	}{
		{"little-endian µs", pcapOpts{link: 1}, 1},
		{"big-endian µs", pcapOpts{big: true, link: 113}, 113},
		{"little-endian ns", pcapOpts{nano: true, link: 101}, 101},
		{"big-endian ns", pcapOpts{big: true, nano: true, link: 1}, 1},
		// draft-ietf-opsawg-pcap §4: FCS length 4 and the F bit set.
		{"FCS bits in LinkType", pcapOpts{link: 0x3<<29 | 1<<28 | 1}, 1},
		{"Kuznetzov's patched libpcap", pcapOpts{kuz: true, big: true, link: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := buildPcap(tt.o, recs)
			src, err := NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			frames, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != len(recs) {
				t.Fatalf("%d frames, want %d", len(frames), len(recs))
			}
			for i, f := range frames {
				r := recs[i]
				want := r.ts
				if !tt.o.nano {
					want = want.Truncate(time.Microsecond)
				}
				orig := max(r.orig, len(r.data))
				if !bytes.Equal(f.Data, r.data) || !f.Time.Equal(want) || f.Link != tt.link || f.Orig != orig || f.Iface != 0 {
					t.Errorf("frame %d: %q %v link %d orig %d iface %d; want %q %v link %d orig %d",
						i, f.Data, f.Time, f.Link, f.Orig, f.Iface, r.data, want, tt.link, orig)
				}
				if f.Time.Location() != time.UTC {
					t.Errorf("frame %d: time in %v, want UTC", i, f.Time.Location())
				}
			}
			if st := stats(t, src); st != (FileStats{Frames: 3, Bytes: int64(len("first frame") + len("second"))}) {
				t.Errorf("stats %+v", st)
			}
			if n := src.(Progress).BytesRead(); n != int64(len(file)) {
				t.Errorf("BytesRead %d of %d", n, len(file))
			}
			// The end is sticky.
			if _, err := src.ReadFrame(); err != io.EOF {
				t.Errorf("after the end: %v", err)
			}
		})
	}
}

// TestPcapngTimestamps checks if_tsresol (powers of ten and of two) and the
// byte orders of pcapng.
func TestPcapngTimestamps(t *testing.T) {
	tests := []struct {
		name    string
		tsresol int
		units   uint64
		want    time.Time
		offset  int64
	}{
		{"default µs", -1, uint64(t0.UnixMicro()), t0.Truncate(time.Microsecond), 0},
		{"ns", 9, uint64(t0.UnixNano()), t0, 0},
		{"ms", 3, uint64(t0.UnixMilli()), t0.Truncate(time.Millisecond), 0},
		{"seconds", 0, uint64(t0.Unix()), t0.Truncate(time.Second), 0},
		{"ps", 12, 1e7*1e12 + 123456789012, time.Unix(1e7, 123456789).UTC(), 0},
		{"2^-10 s", 0x80 | 10, uint64(t0.Unix())<<10 | 512, time.Unix(t0.Unix(), 5e8).UTC(), 0},
		{"2^-32 s", 0x80 | 32, uint64(t0.Unix())<<32 | 1<<30, time.Unix(t0.Unix(), 25e7).UTC(), 0},
		{"if_tsoffset", 9, 5e9 + 7, time.Unix(1700000005, 7).UTC(), 1700000000},
		{"negative if_tsoffset", 9, 5e9 + 7, time.Unix(-10+5, 7).UTC(), -10},
	}
	for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%v/%s", bo, tt.name), func(t *testing.T) {
				g := ngBuilder{bo: bo}
				g.shb()
				g.idbOffset(101, 0, tt.tsresol, tt.offset)
				g.epb(0, tt.units, []byte("abcde"), 100)
				src, err := NewReader(bytes.NewReader(g.buf))
				if err != nil {
					t.Fatal(err)
				}
				f, err := src.ReadFrame()
				if err != nil {
					t.Fatal(err)
				}
				if !f.Time.Equal(tt.want) || f.Link != 101 || f.Orig != 100 || string(f.Data) != "abcde" {
					t.Errorf("got %v link %d orig %d %q; want %v link 101 orig 100 \"abcde\"", f.Time, f.Link, f.Orig, f.Data, tt.want)
				}
				if _, err := src.ReadFrame(); err != io.EOF || stats(t, src).Truncated {
					t.Errorf("after the frame: %v, %+v", err, stats(t, src))
				}
			})
		}
	}
}

// TestPcapngPacketBlocks checks the obsolete Packet Block (16-bit interface
// field, Appendix A) and Simple Packet Blocks (§4.4: interface 0, no
// timestamp, cut at the snap length).
func TestPcapngPacketBlocks(t *testing.T) {
	g := ngBuilder{bo: binary.LittleEndian}
	g.shb()
	g.idb(1, 4, -1)
	g.idb(113, 0, 9)
	opb := binary.LittleEndian.AppendUint16(nil, 1)  // interface 1
	opb = binary.LittleEndian.AppendUint16(opb, 7)   // drops count
	opb = binary.LittleEndian.AppendUint32(opb, 0)   // timestamp high
	opb = binary.LittleEndian.AppendUint32(opb, 2e9) // timestamp low: 2 s
	opb = binary.LittleEndian.AppendUint32(opb, 3)
	opb = binary.LittleEndian.AppendUint32(opb, 3)
	opb = append(opb, "opb"...)
	g.block(ngOPB, opb)
	g.block(ngSPB, append(binary.LittleEndian.AppendUint32(nil, 10), "0123456789"...))
	src, err := NewReader(bytes.NewReader(g.buf))
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 2 {
		t.Fatalf("%d frames, want 2", len(frames))
	}
	two := time.Unix(2, 0).UTC()
	if f := frames[0]; string(f.Data) != "opb" || f.Iface != 1 || f.Link != 113 || !f.Time.Equal(two) {
		t.Errorf("packet block: %+v", f)
	}
	if f := frames[1]; string(f.Data) != "0123" || f.Orig != 10 || f.Iface != 0 || f.Link != 1 || !f.Time.Equal(two) {
		t.Errorf("simple packet block: %+v", f)
	}
}

// TestGzip reads gzip-compressed captures, detected by their magic bytes
// under a name that does not say gzip.
func TestGzip(t *testing.T) {
	dir := capturesDir(t)
	for _, name := range []string{"wireshark-samples/sip-rtp-g722.pcap", "ndpi/rtp.pcapng", "gopacket/be_test010.pcapng"} {
		t.Run(name, func(t *testing.T) {
			plain, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			src, err := NewReader(bytes.NewReader(plain))
			if err != nil {
				t.Fatal(err)
			}
			want, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			gz := gzipBytes(t, plain)
			path := filepath.Join(t.TempDir(), filepath.Base(name))
			if err := os.WriteFile(path, gz, 0o600); err != nil {
				t.Fatal(err)
			}
			src, err = OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			got, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d frames from gzip, %d plain", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i].Data, want[i].Data) || !got[i].Time.Equal(want[i].Time) || got[i].Link != want[i].Link {
					t.Fatalf("frame %d differs", i)
				}
			}
			if n := src.(Progress).BytesRead(); n != int64(len(gz)) {
				t.Errorf("BytesRead %d, compressed file has %d", n, len(gz))
			}
			if st := stats(t, src); st.Truncated || st.Frames != int64(len(want)) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// cutCase is a capture and the offsets at which its records and blocks end.
type cutCase struct {
	name   string
	file   []byte
	ends   map[int]bool // offsets right after a record or block
	frames []int        // frames[i] is the offset after frame i
}

func cutCases(t *testing.T) []cutCase {
	pcap := buildPcap(pcapOpts{link: 1}, frameRecs(8, 30))
	pc := cutCase{name: "pcap", file: pcap, ends: map[int]bool{24: true}}
	for i := range 8 {
		end := 24 + (i+1)*46
		pc.ends[end] = true
		pc.frames = append(pc.frames, end)
	}

	g := ngBuilder{bo: binary.BigEndian}
	ng := cutCase{name: "pcapng", ends: map[int]bool{}}
	mark := func(frame bool) {
		ng.ends[len(g.buf)] = true
		if frame {
			ng.frames = append(ng.frames, len(g.buf))
		}
	}
	g.shb()
	mark(false)
	g.idb(1, 0, 9)
	mark(false)
	g.epb(0, 1e18, []byte("frame one"), 0)
	mark(true)
	g.block(0x0bad, []byte("custom block"))
	mark(false)
	g.idb(113, 0, -1)
	mark(false)
	g.epb(1, 1e15, []byte("frame two, longer"), 0)
	mark(true)
	g.epb(0, 2e18, []byte("three"), 0)
	mark(true)
	ng.file = g.buf
	if len(ng.file) < 200 {
		t.Fatalf("pcapng case is only %d bytes", len(ng.file))
	}
	return []cutCase{pc, ng}
}

// TestTruncated cuts captures at every length up to 200 bytes and inside
// every record: the reader returns the whole records before the cut, then
// io.EOF, with Truncated set unless the cut falls between records.
func TestTruncated(t *testing.T) {
	for _, c := range cutCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for n := 0; n <= len(c.file); n++ {
				if n > 200 && !c.ends[n] && !c.ends[n+1] && !c.ends[n-1] {
					continue // beyond 200 bytes: cut just around each boundary
				}
				src, err := NewReader(iotest.HalfReader(bytes.NewReader(c.file[:n])))
				if err != nil {
					t.Fatalf("cut at %d: %v", n, err)
				}
				frames, err := readAll(t, src)
				if err != nil {
					t.Fatalf("cut at %d: %v", n, err)
				}
				want := 0
				for _, end := range c.frames {
					if end <= n {
						want++
					}
				}
				st := stats(t, src)
				if len(frames) != want || st.Truncated != !c.ends[n] {
					t.Errorf("cut at %d: %d frames, truncated %v; want %d, %v", n, len(frames), st.Truncated, want, !c.ends[n])
				}
			}
		})
		t.Run(c.name+"/gzip", func(t *testing.T) {
			gz := gzipBytes(t, c.file)
			for n := 0; n < len(gz); n++ {
				src, err := NewReader(bytes.NewReader(gz[:n]))
				if err != nil {
					t.Fatalf("gzip cut at %d: %v", n, err)
				}
				if _, err := readAll(t, src); err != nil {
					t.Fatalf("gzip cut at %d: %v", n, err)
				}
				if !stats(t, src).Truncated {
					t.Errorf("gzip cut at %d of %d: not truncated", n, len(gz))
				}
			}
		})
	}
}

func TestCorrupt(t *testing.T) {
	bigPcap := buildPcap(pcapOpts{link: 1}, frameRecs(2, 10))
	binary.LittleEndian.PutUint32(bigPcap[24+26+8:], 300000) // second record's caplen

	nonsense := buildPcap(pcapOpts{big: true, link: 1}, frameRecs(1, 10))
	binary.BigEndian.PutUint32(nonsense[24+12:], 9) // origlen 9 < caplen 10

	ngBase := func() ngBuilder {
		g := ngBuilder{bo: binary.LittleEndian}
		g.shb()
		g.idb(1, 0, -1)
		return g
	}
	g := ngBase()
	g.epb(3, 0, []byte("x"), 0)
	noIface := g.buf

	g = ngBase()
	g.epb(0, 0, []byte("abcd"), 0)
	badTrailer := bytes.Clone(g.buf)
	badTrailer[len(badTrailer)-4]++

	g = ngBase()
	g.epb(0, 0, make([]byte, 300000), 0)
	hugeEPB := g.buf

	g = ngBase()
	g.epb(0, 0, []byte("abcd"), 0)
	oddLen := bytes.Clone(g.buf)
	binary.LittleEndian.PutUint32(oddLen[28+20+4:], 33)

	g = ngBase()
	g.epb(0, 0, []byte("abcd"), 0)
	hugeBlock := bytes.Clone(g.buf)
	binary.LittleEndian.PutUint32(hugeBlock[28+20+4:], 2<<20)

	tests := []struct {
		name   string
		file   []byte
		frames int
		offset int
		msg    string
	}{
		{"pcap caplen over 256 KiB", bigPcap, 1, 24 + 26, "captured length 300000 exceeds 262144"},
		{"pcap caplen over origlen", nonsense, 0, 24, "captured length 10 exceeds original length 9"},
		{"pcapng unknown interface", noIface, 0, 28 + 20, "packet of interface 3, but the section describes 1"},
		{"pcapng bad trailer", badTrailer, 0, 28 + 20, "block type 0x6 has length 36 but trailing length 37"},
		{"pcapng caplen over 256 KiB", hugeEPB, 0, 28 + 20, "captured length 300000 exceeds 262144"},
		{"pcapng block over 1 MiB", hugeBlock, 0, 28 + 20, "block type 0x6 has length 2097152"},
		{"pcapng block length not a multiple of 4", oddLen, 0, 28 + 20, "block type 0x6 has length 33"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewReader(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			frames, err := readAll(t, src)
			if len(frames) != tt.frames {
				t.Errorf("%d frames before the error, want %d", len(frames), tt.frames)
			}
			want := fmt.Sprintf("stdin: corrupt record at offset %d: %s", tt.offset, tt.msg)
			var ce *corruptError
			if !errors.As(err, &ce) || err.Error() != want {
				t.Fatalf("error %v\nwant %s", err, want)
			}
			if _, err2 := src.ReadFrame(); err2 != err {
				t.Errorf("error not sticky: %v", err2)
			}
		})
	}
}

func TestUnsupportedVersion(t *testing.T) {
	pcap := buildPcap(pcapOpts{link: 1}, nil)
	binary.LittleEndian.PutUint16(pcap[4:], 3)
	g := ngBuilder{bo: binary.BigEndian}
	g.shb()
	binary.BigEndian.PutUint16(g.buf[12:], 2)
	for _, tt := range []struct {
		file []byte
		want string
	}{
		{pcap, "stdin: corrupt record at offset 0: unsupported pcap version 3.4"},
		{g.buf, "stdin: corrupt record at offset 0: unsupported pcapng version 2.0"},
	} {
		src, err := NewReader(bytes.NewReader(tt.file))
		if err == nil {
			_, err = src.ReadFrame()
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("error %v, want %s", err, tt.want)
		}
	}
}

func TestNotCapture(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"text", []byte("HTTP/1.1 200 OK\r\n\r\n"), "is not a pcap or pcapng file (starts with 0x48545450)"},
		{"zeros", make([]byte, 100), "is not a pcap or pcapng file (starts with 0x00000000)"},
		{"short garbage", []byte("ab"), "is not a pcap or pcapng file (starts with 0x6162)"},
		{"gzip of text", gzipBytes(t, []byte("hello, world")), "is gzip-compressed but not a pcap or pcapng file (decompressed starts with 0x68656c6c)"},
		{"gzip of gzip", gzipBytes(t, gzipBytes(t, []byte("x"))), "is gzip-compressed but not a pcap or pcapng file (decompressed starts with 0x1f8b0800)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "capture.pcap")
			if err := os.WriteFile(path, tt.file, 0o600); err != nil {
				t.Fatal(err)
			}
			src, err := OpenFile(path)
			if err == nil || src != nil {
				t.Fatalf("OpenFile returned %v, %v", src, err)
			}
			if want := path + " " + tt.want; err.Error() != want {
				t.Errorf("error %q\nwant  %q", err, want)
			}
		})
	}
	if _, err := OpenFile(filepath.Join(t.TempDir(), "missing.pcap")); !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "open ") {
		t.Errorf("missing file: %v", err)
	}
}

// TestEmpty: an empty file (tcpdump killed before it wrote the header) is a
// capture with no frames, cut short.
func TestEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.pcap")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ReadFrame(); err != io.EOF {
		t.Errorf("ReadFrame: %v, want io.EOF", err)
	}
	if st := stats(t, src); st != (FileStats{Truncated: true}) {
		t.Errorf("stats %+v", st)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.ReadFrame(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("ReadFrame after Close: %v", err)
	}
}

// TestNewReader reads a stream that arrives in small pieces, as a pipe from
// tcpdump would deliver it to standard input.
func TestNewReader(t *testing.T) {
	recs := frameRecs(500, 200)
	file := buildPcap(pcapOpts{nano: true, link: 1}, recs)
	src, err := NewReader(iotest.OneByteReader(bytes.NewReader(file)))
	if err != nil {
		t.Fatal(err)
	}
	frames, err := readAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != len(recs) {
		t.Fatalf("%d frames, want %d", len(frames), len(recs))
	}
	for i, f := range frames {
		if !bytes.Equal(f.Data, recs[i].data) || !f.Time.Equal(recs[i].ts) {
			t.Fatalf("frame %d differs", i)
		}
	}
	errRead := errors.New("device gone")
	src, err = NewReader(io.MultiReader(bytes.NewReader(file[:100]), iotest.ErrReader(errRead)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, src); err == nil || !strings.HasPrefix(err.Error(), "capture: read stdin: ") {
		t.Errorf("read error: %v", err)
	}
}

// TestReadFrameAllocs guards the steady state: no allocation per frame.
func TestReadFrameAllocs(t *testing.T) {
	for _, file := range [][]byte{benchPcap(t, 20000), benchPcapng(t, 20000)} {
		src, err := NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		src.ReadFrame()
		allocs := testing.AllocsPerRun(10000, func() {
			if _, err := src.ReadFrame(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%v allocations per frame", allocs)
		}
	}
}
