package codec

import "strings"

// Canonical returns the one spelling spanrec uses for an rtpmap encoding
// name, whose case SDP does not fix (RFC 4566 §6, RFC 4855 §3: encoding
// names are case-insensitive): upper case, as Lookup's codecs are named
// ("pcma" and "PCMA" are one codec, "PCMA"), except telephone-event (RFC
// 4733), which keeps its registered lower-case spelling. Surrounding
// blanks are trimmed.
func Canonical(name string) string {
	name = strings.TrimSpace(name)
	if strings.EqualFold(name, "telephone-event") {
		return "telephone-event"
	}
	return strings.ToUpper(name)
}
