package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spanrec/spanrec/capture"
)

// TestLiveCaptureBench measures live recording on a veth "mirror port": it
// replays a capture (SPANREC_LIVE_BENCH=FILE, e.g. made by
// "spangen -scenario bench -calls 1000 -spread 2s -talk 12s") at the
// speeds in SPANREC_LIVE_BENCH_SPEEDS (default "1": as captured), each
// into a fresh "spanrec record", and logs per speed the packet rate
// sent, the kernel and queue drops, the calls recorded and the CPU the
// recorder used. SPANREC_LIVE_BENCH_DATA=DIR puts the data directory
// under DIR (/dev/shm: measure without the disk). It only runs when SPANREC_LIVE_BENCH is set: it takes
// minutes and most of the machine.
//
//	SPANREC_LIVE_BENCH=/tmp/b1000.pcap SPANREC_LIVE_BENCH_SPEEDS=0.5,1,1.5 \
//	  go test -run TestLiveCaptureBench -v -timeout 30m ./cmd/spanrec/
func TestLiveCaptureBench(t *testing.T) {
	path := os.Getenv("SPANREC_LIVE_BENCH")
	if path == "" {
		t.Skip("set SPANREC_LIVE_BENCH=FILE to measure live capture (see the doc comment)")
	}
	speeds := []float64{1}
	if s := os.Getenv("SPANREC_LIVE_BENCH_SPEEDS"); s != "" {
		speeds = nil
		for f := range strings.SplitSeq(s, ",") {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatal(err)
			}
			speeds = append(speeds, v)
		}
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var frames []capture.Frame
	for {
		fr, err := src.ReadFrame()
		if err != nil {
			break
		}
		fr.Data = append([]byte(nil), fr.Data...)
		frames = append(frames, fr)
	}
	src.Close()
	span := frames[len(frames)-1].Time.Sub(frames[0].Time)
	t.Logf("%s: %d frames over %v (%.0f packets/s as captured)", filepath.Base(path), len(frames), span, float64(len(frames))/span.Seconds())

	for _, speed := range speeds {
		l := newRecLab(t, 1)
		parent := t.TempDir()
		if d := os.Getenv("SPANREC_LIVE_BENCH_DATA"); d != "" {
			// e.g. /dev/shm: measure the capture and the pipeline, not the disk
			if parent, err = os.MkdirTemp(d, "bench"); err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(parent)
		}
		data := filepath.Join(parent, "data")
		c := l.record(t, "--data", data, "-i", "rx0", "--ring-mb", "256", "--stats-interval", "1s")
		pid := c.cmd.Process.Pid
		fds := l.senders(t)
		cpu0 := procCPU(t, pid)
		// A recorder that has run a while has its spool pool's spare
		// files made (recorder.poolFiles); a fresh data directory has
		// none yet. Give it the time to make them, as a running recorder
		// would have had, so that the figures are of the steady state.
		// Their CPU is counted below.
		time.Sleep(2 * time.Second)
		wall0 := time.Now()
		replay(t, fds, frames, speed)
		sendWall := time.Since(wall0)
		cpu1, wall1 := procCPU(t, pid), time.Now()
		// Let the last calls end (end_linger) and be written.
		time.Sleep(4 * time.Second)
		if code := c.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d", code)
		}
		out, logText := c.output()
		// The recorder's capture statistics, once a second: when the
		// queue drops happened (-v shows them).
		for _, line := range strings.Split(logText, "\n") {
			if strings.Contains(line, "msg=capture") {
				t.Log(line)
			}
		}
		m := regexp.MustCompile(`rx0 +(\d+) packets, \d+ bytes, kernel drops (\d+), queue drops (\d+)`).FindStringSubmatch(out)
		calls := regexp.MustCompile(`Stopped: (\d+) calls recorded`).FindStringSubmatch(out)
		if m == nil || calls == nil {
			t.Fatalf("no summary:\n%s", out)
		}
		rate := float64(len(frames)) / sendWall.Seconds()
		cpu := (cpu1 - cpu0).Seconds() / wall1.Sub(wall0).Seconds()
		t.Logf("speed %.2f: sent %.0f packets/s; captured %s, kernel drops %s, queue drops %s; %s calls recorded; recorder CPU %.0f%% of one core during the replay",
			speed, rate, m[1], m[2], m[3], calls[1], 100*cpu)
		fmt.Fprintf(os.Stderr, "BENCH speed=%.2f pps=%.0f captured=%s kdrops=%s qdrops=%s calls=%s cpu=%.2f\n", speed, rate, m[1], m[2], m[3], calls[1], cpu)
	}
}

// procCPU returns the user+system CPU time of process pid.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start after
	// the last ')': state is field 3, utime 14, stime 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}
