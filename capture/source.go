package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Frame is one captured link-layer frame.
type Frame struct {
	// Data holds the captured bytes. It points into the Source's buffer and
	// is valid until the next ReadFrame call; copy it to keep it.
	Data []byte
	// Time is the capture timestamp, in UTC. A pcapng Simple Packet Block
	// has none and gets the time of the frame before it (zero if none).
	Time time.Time
	// Link is the LINKTYPE_* number of the frame's interface (1 Ethernet,
	// 101 raw IP, 113 Linux cooked, …); pcapng files may mix link types.
	Link uint32
	// Orig is the length of the frame on the wire; len(Data) is smaller when
	// the capture cut the frame at its snap length.
	Orig int
	// Iface is the pcapng interface index within the frame's section (0 for
	// pcap).
	Iface int
}

// A Source yields captured frames in capture order. A Source is not safe for
// concurrent use; the recorder gives each its own reader goroutine.
type Source interface {
	// ReadFrame returns the next frame. f.Data is valid until the next call.
	// It returns io.EOF at the end of the input.
	ReadFrame() (f Frame, err error)
	// Close releases the source, and closes the file it opened, if any.
	Close() error
}

// Progress is implemented by sources that can tell how far through their
// input they are, for a progress bar.
type Progress interface {
	// BytesRead returns the bytes of the underlying file consumed so far:
	// compressed bytes for a gzip file.
	BytesRead() int64
}

// FileStats counts what a file source has read so far.
type FileStats struct {
	Frames    int64 // frames returned
	Bytes     int64 // captured bytes of those frames (sum of len(Data))
	Truncated bool  // the input ended in the middle of a header, record or block
}

const (
	// maxCapLen is the longest frame accepted; it is libpcap's
	// MAXIMUM_SNAPLEN (256 KiB). A longer captured length is corruption.
	maxCapLen = 256 << 10
	// maxBlockLen bounds the pcapng blocks held whole in memory (packet and
	// interface blocks); other blocks are skipped without buffering.
	maxBlockLen = 1 << 20
	// readSize is the initial buffer size and the size of a read.
	readSize = 256 << 10
	// maxInterfaces bounds the interfaces of one pcapng section, so a
	// hostile file cannot make the reader grow without limit.
	maxInterfaces = 1 << 16
)

type format uint8

const (
	formatNone   format = iota // input ended before its format was known
	formatPcap                 // classic pcap, draft-ietf-opsawg-pcap
	formatPcapng               // pcapng, draft-ietf-opsawg-pcapng
)

// fileSource reads pcap and pcapng streams.
//
// It is written from the format drafts rather than built on gopacket's
// pcapgo.Reader/NgReader, for these reasons. They copy every packet from a
// bufio.Reader into a second buffer, where this reader slices frames straight
// out of its one read buffer. They report a cut last record and a corrupt one
// alike (io.ErrUnexpectedEOF or a bare message, no offset), and this package
// must tell "truncated" (end quietly, set Stats().Truncated) from "corrupt at
// offset N" (stop with an error). pcapgo.Reader accepts records up to the
// snap length the file header declares (up to 4 GiB), where this reader holds
// every record to 256 KiB. Their bufio layer hides how much of the file has
// been consumed, which Progress reports. (Writer does use pcapgo.NgWriter.)
type fileSource struct {
	name    string
	raw     *countingReader // the file as given
	src     io.Reader       // raw, or the gzip stream over it
	gz      *gzip.Reader    // the decompressor, if gzip and past the gzip header
	gzipped bool            // the input is gzip-compressed
	file    io.Closer       // the file OpenFile opened, nil otherwise
	buf     []byte
	r, w    int   // unread bytes are buf[r:w]
	base    int64 // stream offset of buf[0]
	rerr    error // first error from src
	err     error // sticky result of ReadFrame after the end or an error
	zeros   int   // consecutive empty reads

	format format
	big    bool // big-endian fields

	// pcap
	nano   bool   // nanosecond timestamps
	hdrLen int    // record header length: 16, or 24 for the Kuznetzov variant
	link   uint32 // LINKTYPE_* of the file

	// pcapng
	ifaces   []ngIface // interfaces of the current section, by index
	lastTime time.Time // time of the previous frame, for Simple Packet Blocks

	stats FileStats
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// OpenFile opens the capture file at path: classic pcap (microsecond or
// nanosecond timestamps, either byte order) or pcapng (any number of sections
// and interfaces, either byte order), each optionally gzip-compressed. The
// format is detected from the first bytes, not from the name. Path "-" reads
// standard input.
//
// A file that is not a capture gives an error of the form "FILE is not a pcap
// or pcapng file (starts with 0x…)": the messages of errors about the input
// are for the user and name the file, not this package. A file too short to hold its file
// header, including an empty file, is a capture with no frames whose
// Stats().Truncated is true.
//
// The Source also implements Progress and has a Stats() FileStats method.
func OpenFile(path string) (Source, error) {
	if path == "-" {
		return NewReader(os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err // "open PATH: …"
	}
	s, err := newFileSource(f, path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// NewReader returns a Source reading a capture stream from r, as OpenFile
// does; errors name the stream "stdin". Closing the Source does not close r.
func NewReader(r io.Reader) (Source, error) {
	s, err := newFileSource(r, "stdin", nil)
	if err != nil {
		return nil, err // not a nil *fileSource in a non-nil Source
	}
	return s, nil
}

func newFileSource(r io.Reader, name string, file io.Closer) (*fileSource, error) {
	s := &fileSource{
		name: name,
		raw:  &countingReader{r: r},
		file: file,
		buf:  make([]byte, readSize),
	}
	s.src = s.raw
	head, err := s.peekMagic()
	if err != nil {
		return nil, err
	}
	if head == nil {
		return s, nil // ended before a whole magic number
	}
	if head[0] == 0x1f && head[1] == 0x8b { // RFC 1952 §2.3.1: ID1, ID2
		if err := s.startGzip(); err != nil {
			return nil, err
		}
		if head, err = s.peekMagic(); err != nil {
			return nil, err
		}
		if head == nil {
			return s, nil
		}
		if head[0] == 0x1f && head[1] == 0x8b {
			return nil, &formatError{name: name, head: bytes.Clone(head), gzip: true}
		}
	}
	if err := s.readFileHeader(head); err != nil {
		return nil, err
	}
	return s, nil
}

// magics are the first four bytes of every supported input, as they appear
// in the file.
var magics = [...][]byte{
	{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, // pcap, µs
	{0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}, // pcap, ns
	{0x34, 0xcd, 0xb2, 0xa1}, {0xa1, 0xb2, 0xcd, 0x34}, // pcap, Kuznetzov's patched libpcap
	{0x0a, 0x0d, 0x0d, 0x0a}, // pcapng Section Header Block type
	{0x1f, 0x8b, 0x08},       // gzip, deflate (RFC 1952 §2.3.1)
}

// peekMagic returns the first four unread bytes, checked against magics. If
// the input ends before four bytes and what there is could begin a capture, it
// returns no bytes and no error, and ends the source (io.EOF, Truncated).
func (s *fileSource) peekMagic() (head []byte, err error) {
	err = s.fill(4)
	avail := s.buf[s.r:s.w]
	switch err {
	case nil:
		head = avail[:4]
		for _, m := range magics {
			if bytes.HasPrefix(head, m) {
				return head, nil
			}
		}
	case io.EOF, io.ErrUnexpectedEOF:
		for _, m := range magics {
			if bytes.HasPrefix(m, avail) {
				s.end(io.ErrUnexpectedEOF)
				return nil, nil
			}
		}
		head = avail
	default:
		return nil, s.readError(err)
	}
	return nil, &formatError{name: s.name, head: bytes.Clone(head), gzip: s.gzipped}
}

// startGzip replaces the source stream by the decompression of the raw
// stream, from its start.
func (s *fileSource) startGzip() error {
	pre := bytes.Clone(s.buf[s.r:s.w])
	s.r, s.w, s.base, s.rerr, s.zeros = 0, 0, 0, nil, 0
	zr, err := gzip.NewReader(io.MultiReader(bytes.NewReader(pre), s.raw))
	if err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			// Cut inside the gzip header.
			s.gzipped = true
			s.src = eofReader{}
			return nil
		}
		return fmt.Errorf("capture: %s: gzip: %w", s.name, err)
	}
	s.gz, s.gzipped, s.src = zr, true, zr
	return nil
}

// eofReader is the stream of a gzip file cut inside its header.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// readFileHeader reads the pcap file header or, for pcapng, leaves the first
// Section Header Block to ReadFrame.
func (s *fileSource) readFileHeader(head []byte) error {
	if head[0] == 0x0a && head[1] == 0x0d {
		s.format = formatPcapng
		return nil
	}
	s.format = formatPcap
	return s.readPcapHeader()
}

// fill makes at least n bytes available in buf[r:w], moving or growing the
// buffer as needed. It returns io.EOF when the stream ended with no byte
// unread, io.ErrUnexpectedEOF when it ended with fewer than n (or when a
// compressed stream was cut), or the stream's error.
func (s *fileSource) fill(n int) error {
	if s.w-s.r >= n {
		return nil
	}
	if s.r == s.w {
		s.base += int64(s.r)
		s.r, s.w = 0, 0
	}
	if n > len(s.buf)-s.r {
		if n > len(s.buf) {
			nb := make([]byte, max(n, 2*len(s.buf)))
			s.w = copy(nb, s.buf[s.r:s.w])
			s.buf = nb
		} else {
			s.w = copy(s.buf, s.buf[s.r:s.w])
		}
		s.base += int64(s.r)
		s.r = 0
	}
	for s.w-s.r < n && s.rerr == nil {
		m, err := s.src.Read(s.buf[s.w:])
		s.w += m
		switch {
		case err != nil:
			s.rerr = err
		case m == 0:
			if s.zeros++; s.zeros > 100 {
				s.rerr = io.ErrNoProgress
			}
		default:
			s.zeros = 0
		}
	}
	switch {
	case s.w-s.r >= n:
		return nil
	case s.rerr == io.EOF && s.w == s.r:
		return io.EOF
	case s.rerr == io.EOF || s.rerr == io.ErrUnexpectedEOF:
		return io.ErrUnexpectedEOF
	}
	return s.rerr
}

// end records how the input ended: cleanly at a record boundary, cut inside
// a record, or with a read error.
func (s *fileSource) end(err error) error {
	switch err {
	case io.EOF:
		s.err = io.EOF
	case io.ErrUnexpectedEOF:
		s.stats.Truncated = true
		s.err = io.EOF
	default:
		s.err = s.readError(err)
	}
	return s.err
}

func (s *fileSource) readError(err error) error {
	if s.gzipped {
		return fmt.Errorf("capture: read %s (gzip): %w", s.name, err)
	}
	return fmt.Errorf("capture: read %s: %w", s.name, err)
}

// corrupt stops the source with a corruptError for the record at the current
// read position.
func (s *fileSource) corrupt(format string, args ...any) error {
	s.err = &corruptError{name: s.name, offset: s.base + int64(s.r), msg: fmt.Sprintf(format, args...)}
	return s.err
}

func (s *fileSource) u16(b []byte) uint16 {
	if s.big {
		return uint16(b[1]) | uint16(b[0])<<8
	}
	return uint16(b[0]) | uint16(b[1])<<8
}

func (s *fileSource) u32(b []byte) uint32 {
	_ = b[3]
	if s.big {
		return uint32(b[3]) | uint32(b[2])<<8 | uint32(b[1])<<16 | uint32(b[0])<<24
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func (s *fileSource) u64(b []byte) uint64 {
	hi, lo := uint64(s.u32(b)), uint64(s.u32(b[4:]))
	if s.big {
		return hi<<32 | lo
	}
	return lo<<32 | hi
}

// ReadFrame returns the next frame; see Source. After io.EOF or an error it
// keeps returning the same result.
func (s *fileSource) ReadFrame() (Frame, error) {
	if s.err != nil {
		return Frame{}, s.err
	}
	var (
		f   Frame
		err error
	)
	switch s.format {
	case formatPcap:
		f, err = s.readPcap()
	case formatPcapng:
		f, err = s.readPcapng()
	default:
		return Frame{}, io.EOF
	}
	if err != nil {
		return Frame{}, err
	}
	s.stats.Frames++
	s.stats.Bytes += int64(len(f.Data))
	return f, nil
}

// Stats returns the counts so far.
func (s *fileSource) Stats() FileStats { return s.stats }

// BytesRead returns the bytes of the file consumed so far; for gzip input,
// the compressed bytes read from the file, which run ahead of the frames
// returned by up to the decompressor's buffer.
func (s *fileSource) BytesRead() int64 {
	if s.gzipped {
		return s.raw.n
	}
	return s.base + int64(s.r)
}

// Close releases the buffer and closes the file OpenFile opened. ReadFrame
// returns an error wrapping os.ErrClosed afterwards.
func (s *fileSource) Close() error {
	if errors.Is(s.err, os.ErrClosed) {
		return nil
	}
	s.err = fmt.Errorf("capture: %s: %w", s.name, os.ErrClosed)
	s.buf, s.r, s.w = nil, 0, 0
	var err error
	if s.gz != nil {
		s.gz.Close() // only reports a checksum error already seen by ReadFrame
	}
	if s.file != nil {
		err = s.file.Close()
	}
	return err
}

// ReadAll reads every frame of the capture file at path into memory, each
// with its own copy of the data: for tests, tools and benchmarks that
// replay a small capture, not for live traffic.
func ReadAll(path string) ([]Frame, error) {
	src, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return readFrames(src)
}

// ReadAllFrom is ReadAll for a pcap or pcapng stream (e.g. one held in
// memory).
func ReadAllFrom(r io.Reader) ([]Frame, error) {
	src, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return readFrames(src)
}

func readFrames(src Source) ([]Frame, error) {
	var out []Frame
	for {
		fr, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		fr.Data = append([]byte(nil), fr.Data...)
		out = append(out, fr)
	}
}
