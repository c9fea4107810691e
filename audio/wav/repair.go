package wav

import (
	"encoding/binary"
	"fmt"
	"os"
)

// Repair fixes the size fields of a WAVE file cut short, typically one whose
// Writer was killed between two Flushes: the RIFF size and the data size are
// set from the file's length, and a trailing partial frame is truncated
// away. The data chunk is taken to run to the end of the file unless the
// bytes after its declared end are a well-formed sequence of chunks (such as
// a LIST chunk appended by an editor), in which case only the RIFF size is
// set. It reports whether it changed the file; a valid file is left as it is.
//
// Repair needs the file's "fmt " chunk and data chunk header; a file cut
// inside them cannot be repaired and gives an error wrapping ErrFormat. It
// returns an error wrapping ErrTooLarge when the data would not fit the
// 32-bit size fields. It does not sync f.
func Repair(f *os.File) (bool, error) {
	l, err := scan(f)
	if err != nil {
		return false, fmt.Errorf("repair %s: %w", f.Name(), err)
	}
	declaredEnd := l.DataOffset + l.dataDeclared + l.dataDeclared&1
	end, data := l.fileSize, l.dataDeclared
	if declaredEnd > l.fileSize || !chunksToEOF(f, declaredEnd, l.fileSize) {
		// The data chunk is the last one and runs to the end of the
		// file, in whole frames.
		fb := l.frameBytes()
		data = (l.fileSize - l.DataOffset) / fb * fb
		end = l.DataOffset + data
	}
	riff := end - 8
	if riff > maxRIFFSize {
		return false, fmt.Errorf("repair %s: %w", f.Name(), ErrTooLarge)
	}
	if end == l.fileSize && riff == l.riffSize && data == l.dataDeclared {
		return false, nil
	}
	if end != l.fileSize {
		if err := f.Truncate(end); err != nil {
			return false, fmt.Errorf("wav: repair: %w", err)
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(riff))
	if _, err := f.WriteAt(b[:], riffSizeOff); err != nil {
		return true, fmt.Errorf("wav: repair: %w", err)
	}
	binary.LittleEndian.PutUint32(b[:], uint32(data))
	if _, err := f.WriteAt(b[:], l.DataOffset-4); err != nil {
		return true, fmt.Errorf("wav: repair: %w", err)
	}
	return true, nil
}

// chunksToEOF reports whether the bytes of f from pos to size are one or more
// chunks, each with a printable four-character code, ending exactly at size.
// Audio samples left after a stale data size essentially never look like
// this, and silence (zero bytes) never does.
func chunksToEOF(f *os.File, pos, size int64) bool {
	if pos >= size {
		return pos == size
	}
	for pos < size {
		var ch [8]byte
		if pos+8 > size {
			return false
		}
		if _, err := f.ReadAt(ch[:], pos); err != nil {
			return false
		}
		for _, c := range ch[:4] {
			if c < ' ' || c > '~' {
				return false
			}
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		pos += 8 + n + n&1
		// The last chunk may lack its pad byte.
		if pos == size+1 && n&1 == 1 {
			return true
		}
	}
	return pos == size
}
