// Package codec decodes RTP audio payloads to 16-bit linear PCM; Lookup maps
// SDP names to decoders.
//
// It sits between RTP stream tracking and audio rendering: once SDP (RFC 4566
// rtpmap) or a static payload type (RFC 3551 §6, see Static) has named a
// stream's encoding, Lookup says whether spanrec can decode it and hands out a
// fresh Decoder per stream. The decoders themselves live in the subpackages
// g711 (PCMU, PCMA), g722 (G722) and l16 (L16), which know nothing of this
// package; the table here is fixed at compile time, there is no registry.
package codec

import (
	"strings"

	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/codec/g722"
	"github.com/spanrec/spanrec/codec/l16"
)

// A Decoder decodes RTP payloads of one stream to mono 16-bit PCM. It keeps
// state between calls; use one per stream. Not safe for concurrent use.
type Decoder interface {
	// Decode appends the samples of payload to pcm and returns the extended
	// slice. Never panics; a payload that cannot be decoded returns an error
	// (and pcm unchanged). payload is only read during the call.
	Decode(pcm []int16, payload []byte) ([]int16, error)
}

// Codec describes a decodable RTP audio encoding.
type Codec struct {
	Name       string // canonical encoding name as in SDP rtpmap ("PCMU", "PCMA", "G722", "L16")
	ClockRate  int    // RTP clock rate, Hz (G722: 8000 per RFC 3551 §4.5.2, though audio is 16000)
	Channels   int    // channels in the payload (L16 may be 2: Decode downmixes to mono)
	SampleRate int    // rate of the decoded PCM, Hz (G722: 16000)
	New        func() Decoder
}

func newUlaw() Decoder { return g711.UlawDecoder{} }
func newAlaw() Decoder { return g711.AlawDecoder{} }
func newG722() Decoder { return g722.NewDecoder() }

// Lookup returns the decodable codec for an rtpmap encoding name
// (case-insensitive, RFC 4566 §6 and RFC 3551 §6), clock rate and channel
// count (0 means 1). ok is false for codecs spanrec cannot decode (G729,
// GSM, opus, ... — callers report them) and for parameters a decoder cannot
// honour.
//
// PCMU and PCMA (RFC 3551 §4.5.14) and G722 (§4.5.2) are mono; their clock
// rate is 8000 and 0 stands for it. G722 is also accepted at 16000, which
// some endpoints wrongly announce and then use for their RTP timestamps;
// ClockRate reports what the stream uses, SampleRate is 16000 either way.
// L16 (§4.5.11) takes any positive clock rate, which is also its sample
// rate, and any channel count.
func Lookup(name string, clockRate, channels int) (Codec, bool) {
	if channels == 0 {
		channels = 1
	}
	if channels < 0 || clockRate < 0 {
		return Codec{}, false
	}
	switch strings.ToUpper(name) {
	case "PCMU":
		return fixed("PCMU", clockRate, channels, newUlaw)
	case "PCMA":
		return fixed("PCMA", clockRate, channels, newAlaw)
	case "G722":
		if clockRate == 16000 && channels == 1 {
			return Codec{Name: "G722", ClockRate: 16000, Channels: 1, SampleRate: 16000, New: newG722}, true
		}
		c, ok := fixed("G722", clockRate, channels, newG722)
		c.SampleRate = 16000
		return c, ok
	case "L16":
		if clockRate == 0 {
			return Codec{}, false
		}
		return Codec{
			Name: "L16", ClockRate: clockRate, Channels: channels, SampleRate: clockRate,
			New: func() Decoder { return l16.NewDecoder(channels) },
		}, true
	}
	return Codec{}, false
}

// fixed returns a mono 8000 Hz codec if clockRate and channels allow it.
func fixed(name string, clockRate, channels int, newDec func() Decoder) (Codec, bool) {
	if (clockRate != 0 && clockRate != 8000) || channels != 1 {
		return Codec{}, false
	}
	return Codec{Name: name, ClockRate: 8000, Channels: 1, SampleRate: 8000, New: newDec}, true
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
