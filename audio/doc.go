// Package audio holds the PCM16 signal helpers used when a call's recording is
// rendered: a streaming sample-rate converter, and the level and tone
// measurements (RMS, Goertzel) used by tests, the waveform API and tone checks.
//
// It sits between the codec decoders and the file writers (audio/wav): the
// render stage decodes each leg to 16-bit linear PCM at the codec's clock
// rate, converts it with a Resampler to the recording's rate and interleaves
// the two sides into a stereo file.
//
// All samples are mono, signed 16-bit, host order ([]int16). Nothing here
// starts goroutines or keeps package state; a Resampler is a value owned by
// one caller.
package audio
