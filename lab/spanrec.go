package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/doctor"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/sipmsg"
	"github.com/spanrec/spanrec/sqlite"
)

// Capture is tcpdump writing every frame of the mirror port to a file, in
// the recorder's namespace.
type Capture struct {
	Path string
	proc *Proc
}

// StartTcpdump starts tcpdump on the mirror port; it fails the test when
// tcpdump is missing. It returns once tcpdump listens.
func (l *Lab) StartTcpdump(name string) *Capture {
	l.t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		l.t.Fatal("lab: tcpdump missing (apt-get install tcpdump)")
	}
	path := filepath.Join(l.Dir, name+".pcap")
	p := l.Start(l.Recorder, "tcpdump-"+name, "tcpdump", "-i", l.SPAN, "-n", "-s", "0", "-B", "65536", "-Z", "root", "-w", path)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Output(), "listening on") {
		if time.Now().After(deadline) || p.ExitCode() != -1 {
			l.t.Fatalf("lab: tcpdump did not start:\n%s", p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &Capture{Path: path, proc: p}
}

// Stop ends the capture and returns the frames tcpdump says the kernel
// dropped.
func (c *Capture) Stop(t testing.TB) (kernelDrops uint64) {
	t.Helper()
	if err := c.proc.Stop(syscall.SIGINT, 30*time.Second); err != nil {
		t.Fatalf("lab: tcpdump: %v\n%s", err, c.proc.Output())
	}
	m := regexp.MustCompile(`(\d+) packets dropped by kernel`).FindStringSubmatch(c.proc.Output())
	if m == nil {
		t.Fatalf("lab: no drop count in tcpdump's output:\n%s", c.proc.Output())
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// Config writes a spanrec configuration file under Dir and returns its
// path. yaml is its text.
func (l *Lab) Config(yaml string) string {
	l.t.Helper()
	p := filepath.Join(l.Dir, "spanrec.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return p
}

// Spanrec runs the spanrec binary with args in the recorder's namespace,
// waits at most timeout, and returns its exit status and combined output.
func (l *Lab) Spanrec(timeout time.Duration, args ...string) (int, string) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.Recorder, l.Binary()}, args...)...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case ctx.Err() != nil:
		l.t.Fatalf("lab: spanrec %s: still running after %s\n%s", strings.Join(args, " "), timeout, out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	default:
		l.t.Fatalf("lab: spanrec %s: %v", strings.Join(args, " "), err)
	}
	return -1, ""
}

// Import records the capture file into the data directory data with
// `spanrec import` and returns its summary.
func (l *Lab) Import(pcap, data, config string) string {
	l.t.Helper()
	args := []string{"import", "--no-progress", "--data", data, pcap}
	if config != "" {
		args = append(args, "--config", config)
	}
	code, out := l.Spanrec(5*time.Minute, args...)
	if code != 0 {
		l.t.Fatalf("lab: spanrec import: exit %d\n%s", code, out)
	}
	return out
}

// HasRecord reports whether the spanrec binary has the record command
// (live capture).
func (l *Lab) HasRecord() bool {
	l.t.Helper()
	_, out := l.Spanrec(time.Minute, "help")
	return strings.Contains(out, "spanrec record")
}

// StartRecord starts `spanrec record` on the mirror port, recording into
// data. Stop it with Proc.Stop(syscall.SIGTERM, …): it then finishes and
// indexes every call and exits with status 0.
func (l *Lab) StartRecord(data, config string, extra ...string) *Proc {
	l.t.Helper()
	args := []string{l.Binary(), "record", "-i", l.SPAN, "--data", data}
	if config != "" {
		args = append(args, "--config", config)
	}
	args = append(args, extra...)
	return l.Start(l.Recorder, "spanrec-record", args...)
}

// Doctor runs `spanrec doctor --json` with args (e.g. "-i", l.SPAN,
// "--for", "5s", or a capture file) in the recorder's namespace and returns
// its report and exit status. It does not fail the test itself, so that it
// can run in a goroutine beside the calls; call Binary first from the
// test's goroutine.
func (l *Lab) Doctor(timeout time.Duration, args ...string) (doctor.Report, int, error) {
	var r doctor.Report
	l.mu.Lock()
	bin := l.Bin
	l.mu.Unlock()
	if bin == "" {
		return r, -1, errors.New("lab: no spanrec binary (call Binary first)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.Recorder, bin, "doctor", "--json"}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, -1, fmt.Errorf("lab: spanrec doctor still running after %s", timeout)
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		return r, -1, fmt.Errorf("lab: spanrec doctor: %w", err)
	}
	if err := json.Unmarshal([]byte(stdout.String()), &r); err != nil {
		return r, code, fmt.Errorf("lab: spanrec doctor: exit %d, no JSON report (%v):\n%s%s", code, err, stdout.String(), stderr.String())
	}
	return r, code, nil
}

// Recorded returns every call in the index of data, oldest first.
func Recorded(t testing.TB, data string) []*spanrec.Call {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatalf("lab: open index: %v", err)
	}
	defer db.Close()
	calls, err := db.Calls(ctx, spanrec.CallFilter{Sort: "start"})
	if err != nil {
		t.Fatalf("lab: read index: %v", err)
	}
	return calls
}

// Channel is what one channel of a recording carries.
type Channel struct {
	Hz      float64 // the candidate tone with the most power
	Share   float64 // its share of the channel's power (about 1 for a clean tone)
	Seconds float64 // audible time: 20 ms blocks above -40 dBFS
}

func (c Channel) String() string {
	return fmt.Sprintf("%.0f Hz (%.0f%% of the power, %.1f s audible)", c.Hz, c.Share*100, c.Seconds)
}

// Channels reads the recording of c and returns what its left (caller) and
// right (callee) channels carry, judged against the candidate tones.
func Channels(t testing.TB, data string, c *spanrec.Call, candidates []float64) (left, right Channel) {
	t.Helper()
	if c.Audio == "" {
		t.Fatalf("lab: call %s has no recording (notes %v)", c.ID, c.Notes)
	}
	f, err := os.Open(filepath.Join(data, filepath.FromSlash(c.Audio)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, pcm, err := wav.ReadPCM16(f)
	if err != nil {
		t.Fatalf("lab: read %s: %v", c.Audio, err)
	}
	if info.Channels != 2 {
		t.Fatalf("lab: %s has %d channels, want 2", c.Audio, info.Channels)
	}
	ch := [2][]int16{make([]int16, 0, len(pcm)/2), make([]int16, 0, len(pcm)/2)}
	for i := 0; i+1 < len(pcm); i += 2 {
		ch[0] = append(ch[0], pcm[i])
		ch[1] = append(ch[1], pcm[i+1])
	}
	var out [2]Channel
	block := info.SampleRate / 50
	for i, s := range ch {
		out[i].Hz, out[i].Share = audio.DominantFrequency(s, info.SampleRate, candidates)
		for j := 0; j+block <= len(s); j += block {
			if audio.RMS(s[j:j+block]) > 32768*0.01 {
				out[i].Seconds += 0.02
			}
		}
	}
	return out[0], out[1]
}

// SIPMessage is one SIP message of a call's stored capture.
type SIPMessage struct {
	Time     time.Time
	Src, Dst netip.AddrPort
	*sipmsg.Message
}

// Hop says what the message is and where it went, e.g. "INVITE
// 10.77.0.11→10.77.0.10" or "200 INVITE 10.77.0.12→10.77.0.10".
func (m SIPMessage) Hop() string {
	what := m.Method
	if !m.Request {
		what = strconv.Itoa(m.StatusCode) + " " + m.CSeqMethod
	}
	return what + " " + m.Src.Addr().String() + "→" + m.Dst.Addr().String()
}

// CallSIP returns the SIP messages (over UDP) in the capture spanrec stored
// for c, in capture order, as spanrec's own decoder and parser read them.
func CallSIP(t testing.TB, data string, c *spanrec.Call) []SIPMessage {
	t.Helper()
	if c.PCAP == "" {
		t.Fatalf("lab: call %s has no stored capture", c.ID)
	}
	frames, err := capture.ReadAll(filepath.Join(data, filepath.FromSlash(c.PCAP)))
	if err != nil {
		t.Fatalf("lab: read the capture of call %s: %v", c.ID, err)
	}
	// No dedup window: every copy the recorder kept is listed.
	dec := packet.NewDecoder(packet.Config{DedupWindow: -1})
	var out []SIPMessage
	for _, f := range frames {
		p, ok := dec.Decode(f.Data, packet.LinkType(f.Link), f.Time, f.Orig)
		if !ok || p.Proto != packet.ProtoUDP || !sipmsg.Looks(p.Payload) {
			continue
		}
		m, err := sipmsg.Parse(p.Payload)
		if err != nil {
			t.Errorf("lab: call %s: a SIP message in its capture does not parse: %v", c.ID, err)
			continue
		}
		out = append(out, SIPMessage{Time: p.Time, Src: p.Src, Dst: p.Dst, Message: m})
	}
	return out
}
