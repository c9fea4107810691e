package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRanges bounds the ranges of one Range header; more are refused (416)
// rather than answered with a multipart body of that many parts.
const maxRanges = 16

// byteRange is a satisfiable range of a file: first to last, inclusive.
type byteRange struct{ first, last int64 }

// rangeVerdict is what to do with a Range header (RFC 9110 §14.2).
type rangeVerdict int

const (
	rangeNone          rangeVerdict = iota // no usable Range: serve the whole file
	rangeOK                                // serve the ranges
	rangeUnsatisfiable                     // answer 416 with Content-Range: bytes */size
)

// parseRange reads the value of a Range header for a file of size bytes.
// It is stricter than net/http's parser in what it forwards and kinder in
// what it accepts: the unit is matched without case, numbers of any length
// saturate instead of failing, ranges that cannot be satisfied (a suffix of
// zero, a start past the end) are dropped, and the header asks for nothing
// satisfiable only if it is valid and none is left. A header that does not
// parse, or names another unit, is ignored (rangeNone), as §14.2 allows.
func parseRange(h string, size int64) ([]byteRange, rangeVerdict) {
	unit, set, ok := strings.Cut(h, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return nil, rangeNone
	}
	var out []byteRange
	n := 0
	for spec := range strings.SplitSeq(set, ",") {
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue // §5.6.1: empty list elements are ignored
		}
		if n++; n > maxRanges {
			return nil, rangeUnsatisfiable
		}
		a, b, ok := strings.Cut(spec, "-")
		if !ok {
			return nil, rangeNone
		}
		switch {
		case a == "": // suffix: the last b bytes
			l, ok := digits(b)
			if !ok {
				return nil, rangeNone
			}
			if l > 0 && size > 0 {
				out = append(out, byteRange{size - min(l, size), size - 1})
			}
		default:
			first, ok := digits(a)
			if !ok {
				return nil, rangeNone
			}
			last := int64(-1)
			if b != "" {
				if last, ok = digits(b); !ok || last < first {
					return nil, rangeNone
				}
			}
			if first < size {
				if last < 0 || last >= size {
					last = size - 1
				}
				out = append(out, byteRange{first, last})
			}
		}
	}
	if n == 0 {
		return nil, rangeNone
	}
	if len(out) == 0 {
		return nil, rangeUnsatisfiable
	}
	return out, rangeOK
}

// digits parses a non-empty string of ASCII digits, saturating at 2^62.
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v < 1<<62/10 {
			v = v*10 + int64(c-'0')
		} else {
			v = 1 << 62
		}
	}
	return v, true
}

// header writes ranges as a Range header value in canonical form.
func rangeHeader(rs []byteRange) string {
	var b strings.Builder
	b.WriteString("bytes=")
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.first, 10))
		b.WriteByte('-')
		b.WriteString(strconv.FormatInt(r.last, 10))
	}
	return b.String()
}

// ifRangeHolds reports whether the If-Range header of r, if any, matches
// the file's strong ETag or its modification time (RFC 9110 §13.1.5): when
// it does not, the Range header is ignored and the whole file is sent.
func ifRangeHolds(r *http.Request, etag string, mod time.Time) bool {
	ir := r.Header.Get("If-Range")
	if ir == "" {
		return true
	}
	if strings.HasPrefix(ir, `"`) {
		return etag != "" && ir == etag
	}
	t, err := http.ParseTime(ir)
	return err == nil && !mod.IsZero() && t.Equal(mod.Truncate(time.Second))
}
