package rtpstream

import (
	"math"
	"strings"
)

// codecImpairment holds a codec's E-model parameters: the equipment
// impairment factor Ie and the packet-loss robustness factor Bpl.
type codecImpairment struct {
	ie, bpl float64
}

// defaultImpairment is assumed for codecs missing from codecImpairments:
// the G.729A figures (Ie 11, Bpl 19), a middle-of-the-road low bit rate codec
// with concealment.
var defaultImpairment = codecImpairment{ie: 11, bpl: 19}

// codecImpairments maps upper-case SDP encoding names to their E-model
// parameters, from ITU-T G.113 Appendix I (Ie: Table I.1, Bpl: Table I.3).
// Where G.113 gives no Bpl, a codec without packet loss concealment is taken
// as G.711 without PLC (4.3). G.722 is scored on the narrowband scale like
// G.711 (its wideband quality is out of reach of a narrowband R), with the
// PLC of G.722 Appendix III.
var codecImpairments = map[string]codecImpairment{
	"PCMU":         {0, 25.1},
	"PCMA":         {0, 25.1},
	"G711":         {0, 25.1},
	"G722":         {0, 25.1},
	"L16":          {0, 4.3},
	"G726-40":      {2, 4.3},
	"G726-32":      {7, 4.3},
	"G721":         {7, 4.3},
	"G726-24":      {25, 4.3},
	"G726-16":      {50, 4.3},
	"AAL2-G726-40": {2, 4.3},
	"AAL2-G726-32": {7, 4.3},
	"AAL2-G726-24": {25, 4.3},
	"AAL2-G726-16": {50, 4.3},
	"G728":         {7, 4.3},
	"G729":         {11, 19},
	"G729A":        {11, 19},
	"G723":         {15, 16.1},
	"GSM":          {20, 4.3},
	"GSM-EFR":      {5, 10},
	"AMR":          {5, 10},
}

// MOS estimates the mean opinion score of a stream with the ITU-T G.107
// E-model, simplified to the impairments a passive observer can measure:
//
//	R   = 93.2 − Idd(Ta) − Ie,eff
//	Ta  = 20 ms + 2·jitterMS + packetisationMS        (one-way delay guess)
//	Idd = 0                                           if Ta ≤ 100 ms
//	Idd = 25·((1+X⁶)^⅙ − 3·(1+(X/3)⁶)^⅙ + 2), X = log2(Ta/100)  otherwise
//	Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl),    BurstR = 1
//	MOS = 1 + 0.035·R + R·(R−60)·(100−R)·7·10⁻⁶,      clamped to 1..4.5
//
// 93.2 is R0 − Is with every G.107 default; the echo terms Idte and Idle are
// taken at their defaults (part of the 93.2), so only the pure delay term Idd
// (G.107 §7.5) varies. Ta assumes 20 ms of network delay, a jitter buffer of
// twice the jitter and one packet of packetisation (20 ms when
// packetisationMS is 0). Ppl is lossPct in percent; BurstR = 1 means random
// loss. Ie and Bpl come from ITU-T G.113 Appendix I for codec, the SDP
// encoding name (case-insensitive): G.711 (PCMU, PCMA) Ie 0, Bpl 25.1 with
// PLC; G.722 is scored like G.711; G.726 at 40/32/24/16 kbit/s Ie 2/7/25/50;
// G.729(A) Ie 11, Bpl 19; G.723.1 Ie 15, Bpl 16.1; GSM-FR Ie 20; GSM-EFR
// and AMR 12.2 Ie 5, Bpl 10; codecs without PLC get Bpl 4.3. Unknown codecs
// get Ie 11, Bpl 19.
func MOS(codec string, lossPct, jitterMS, packetisationMS float64) float64 {
	imp, ok := codecImpairments[strings.ToUpper(codec)]
	if !ok {
		imp = defaultImpairment
	}
	if packetisationMS <= 0 {
		packetisationMS = 20
	}
	ppl := math.Max(0, lossPct)
	ieEff := imp.ie + (95-imp.ie)*ppl/(ppl+imp.bpl)
	ta := 20 + 2*math.Max(0, jitterMS) + packetisationMS
	r := 93.2 - idd(ta) - ieEff
	return rToMOS(r)
}

// idd is the G.107 §7.5 impairment of a pure one-way delay of ta ms.
func idd(ta float64) float64 {
	if !(ta > 100) {
		return 0
	}
	x := math.Log2(ta / 100)
	return 25 * (math.Pow(1+math.Pow(x, 6), 1.0/6) - 3*math.Pow(1+math.Pow(x/3, 6), 1.0/6) + 2)
}

// rToMOS is the G.107 Annex B mapping from the rating R to a MOS.
func rToMOS(r float64) float64 {
	switch {
	case math.IsNaN(r) || r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	m := 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
	return math.Min(4.5, math.Max(1, m))
}
