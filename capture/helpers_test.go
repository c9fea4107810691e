package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/spanrec/spanrec/pcaptest"
)

// capturesDir returns the shared third-party captures folder (see
// findCaptures), and skips the test when it is absent.
func capturesDir(t testing.TB) string {
	t.Helper()
	d, err := findCaptures()
	if err != nil {
		t.Skipf("third-party captures not available (set SPANREC_CAPTURES): %v", err)
	}
	return d
}

// findCaptures returns $SPANREC_CAPTURES, or ../shared/captures beside the
// directory holding go.mod.
func findCaptures() (string, error) {
	return pcaptest.FindCaptures()
}

// rec is a synthetic frame for building captures.
type rec struct {
	data []byte
	ts   time.Time
	orig int // 0: len(data)
}

// pcapOpts selects the variant of a synthetic pcap file.
type pcapOpts struct {
	big  bool
	nano bool
	link uint32 // the whole LinkType field, FCS bits included
	kuz  bool   // Kuznetzov's variant: 8 more bytes per record header
}

// buildPcap returns a pcap file of recs (draft-ietf-opsawg-pcap §4, §5).
func buildPcap(o pcapOpts, recs []rec) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	if o.big {
		bo = binary.BigEndian
	}
	magic := uint32(0xa1b2c3d4)
	if o.nano {
		magic = 0xa1b23c4d
	}
	if o.kuz {
		magic = 0xa1b2cd34
	}
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 65535)
	b = bo.AppendUint32(b, o.link)
	for _, r := range recs {
		frac := uint32(r.ts.Nanosecond())
		if !o.nano {
			frac /= 1000
		}
		orig := r.orig
		if orig == 0 {
			orig = len(r.data)
		}
		b = bo.AppendUint32(b, uint32(r.ts.Unix()))
		b = bo.AppendUint32(b, frac)
		b = bo.AppendUint32(b, uint32(len(r.data)))
		b = bo.AppendUint32(b, uint32(orig))
		if o.kuz {
			b = append(b, 2, 0, 0, 0, 0x08, 0x00, 0, 0) // ifindex, protocol, type, pad
		}
		b = append(b, r.data...)
	}
	return b
}

// ngBuilder builds pcapng files block by block (draft-ietf-opsawg-pcapng).
type ngBuilder struct {
	bo  binary.AppendByteOrder
	buf []byte
}

func (g *ngBuilder) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	g.buf = g.bo.AppendUint32(g.buf, typ)
	g.buf = g.bo.AppendUint32(g.buf, n)
	g.buf = append(g.buf, body...)
	g.buf = g.bo.AppendUint32(g.buf, n)
}

func (g *ngBuilder) shb() {
	b := g.bo.AppendUint32(nil, ngBOM)
	b = g.bo.AppendUint16(b, 1)
	b = g.bo.AppendUint16(b, 0)
	b = g.bo.AppendUint64(b, ^uint64(0))
	g.block(ngSHB, b)
}

// idb adds an interface; tsresol < 0 leaves the option out (microseconds).
func (g *ngBuilder) idb(link uint16, snaplen uint32, tsresol int) {
	g.idbOffset(link, snaplen, tsresol, 0)
}

// idbOffset is idb with an if_tsoffset option when tsoffset is not 0.
func (g *ngBuilder) idbOffset(link uint16, snaplen uint32, tsresol int, tsoffset int64) {
	b := g.bo.AppendUint16(nil, link)
	b = g.bo.AppendUint16(b, 0)
	b = g.bo.AppendUint32(b, snaplen)
	if tsresol >= 0 {
		b = g.bo.AppendUint16(b, optTSResol)
		b = g.bo.AppendUint16(b, 1)
		b = append(b, byte(tsresol), 0, 0, 0)
	}
	if tsoffset != 0 {
		b = g.bo.AppendUint16(b, optTSOffset)
		b = g.bo.AppendUint16(b, 8)
		b = g.bo.AppendUint64(b, uint64(tsoffset))
	}
	if tsresol >= 0 || tsoffset != 0 {
		b = g.bo.AppendUint32(b, 0)
	}
	g.block(ngIDB, b)
}

// epb adds an Enhanced Packet Block with a timestamp in units (the
// interface's resolution).
func (g *ngBuilder) epb(iface uint32, units uint64, data []byte, orig int) {
	if orig == 0 {
		orig = len(data)
	}
	b := g.bo.AppendUint32(nil, iface)
	b = g.bo.AppendUint32(b, uint32(units>>32))
	b = g.bo.AppendUint32(b, uint32(units))
	b = g.bo.AppendUint32(b, uint32(len(data)))
	b = g.bo.AppendUint32(b, uint32(orig))
	b = append(b, data...)
	g.block(ngEPB, b)
}

// readAll reads src to the end and returns copies of its frames.
func readAll(t testing.TB, src Source) ([]Frame, error) {
	t.Helper()
	var out []Frame
	for {
		f, err := src.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		f.Data = bytes.Clone(f.Data)
		out = append(out, f)
	}
}

func stats(t testing.TB, src Source) FileStats {
	t.Helper()
	st, ok := src.(interface{ Stats() FileStats })
	if !ok {
		t.Fatalf("%T has no Stats method", src)
	}
	return st.Stats()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// frameRecs returns n frames of size bytes each, with distinct contents.
func frameRecs(n, size int) []rec {
	recs := make([]rec, n)
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range recs {
		d := make([]byte, size)
		for j := range d {
			d[j] = byte(i + j)
		}
		recs[i] = rec{data: d, ts: t0.Add(time.Duration(i) * 20 * time.Millisecond)}
	}
	return recs
}
