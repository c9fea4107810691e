package wav

import (
	"encoding/binary"
	"fmt"
	"io"
)

// bufSize is the Writer's fixed buffer, a multiple of every frame size.
const bufSize = 8 << 10

// Writer streams 16-bit PCM into a WAVE file. It writes a complete header at
// creation, describing an empty data chunk, so the file is valid from the
// start; Flush and Close write the buffered samples and rewrite the header's
// two size fields (RIFF and data) so the file on disk is valid up to the last
// sample written.
//
// A Writer is not safe for concurrent use. After an I/O error every later
// call returns that error.
//
// A Writer made by NewSizedWriter instead writes a final header for a data
// size given up front and never seeks: w receives every byte of the file
// once, in order.
type Writer struct {
	w        io.Writer
	ws       io.WriteSeeker // nil for a sized Writer
	size     int64          // data bytes declared by a sized Writer; -1 otherwise
	start    int64          // offset of the header in ws
	frame    int            // bytes per frame: 2 × channels
	maxData  int64          // largest data size the header can describe, in whole frames
	data     int64          // data bytes accepted, buffered ones included
	onDisk   int64          // data size currently in the header
	buf      [bufSize]byte
	n        int // bytes used in buf
	field    [4]byte
	err      error
	closed   bool
	channels int
}

// NewWriter writes a WAVE header at the current offset of w and returns a
// Writer for samples at sampleRate Hz with 1 (mono) or 2 (interleaved stereo)
// channels. The header is rewritten in place by Flush, so w must support
// seeking back to it.
func NewWriter(w io.WriteSeeker, sampleRate, channels int) (*Writer, error) {
	if err := checkFormat(sampleRate, channels); err != nil {
		return nil, err
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("wav: locate header: %w", err)
	}
	wr := newWriter(w, channels)
	wr.ws, wr.start, wr.size = w, start, -1
	if err := wr.writeHeader(sampleRate, 0); err != nil {
		return nil, err
	}
	return wr, nil
}

// NewSizedWriter writes to w the header of a WAVE file whose data chunk
// holds exactly frames frames (samples per channel) at sampleRate Hz with 1
// or 2 channels, and returns a Writer for those samples. The header is
// final, so w needs no seeking and every byte of the file reaches w once,
// in order: a hash of the stream is the hash of the file. Write fails with
// ErrTooLarge past the declared size, and Close fails if fewer frames were
// written (the header then claims more data than the file holds). Flush
// writes the buffered samples only.
func NewSizedWriter(w io.Writer, sampleRate, channels int, frames int64) (*Writer, error) {
	if err := checkFormat(sampleRate, channels); err != nil {
		return nil, err
	}
	wr := newWriter(w, channels)
	if frames < 0 || frames > wr.maxData/int64(wr.frame) {
		return nil, fmt.Errorf("wav: %d frames: %w", frames, ErrTooLarge)
	}
	wr.size = frames * int64(wr.frame)
	if err := wr.writeHeader(sampleRate, wr.size); err != nil {
		return nil, err
	}
	wr.onDisk = wr.size
	return wr, nil
}

func checkFormat(sampleRate, channels int) error {
	if channels != 1 && channels != 2 {
		return fmt.Errorf("wav: %d channels, want 1 or 2", channels)
	}
	if sampleRate <= 0 || sampleRate > 1_000_000 {
		return fmt.Errorf("wav: sample rate %d Hz out of range", sampleRate)
	}
	return nil
}

func newWriter(w io.Writer, channels int) *Writer {
	frame := 2 * channels
	return &Writer{
		w:        w,
		frame:    frame,
		maxData:  (maxRIFFSize - (headerSize - 8)) / int64(frame) * int64(frame),
		channels: channels,
	}
}

// writeHeader writes the canonical header for data bytes of samples.
func (w *Writer) writeHeader(sampleRate int, data int64) error {
	h := w.buf[:headerSize]
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[riffSizeOff:], uint32(headerSize-8+data))
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	binary.LittleEndian.PutUint32(h[16:], fmtPCMSize)
	binary.LittleEndian.PutUint16(h[20:], formatPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(w.channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(sampleRate))
	binary.LittleEndian.PutUint32(h[28:], uint32(sampleRate*w.frame)) // bytes per second
	binary.LittleEndian.PutUint16(h[32:], uint16(w.frame))            // block align
	binary.LittleEndian.PutUint16(h[34:], bitsPerSample)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[dataSizeOff:], uint32(data))
	if _, err := w.w.Write(h); err != nil {
		return fmt.Errorf("wav: write header: %w", err)
	}
	return nil
}

// Write appends interleaved samples (left, right, left, … for stereo), a whole
// number of frames, stored little-endian. Samples are buffered; they reach w
// when the buffer fills and on Flush or Close. samples is not retained, and
// Write does not allocate. It returns ErrTooLarge, writing nothing, when the
// file would outgrow the RIFF size fields, or the size a sized Writer
// declared.
func (w *Writer) Write(samples []int16) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errClosed
	}
	if len(samples)%w.channels != 0 {
		return fmt.Errorf("wav: %d samples is not a whole number of %d-channel frames", len(samples), w.channels)
	}
	limit := w.maxData
	if w.size >= 0 {
		limit = w.size
	}
	if int64(len(samples))*2 > limit-w.data {
		return ErrTooLarge
	}
	for len(samples) > 0 {
		if w.n == len(w.buf) {
			if err := w.writeBuf(); err != nil {
				return err
			}
		}
		k := min(len(samples), (len(w.buf)-w.n)/2)
		b := w.buf[w.n : w.n+2*k]
		for i, s := range samples[:k] {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
		}
		w.n += 2 * k
		w.data += 2 * int64(k)
		samples = samples[k:]
	}
	return nil
}

func (w *Writer) writeBuf() error {
	if w.n == 0 {
		return nil
	}
	if _, err := w.w.Write(w.buf[:w.n]); err != nil {
		w.err = fmt.Errorf("wav: write samples: %w", err)
		return w.err
	}
	w.n = 0
	return nil
}

// Flush writes the buffered samples to w and rewrites the RIFF and data size
// fields of the header, so that the file holds a valid WAVE file of every
// sample written so far; w is left positioned at the end of the data. It
// does not sync the file to stable storage.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.writeBuf(); err != nil {
		return err
	}
	if w.data == w.onDisk || w.ws == nil {
		return nil
	}
	if err := w.putSize(riffSizeOff, headerSize-8+w.data); err != nil {
		return err
	}
	if err := w.putSize(dataSizeOff, w.data); err != nil {
		return err
	}
	if _, err := w.ws.Seek(w.start+headerSize+w.data, io.SeekStart); err != nil {
		w.err = fmt.Errorf("wav: seek to end of data: %w", err)
		return w.err
	}
	w.onDisk = w.data
	return nil
}

func (w *Writer) putSize(off, size int64) error {
	binary.LittleEndian.PutUint32(w.field[:], uint32(size))
	if _, err := w.ws.Seek(w.start+off, io.SeekStart); err != nil {
		w.err = fmt.Errorf("wav: seek to header: %w", err)
		return w.err
	}
	if _, err := w.w.Write(w.field[:]); err != nil {
		w.err = fmt.Errorf("wav: write header: %w", err)
		return w.err
	}
	return nil
}

// Close flushes the Writer (see Flush) and ends it: later Writes fail. It
// does not close w. Closing twice is a no-op.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	err := w.Flush()
	w.closed = true
	if err == nil && w.size >= 0 && w.data != w.size {
		w.err = fmt.Errorf("wav: closed after %d of the %d data bytes declared", w.data, w.size)
		err = w.err
	}
	return err
}

// Samples returns the number of frames written, that is samples per channel,
// buffered ones included.
func (w *Writer) Samples() int64 { return w.data / int64(w.frame) }
