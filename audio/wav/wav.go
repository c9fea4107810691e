// Package wav reads and writes RIFF/WAVE files of 16-bit linear PCM, mono or
// interleaved stereo: the container of a call's rendered recording.
//
// It sits at the end of the rendering pipeline: the render stage decodes and
// resamples each leg (codec, audio), interleaves the two sides and streams
// them through a Writer into the recording's file, which the blob store then
// keeps. ReadInfo and ReadPCM16 read such files back for the waveform API and
// for tests, and Repair fixes the header of a file whose writer was killed.
//
// The format is the one defined in Microsoft/IBM "Multimedia Programming
// Interface and Data Specifications 1.0" (1991), §3 "Waveform Audio File
// Format": a RIFF chunk of form type WAVE holding a "fmt " chunk
// (WAVE_FORMAT_PCM) and a "data" chunk, all sizes little-endian 32-bit, every
// chunk padded to an even length. Files of 4 GiB or more (RF64) are not
// supported.
package wav

import "errors"

var (
	// ErrFormat is returned (wrapped) for input that is not a well-formed
	// RIFF/WAVE file.
	ErrFormat = errors.New("wav: not a valid WAVE file")
	// ErrUnsupported is returned (wrapped) for a well-formed WAVE file in
	// an encoding this package does not handle (compressed, floating
	// point, or not 16-bit where 16-bit is needed).
	ErrUnsupported = errors.New("wav: unsupported WAVE encoding")
	// ErrTooLarge is returned by Writer.Write, with nothing written, when
	// the samples would take the file past the 4 GiB that the 32-bit RIFF
	// size fields can describe. The file written so far stays valid.
	ErrTooLarge = errors.New("wav: data too large for a RIFF file")

	errClosed = errors.New("wav: write to closed Writer")
)

// Layout of the canonical 44-byte header the Writer produces.
const (
	headerSize    = 44
	riffSizeOff   = 4  // RIFF chunk size: file size − 8
	dataSizeOff   = 40 // data chunk size in bytes
	fmtPCMSize    = 16 // size of a WAVE_FORMAT_PCM fmt chunk body
	formatPCM     = 1  // WAVE_FORMAT_PCM
	formatExtens  = 0xFFFE
	maxRIFFSize   = 0xFFFFFFFF
	bitsPerSample = 16
)
