package capture

import (
	"io"
	"time"
)

// readPcapHeader reads the 24-byte file header (draft-ietf-opsawg-pcap §4).
// A stream cut inside it is a capture with no frames.
func (s *fileSource) readPcapHeader() error {
	if err := s.fill(24); err != nil {
		if err == io.ErrUnexpectedEOF {
			s.end(err)
			return nil
		}
		return s.readError(err)
	}
	b := s.buf[s.r : s.r+24]
	s.big = b[0] == 0xa1
	s.hdrLen = 16
	switch s.u32(b) {
	case 0xa1b23c4d:
		s.nano = true
	case 0xa1b2cd34:
		// Alexey Kuznetzov's patched libpcap: each record header carries 8
		// more bytes (ifindex, protocol, packet type, padding).
		s.hdrLen = 24
	}
	major, minor := s.u16(b[4:]), s.u16(b[6:])
	if major != 2 {
		return s.corrupt("unsupported pcap version %d.%d", major, minor)
	}
	// §4: the LinkType field's upper 4 bits carry the FCS length and its
	// flag; the link type is the lower 28 bits.
	s.link = s.u32(b[20:]) & 0x0fffffff
	s.r += 24
	return nil
}

// readPcap reads one packet record (draft-ietf-opsawg-pcap §5).
func (s *fileSource) readPcap() (Frame, error) {
	h := s.hdrLen
	if s.w-s.r < h {
		if err := s.fill(h); err != nil {
			return Frame{}, s.end(err)
		}
	}
	b := s.buf[s.r : s.r+16]
	sec, frac := s.u32(b[0:]), s.u32(b[4:])
	caplen, orig := s.u32(b[8:]), s.u32(b[12:])
	if caplen > maxCapLen {
		return Frame{}, s.corrupt("captured length %d exceeds %d", caplen, maxCapLen)
	}
	if caplen > orig {
		return Frame{}, s.corrupt("captured length %d exceeds original length %d", caplen, orig)
	}
	n := h + int(caplen)
	if s.w-s.r < n {
		if err := s.fill(n); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Frame{}, s.end(err)
		}
	}
	data := s.buf[s.r+h : s.r+n : s.r+n]
	s.r += n
	nsec := int64(frac)
	if !s.nano {
		nsec *= 1000
	}
	// §5: the seconds field is unsigned, so it runs to 2106.
	return Frame{
		Data: data,
		Time: time.Unix(int64(sec), nsec).UTC(),
		Link: s.link,
		Orig: int(orig),
	}, nil
}
