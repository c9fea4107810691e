package sipmsg

import "bytes"

// DefaultMaxMessage is the largest message a zero Framer buffers.
const DefaultMaxMessage = 64 << 10

// Framer splits one direction of a TCP connection into SIP messages by Content-Length (RFC 3261 §18.3). It takes
// the stream in order, in pieces of any size: several messages in one segment and one message over several
// segments both work. CRLF keep-alives between messages (RFC 5626 §3.5.1) are skipped, and bytes that do not
// start a SIP message (a capture that began mid-message, a lost segment) are skipped up to the next line that
// Looks like a SIP start line.
//
// A message larger than MaxMessage is dropped, with the stream resynchronised on the next start line. A message
// without Content-Length is taken to have no body.
//
// The zero Framer is ready to use. A Framer is not safe for concurrent use; give each stream direction its own.
type Framer struct {
	// MaxMessage bounds the bytes buffered for one message; 0 means DefaultMaxMessage.
	MaxMessage int

	buf   []byte
	stats FramerStats
}

// FramerStats counts what a Framer did.
type FramerStats struct {
	Messages   uint64 // messages emitted
	KeepAlives uint64 // runs of CRLF between messages
	Resyncs    uint64 // times bytes were skipped to find a start line
	Skipped    uint64 // bytes skipped while resynchronising (not counting keep-alives)
	Overflows  uint64 // messages dropped for exceeding MaxMessage
}

// Buffered returns how many bytes the Framer holds of a message not yet
// complete.
func (f *Framer) Buffered() int { return len(f.buf) }

// Drop forgets the bytes buffered (a recorder short of memory gives up on
// the message); the Framer resynchronises on the next start line. The
// counts are kept.
func (f *Framer) Drop() {
	if len(f.buf) > 0 {
		f.stats.Resyncs++
		f.stats.Skipped += uint64(len(f.buf))
	}
	f.buf = nil
}

// Stats returns the counts since the Framer was created.
func (f *Framer) Stats() FramerStats { return f.stats }

// Write feeds the next bytes of the stream and calls emit for each complete message, start line to the end of its
// body. msg is valid only during emit: it may point into data or into the Framer's buffer. Write does not retain
// data; what is incomplete is copied.
func (f *Framer) Write(data []byte, emit func(msg []byte)) {
	if len(f.buf) == 0 {
		rest := f.frame(data, emit)
		f.buf = append(f.buf[:0], rest...)
		return
	}
	f.buf = append(f.buf, data...)
	rest := f.frame(f.buf, emit)
	n := copy(f.buf, rest)
	f.buf = f.buf[:n]
	if cap(f.buf) > 2*f.max() && n < f.max() {
		f.buf = append([]byte(nil), f.buf...)
	}
}

func (f *Framer) max() int {
	if f.MaxMessage > 0 {
		return f.MaxMessage
	}
	return DefaultMaxMessage
}

// frame emits the complete messages at the start of p and returns what is left to wait for.
func (f *Framer) frame(p []byte, emit func([]byte)) []byte {
	for len(p) > 0 {
		// RFC 3261 §7.5: CRLFs before a start line are ignored; RFC 5626 §3.5.1: CRLFCRLF ping, CRLF pong.
		if p[0] == '\r' || p[0] == '\n' {
			i := 0
			for i < len(p) && (p[i] == '\r' || p[i] == '\n') {
				i++
			}
			f.stats.KeepAlives++
			p = p[i:]
			continue
		}
		eol := bytes.IndexByte(p, '\n')
		if eol < 0 {
			if len(p) > f.max() {
				f.stats.Overflows++
				f.stats.Resyncs++
				f.stats.Skipped += uint64(len(p))
				return nil
			}
			return p // wait for the whole start line
		}
		if !Looks(p[:eol+1]) {
			p = f.resync(p)
			continue
		}
		hdrEnd := headerEnd(p)
		if hdrEnd < 0 {
			if len(p) > f.max() {
				f.stats.Overflows++
				p = f.resync(p)
				continue
			}
			return p
		}
		total := hdrEnd + contentLength(p[:hdrEnd])
		if total > f.max() || total < hdrEnd {
			f.stats.Overflows++
			p = f.resync(p)
			continue
		}
		if len(p) < total {
			return p
		}
		f.stats.Messages++
		emit(p[:total:total])
		p = p[total:]
	}
	return nil
}

// resync skips p's first line and what follows up to the next line that Looks like a start line; it returns the
// rest, which is empty or starts with that line or with an incomplete last line.
func (f *Framer) resync(p []byte) []byte {
	f.stats.Resyncs++
	skipped := 0
	for {
		eol := bytes.IndexByte(p, '\n')
		if eol < 0 {
			if len(p) > f.max() {
				skipped += len(p)
				p = nil
			}
			break
		}
		skipped += eol + 1
		p = p[eol+1:]
		if len(p) > 0 && (p[0] == '\r' || p[0] == '\n') {
			// CRs and LFs before a start line are skipped by frame
			// (RFC 3261 §7.5) whether or not they end a write: judging
			// the line after them here, with them, would frame a stream
			// differently depending on where it was split.
			break
		}
		next := bytes.IndexByte(p, '\n')
		if next >= 0 && Looks(p[:next+1]) {
			break
		}
		if next < 0 && couldStartSIP(p) {
			break
		}
	}
	f.stats.Skipped += uint64(skipped)
	return p
}

// couldStartSIP reports whether p, an incomplete line, may grow into a SIP start line.
func couldStartSIP(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	const v = "SIP/2.0 "
	if len(p) < len(v) && hasPrefixFold([]byte(v), string(p)) {
		return true
	}
	if hasPrefixFold(p, v) {
		return true
	}
	i := 0
	for i < len(p) && isToken(p[i]) {
		i++
	}
	return i > 0 && (i == len(p) || p[i] == ' ')
}

// headerEnd returns the length of p's start line and header section including the empty line, or -1 when the
// empty line has not arrived. Lines may end in CRLF or LF.
func headerEnd(p []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			return -1
		}
		next := i + j + 1
		if next < len(p) && p[next] == '\n' {
			return next + 1
		}
		if next+1 < len(p) && p[next] == '\r' && p[next+1] == '\n' {
			return next + 2
		}
		i = next
	}
}

// contentLength returns the Content-Length (or compact "l", RFC 3261 §7.3.3) of a header section, 0 when absent or
// malformed.
func contentLength(hdr []byte) int {
	for i := 0; i < len(hdr); {
		j := bytes.IndexByte(hdr[i:], '\n')
		if j < 0 {
			return 0
		}
		line := hdr[i : i+j]
		i += j + 1
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := bytes.TrimRight(line[:colon], " \t")
		if (len(name) == 1 && lower(name[0]) == 'l') || (len(name) == 14 && hasPrefixFold(name, "content-length")) {
			v := bytes.TrimSpace(line[colon+1:])
			n := 0
			for _, c := range v {
				if !isDigit(c) {
					return 0
				}
				if n > 1<<30 {
					return 1 << 30 // more than any MaxMessage: an overflow
				}
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	return 0
}
