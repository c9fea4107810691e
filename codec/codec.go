// Package codec decodes RTP audio payloads to 16-bit linear PCM; Lookup maps
// SDP names to decoders.
//
// It sits between RTP stream tracking and audio rendering: once SDP (RFC 4566
// rtpmap) or a static payload type (RFC 3551 §6, see Static) has named a
// stream's encoding, Lookup says whether spanrec can decode it and hands out a
// fresh Decoder per stream. The decoders themselves live in one subpackage
// each (g711, g722, l16, gsm, g726, ...), which know nothing of this package.
//
// Codecs are added with Register (fixed parameters) or RegisterFunc (codecs
// whose clock rate or channel count vary). The built-in registrations are the
// one init function in registry.go, one line per encoding name; a new codec
// is a subpackage plus one line there. The registry lives in this package
// (rather than each subpackage registering itself) so that importing codec
// is enough to get every decoder, with no blank imports and no import cycle.
package codec

import (
	"fmt"
	"strings"
	"sync"
)

// A Decoder decodes RTP payloads of one stream to mono 16-bit PCM. It keeps
// state between calls; use one per stream. Not safe for concurrent use.
type Decoder interface {
	// Decode appends the samples of payload to pcm and returns the extended
	// slice. Never panics; a payload that cannot be decoded returns an error
	// (and pcm unchanged). payload is only read during the call.
	Decode(pcm []int16, payload []byte) ([]int16, error)
}

// A Concealer is a Decoder that can stand in for packets that never came:
// frame erasure concealment after speech, or more comfort noise in the
// silences of discontinuous transmission (G.729 Annex B). render uses it
// for the gaps of a stream's timeline when the decoder has it.
type Concealer interface {
	// Conceal appends about samples samples of substitute audio to pcm
	// and returns the extended slice: whole frames, never more than
	// samples plus half a frame. A gap may take several calls; the
	// decoder bounds what it makes up and appends nothing once it has
	// made up enough (G.729: 1 s after speech, 60 s of comfort noise).
	Conceal(pcm []int16, samples int) []int16
}

// A GarbageDetector is a Decoder whose bitstream carries its own checks
// (G.729's pitch parity bit): Garbage reports that the payloads decoded
// lately fail them too often to be this codec at all (encrypted media, or
// another codec's payloads). render's noise guard uses it where decoded
// random bytes do not sound like white noise.
type GarbageDetector interface {
	Garbage() bool
}

// Codec describes a decodable RTP audio encoding.
type Codec struct {
	Name       string // canonical encoding name as in SDP rtpmap ("PCMU", "PCMA", "G722", "L16", "GSM", "G726-32", ...)
	ClockRate  int    // RTP clock rate, Hz (G722: 8000 per RFC 3551 §4.5.2, though audio is 16000)
	Channels   int    // channels in the payload (L16 may be 2: Decode downmixes to mono)
	SampleRate int    // rate of the decoded PCM, Hz (G722: 16000)
	New        func() Decoder
}

// lookupFunc resolves a registered name's clock rate and channel count (0
// already replaced by 1) to a codec.
type lookupFunc func(clockRate, channels int) (Codec, bool)

var registry = struct {
	sync.RWMutex
	m map[string]lookupFunc
}{m: map[string]lookupFunc{}}

// Register adds a codec with fixed parameters: Lookup(c.Name, r, n) returns
// c when r is 0 or c.ClockRate and n is 0 or c.Channels. Names are matched
// case-insensitively. Register panics if c is incomplete or its name is
// already registered: both are programming errors.
func Register(c Codec) {
	if c.ClockRate <= 0 || c.Channels <= 0 || c.SampleRate <= 0 || c.New == nil {
		panic(fmt.Sprintf("codec: Register(%q): incomplete Codec", c.Name))
	}
	RegisterFunc(c.Name, func(clockRate, channels int) (Codec, bool) {
		if (clockRate != 0 && clockRate != c.ClockRate) || channels != c.Channels {
			return Codec{}, false
		}
		return c, true
	})
}

// RegisterFunc adds an encoding name whose decoder depends on the clock rate
// and channel count (L16 takes any). lookup gets a clock rate (0 if the
// caller gave none) and a channel count of at least 1. It panics if the name
// is empty or already registered.
func RegisterFunc(name string, lookup func(clockRate, channels int) (Codec, bool)) {
	key := strings.ToUpper(name)
	registry.Lock()
	defer registry.Unlock()
	if key == "" || registry.m[key] != nil {
		panic(fmt.Sprintf("codec: RegisterFunc(%q): empty or duplicate name", name))
	}
	registry.m[key] = lookup
}

// Alias makes Lookup resolve the encoding name as target, a registered
// name, for the whole process: for equipment that announces one encoding
// and sends another, such as G726-32 packed big-endian like AAL2
// (Alias("G726-32", "AAL2-G726-32")). The codec Lookup returns keeps
// target's Name. It replaces what name resolved to before.
func Alias(name, target string) error {
	key := strings.ToUpper(strings.TrimSpace(name))
	registry.Lock()
	defer registry.Unlock()
	f := registry.m[strings.ToUpper(strings.TrimSpace(target))]
	if f == nil {
		return fmt.Errorf("codec: alias %s: %q is not a codec spanrec decodes", name, target)
	}
	if key == "" {
		return fmt.Errorf("codec: alias to %s: empty name", target)
	}
	registry.m[key] = f
	return nil
}

// Lookup returns the decodable codec for an rtpmap encoding name
// (case-insensitive, RFC 4566 §6 and RFC 3551 §6), clock rate and channel
// count (0 means 1). ok is false for codecs spanrec cannot decode (AMR,
// ... — callers report them) and for parameters a decoder cannot
// honour. registry.go lists what is registered and with which parameters.
func Lookup(name string, clockRate, channels int) (Codec, bool) {
	if channels == 0 {
		channels = 1
	}
	if channels < 0 || clockRate < 0 {
		return Codec{}, false
	}
	registry.RLock()
	f := registry.m[strings.ToUpper(name)]
	registry.RUnlock()
	if f == nil {
		return Codec{}, false
	}
	return f(clockRate, channels)
}

// staticType is an RFC 3551 §6 static payload type assignment.
type staticType struct {
	name      string
	clockRate int
	channels  int // 0 for video
}

// staticTypes is RFC 3551 §6 Tables 4 (audio) and 5 (video); empty entries
// are reserved or unassigned. MPA's channel count is "see text" in Table 4;
// it is given as 1 here.
var staticTypes = [...]staticType{
	0:  {"PCMU", 8000, 1},
	2:  {"G721", 8000, 1}, // RFC 1890; RFC 3551 §4.5.4 leaves 2 unassigned, old gear still sends it (G726-32)
	3:  {"GSM", 8000, 1},
	4:  {"G723", 8000, 1},
	5:  {"DVI4", 8000, 1},
	6:  {"DVI4", 16000, 1},
	7:  {"LPC", 8000, 1},
	8:  {"PCMA", 8000, 1},
	9:  {"G722", 8000, 1},
	10: {"L16", 44100, 2},
	11: {"L16", 44100, 1},
	12: {"QCELP", 8000, 1},
	13: {"CN", 8000, 1},
	14: {"MPA", 90000, 1},
	15: {"G728", 8000, 1},
	16: {"DVI4", 11025, 1},
	17: {"DVI4", 22050, 1},
	18: {"G729", 8000, 1},
	25: {"CelB", 90000, 0},
	26: {"JPEG", 90000, 0},
	28: {"nv", 90000, 0},
	31: {"H261", 90000, 0},
	32: {"MPV", 90000, 0},
	33: {"MP2T", 90000, 0},
	34: {"H263", 90000, 0},
}

// Static returns the RFC 3551 §6 static payload type's encoding name, clock
// rate and channels (0 for video types). ok is false for reserved,
// unassigned and dynamic (96-127) types.
func Static(pt uint8) (name string, clockRate, channels int, ok bool) {
	if int(pt) >= len(staticTypes) || staticTypes[pt].name == "" {
		return "", 0, 0, false
	}
	s := staticTypes[pt]
	return s.name, s.clockRate, s.channels, true
}
