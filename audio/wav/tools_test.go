package wav_test

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// checkTools asks the real tools on PATH (Debian's sox and ffmpeg in CI)
// whether the file at path is a clean WAVE file of rate Hz, channels and
// frames samples per channel. It skips the test when neither tool is
// installed, and does nothing with -short.
func checkTools(t *testing.T, path string, rate, channels int, frames int64) {
	t.Helper()
	if testing.Short() {
		t.Log("-short: WAVE output not checked by sox/ffprobe")
		return
	}
	ran := false
	if _, err := exec.LookPath("sox"); err == nil {
		ran = true
		// soxi prints e.g. "Channels : 2", "Sample Rate : 8000" and
		// "Duration : 00:00:01.00 = 8000 samples ~ 75 CDDA sectors".
		got := map[string]string{}
		for line := range strings.Lines(run(t, "soxi", path)) {
			if k, v, ok := strings.Cut(line, ":"); ok {
				got[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		// An empty file has no Duration line.
		dur := "0"
		if d, ok := got["Duration"]; ok {
			_, dur, _ = strings.Cut(d, "= ")
			dur, _, _ = strings.Cut(dur, " samples")
		}
		if got["Channels"] != strconv.Itoa(channels) || got["Sample Rate"] != strconv.Itoa(rate) || dur != strconv.FormatInt(frames, 10) {
			t.Errorf("soxi %s: %s channels at %s Hz, %s samples; want %d at %d Hz, %d samples",
				path, got["Channels"], got["Sample Rate"], dur, channels, rate, frames)
		}
		// Reading every sample makes sox check the data against the
		// header ("Premature EOF" and the like).
		if msg := runStderr(t, "sox", "-V2", path, "-n"); msg != "" {
			t.Errorf("sox reading %s: %s", path, msg)
		}
	}
	if _, err := exec.LookPath("ffprobe"); err == nil {
		ran = true
		cmd := exec.Command("ffprobe", "-v", "warning", "-select_streams", "a:0",
			"-show_entries", "stream=codec_name,sample_rate,channels,duration_ts", "-of", "default=nw=1", path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ffprobe %s: %v: %s", path, err, stderr.String())
		}
		dur, warn := strconv.FormatInt(frames, 10), stderr.String()
		if frames == 0 {
			// ffprobe has no duration for an empty stream and
			// says it cannot sniff its content.
			dur = "N/A"
			warn = strings.TrimSpace(strings.TrimSuffix(warn, "Cannot check for SPDIF\n"))
			if strings.HasPrefix(warn, "[wav @ ") && strings.HasSuffix(warn, "]") {
				warn = ""
			}
		}
		if warn != "" {
			t.Errorf("ffprobe %s warns: %s", path, warn)
		}
		want := "codec_name=pcm_s16le\nsample_rate=" + strconv.Itoa(rate) +
			"\nchannels=" + strconv.Itoa(channels) + "\nduration_ts=" + dur + "\n"
		if string(out) != want {
			t.Errorf("ffprobe %s:\n%s\nwant:\n%s", path, out, want)
		}
	}
	if !ran {
		t.Skip("neither sox nor ffprobe on PATH: WAVE output not checked by a real tool")
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out)
}

func runStderr(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, stderr.String())
	}
	return strings.TrimSpace(stderr.String())
}
