package wav

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Info describes a WAVE file of linear PCM.
type Info struct {
	SampleRate    int // frames per second, Hz
	Channels      int
	BitsPerSample int   // 8, 16, 24 or 32
	DataOffset    int64 // offset of the first sample from the start of the file
	DataBytes     int64 // length of the sample data, in whole frames
}

// Frames returns the number of frames (samples per channel) in the data.
func (i Info) Frames() int64 {
	if fb := i.frameBytes(); fb > 0 {
		return i.DataBytes / fb
	}
	return 0
}

func (i Info) frameBytes() int64 { return int64(i.Channels * i.BitsPerSample / 8) }

// layout is what a scan of the chunks found, beyond Info: the raw size fields
// and where the data chunk's declared extent ends, for Repair.
type layout struct {
	Info
	fileSize     int64
	riffSize     int64 // as declared
	dataDeclared int64 // as declared
}

// ReadInfo reads the header of the WAVE file that starts at offset 0 of r and
// describes its format and the extent of its data. It accepts integer PCM
// (WAVE_FORMAT_PCM, or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format) of 8 to
// 32 bits, skips chunks it does not know (LIST, fact, cue, …) with their pad
// byte, and finds the "fmt " chunk before or after the data chunk.
//
// DataBytes is the declared size of the data chunk, cut to what the file
// holds and to whole frames, so that a truncated file or the streaming
// placeholder size 0xFFFFFFFF reads as the samples actually present; a file
// whose writer died before its first Flush declares 0 bytes (see Repair).
//
// Errors wrap ErrFormat for input that is not a WAVE file or is malformed,
// ErrUnsupported for other encodings, or the error of r.
func ReadInfo(r io.ReadSeeker) (Info, error) {
	l, err := scan(r)
	return l.Info, err
}

func scan(r io.ReadSeeker) (layout, error) {
	var l layout
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return l, fmt.Errorf("wav: find file size: %w", err)
	}
	l.fileSize = size
	var hdr [12]byte
	if err := readAt(r, hdr[:], 0); err != nil {
		return l, err
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return l, fmt.Errorf("%w: no RIFF/WAVE header", ErrFormat)
	}
	l.riffSize = int64(binary.LittleEndian.Uint32(hdr[4:]))

	var haveFmt, haveData bool
	// Chunk headers are read up to the end of the file rather than the
	// end the RIFF size declares: that size is wrong in a file cut short.
	for pos := int64(12); pos+8 <= size; {
		var ch [8]byte
		if err := readAt(r, ch[:], pos); err != nil {
			return l, err
		}
		id := string(ch[0:4])
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		body := pos + 8
		switch {
		case id == "fmt " && !haveFmt:
			if err := l.readFmt(r, body, n); err != nil {
				return l, err
			}
			haveFmt = true
		case id == "data" && !haveData:
			l.DataOffset, l.dataDeclared = body, n
			haveData = true
		}
		if haveFmt && haveData {
			break
		}
		// Every chunk is padded to an even size (RIFF §2 "chunks").
		pos = body + n + n&1
	}
	if !haveFmt {
		return l, fmt.Errorf("%w: no fmt chunk", ErrFormat)
	}
	if !haveData {
		return l, fmt.Errorf("%w: no data chunk", ErrFormat)
	}
	fb := l.frameBytes()
	l.DataBytes = min(l.dataDeclared, size-l.DataOffset) / fb * fb
	return l, nil
}

// readFmt parses a "fmt " chunk body of n bytes at off (WAVE spec §3,
// <fmt-ck>; WAVE_FORMAT_EXTENSIBLE per Microsoft's WAVEFORMATEXTENSIBLE).
func (l *layout) readFmt(r io.ReadSeeker, off, n int64) error {
	if n < fmtPCMSize {
		return fmt.Errorf("%w: fmt chunk of %d bytes", ErrFormat, n)
	}
	var b [40]byte
	m := min(n, int64(len(b)))
	if err := readAt(r, b[:m], off); err != nil {
		return err
	}
	format := binary.LittleEndian.Uint16(b[0:])
	channels := int(binary.LittleEndian.Uint16(b[2:]))
	rate := int64(binary.LittleEndian.Uint32(b[4:]))
	align := int(binary.LittleEndian.Uint16(b[12:]))
	bits := int(binary.LittleEndian.Uint16(b[14:]))
	if format == formatExtens {
		// cbSize ≥ 22: valid bits, channel mask, then the sub-format
		// GUID whose first two bytes are the format code.
		if m < 40 {
			return fmt.Errorf("%w: short WAVE_FORMAT_EXTENSIBLE fmt chunk", ErrFormat)
		}
		format = binary.LittleEndian.Uint16(b[24:])
	}
	if format != formatPCM {
		return fmt.Errorf("%w: format tag %#04x", ErrUnsupported, format)
	}
	switch {
	case channels == 0 || rate == 0:
		return fmt.Errorf("%w: %d channels at %d Hz", ErrFormat, channels, rate)
	case bits != 8 && bits != 16 && bits != 24 && bits != 32:
		return fmt.Errorf("%w: %d bits per sample", ErrUnsupported, bits)
	case align != channels*bits/8:
		return fmt.Errorf("%w: block align %d for %d channels of %d bits", ErrFormat, align, channels, bits)
	}
	l.SampleRate, l.Channels, l.BitsPerSample = int(rate), channels, bits
	return nil
}

// ReadPCM16 reads the WAVE file at offset 0 of r, which must be 16-bit PCM,
// and returns its description and all of its data (Info.DataBytes) as
// interleaved samples. The slice is newly allocated and owned by the caller.
// Errors are those of ReadInfo; a file of another sample size gives
// ErrUnsupported.
func ReadPCM16(r io.ReadSeeker) (Info, []int16, error) {
	info, err := ReadInfo(r)
	if err != nil {
		return info, nil, err
	}
	if info.BitsPerSample != 16 {
		return info, nil, fmt.Errorf("%w: %d bits per sample, want 16", ErrUnsupported, info.BitsPerSample)
	}
	if _, err := r.Seek(info.DataOffset, io.SeekStart); err != nil {
		return info, nil, fmt.Errorf("wav: seek to data: %w", err)
	}
	// DataBytes is bounded by the file's size, so this is no larger than
	// the file.
	pcm := make([]int16, info.DataBytes/2)
	var buf [bufSize]byte
	for out := pcm; len(out) > 0; {
		b := buf[:min(len(buf), 2*len(out))]
		if _, err := io.ReadFull(r, b); err != nil {
			return info, nil, fmt.Errorf("wav: read data: %w", err)
		}
		for i := range len(b) / 2 {
			out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		out = out[len(b)/2:]
	}
	return info, pcm, nil
}

func readAt(r io.ReadSeeker, b []byte, off int64) error {
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("wav: seek to %d: %w", off, err)
	}
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w: truncated at offset %d", ErrFormat, off)
		}
		return fmt.Errorf("wav: read at %d: %w", off, err)
	}
	return nil
}
