package codec

import (
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/codec/g722"
	"github.com/spanrec/spanrec/codec/g726"
	"github.com/spanrec/spanrec/codec/g729"
	"github.com/spanrec/spanrec/codec/gsm"
	"github.com/spanrec/spanrec/codec/ilbc"
	"github.com/spanrec/spanrec/codec/l16"
	"github.com/spanrec/spanrec/codec/opus"
	"github.com/spanrec/spanrec/codec/speex"
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
	// whenever they come. The bitstreams are interoperable and the
	// decoder is the receiver's choice: G729 gets the Recommendation's
	// main-body decoder (its full postfilter, §4.2), G729A the Annex A
	// one the sender announces it uses (§A.4.2).
	Register(mono8k("G729", func() Decoder { return g729.NewDecoderMode(g729.ModeG729) }))
	RegisterFunc("G729A", func(clockRate, channels int) (Codec, bool) {
		if channels != 1 || (clockRate != 0 && clockRate != 8000) {
			return Codec{}, false
		}
		return mono8k("G729", func() Decoder { return g729.NewDecoderMode(g729.ModeG729A) }), true
	})
	// RFC 3952: 20 or 30 ms frames (a=fmtp mode=), told apart by the
	// payload length (38 or 50 bytes a frame).
	Register(mono8k("iLBC", func() Decoder { return ilbc.NewDecoder() }))
	Register(g726Codec("G726-16", 16, g726.LittleEndian))   // RFC 3551 §4.5.4
	Register(g726Codec("G726-24", 24, g726.LittleEndian))   // RFC 3551 §4.5.4
	Register(g726Codec("G726-32", 32, g726.LittleEndian))   // RFC 3551 §4.5.4
	Register(g726Codec("G726-40", 40, g726.LittleEndian))   // RFC 3551 §4.5.4
	Register(g726Codec("AAL2-G726-16", 16, g726.BigEndian)) // ITU-T I.366.2 packing
	Register(g726Codec("AAL2-G726-24", 24, g726.BigEndian)) // ITU-T I.366.2 packing
	Register(g726Codec("AAL2-G726-32", 32, g726.BigEndian)) // ITU-T I.366.2 packing
	Register(g726Codec("AAL2-G726-40", 40, g726.BigEndian)) // ITU-T I.366.2 packing
	Register(g726Codec("G721", 32, g726.LittleEndian))      // RFC 1890 static PT 2: G726-32
	RegisterFunc("speex", lookupSpeex)                      // RFC 5574
	RegisterFunc("opus", lookupOpus)                        // RFC 7587
}

// lookupOpus: RFC 7587 §7 names Opus opus/48000/2 whatever the audio's
// bandwidth and channels; opus/48000 (no channel count, or 1) is accepted
// too, as some endpoints write it. Other clock rates are not Opus's.
func lookupOpus(clockRate, channels int) (Codec, bool) {
	if clockRate != opus.SampleRate || channels > 2 {
		return Codec{}, false
	}
	return Codec{Name: "opus", ClockRate: opus.SampleRate, Channels: 2, SampleRate: opus.SampleRate,
		New: func() Decoder { return opus.NewDecoder() }}, true
}

// lookupSpeex: speex/8000 is narrowband, speex/16000 wideband (RFC 5574
// §3); 0 stands for 8000. Ultra-wideband (32000) is not decoded.
func lookupSpeex(clockRate, channels int) (Codec, bool) {
	if channels != 1 || (clockRate != 0 && clockRate != 8000 && clockRate != 16000) {
		return Codec{}, false
	}
	rate := max(clockRate, 8000)
	return Codec{Name: "speex", ClockRate: rate, Channels: 1, SampleRate: rate,
		New: func() Decoder { return speex.NewDecoder(rate == 16000) }}, true
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

// g726Codec is G.726 at kbit with the given codeword packing, registered
// under name.
func g726Codec(name string, kbit int, p g726.Packing) Codec {
	return mono8k(name, func() Decoder {
		d, err := g726.NewDecoder(kbit, p)
		if err != nil {
			panic(err) // kbit is one of the four rates above
		}
		return d
	})
}
