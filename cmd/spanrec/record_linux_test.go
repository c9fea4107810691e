package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/spanrec/spanrec/lab/netns"

	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
)

// TestMain lets the tests run "spanrec" as a child process: the test
// binary itself, re-executed with SPANREC_TEST_CHILD=1, is the command.
func TestMain(m *testing.M) {
	if os.Getenv("SPANREC_TEST_CHILD") == "1" {
		main()
		return
	}
	os.Exit(pgtest.Main(m))
}

// recLab is a network namespace with veth pairs txN → rxN: the test sends
// on txN what a switch would copy to mirror port rxN. Only the
// namespace's own interfaces exist in it; nothing is routed anywhere.
type recLab struct {
	ns    string
	pairs int
}

var recLabSeq atomic.Int32

func newRecLab(t *testing.T, pairs int) *recLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("spanrec record tests need root (CAP_NET_ADMIN, CAP_NET_RAW) to create a network namespace with veth pairs")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("spanrec record tests need the ip command (iproute2)")
	}
	l := &recLab{ns: fmt.Sprintf("spanrec-rec-%d-%d", os.Getpid(), recLabSeq.Add(1)), pairs: pairs}
	if out, err := exec.Command("ip", "netns", "add", l.ns).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace (needs CAP_NET_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", l.ns).Run() })
	l.ip(t, "link", "set", "lo", "up")
	for i := range pairs {
		tx, rx := fmt.Sprintf("tx%d", i), fmt.Sprintf("rx%d", i)
		l.ip(t, "link", "add", tx, "type", "veth", "peer", "name", rx)
		for _, d := range []string{tx, rx} {
			l.exec(t, "sysctl", "-q", "-w", "net.ipv6.conf."+d+".disable_ipv6=1")
			l.ip(t, "link", "set", d, "up")
		}
		l.ip(t, "link", "set", rx, "arp", "off")
	}
	return l
}

func (l *recLab) ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"-n", l.ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (l *recLab) exec(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"netns", "exec", l.ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// do runs f on an OS thread inside the lab's namespace.
func (l *recLab) do(t *testing.T, f func()) {
	t.Helper()
	if err := netns.Do(l.ns, f); err != nil {
		t.Fatal(err)
	}
}

// senders opens a raw AF_PACKET socket on every txN.
func (l *recLab) senders(t *testing.T) []int {
	t.Helper()
	var fds []int
	var err error
	l.do(t, func() {
		for i := range l.pairs {
			var ifc *net.Interface
			if ifc, err = net.InterfaceByName(fmt.Sprintf("tx%d", i)); err != nil {
				return
			}
			var fd int
			if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
				return
			}
			fds = append(fds, fd)
			if err = unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifc.Index}); err != nil {
				return
			}
		}
	})
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	if err != nil {
		t.Fatalf("senders: %v", err)
	}
	return fds
}

// replay sends frames on every sender (the same frame on each: several
// mirror ports that saw it), keeping their spacing divided by speed. It
// returns the number of frames sent per sender.
func replay(t *testing.T, fds []int, frames []capture.Frame, speed float64) int {
	t.Helper()
	if len(frames) == 0 {
		return 0
	}
	start := time.Now()
	t0 := frames[0].Time
	for i, fr := range frames {
		if d := time.Duration(float64(fr.Time.Sub(t0))/speed) - time.Since(start); d > 0 {
			time.Sleep(d)
		}
		for _, fd := range fds {
			if _, err := unix.Write(fd, fr.Data); err != nil {
				t.Fatalf("send frame %d: %v", i, err)
			}
		}
	}
	return len(frames)
}

func demoFrames(t *testing.T) []capture.Frame {
	t.Helper()
	frames, err := capture.ReadAll(demo)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

// child is a "spanrec record" process running in the lab.
type child struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (l *recLab) record(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{done: make(chan struct{})}
	c.cmd = exec.Command("ip", append([]string{"netns", "exec", l.ns, os.Args[0], "record"}, args...)...)
	c.cmd.Env = append(os.Environ(), "SPANREC_TEST_CHILD=1")
	c.cmd.Stdout = lockedWriter{&c.mu, &c.stdout}
	c.cmd.Stderr = lockedWriter{&c.mu, &c.stderr}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	c.waitFor(t, "Recording from", 10*time.Second)
	return c
}

func (c *child) output() (string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout.String(), c.stderr.String()
}

// waitFor waits until s appears in the child's standard output.
func (c *child) waitFor(t *testing.T, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		out, _ := c.output()
		if strings.Contains(out, s) {
			return
		}
		select {
		case <-c.done:
			out, errs := c.output()
			t.Fatalf("spanrec record exited (%v) before printing %q:\n%s\n%s", c.err, s, out, errs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	out, errs := c.output()
	t.Fatalf("spanrec record did not print %q in %v:\n%s\n%s", s, d, out, errs)
}

// stop sends sig and waits for the exit; it returns the exit status.
func (c *child) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("spanrec record did not exit within 30 s")
	}
	return c.cmd.ProcessState.ExitCode()
}

// wantCalls is what importing the demo capture records, by SIP Call-ID.
func wantCalls(t *testing.T) map[string]map[string]any {
	t.Helper()
	return byCallID(t, callsJSON(t, "--data", importDemo(t)))
}

func byCallID(t *testing.T, calls []map[string]any) map[string]map[string]any {
	t.Helper()
	m := map[string]map[string]any{}
	for _, c := range calls {
		id := c["call_id"].(string)
		if m[id] != nil {
			t.Errorf("call %s listed twice", id)
		}
		m[id] = c
	}
	return m
}

func streamPackets(c map[string]any) []float64 {
	var out []float64
	streams, _ := c["streams"].([]any)
	for _, s := range streams {
		out = append(out, s.(map[string]any)["packets"].(float64))
	}
	return out
}

func party(c map[string]any, side string) string {
	p, _ := c[side].(string)
	return p
}

// compareCalls checks recorded calls against imported ones: same calls,
// parties, status and RTP packets per stream; audio where import has it.
func compareCalls(t *testing.T, got, want map[string]map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d calls recorded, import finds %d", len(got), len(want))
	}
	for id, w := range want {
		g := got[id]
		if g == nil {
			t.Errorf("call %s not recorded", id)
			continue
		}
		for _, k := range []string{"caller", "callee", "status", "direction"} {
			if party(g, k) != party(w, k) {
				t.Errorf("call %s: %s = %q, import says %q", id, k, party(g, k), party(w, k))
			}
		}
		if gp, wp := fmt.Sprint(streamPackets(g)), fmt.Sprint(streamPackets(w)); gp != wp {
			t.Errorf("call %s: stream packets %s, import says %s", id, gp, wp)
		}
		if (party(g, "audio") == "") != (party(w, "audio") == "") {
			t.Errorf("call %s: audio %q, import has %q", id, party(g, "audio"), party(w, "audio"))
		}
		if g["capture_loss"] != false {
			t.Errorf("call %s flagged with capture loss", id)
		}
	}
}

// metricsOf reads /metrics of the child inside the lab.
func (l *recLab) metricsOf(t *testing.T, url string) string {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/metrics")
	var conn net.Conn
	var err error
	l.do(t, func() { conn, err = net.DialTimeout("tcp", addr, 2*time.Second) })
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", addr)
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	if !bytes.HasPrefix(b, []byte("HTTP/1.0 200")) {
		t.Fatalf("metrics: %s", b)
	}
	return string(b)
}

func metricValue(t *testing.T, metrics, series string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(metrics))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in metrics:\n%s", series, metrics)
	return 0
}

func promisc(t *testing.T, l *recLab, iface string) bool {
	t.Helper()
	var p bool
	var err error
	l.do(t, func() { p, err = capture.Promiscuous(iface) })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRecordLive records the demo capture replayed onto a veth "mirror
// port": the calls match import's, the calls that ended are listed by
// another process while recording goes on, metrics count every frame and
// no drop, SIGHUP reloads and reopens the log, SIGTERM exits 0 with every
// call in the index, and promiscuous mode is restored.
func TestRecordLive(t *testing.T) {
	l := newRecLab(t, 1)
	want := wantCalls(t)
	frames := demoFrames(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "spanrec.log")
	conf := filepath.Join(dir, "spanrec.yaml")
	if err := os.WriteFile(conf, []byte("log_file: "+logPath+"\nmetrics_listen: 127.0.0.1:0\ncapture:\n  interfaces: [rx0]\n  ring_mb: 8\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An address on the mirror port: record must warn and tell the fix.
	l.ip(t, "addr", "add", "192.0.2.1/24", "dev", "rx0")
	if promisc(t, l, "rx0") {
		t.Fatal("rx0 promiscuous before recording")
	}
	c := l.record(t, "--data", data, "--config", conf)
	if _, errs := c.output(); !strings.Contains(errs, "WARNING: rx0: the interface has IP addresses (192.0.2.1/24)") ||
		!strings.Contains(errs, "ip addr flush dev rx0") {
		t.Errorf("no receive-only warning for an interface with an address:\n%s", errs)
	}
	if !promisc(t, l, "rx0") {
		t.Error("rx0 not promiscuous while recording")
	}
	sent := replay(t, l.senders(t), frames, 4)

	// Ended calls appear in the index while recording goes on (end_linger
	// 2 s of wall time after the last packet).
	var listed map[string]map[string]any
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		listed = byCallID(t, callsJSON(t, "--data", data))
		if len(listed) == len(want) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(listed) != len(want) {
		t.Fatalf("%d calls listed while recording, want the %d that ended", len(listed), len(want))
	}

	logText, _ := os.ReadFile(logPath)
	m := regexp.MustCompile(`url=(http://[^ ]+/metrics)`).FindSubmatch(logText)
	if m == nil {
		t.Fatalf("no metrics URL in the log:\n%s", logText)
	}
	metrics := l.metricsOf(t, string(m[1]))
	if got := metricValue(t, metrics, `spanrec_packets_total{iface="rx0"}`); got != float64(sent) {
		t.Errorf("packets_total = %v, sent %d", got, sent)
	}
	for _, s := range []string{`spanrec_kernel_drops_total{iface="rx0"}`, `spanrec_queue_drops_total{iface="rx0"}`, "spanrec_active_calls"} {
		if v := metricValue(t, metrics, s); v != 0 {
			t.Errorf("%s = %v, want 0", s, v)
		}
	}
	if v := metricValue(t, metrics, "spanrec_calls_recorded_total"); v != float64(len(want)) {
		t.Errorf("calls_recorded_total = %v, want %d", v, len(want))
	}
	if v := metricValue(t, metrics, "spanrec_disk_free_bytes"); v <= 0 {
		t.Errorf("disk_free_bytes = %v", v)
	}

	// SIGHUP: the log file is reopened (logrotate moved it) and the
	// configuration reloaded.
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), "configuration reloaded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload logged in the new log file after SIGHUP: %q", b)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if code := c.stop(t, syscall.SIGTERM); code != 0 {
		out, errs := c.output()
		t.Fatalf("exit status %d after SIGTERM\n%s\n%s", code, out, errs)
	}
	out, _ := c.output()
	if !strings.Contains(out, fmt.Sprintf("Stopped: %d calls recorded", len(want))) || !strings.Contains(out, "kernel drops 0, queue drops 0") {
		t.Errorf("summary:\n%s", out)
	}
	compareCalls(t, byCallID(t, callsJSON(t, "--data", data)), want)
	if promisc(t, l, "rx0") {
		t.Error("rx0 still promiscuous after record exited")
	}
	logText, _ = os.ReadFile(logPath)
	if !strings.Contains(string(logText), "kernel_drops=0") {
		t.Errorf("no per-interface statistics logged at exit:\n%s", logText)
	}
}

// TestRecordTwoPorts: a call mirrored on two ports (two switches) is
// recorded once, with each packet counted once.
func TestRecordTwoPorts(t *testing.T) {
	l := newRecLab(t, 2)
	want := wantCalls(t)
	data := filepath.Join(t.TempDir(), "data")
	// The test sends each frame on tx0 then tx1; on this shared machine the
	// two sends may be a few milliseconds apart, more than the 5 ms
	// default window of two switches' copies.
	conf := filepath.Join(t.TempDir(), "spanrec.yaml")
	if err := os.WriteFile(conf, []byte("capture:\n  dedup_window: 100ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := l.record(t, "--data", data, "--config", conf, "-i", "rx0", "-i", "rx1", "--ring-mb", "4")
	replay(t, l.senders(t), demoFrames(t), 4)
	time.Sleep(500 * time.Millisecond)
	if code := c.stop(t, syscall.SIGINT); code != 0 {
		out, errs := c.output()
		t.Fatalf("exit status %d after SIGINT\n%s\n%s", code, out, errs)
	}
	compareCalls(t, byCallID(t, callsJSON(t, "--data", data)), want)
	out, _ := c.output()
	for _, s := range []string{"rx0", "rx1"} {
		if !regexp.MustCompile(s + ` +\d+ packets, \d+ bytes, kernel drops 0, queue drops 0`).MatchString(out) {
			t.Errorf("no clean statistics for %s:\n%s", s, out)
		}
	}
}

// TestRecordKill9: a recorder killed with SIGKILL in the middle of calls
// loses at most about a second of their audio: the next start writes
// their recordings (valid WAV) and index entries, noted as interrupted,
// from the journals, and their pcapng files read to the end.
func TestRecordKill9(t *testing.T) {
	l := newRecLab(t, 1)
	want := wantCalls(t)
	frames := demoFrames(t)
	data := filepath.Join(t.TempDir(), "data")
	c := l.record(t, "--data", data, "-i", "rx0", "--ring-mb", "4")
	cut := frames[0].Time.Add(9 * time.Second)
	n := 0
	for n < len(frames) && frames[n].Time.Before(cut) {
		n++
	}
	fds := l.senders(t)
	replay(t, fds, frames[:n], 4)
	time.Sleep(1500 * time.Millisecond) // a flush (1 s) after the last packet
	c.stop(t, syscall.SIGKILL)
	before := byCallID(t, callsJSON(t, "--data", data))
	ents := pcaptest.SpoolEntries(t, data)
	if len(ents) == 0 {
		t.Fatal("no calls in progress in the spool after kill -9")
	}
	inProgress := len(ents)

	// Restart: the interrupted calls are recovered at once.
	c = l.record(t, "--data", data, "-i", "rx0", "--ring-mb", "4")
	out, _ := c.output()
	if !strings.Contains(out, fmt.Sprintf("Recovered %d calls", inProgress)) {
		t.Errorf("restart did not report %d recovered calls:\n%s", inProgress, out)
	}
	if code := c.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	after := byCallID(t, callsJSON(t, "--data", data))
	if len(after) != len(before)+inProgress {
		t.Errorf("%d calls after recovery, want %d ended + %d interrupted", len(after), len(before), inProgress)
	}
	recovered := 0
	for id, cl := range after {
		if want[id] == nil {
			t.Errorf("unknown call %s", id)
			continue
		}
		notes := fmt.Sprint(cl["notes"])
		if before[id] != nil {
			continue
		}
		recovered++
		if !strings.Contains(notes, "recording interrupted") {
			t.Errorf("recovered call %s lacks the note: %s", id, notes)
		}
		if a := party(cl, "audio"); a != "" {
			t.Logf("recovered %s: %s, %v ms of audio", id, cl["status"], cl["audio_ms"])
			f, err := os.Open(filepath.Join(data, a))
			if err != nil {
				t.Fatal(err)
			}
			info, err := wav.ReadInfo(f)
			f.Close()
			if err != nil {
				t.Errorf("call %s: recovered WAV invalid: %v", id, err)
			} else if ms := info.Frames() * 1000 / int64(info.SampleRate); float64(ms) != cl["audio_ms"].(float64) || ms < 1000 {
				t.Errorf("call %s: WAV %d ms, index %v ms", id, ms, cl["audio_ms"])
			}
		}
		src, err := capture.OpenFile(filepath.Join(data, party(cl, "pcap")))
		if err != nil {
			t.Fatalf("call %s: pcap: %v", id, err)
		}
		for {
			_, err := src.ReadFrame()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("call %s: pcap: %v", id, err)
			}
		}
		src.Close()
	}
	t.Logf("kill -9 with %d calls ended and %d in progress; all recovered", len(before), inProgress)
	if recovered != inProgress {
		t.Errorf("%d calls recovered, %d were in progress", recovered, inProgress)
	}
	if ents := pcaptest.SpoolEntries(t, data); len(ents) != 0 {
		t.Errorf("spool entries left after recovery: %v", ents)
	}
}
