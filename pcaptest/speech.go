package pcaptest

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Speech is what a listener would notice in a stretch of audio: where it
// is silent, where a voice is, and whether that voice has the spread of
// energy over formant bands that speech has or is one pure tone. Tests use
// it to check that recordings of Endpoint.Voice parties read as speech.
type Speech struct {
	// Voiced is the time in frames within 20 dB of the loudest frame.
	Voiced time.Duration
	// Pauses counts the silent gaps (frames 40 dB or more under the
	// loudest) of at least 300 ms that have sound before and after them;
	// LongestPause is the longest silent gap, wherever it is.
	Pauses       int
	LongestPause time.Duration
	// F1Share and F2Share are the shares of the voiced frames' energy in
	// 250–1000 Hz (first formants) and 1000–3000 Hz (second and third).
	F1Share, F2Share float64
	// PeakShare is the mean, over voiced frames, of the share of a frame's
	// energy within ±1 bin (31 Hz) of its strongest frequency: near 1 for
	// a pure tone, well under 0.5 for a voice's many harmonics.
	PeakShare float64
	// CentroidSpreadHz is the standard deviation of the voiced frames'
	// spectral centroids: vowels that change move it by hundreds of Hz; a
	// steady tone does not move it.
	CentroidSpreadHz float64
}

// AnalyseSpeech measures pcm, samples at rate Hz, in 32 ms frames.
func AnalyseSpeech(pcm []float64, rate int) Speech {
	n := rate * 32 / 1000
	frames := len(pcm) / n
	var sp Speech
	if frames == 0 {
		return sp
	}
	frameDur := time.Duration(n) * time.Second / time.Duration(rate)
	energy := make([]float64, frames)
	loudest := 0.0
	for f := range frames {
		for _, v := range pcm[f*n : (f+1)*n] {
			energy[f] += v * v
		}
		loudest = math.Max(loudest, energy[f])
	}
	if loudest == 0 {
		return sp
	}
	// Pauses: runs of silent frames.
	run, soundBefore := 0, false
	for f := range frames {
		silent := energy[f] <= loudest*1e-4
		if silent {
			run++
			sp.LongestPause = max(sp.LongestPause, time.Duration(run)*frameDur)
			continue
		}
		if soundBefore && time.Duration(run)*frameDur >= 300*time.Millisecond {
			sp.Pauses++
		}
		run, soundBefore = 0, true
	}
	// Spectra of the voiced frames: a Hann-windowed DFT up to Nyquist.
	win := make([]float64, n)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	bins := n / 2
	binHz := float64(rate) / float64(n)
	cos, sin := make([]float64, n), make([]float64, n)
	for i := range n {
		cos[i] = math.Cos(2 * math.Pi * float64(i) / float64(n))
		sin[i] = math.Sin(2 * math.Pi * float64(i) / float64(n))
	}
	power := make([]float64, bins)
	var total, f1, f2, peakSum, cSum, cSq float64
	voiced := 0
	for f := range frames {
		if energy[f] < loudest*0.01 {
			continue
		}
		voiced++
		x := pcm[f*n : (f+1)*n]
		frameTotal, weighted := 0.0, 0.0
		peak := 0
		for k := 1; k < bins; k++ {
			var re, im float64
			for i, v := range x {
				j := (i * k) % n
				re += v * win[i] * cos[j]
				im -= v * win[i] * sin[j]
			}
			power[k] = re*re + im*im
			frameTotal += power[k]
			weighted += power[k] * float64(k) * binHz
			if power[k] > power[peak] {
				peak = k
			}
			hz := float64(k) * binHz
			switch {
			case hz >= 250 && hz < 1000:
				f1 += power[k]
			case hz >= 1000 && hz < 3000:
				f2 += power[k]
			}
		}
		if frameTotal == 0 {
			continue
		}
		total += frameTotal
		near := 0.0
		for k := max(1, peak-1); k <= min(bins-1, peak+1); k++ {
			near += power[k]
		}
		peakSum += near / frameTotal
		c := weighted / frameTotal
		cSum += c
		cSq += c * c
	}
	sp.Voiced = time.Duration(voiced) * frameDur
	if voiced == 0 || total == 0 {
		return sp
	}
	sp.F1Share, sp.F2Share = f1/total, f2/total
	sp.PeakShare = peakSum / float64(voiced)
	mean := cSum / float64(voiced)
	sp.CentroidSpreadHz = math.Sqrt(math.Max(0, cSq/float64(voiced)-mean*mean))
	return sp
}

// Check returns an error unless sp is what a listener hears as one
// party's share of a conversation: at least 0.8 s of voice with most of
// its energy in the formant bands (250–3000 Hz, some of it above 1 kHz),
// spread over harmonics (PeakShare ≤ 0.8), vowels that change (centroid
// spread ≥ 60 Hz), and silence of 300 ms or more between or around the
// talk spurts.
func (sp Speech) Check() error {
	var errs []error
	if sp.Voiced < 800*time.Millisecond {
		errs = append(errs, fmt.Errorf("%v voiced, want ≥ 0.8 s", sp.Voiced))
	}
	if sp.Pauses < 1 && sp.LongestPause < 500*time.Millisecond {
		errs = append(errs, fmt.Errorf("no pause of 300 ms between talk spurts (longest silence %v)", sp.LongestPause))
	}
	if sp.F1Share < 0.2 || sp.F2Share < 0.03 || sp.F1Share+sp.F2Share < 0.5 {
		errs = append(errs, fmt.Errorf("formant bands hold %.2f (250–1000 Hz) and %.2f (1–3 kHz) of the energy", sp.F1Share, sp.F2Share))
	}
	if sp.PeakShare > 0.8 {
		errs = append(errs, fmt.Errorf("%.2f of each frame's energy at one frequency: a tone, not a voice", sp.PeakShare))
	}
	if sp.CentroidSpreadHz < 60 {
		errs = append(errs, fmt.Errorf("spectral centroid spread %.0f Hz: the vowels do not change", sp.CentroidSpreadHz))
	}
	return errors.Join(errs...)
}
