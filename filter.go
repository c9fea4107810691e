package spanrec

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of search terms: a number is a dial string (extensions have up to
// 32 characters), a codec an encoding name, an interaction a call ID.
const (
	maxFilterNumber = 64
	maxFilterCodec  = 32
	maxFilterID     = 64
	maxFilterNote   = 200 // the text looked for in notes
	maxTagLen       = 40
	// MaxSensor bounds a sensor's name (spanrec record --sensor).
	MaxSensor = 64
)

// MinIDPrefix is the fewest leading characters of a call ID that name it
// where a call ID is asked for (spanrec show, GET /api/calls/{id}).
const MinIDPrefix = 6

// MaxIDCandidates is how many of the calls an ambiguous ID prefix names
// IDPrefixAmbiguous lists.
const MaxIDCandidates = 10

// IDPrefixTooShort is a call index's error for id, which no call has and
// which is shorter than MinIDPrefix, so names no call either: of kind
// ENOTFOUND (id may be a whole ID that is not, or no longer, there), its
// message says how long a prefix must be.
func IDPrefixTooShort(id CallID) error {
	return Errorf(ENOTFOUND, "no call %s (a prefix of a call ID must have at least %d of its characters)", truncate(string(id), 64), MinIDPrefix)
}

// IDPrefixAmbiguous is a call index's error (EINVALID) for a prefix that
// names several calls: ids are the first of them in order, up to
// MaxIDCandidates+1 (the one more tells that there are more), and the
// message lists up to MaxIDCandidates.
func IDPrefixAmbiguous(prefix CallID, ids []CallID) error {
	n := fmt.Sprint(len(ids))
	if len(ids) > MaxIDCandidates {
		n, ids = fmt.Sprintf("more than %d", MaxIDCandidates), ids[:MaxIDCandidates]
	}
	list := make([]string, len(ids))
	for i, c := range ids {
		list[i] = string(c)
	}
	return Errorf(EINVALID, "the call ID prefix %s names %s calls (%s): give more of the ID", prefix, n, strings.Join(list, ", "))
}

// FilterParams are the names of the search terms CallFilter.Set takes: the
// query parameters of GET /api/calls and, spelt with '-' for '_', the flags
// of spanrec calls (which calls from --since and to --until).
var FilterParams = []string{
	"from", "to", "number", "direction", "status", "status_code", "hangup_by",
	"min_duration", "max_duration", "min_pdd", "max_pdd", "min_ring", "max_ring",
	"codec", "has_loss", "signalling", "interaction", "group", "tag", "note", "sensor", "sort",
	"header", "ua", "call_id", "ip",
}

// Set sets the search term param (one of FilterParams) of f from its text
// value. It is the one parser of call searches, shared by the HTTP API and
// the command line, so that both accept the same values with the same
// meaning. The error, of kind EINVALID, describes the value without naming
// the parameter: the caller names it as its user spells it.
func (f *CallFilter) Set(param, value string) error {
	v, q := value, truncate(value, 64) // q: for messages
	switch param {
	case "from", "to":
		t, err := ParseTime(v)
		if err != nil {
			return err
		}
		if param == "from" {
			f.Since = t
		} else {
			f.Until = t
		}
	case "number":
		if len(v) > maxFilterNumber {
			return Errorf(EINVALID, "longer than %d characters", maxFilterNumber)
		}
		f.Number = v
	case "direction":
		switch d := Direction(v); d {
		case Inbound, Outbound, Internal, Unknown:
			f.Direction = d
		default:
			return Errorf(EINVALID, "%q: want inbound, outbound, internal or unknown", q)
		}
	case "status":
		switch st := Status(v); st {
		case Answered, NoAnswer, Busy, Cancelled, Failed, Ongoing:
			f.Status = st
		default:
			return Errorf(EINVALID, "%q: want answered, no-answer, busy, cancelled, failed or ongoing", q)
		}
	case "min_duration", "max_duration", "min_pdd", "max_pdd", "min_ring", "max_ring":
		d, err := parseDuration(v)
		if err != nil {
			return Errorf(EINVALID, "%q: want seconds (90, 2.5) or a duration (1m30s, 500ms), 0 or more", q)
		}
		switch param {
		case "min_duration":
			f.MinDuration = d
		case "max_duration":
			f.MaxDuration = d
		case "min_pdd":
			f.MinPDD = d
		case "max_pdd":
			f.MaxPDD = d
		case "min_ring":
			f.MinRing = d
		case "max_ring":
			f.MaxRing = d
		}
	case "status_code":
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 699 {
			return Errorf(EINVALID, "%q: want a SIP answer code from 100 to 699", q)
		}
		f.StatusCode = n
	case "hangup_by":
		switch v {
		case string(HangupCaller), string(HangupCallee), string(HangupSystem), "unknown":
			f.HangupBy = v
		default:
			return Errorf(EINVALID, "%q: want caller, callee, system or unknown", q)
		}
	case "codec":
		if len(v) > maxFilterCodec {
			return Errorf(EINVALID, "longer than %d characters", maxFilterCodec)
		}
		f.Codec = v
	case "has_loss":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Errorf(EINVALID, "%q: want true or false", q)
		}
		f.HasLoss = &b
	case "signalling":
		switch v {
		case SignallingSIP, SignallingNone:
			f.Signalling = v
		default:
			return Errorf(EINVALID, "%q: want sip or none", q)
		}
	case "interaction":
		if v == "" || len(v) > maxFilterID {
			return Errorf(EINVALID, "%q: want a call ID", q)
		}
		f.Interaction = CallID(v)
	case "group":
		if v != "interaction" {
			return Errorf(EINVALID, "%q: want interaction", q)
		}
		f.GroupInteraction = true
	case "tag":
		t, err := ParseTag(v)
		if err != nil {
			return err
		}
		f.Tag = t
	case "note":
		if v == "" || len(v) > maxFilterNote {
			return Errorf(EINVALID, "want 1 to %d bytes of text to look for", maxFilterNote)
		}
		f.NoteText = v
	case "sensor":
		if v == "" || len(v) > MaxSensor {
			return Errorf(EINVALID, "want a sensor's name, 1 to %d bytes", MaxSensor)
		}
		f.Sensor = v
	case "header":
		name, value, err := ParseHeaderMatch(v)
		if err != nil {
			return err
		}
		f.HeaderName, f.HeaderValue = HeaderName(name), value
	case "ua":
		if v == "" || len(v) > MaxHeaderValue {
			return Errorf(EINVALID, "want 1 to %d bytes of text to look for", MaxHeaderValue)
		}
		f.UserAgent = v
	case "call_id":
		if v == "" || len(v) > maxFilterCallID {
			return Errorf(EINVALID, "want a SIP Call-ID of 1 to %d bytes", maxFilterCallID)
		}
		f.SIPCallID = v
	case "ip":
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return Errorf(EINVALID, "%q: want an IPv4 or IPv6 address", q)
		}
		f.Addr = a
	case "sort":
		if !slices.Contains(SortKeys, strings.TrimPrefix(v, "-")) {
			return Errorf(EINVALID, "%q: want one of %s, with a leading - for descending", q, strings.Join(SortKeys, ", "))
		}
		f.Sort = v
	default:
		return Errorf(EINVALID, "unknown search term %q", truncate(param, 64))
	}
	return nil
}

// parseDuration reads a duration bound: seconds (a number) or a Go
// duration (1m30s, 500ms); never negative, at most 10^9 s.
func parseDuration(v string) (time.Duration, error) {
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		if x < 0 || x > 1e9 || math.IsNaN(x) {
			return 0, errors.New("out of range")
		}
		return time.Duration(x * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > 1e9*time.Second {
		return 0, errors.New("not a duration")
	}
	return d, nil
}

// Check reports a filter whose bounds contradict each other.
func (f *CallFilter) Check() error {
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return Errorf(EINVALID, "the end of the time range is before its start")
	}
	if f.MaxDuration > 0 && f.MaxDuration < f.MinDuration {
		return Errorf(EINVALID, "the maximum duration is less than the minimum")
	}
	if f.MaxPDD > 0 && f.MaxPDD < f.MinPDD {
		return Errorf(EINVALID, "the maximum post-dial delay is less than the minimum")
	}
	if f.MaxRing > 0 && f.MaxRing < f.MinRing {
		return Errorf(EINVALID, "the maximum ring time is less than the minimum")
	}
	return nil
}

// ParseTag checks a tag (a label people put on calls) and returns its
// canonical form: trimmed, lower case, 1 to 40 letters, digits and
// - _ . : / characters. The error, of kind EINVALID, quotes the tag.
func ParseTag(v string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(v))
	if t == "" || utf8.RuneCountInString(t) > maxTagLen || !utf8.ValidString(t) {
		return "", Errorf(EINVALID, "%q: want 1 to %d characters", truncate(v, 50), maxTagLen)
	}
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_.:/", r) {
			return "", Errorf(EINVALID, "%q: only letters, digits and - _ . : / are allowed", truncate(v, 50))
		}
	}
	return t, nil
}

// Time layouts ParseTime accepts after RFC 3339; times without a zone are
// UTC.
var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseTime reads a time as a user types it: RFC 3339
// (2026-11-01T09:00:00Z, 2026-11-01T10:00:00+01:00), a date (2026-11-01,
// midnight UTC) or a date and time without a zone (2026-11-01T09:00,
// 2026-11-01 09:00:30; UTC). A space may stand for the T. The error is of
// kind EINVALID.
func ParseTime(s string) (time.Time, error) {
	v := s
	if len(v) > 10 && v[10] == ' ' {
		v = v[:10] + "T" + v[11:]
	}
	if len(v) <= 64 {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, nil
		}
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, v); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, Errorf(EINVALID, "%q: want an RFC 3339 time (2026-11-01T09:00:00Z), a date (2026-11-01) or a date and time in UTC (2026-11-01T09:00)", truncate(s, 64))
}

// truncate shortens s to at most n bytes (on a rune boundary) for an error
// message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !isRuneStart(s[i]) {
		i--
	}
	return strings.ToValidUTF8(s[:i], "") + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
