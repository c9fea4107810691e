package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// writeBufSize is the buffer of one Writer; thousands of Writers are open
// at once.
const writeBufSize = 4 << 10

// What the Writer writes (draft-ietf-opsawg-pcapng §4; block types and
// option codes in pcapng.go).
const (
	optUserAppl  = 4 // shb_userappl, §4.1
	epbHeaderLen = 28
	blockTrailer = 4
	shbApp       = "spanrec"
	shbLen       = 24 + 4 + (len(shbApp)+3)&^3 + 4 + blockTrailer
	idbLen       = 16 + 4 + 4 + 4 + blockTrailer
	tsResolNano  = 9 // if_tsresol: 10^-9 s
)

// Writer writes frames as a little-endian pcapng stream that Wireshark opens:
// one section, one Interface Description Block per distinct link type (written
// just before the first frame of that type, which draft-ietf-opsawg-pcapng
// §4.2 allows), and one Enhanced Packet Block per frame with a nanosecond
// timestamp (if_tsresol 9). The section names only the application
// (shb_userappl "spanrec"), the interfaces have no other option and no
// snap length: every byte counts in thousands of short per-call files.
//
// Records go through a 4 KiB buffer; Flush pushes them out. A Writer that was
// given no frame writes nothing, not even a section header.
//
// A Writer is not safe for concurrent use. After a write error every later
// call returns that error.
type Writer struct {
	// The fields every frame reads come first, the first interfaces'
	// link types in the Writer's own memory: thousands of Writers are
	// written in turn, and each pointer followed is a cache miss.
	err   error
	buf   []byte   // records not yet written; nil until the first frame
	links []uint32 // links[i] is the link type of interface i
	link0 [2]uint32
	w     io.Writer
}

// NewWriter returns a Writer appending to w.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{w: w}
	wr.links = wr.link0[:0]
	return wr
}

// WriteFrame appends a frame of link type link (a LINKTYPE_* number below
// 65536) captured at ts; orig is its length on the wire, and an orig smaller
// than len(data) (0, say) stands for len(data). data is not retained.
func (w *Writer) WriteFrame(data []byte, link uint32, ts time.Time, orig int) error {
	if w.err != nil {
		return w.err
	}
	if link > 0xffff {
		// §4.2: the IDB LinkType field is 16 bits.
		return fmt.Errorf("capture: write frame: link type %d does not fit pcapng", link)
	}
	if len(data) > maxCapLen {
		return fmt.Errorf("capture: write frame: %d bytes exceed %d", len(data), maxCapLen)
	}
	id := -1
	for i, l := range w.links {
		if l == link {
			id = i
			break
		}
	}
	if id < 0 {
		w.addInterface(link)
		id = len(w.links) - 1
	}
	// §4.3: the Enhanced Packet Block, its data padded to 32 bits.
	pad := (4 - len(data)&3) & 3
	n := epbHeaderLen + len(data) + pad + blockTrailer
	if len(w.buf)+n > cap(w.buf) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if n > cap(w.buf) {
		var head [epbHeaderLen]byte
		putEPBHeader(head[:], n, id, ts, len(data), orig)
		return w.writeLarge(head[:], data, pad, n)
	}
	start := len(w.buf)
	rec := w.buf[start : start+n]
	putEPBHeader(rec, n, id, ts, len(data), orig)
	copy(rec[epbHeaderLen:], data)
	clear(rec[epbHeaderLen+len(data) : n-blockTrailer])
	binary.LittleEndian.PutUint32(rec[n-blockTrailer:], uint32(n))
	w.buf = w.buf[:start+n]
	return nil
}

// putEPBHeader puts the first 28 bytes of an Enhanced Packet Block of n
// bytes in b: interface id, timestamp in nanoseconds, captured and
// original lengths.
func putEPBHeader(b []byte, n, id int, ts time.Time, caplen, orig int) {
	t := ts.UnixNano()
	le := binary.LittleEndian
	le.PutUint32(b[0:], ngEPB)
	le.PutUint32(b[4:], uint32(n))
	le.PutUint32(b[8:], uint32(id))
	le.PutUint32(b[12:], uint32(t>>32))
	le.PutUint32(b[16:], uint32(t))
	le.PutUint32(b[20:], uint32(caplen))
	le.PutUint32(b[24:], uint32(min(max(orig, caplen), 1<<32-1)))
}

// writeLarge writes a record larger than the buffer: its header, the
// data and the padding and trailer, straight to w (the buffer is empty).
func (w *Writer) writeLarge(head, data []byte, pad, n int) error {
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[pad:], uint32(n))
	for _, b := range [][]byte{head, data, tail[:pad+blockTrailer]} {
		if _, err := w.w.Write(b); err != nil {
			w.err = fmt.Errorf("capture: write frame: %w", err)
			return w.err
		}
	}
	return nil
}

// addInterface adds an interface for link, starting the section (and the
// buffer) at the first.
func (w *Writer) addInterface(link uint32) {
	le := binary.LittleEndian
	if w.buf == nil {
		// §4.1: the Section Header Block, with shb_userappl.
		w.buf = make([]byte, 0, writeBufSize)
		b := w.buf[:shbLen]
		le.PutUint32(b[0:], ngSHB)
		le.PutUint32(b[4:], uint32(shbLen))
		le.PutUint32(b[8:], ngBOM)
		le.PutUint16(b[12:], 1) // version 1.0
		le.PutUint16(b[14:], 0)
		le.PutUint64(b[16:], 1<<64-1) // section length unspecified
		le.PutUint16(b[24:], optUserAppl)
		le.PutUint16(b[26:], uint16(len(shbApp)))
		o := 28 + copy(b[28:], shbApp)
		for ; o < shbLen-blockTrailer-4; o++ {
			b[o] = 0
		}
		le.PutUint32(b[o:], optEnd)
		le.PutUint32(b[shbLen-blockTrailer:], uint32(shbLen))
		w.buf = b
	}
	// §4.2: the Interface Description Block, with if_tsresol.
	if len(w.buf)+idbLen > cap(w.buf) {
		_ = w.flush() // an error is sticky: the next record reports it
	}
	start := len(w.buf)
	b := w.buf[start : start+idbLen]
	le.PutUint32(b[0:], ngIDB)
	le.PutUint32(b[4:], uint32(idbLen))
	le.PutUint16(b[8:], uint16(link))
	le.PutUint16(b[10:], 0) // reserved
	le.PutUint32(b[12:], 0) // no snap length
	le.PutUint16(b[16:], optTSResol)
	le.PutUint16(b[18:], 1)
	le.PutUint32(b[20:], tsResolNano)
	le.PutUint32(b[24:], optEnd)
	le.PutUint32(b[28:], uint32(idbLen))
	w.buf = w.buf[:start+idbLen]
	w.links = append(w.links, link)
}

// flush writes the buffer to w.
func (w *Writer) flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		if _, err := w.w.Write(w.buf); err != nil {
			w.err = fmt.Errorf("capture: write frame: %w", err)
			return w.err
		}
		w.buf = w.buf[:0]
	}
	return nil
}

// Flush writes the buffered records to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.flush(); err != nil {
		w.err = fmt.Errorf("capture: flush: %w", errors.Unwrap(err))
	}
	return w.err
}
