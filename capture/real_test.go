package capture

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// capinfosLinks maps capinfos's encapsulation names to LINKTYPE_* numbers.
var capinfosLinks = map[string]uint32{
	"ether":     1,
	"null":      0,
	"rawip":     101,
	"linux-sll": 113,
}

// capinfosLine returns the fields of the capinfos line of a .expect.txt
// file: path, linktype, packets, duration.
func capinfosLine(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() == "## capinfos" && sc.Scan() {
			fields := strings.Split(sc.Text(), ",")
			if len(fields) != 4 {
				t.Fatalf("%s: capinfos line %q", path, sc.Text())
			}
			return fields
		}
	}
	t.Fatalf("%s: no capinfos line", path)
	return nil
}

// parseDuration parses capinfos's "seconds.fraction" exactly; it also returns
// the unit of the last printed digit.
func parseDuration(t *testing.T, s string) (d, unit time.Duration) {
	t.Helper()
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 9 {
		t.Fatalf("duration %q", s)
	}
	unit = time.Second
	d = time.Duration(n) * time.Second
	for _, c := range frac {
		unit /= 10
		d += time.Duration(c-'0') * unit
	}
	return d, unit
}

// TestRealCaptures reads every shared capture and compares it with tshark's
// capinfos line: frame count, link type, and the duration (capinfos takes
// the latest minus the earliest timestamp).
func TestRealCaptures(t *testing.T) {
	dir := capturesDir(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skipf("no captures under %s", dir)
	}
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		t.Run(rel, func(t *testing.T) {
			exp := capinfosLine(t, p+".expect.txt")
			want, err := strconv.Atoi(exp[2])
			if err != nil {
				t.Fatalf("packets %q", exp[2])
			}
			src, err := OpenFile(p)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			frames, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != want {
				t.Errorf("%d frames, capinfos says %d", len(frames), want)
			}
			st := stats(t, src)
			if st.Frames != int64(len(frames)) || st.Truncated {
				t.Errorf("stats %+v after %d frames", st, len(frames))
			}
			fi, _ := os.Stat(p)
			if n := src.(Progress).BytesRead(); n != fi.Size() {
				t.Errorf("BytesRead %d at the end of a %d-byte file", n, fi.Size())
			}
			if link, ok := capinfosLinks[exp[1]]; ok {
				for i, f := range frames {
					if f.Link != link {
						t.Fatalf("frame %d: link %d, capinfos says %s (%d)", i+1, f.Link, exp[1], link)
					}
				}
			} else if exp[1] != "per-packet" {
				t.Fatalf("unknown capinfos encapsulation %q", exp[1])
			}
			var bytes int64
			for i, f := range frames {
				bytes += int64(len(f.Data))
				if len(f.Data) > f.Orig {
					t.Errorf("frame %d: %d bytes captured of %d", i+1, len(f.Data), f.Orig)
				}
			}
			if st.Bytes != bytes {
				t.Errorf("stats %d bytes, frames hold %d", st.Bytes, bytes)
			}
			if exp[3] == "n/a" || len(frames) == 0 {
				return
			}
			wantDur, unit := parseDuration(t, exp[3])
			var first, last time.Time
			for _, f := range frames {
				if f.Time.IsZero() {
					continue // a Simple Packet Block before any timestamp
				}
				if first.IsZero() || f.Time.Before(first) {
					first = f.Time
				}
				if f.Time.After(last) {
					last = f.Time
				}
			}
			if got := last.Sub(first); got-wantDur >= unit || wantDur-got >= unit {
				t.Errorf("duration %v (%v … %v), capinfos says %v", got, first, last, wantDur)
			}
		})
	}
}

// TestPcapngInterfaces checks each frame's interface, link type and lengths
// in gopacket's pcapng test files against their blocks, as tshark reports
// them (frame.interface_id, frame.encap_type, frame.len, frame.cap_len):
// Simple and Enhanced Packet Blocks, several interfaces with different link
// types, several sections, custom blocks, and both byte orders.
func TestPcapngInterfaces(t *testing.T) {
	dir := filepath.Join(capturesDir(t), "gopacket")
	type fr struct {
		iface     int
		link      uint32
		orig, cap int
	}
	eth := func(orig, cap int) fr { return fr{0, 1, orig, cap} }
	tests := []struct {
		file  string
		want  []fr
		times []string // non-empty: the UTC times of the frames
	}{
		{"be_test010.pcapng", []fr{eth(314, 314), eth(342, 342), eth(314, 314), eth(342, 342)}, nil},
		{"le_test010.pcapng", []fr{eth(314, 314), eth(342, 342), eth(314, 314), eth(342, 342)}, nil},
		{
			"le_test100.pcapng",
			[]fr{eth(314, 314), eth(342, 342), eth(314, 314), eth(342, 342), {1, 0, 168, 168}},
			[]string{"", "2012-06-29T07:28:25.298858Z", "", "2012-06-29T07:28:25.300858Z", "2012-06-29T07:28:25.301858Z"},
		},
		{
			// Three sections; the second redefines interface 0 with a
			// 128-byte snap length, which cuts its Simple Packet Blocks.
			"le_test202.pcapng",
			[]fr{eth(314, 96), eth(342, 96), {1, 0, 168, 168}, eth(314, 128), eth(342, 128), eth(314, 128), eth(342, 128), {1, 0, 168, 168}},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src, err := OpenFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			frames, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != len(tt.want) {
				t.Fatalf("%d frames, want %d", len(frames), len(tt.want))
			}
			for i, f := range frames {
				got := fr{f.Iface, f.Link, f.Orig, len(f.Data)}
				if got != tt.want[i] {
					t.Errorf("frame %d: %+v, want %+v", i+1, got, tt.want[i])
				}
				if tt.times != nil && tt.times[i] != "" {
					if s := f.Time.Format(time.RFC3339Nano); s != tt.times[i] {
						t.Errorf("frame %d: time %s, want %s", i+1, s, tt.times[i])
					}
				}
			}
		})
	}
}

// TestAgainstPcapgo reads every shared capture with gopacket's readers too and
// compares the frames one by one: bytes, lengths, link type (pcapng: the
// interface block of each packet, mixed link types on) and time.
func TestAgainstPcapgo(t *testing.T) {
	dir := capturesDir(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		t.Run(rel, func(t *testing.T) {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			type ref struct {
				data []byte
				ci   gopacket.CaptureInfo
				link uint32
			}
			var refs []ref
			// By magic, not name: ndpi/http_on_sip_port.pcap is pcapng.
			if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
				opts := pcapgo.DefaultNgReaderOptions
				opts.WantMixedLinkType = true
				r, err := pcapgo.NewNgReader(bytes.NewReader(raw), opts)
				if err != nil {
					t.Fatal(err)
				}
				for {
					data, ci, err := r.ReadPacketData()
					if err != nil {
						break
					}
					refs = append(refs, ref{data, ci, uint32(ci.AncillaryData[0].(layers.LinkType))})
				}
			} else {
				r, err := pcapgo.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				for {
					data, ci, err := r.ReadPacketData()
					if err != nil {
						break
					}
					refs = append(refs, ref{data, ci, uint32(r.LinkType())})
				}
			}
			src, err := NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			frames, err := readAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != len(refs) {
				t.Fatalf("%d frames, pcapgo reads %d", len(frames), len(refs))
			}
			for i, f := range frames {
				r := refs[i]
				// pcapgo gives Simple Packet Blocks the zero time.
				timeOK := f.Time.Equal(r.ci.Timestamp) || r.ci.Timestamp.IsZero()
				if !bytes.Equal(f.Data, r.data) || f.Orig != r.ci.Length || f.Link != r.link || f.Iface != r.ci.InterfaceIndex || !timeOK {
					t.Fatalf("frame %d: link %d iface %d orig %d time %v; pcapgo: link %d iface %d orig %d time %v",
						i+1, f.Link, f.Iface, f.Orig, f.Time, r.link, r.ci.InterfaceIndex, r.ci.Length, r.ci.Timestamp)
				}
			}
		})
	}
}
