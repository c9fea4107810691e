package capture

import (
	"fmt"
	"io"
	"math/bits"
	"time"
)

// Block types, draft-ietf-opsawg-pcapng §11.1.
const (
	ngSHB = 0x0a0d0d0a // Section Header Block, §4.1
	ngIDB = 0x00000001 // Interface Description Block, §4.2
	ngOPB = 0x00000002 // Packet Block (obsolete), Appendix A
	ngSPB = 0x00000003 // Simple Packet Block, §4.4
	ngEPB = 0x00000006 // Enhanced Packet Block, §4.3
	ngBOM = 0x1a2b3c4d // Byte-Order Magic, §4.1
)

// IDB option codes, §4.2.
const (
	optEnd      = 0
	optTSResol  = 9
	optTSOffset = 14
)

// ngIface is what the reader keeps of an Interface Description Block.
type ngIface struct {
	link    uint32
	snaplen uint32
	ups     uint64 // timestamp units per second (if_tsresol)
	nsMul   uint64 // nanoseconds per unit when whole, else 0
	offset  int64  // seconds added to every timestamp (if_tsoffset)
}

// time converts a 64-bit pcapng timestamp of this interface.
func (ifc *ngIface) time(ts uint64) time.Time {
	var sec, frac uint64
	switch ifc.ups { // constant divisors compile to multiplications
	case 1e6:
		sec, frac = ts/1e6, ts%1e6
	case 1e9:
		sec, frac = ts/1e9, ts%1e9
	default:
		sec, frac = ts/ifc.ups, ts%ifc.ups
	}
	var nsec uint64
	if ifc.nsMul != 0 {
		nsec = frac * ifc.nsMul
	} else {
		// frac < ups, so the 128-bit quotient fits 64 bits.
		hi, lo := bits.Mul64(frac, 1e9)
		nsec, _ = bits.Div64(hi, lo, ifc.ups)
	}
	return time.Unix(int64(sec)+ifc.offset, int64(nsec)).UTC()
}

// readPcapng returns the frame of the next packet block, handling the
// section and interface blocks before it and skipping the other blocks.
func (s *fileSource) readPcapng() (Frame, error) {
	for {
		// §3.1: every block has a type, a length and a trailing copy of the
		// length, so is at least 12 bytes long.
		if s.w-s.r < 12 {
			if err := s.fill(12); err != nil {
				return Frame{}, s.end(err)
			}
		}
		b := s.buf[s.r:s.w]
		typ := s.u32(b) // the SHB type reads the same in either byte order
		if typ == ngSHB {
			if err := s.readSHB(); err != nil {
				return Frame{}, err
			}
			continue
		}
		blen := s.u32(b[4:])
		if blen < 12 || blen%4 != 0 {
			return Frame{}, s.corrupt("block type 0x%x has length %d", typ, blen)
		}
		switch typ {
		case ngEPB, ngOPB, ngSPB:
			return s.readPacketBlock(typ, blen)
		case ngIDB:
			if err := s.readIDB(blen); err != nil {
				return Frame{}, err
			}
		default:
			if err := s.skipBlock(blen); err != nil {
				return Frame{}, err
			}
		}
	}
}

// block makes the whole block of length blen (at most maxBlockLen) available
// and checks its trailing length; it returns the block's bytes.
func (s *fileSource) block(typ, blen, minLen uint32) ([]byte, error) {
	if blen < minLen || blen > maxBlockLen {
		return nil, s.corrupt("block type 0x%x has length %d", typ, blen)
	}
	n := int(blen)
	if s.w-s.r < n {
		if err := s.fill(n); err != nil {
			return nil, s.end(err) // io.EOF is impossible: 12 bytes are there
		}
	}
	b := s.buf[s.r : s.r+n : s.r+n]
	if t := s.u32(b[n-4:]); t != blen {
		return nil, s.corrupt("block type 0x%x has length %d but trailing length %d", typ, blen, t)
	}
	return b, nil
}

// readPacketBlock reads an Enhanced (§4.3), Simple (§4.4) or obsolete
// (Appendix A) Packet Block.
func (s *fileSource) readPacketBlock(typ, blen uint32) (Frame, error) {
	var minLen uint32 = 32
	if typ == ngSPB {
		minLen = 16
	}
	b, err := s.block(typ, blen, minLen)
	if err != nil {
		return Frame{}, err
	}
	var (
		id           uint32
		caplen, orig uint32
		data         []byte
		t            time.Time
	)
	if typ == ngSPB {
		// §4.4: no interface field (it is interface 0), no timestamp, and a
		// captured length implied by the block length and the snap length.
		orig = s.u32(b[8:])
		caplen = min(orig, blen-16)
		if len(s.ifaces) > 0 && s.ifaces[0].snaplen != 0 {
			caplen = min(caplen, s.ifaces[0].snaplen)
		}
		if caplen > maxCapLen {
			return Frame{}, s.corrupt("captured length %d exceeds %d", caplen, maxCapLen)
		}
		data = b[12 : 12+caplen : 12+caplen]
		t = s.lastTime
	} else {
		if typ == ngEPB {
			id = s.u32(b[8:])
		} else {
			id = uint32(s.u16(b[8:]))
		}
		caplen, orig = s.u32(b[20:]), s.u32(b[24:])
		if caplen > maxCapLen {
			return Frame{}, s.corrupt("captured length %d exceeds %d", caplen, maxCapLen)
		}
		if caplen > blen-32 {
			return Frame{}, s.corrupt("captured length %d exceeds block length %d", caplen, blen)
		}
		if caplen > orig {
			return Frame{}, s.corrupt("captured length %d exceeds original length %d", caplen, orig)
		}
		data = b[28 : 28+caplen : 28+caplen]
	}
	if id >= uint32(len(s.ifaces)) {
		return Frame{}, s.corrupt("packet of interface %d, but the section describes %d", id, len(s.ifaces))
	}
	ifc := &s.ifaces[id]
	if typ != ngSPB {
		t = ifc.time(uint64(s.u32(b[12:]))<<32 | uint64(s.u32(b[16:])))
		s.lastTime = t
	}
	s.r += int(blen)
	return Frame{Data: data, Time: t, Link: ifc.link, Orig: int(orig), Iface: int(id)}, nil
}

// readSHB reads a Section Header Block (§4.1), which sets the byte order of
// its section and starts a new list of interfaces.
func (s *fileSource) readSHB() error {
	if err := s.fill(16); err != nil {
		return s.end(err)
	}
	b := s.buf[s.r : s.r+16]
	switch {
	case b[8] == 0x1a && b[9] == 0x2b && b[10] == 0x3c && b[11] == 0x4d:
		s.big = true
	case b[8] == 0x4d && b[9] == 0x3c && b[10] == 0x2b && b[11] == 0x1a:
		s.big = false
	default:
		return s.corrupt("section header has byte-order magic 0x%x", b[8:12])
	}
	blen := s.u32(b[4:])
	if major := s.u16(b[12:]); major != 1 {
		return s.corrupt("unsupported pcapng version %d.%d", major, s.u16(b[14:]))
	}
	// Section length (8 bytes) and options follow; none of them matter here.
	if blen < 28 || blen%4 != 0 {
		return s.corrupt("section header has length %d", blen)
	}
	s.ifaces = s.ifaces[:0]
	return s.skipBlock(blen)
}

// readIDB reads an Interface Description Block (§4.2).
func (s *fileSource) readIDB(blen uint32) error {
	b, err := s.block(ngIDB, blen, 20)
	if err != nil {
		return err
	}
	if len(s.ifaces) >= maxInterfaces {
		return s.corrupt("more than %d interfaces in a section", maxInterfaces)
	}
	ifc := ngIface{
		link:    uint32(s.u16(b[8:])),
		snaplen: s.u32(b[12:]),
		ups:     1e6, // §4.2 if_tsresol: default 6, microseconds
		nsMul:   1e3,
	}
	// §3.5 options: code, length, value padded to 32 bits. A malformed
	// option list ends the options; the interface itself stays usable.
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, olen := s.u16(opts), int(s.u16(opts[2:]))
		if code == optEnd || 4+olen > len(opts) {
			break
		}
		v := opts[4 : 4+olen]
		switch {
		case code == optTSResol && olen == 1:
			if !ifc.setResolution(v[0]) {
				return s.corrupt("interface %d has if_tsresol 0x%02x", len(s.ifaces), v[0])
			}
		case code == optTSOffset && olen == 8:
			ifc.offset = int64(s.u64(v))
		}
		opts = opts[min(len(opts), 4+(olen+3)&^3):]
	}
	s.ifaces = append(s.ifaces, ifc)
	s.r += int(blen)
	return nil
}

// setResolution applies an if_tsresol value (§4.2): a power of ten, or of two
// when the top bit is set. It reports false for resolutions finer than a
// 64-bit count of units per second can express.
func (ifc *ngIface) setResolution(v byte) bool {
	e := uint(v & 0x7f)
	if v&0x80 != 0 {
		if e > 63 {
			return false
		}
		ifc.ups, ifc.nsMul = 1<<e, 0
		if e == 0 {
			ifc.nsMul = 1e9
		}
		return true
	}
	if e > 19 {
		return false
	}
	ifc.ups = 1
	for range e {
		ifc.ups *= 10
	}
	ifc.nsMul = 0
	if e <= 9 {
		ifc.nsMul = 1e9 / ifc.ups
	}
	return true
}

// skipBlock consumes a block of length blen without holding it in memory and
// checks its trailing length.
func (s *fileSource) skipBlock(blen uint32) error {
	start := s.base + int64(s.r)
	rem := int64(blen) - 4
	for rem > 0 {
		if s.r == s.w {
			if err := s.fill(1); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return s.end(err)
			}
		}
		k := min(int64(s.w-s.r), rem)
		s.r += int(k)
		rem -= k
	}
	if s.w-s.r < 4 {
		if err := s.fill(4); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return s.end(err)
		}
	}
	if t := s.u32(s.buf[s.r:]); t != blen {
		s.err = &corruptError{name: s.name, offset: start,
			msg: fmt.Sprintf("block has length %d but trailing length %d", blen, t)}
		return s.err
	}
	s.r += 4
	return nil
}
