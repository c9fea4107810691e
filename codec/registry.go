package codec

import (
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/codec/g722"
	"github.com/spanrec/spanrec/codec/g729"
	"github.com/spanrec/spanrec/codec/gsm"
	"github.com/spanrec/spanrec/codec/l16"
)

// The built-in codecs: one line per SDP encoding name. Mono 8000 Hz codecs
// use mono8k; see Register and RegisterFunc for the others.
func init() {
	Register(mono8k("PCMU", func() Decoder { return g711.UlawDecoder{} })) // RFC 3551 §4.5.14
	Register(mono8k("PCMA", func() Decoder { return g711.AlawDecoder{} })) // RFC 3551 §4.5.14
	RegisterFunc("G722", lookupG722)                                       // RFC 3551 §4.5.2
	RegisterFunc("L16", lookupL16)                                         // RFC 3551 §4.5.11
	Register(mono8k("GSM", func() Decoder { return gsm.NewDecoder() }))    // RFC 3551 §4.5.8
	// RFC 3551 §4.5.6; G729A is a common rtpmap alias (same bitstream).
	// Annex B (a=fmtp annexb) needs no parameter: SID frames decode
	// whenever they come.
	Register(mono8k("G729", func() Decoder { return g729.NewDecoder() }))
	RegisterFunc("G729A", func(clockRate, channels int) (Codec, bool) {
		if channels != 1 || (clockRate != 0 && clockRate != 8000) {
			return Codec{}, false
		}
		return mono8k("G729", func() Decoder { return g729.NewDecoder() }), true
	})
}

// mono8k is a mono codec with an 8000 Hz clock and sample rate.
func mono8k(name string, newDec func() Decoder) Codec {
	return Codec{Name: name, ClockRate: 8000, Channels: 1, SampleRate: 8000, New: newDec}
}

// lookupG722: G722 is mono with an 8000 Hz RTP clock (RFC 3551 §4.5.2) and
// 16000 Hz audio; 0 stands for 8000. 16000 is also accepted, which some
// endpoints wrongly announce and then use for their RTP timestamps;
// ClockRate reports what the stream uses, SampleRate is 16000 either way.
func lookupG722(clockRate, channels int) (Codec, bool) {
	if channels != 1 || (clockRate != 0 && clockRate != 8000 && clockRate != 16000) {
		return Codec{}, false
	}
	return Codec{Name: "G722", ClockRate: max(clockRate, 8000), Channels: 1, SampleRate: 16000,
		New: func() Decoder { return g722.NewDecoder() }}, true
}

// lookupL16: L16 takes any positive clock rate, which is also its sample
// rate, and any channel count (downmixed to mono).
func lookupL16(clockRate, channels int) (Codec, bool) {
	if clockRate == 0 {
		return Codec{}, false
	}
	return Codec{Name: "L16", ClockRate: clockRate, Channels: channels, SampleRate: clockRate,
		New: func() Decoder { return l16.NewDecoder(channels) }}, true
}
