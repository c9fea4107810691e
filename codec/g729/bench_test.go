package g729

import (
	"testing"
	"time"
)

// BenchmarkDecode decodes the real call's G.729 stream (8.5 s of audio)
// and reports the speed in multiples of real time on one core: per wall
// second (x-realtime) and per CPU second (x-realtime-cpu, which the load
// of a shared machine does not skew).
func BenchmarkDecode(b *testing.B) {
	for _, m := range modes {
		b.Run(m.String(), func(b *testing.B) { benchmarkDecode(b, m) })
	}
}

func benchmarkDecode(b *testing.B, m Mode) {
	payloads := capturePayloads(b)
	samples := 0
	for _, p := range payloads {
		samples += len(p) / FrameSize * FrameSamples
	}
	pcm := make([]int16, 0, samples)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for range b.N {
		d := NewDecoderMode(m)
		pcm = pcm[:0]
		for _, p := range payloads {
			pcm, _ = d.Decode(pcm, p)
		}
	}
	audio := time.Duration(b.N) * time.Duration(samples) * time.Second / 8000
	b.ReportMetric(audio.Seconds()/time.Since(start).Seconds(), "x-realtime")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(audio.Seconds()/cpu.Seconds(), "x-realtime-cpu")
	}
}
