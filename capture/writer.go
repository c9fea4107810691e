package capture

import (
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// writeBufSize is the buffer of one Writer (pcapgo.NgWriter's bufio.Writer,
// default size); thousands of Writers are open at once.
const writeBufSize = 4 << 10

// Writer writes frames as a little-endian pcapng stream that Wireshark opens:
// one section, one Interface Description Block per distinct link type (written
// just before the first frame of that type, which draft-ietf-opsawg-pcapng
// §4.2 allows), and one Enhanced Packet Block per frame with a nanosecond
// timestamp. It is pcapgo.NgWriter, created at the first frame.
//
// Records go through a 4 KiB buffer; Flush pushes them out. A Writer that was
// given no frame writes nothing, not even a section header.
//
// A Writer is not safe for concurrent use. After a write error every later
// call returns that error.
type Writer struct {
	w     io.Writer
	ng    *pcapgo.NgWriter // nil until the first frame
	links []uint32         // links[i] is the link type of interface i
	err   error
}

// NewWriter returns a Writer appending to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
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
		if err := w.addInterface(link); err != nil {
			return err
		}
		id = len(w.links) - 1
	}
	ci := gopacket.CaptureInfo{
		Timestamp:      ts,
		CaptureLength:  len(data),
		Length:         min(max(orig, len(data)), 1<<32-1),
		InterfaceIndex: id,
	}
	if err := w.ng.WritePacket(ci, data); err != nil {
		w.err = fmt.Errorf("capture: write frame: %w", err)
		return w.err
	}
	return nil
}

// addInterface adds an interface for link, starting the stream if needed.
// The interface has no options but the nanosecond if_tsresol that pcapgo
// always writes; the section names only the application: every byte counts
// in thousands of short per-call files.
func (w *Writer) addInterface(link uint32) error {
	intf := pcapgo.NgInterface{LinkType: layers.LinkType(link)}
	var err error
	if w.ng == nil {
		opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "spanrec"}}
		w.ng, err = pcapgo.NewNgWriterInterface(w.w, intf, opts)
	} else {
		_, err = w.ng.AddInterface(intf)
	}
	if err != nil {
		w.err = fmt.Errorf("capture: write interface: %w", err)
		return w.err
	}
	w.links = append(w.links, link)
	return nil
}

// Flush writes the buffered records to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil || w.ng == nil {
		return w.err
	}
	if err := w.ng.Flush(); err != nil {
		w.err = fmt.Errorf("capture: flush: %w", err)
	}
	return w.err
}
