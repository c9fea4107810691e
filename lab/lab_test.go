package lab

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/doctor"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
)

// The SPAN lab scenarios of issue 3. Each builds its own namespaces, places
// real SIP calls with SIPp (scenario 7: with baresip phones through a
// kamailio proxy) and checks what spanrec recorded from the mirror port: the
// right calls and parties, the direction, and in each channel the tone its
// party sent. They skip (with the reason) where the lab cannot run: not
// root, tools missing; SPANREC_LAB=require turns the skip into a failure.
//
//  1. an internal call, phone ports mirrored
//  2. an outbound call, the PBX port mirrored
//  3. every packet seen twice, each call recorded once
//  4. 200 concurrent calls for 60 s
//  5. an oversubscribed (rate-limited) mirror port: losses reported
//  6. doctor on a healthy mirror and on one-direction mirroring
//  7. real phones (baresip) through a record-routing proxy (kamailio)
//  8. hostile floods replayed onto the mirror during real calls
//  9. the central side (PostgreSQL, then S3) down during 200 live calls
//     shipped by record (ship_test.go)

// spanrecBin is the binary every lab of this test process runs, built
// once by TestMain.
var spanrecBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spanrec-lab-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		// Building takes a while: only when a lab can run.
		if os.Geteuid() == 0 {
			bin, err := Build(dir)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			spanrecBin = bin
		}
		// A PostgreSQL cluster started by a scenario is stopped at the end.
		return pgtest.Main(m)
	}()
	os.Exit(code)
}

// newLab is New with the binary built by TestMain.
func newLab(t *testing.T, topo Topology) *Lab {
	t.Helper()
	l := New(t, topo)
	l.Bin = spanrecBin
	return l
}

// Tones, one per party: far apart and not harmonics of each other.
const (
	toneA   = 440
	toneB   = 1000
	tonePBX = 700
)

var candidates = []float64{toneA, toneB, tonePBX, 425, 600, 850, 1400}

func phones(l *Lab) (a, b, pbx Party) {
	return Party{Host: l.Host("a"), Number: "1001", Name: "Phone A", Tone: toneA},
		Party{Host: l.Host("b"), Number: "1002", Name: "Phone B", Tone: toneB},
		Party{Host: l.Host("pbx"), Number: "0155501234", Name: "Trunk", Tone: tonePBX}
}

// recording runs calls while spanrec records the mirror port, and returns
// the data directories to check: that of `spanrec record` when the binary
// has it, and that of `spanrec import` of what tcpdump captured meanwhile
// (when withImport is set or record is missing). It also returns the
// kernel drops tcpdump saw.
func recording(t *testing.T, l *Lab, config string, withImport bool, calls func()) (dirs []string, tcpdumpDrops uint64) {
	t.Helper()
	live := l.HasRecord()
	var rec *Proc
	liveData := filepath.Join(l.Dir, "data-record")
	if live {
		rec = l.StartRecord(liveData, config)
		time.Sleep(time.Second) // the socket is open well before the first call
	}
	var capt *Capture
	if withImport || !live {
		capt = l.StartTcpdump("span")
	}
	calls()
	time.Sleep(500 * time.Millisecond) // the last frames through the mirror
	if rec != nil {
		if err := rec.Stop(syscall.SIGTERM, 2*time.Minute); err != nil {
			t.Fatalf("spanrec record: %v\n%s", err, rec.Output())
		}
		t.Logf("spanrec record:\n%s", tail(rec.Output(), 3000))
		dirs = append(dirs, liveData)
	}
	if capt != nil {
		tcpdumpDrops = capt.Stop(t)
		data := filepath.Join(l.Dir, "data-import")
		out := l.Import(capt.Path, data, config)
		t.Logf("spanrec import of the tcpdump capture:\n%s", out)
		dirs = append(dirs, data)
	}
	return dirs, tcpdumpDrops
}

// checkCall asserts one recorded call: parties, status, direction, both
// streams, and each channel carrying its party's tone for most of talk.
func checkCall(t *testing.T, data string, c *spanrec.Call, caller, callee Party, dir spanrec.Direction, talk time.Duration) {
	t.Helper()
	if c.Caller.Number != caller.Number || c.Callee.Number != callee.Number {
		t.Errorf("call %s: %s → %s, want %s → %s", c.ID, c.Caller.Number, c.Callee.Number, caller.Number, callee.Number)
	}
	if c.Caller.Addr != caller.Host.Addr || c.Callee.Addr != callee.Host.Addr {
		t.Errorf("call %s: addresses %v → %v, want %v → %v", c.ID, c.Caller.Addr, c.Callee.Addr, caller.Host.Addr, callee.Host.Addr)
	}
	if c.Status != spanrec.Answered || c.Direction != dir {
		t.Errorf("call %s: %s, %s; want answered, %s", c.ID, c.Status, c.Direction, dir)
	}
	if d := c.Duration - talk; d < -time.Second || d > 2*time.Second {
		t.Errorf("call %s: talk time %s, want about %s", c.ID, c.Duration, talk)
	}
	sent := map[spanrec.Side]int{}
	for _, s := range c.Streams {
		sent[s.Side] += s.Packets
		if s.Lost != 0 || s.Duplicates != 0 {
			t.Errorf("call %s: stream %v→%v lost %d, duplicates %d; want none", c.ID, s.Src, s.Dst, s.Lost, s.Duplicates)
		}
		if s.Codec != "PCMU" {
			t.Errorf("call %s: stream codec %q", c.ID, s.Codec)
		}
	}
	// 50 packets/s each way for the talk time.
	want := int(talk.Seconds() * 50 * 0.9)
	if sent[spanrec.CallerSide] < want || sent[spanrec.CalleeSide] < want {
		t.Errorf("call %s: %d caller and %d callee RTP packets, want at least %d each", c.ID, sent[spanrec.CallerSide], sent[spanrec.CalleeSide], want)
	}
	if c.CaptureLoss || len(c.Notes) > 0 {
		t.Errorf("call %s: capture loss %v, notes %q", c.ID, c.CaptureLoss, c.Notes)
	}
	left, right := Channels(t, data, c, candidates)
	for _, ch := range []struct {
		name string
		got  Channel
		tone int
	}{{"left (caller)", left, caller.Tone}, {"right (callee)", right, callee.Tone}} {
		if ch.got.Hz != float64(ch.tone) || ch.got.Share < 0.9 || ch.got.Seconds < talk.Seconds()*0.9 {
			t.Errorf("call %s: %s channel carries %v, want %d Hz for about %s", c.ID, ch.name, ch.got, ch.tone, talk)
		}
	}
}

// Scenario 1: an internal call, phone A ↔ phone B, with only the phones'
// ports mirrored (each in the direction it sends: one copy of every frame).
func TestInternalCallPhonePortsMirrored(t *testing.T) {
	l := newLab(t, Topology{Hosts: []HostSpec{{"pbx", MirrorNone}, {"a", MirrorSent}, {"b", MirrorSent}}})
	a, b, _ := phones(l)
	talk := 4 * time.Second
	dirs, _ := recording(t, l, "", true, func() {
		if err := l.Call(Calls{Caller: a, Callee: b, Talk: talk}); err != nil {
			t.Fatal(err)
		}
	})
	for _, data := range dirs {
		calls := Recorded(t, data)
		if len(calls) != 1 {
			t.Fatalf("%s: %d calls recorded, want 1", data, len(calls))
		}
		checkCall(t, data, calls[0], a, b, spanrec.Internal, talk)
	}
}

// Scenario 2: an outbound call, phone A → the PBX/trunk, with only the
// PBX's port mirrored (both directions, as a SPAN session on one port
// usually is). The trunk's address is configured as outside.
func TestOutboundCallPBXPortMirrored(t *testing.T) {
	l := newLab(t, Topology{Hosts: []HostSpec{{"pbx", MirrorBoth}, {"a", MirrorNone}, {"b", MirrorNone}}})
	a, _, pbx := phones(l)
	cfg := l.Config("networks:\n  trunks: [" + pbx.Host.Addr.String() + "]\n")
	talk := 4 * time.Second
	dirs, _ := recording(t, l, cfg, true, func() {
		if err := l.Call(Calls{Caller: a, Callee: pbx, Talk: talk}); err != nil {
			t.Fatal(err)
		}
	})
	for _, data := range dirs {
		calls := Recorded(t, data)
		if len(calls) != 1 {
			t.Fatalf("%s: %d calls recorded, want 1", data, len(calls))
		}
		checkCall(t, data, calls[0], a, pbx, spanrec.Outbound, talk)
	}
}

// Scenario 3: both phones call the PBX, with the phones' ports AND the
// PBX's port mirrored in both directions: every packet reaches the mirror
// twice (once from each port) and each call must be recorded once, with
// no duplicate in its streams.
func TestEveryPacketTwiceRecordedOnce(t *testing.T) {
	l := newLab(t, Topology{Hosts: []HostSpec{{"pbx", MirrorBoth}, {"a", MirrorBoth}, {"b", MirrorBoth}}})
	a, b, pbx := phones(l)
	cfg := l.Config("networks:\n  trunks: [" + pbx.Host.Addr.String() + "]\n")
	talk := 4 * time.Second
	before := l.Link(l.Recorder, l.SPAN).RxPackets
	var sentA, sentB uint64
	dirs, _ := recording(t, l, cfg, true, func() {
		// One SIPp answers both calls; the phones call from different
		// media ports so that the PBX's SDP tells them apart.
		uas := l.StartCallee(Calls{Callee: pbx, Count: 2})
		time.Sleep(300 * time.Millisecond)
		ca := Calls{Caller: a, Callee: pbx, Talk: talk}
		cb := Calls{Caller: b, Callee: pbx, Talk: talk, CallerMediaPort: 22000}
		ua, ub := l.StartCaller(ca), l.StartCaller(cb)
		if err := WaitCalls(ca.Timeout(), ua, ub, uas); err != nil {
			t.Fatal(err)
		}
		sentA = l.Link(l.Host("a").NS, "eth0").TxPackets
		sentB = l.Link(l.Host("b").NS, "eth0").TxPackets
	})
	rx := l.Link(l.Recorder, l.SPAN).RxPackets - before
	// Each frame between a phone and the PBX is copied at the phone's port
	// and at the PBX's port, both ways.
	sentPBX := l.Link(l.Host("pbx").NS, "eth0").TxPackets
	if want := 2 * (sentA + sentB + sentPBX); rx < want*95/100 || rx > want*105/100+20 {
		t.Errorf("the mirror port received %d frames; the hosts sent %d+%d+%d: want about twice that", rx, sentA, sentB, sentPBX)
	}
	for _, data := range dirs {
		calls := Recorded(t, data)
		if len(calls) != 2 {
			t.Fatalf("%s: %d calls recorded, want 2 (each once)", data, len(calls))
		}
		for _, c := range calls {
			caller := a
			if c.Caller.Number == b.Number {
				caller = b
			}
			checkCall(t, data, c, caller, pbx, spanrec.Outbound, talk)
		}
	}
	// The import summary (last dir) counts the copies it dropped.
	if out, err := os.ReadFile(filepath.Join(l.Dir, "span.pcap")); err == nil && len(out) > 0 {
		r, code, err := l.Doctor(time.Minute, filepath.Join(l.Dir, "span.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		f := findingOf(r, doctor.CodeDuplicates)
		if code != 0 || !r.Fit || f == nil || r.Counters.Duplicates*2 < r.Counters.Frames*9/10 {
			t.Errorf("doctor on the doubled capture: exit %d, fit %v, duplicates %d of %d frames, finding %+v",
				code, r.Fit, r.Counters.Duplicates, r.Counters.Frames, f)
		}
	}
}

func findingOf(r doctor.Report, code string) *doctor.Finding {
	for i := range r.Findings {
		if r.Findings[i].Code == code {
			return &r.Findings[i]
		}
	}
	return nil
}

// loadSize returns the calls and talk time of scenario 4: 200 calls of
// 60 s, or with SPANREC_LAB_SHORT=1 50 calls of 15 s.
func loadSize() (calls int, talk time.Duration) {
	if os.Getenv("SPANREC_LAB_SHORT") == "1" {
		return 50, 15 * time.Second
	}
	return 200, 60 * time.Second
}

// Scenario 4: 200 concurrent calls for 60 s from the phones' side to the
// PBX, with the PBX's port mirrored: every call recorded with both
// channels, no kernel drops; the figures go to the test log (and to
// docs/PERFORMANCE.md by hand).
func TestConcurrentCallsLoad(t *testing.T) {
	l := newLab(t, Topology{Hosts: []HostSpec{{"pbx", MirrorBoth}, {"a", MirrorNone}, {"b", MirrorNone}}})
	a, _, pbx := phones(l)
	n, talk := loadSize()
	cfg := l.Config("networks:\n  trunks: [" + pbx.Host.Addr.String() + "]\n")
	batch := Calls{Caller: a, Callee: pbx, Count: n, Concurrent: n, Rate: 50, Talk: talk}
	before := l.Link(l.Recorder, l.SPAN)
	began := time.Now()
	var rec *Proc
	live := l.HasRecord()
	dirs, tcpdumpDrops := recording(t, l, cfg, !live, func() {
		if err := l.Call(batch); err != nil {
			t.Fatal(err)
		}
	})
	elapsed := time.Since(began)
	after := l.Link(l.Recorder, l.SPAN)
	frames := after.RxPackets - before.RxPackets
	l.mu.Lock()
	for _, p := range l.procs {
		if p.Name == "spanrec-record" {
			rec = p
		}
	}
	l.mu.Unlock()
	fig := fmt.Sprintf("%d calls × %s: %d frames on the mirror port in %.0f s, about %.0f frames/s and %.1f Mbit/s while all calls talk",
		n, talk, frames, elapsed.Seconds(), float64(frames)/talk.Seconds(), float64(after.RxBytes-before.RxBytes)*8/talk.Seconds()/1e6)
	if rec != nil {
		cpu := rec.CPU()
		fig += fmt.Sprintf("; spanrec record CPU %.1f s (%.0f%% of one core over the run)", cpu.Seconds(), cpu.Seconds()/elapsed.Seconds()*100)
		kernel, queue, ok := recordDrops(rec.Output())
		fig += fmt.Sprintf(", kernel drops %d, queue drops %d", kernel, queue)
		if !ok || kernel != 0 || queue != 0 {
			t.Errorf("spanrec record: kernel drops %d, queue drops %d (summary found: %v)", kernel, queue, ok)
		}
	} else {
		fig += fmt.Sprintf("; tcpdump kernel drops %d", tcpdumpDrops)
		if tcpdumpDrops != 0 {
			t.Errorf("tcpdump: %d frames dropped by the kernel", tcpdumpDrops)
		}
	}
	t.Log("SPAN lab load: " + fig)
	for _, data := range dirs {
		calls := Recorded(t, data)
		if len(calls) != n {
			t.Errorf("%s: %d calls recorded, want %d", data, len(calls), n)
		}
		bad := 0
		for i, c := range calls {
			// Every call's two channels are checked on a sample of calls
			// (reading 200 minute-long WAVs takes a while); every call's
			// parties, status and streams are checked.
			if c.Status != spanrec.Answered || c.Caller.Number != a.Number || c.Callee.Number != pbx.Number ||
				len(c.Streams) < 2 || c.CaptureLoss || c.Audio == "" {
				bad++
				if bad <= 5 {
					t.Errorf("call %s: %s %s→%s, %d streams, loss %v, audio %q, notes %q",
						c.ID, c.Status, c.Caller.Number, c.Callee.Number, len(c.Streams), c.CaptureLoss, c.Audio, c.Notes)
				}
				continue
			}
			if i%25 == 0 {
				checkCall(t, data, c, a, pbx, spanrec.Outbound, talk)
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d calls incomplete", data, bad, len(calls))
		}
	}
}

// recordDrops sums the kernel and queue drops of every interface in
// spanrec record's closing summary ("kernel drops N, queue drops M"); ok
// is false when there is no such line.
func recordDrops(out string) (kernel, queue uint64, ok bool) {
	for _, m := range regexp.MustCompile(`kernel drops (\d+), queue drops (\d+)`).FindAllStringSubmatch(out, -1) {
		k, _ := strconv.ParseUint(m[1], 10, 64)
		q, _ := strconv.ParseUint(m[2], 10, 64)
		kernel, queue, ok = kernel+k, queue+q, true
	}
	return kernel, queue, ok
}

// Scenario 5: the mirror port is rate-limited (tbf), so the switch drops
// copies. The losses must show: per call (lost packets, capture loss, a
// note) and in the doctor's verdict.
func TestOversubscribedMirrorLossesReported(t *testing.T) {
	// 6 calls of G.711 are about 6 × 2 × 50 × 214 B × 8 = 1 Mbit/s on the
	// mirror: a 700 kbit/s SPAN port drops about a third of the copies.
	l := newLab(t, Topology{Hosts: []HostSpec{{"pbx", MirrorBoth}, {"a", MirrorNone}, {"b", MirrorNone}}, SPANRate: "700kbit"})
	a, _, pbx := phones(l)
	talk := 5 * time.Second
	l.Binary()
	var live doctor.Report
	var liveCode int
	var liveErr error
	dirs, _ := recording(t, l, "", true, func() {
		// The doctor listens on the mirror port while the calls go on.
		done := make(chan struct{})
		go func() {
			defer close(done)
			live, liveCode, liveErr = l.Doctor(time.Minute, "-i", l.SPAN, "--for", (talk + 5*time.Second).String())
		}()
		err := l.Call(Calls{Caller: a, Callee: pbx, Count: 6, Rate: 2, Talk: talk})
		<-done
		if err != nil {
			t.Fatal(err)
		}
	})
	drops := l.SPANDrops()
	if drops == 0 {
		t.Fatal("the tbf on the mirror port dropped nothing: the scenario does not reproduce oversubscription")
	}
	for _, data := range dirs {
		calls := Recorded(t, data)
		if len(calls) == 0 {
			t.Fatalf("%s: no call recorded", data)
		}
		var lost, hit int
		for _, c := range calls {
			var cl int
			for _, s := range c.Streams {
				cl += s.Lost
			}
			lost += cl
			// A call whose packets all fitted in the tbf's burst lost
			// nothing; every call that lost packets must say so.
			if cl > 0 {
				hit++
				if !c.CaptureLoss {
					t.Errorf("call %s: %d packets lost, capture loss false: the mirror's drops are hidden", c.ID, cl)
				}
			}
		}
		if hit*2 < len(calls) {
			t.Errorf("only %d of %d calls report losses though the switch dropped copies throughout", hit, len(calls))
		}
		// Most of what the switch dropped was RTP; the recorder must
		// count it as lost (RTP lost in calls not recorded at all, whose
		// INVITE was dropped, cannot be counted).
		t.Logf("%s: %d calls, %d RTP packets lost; the mirror port's tbf dropped %d frames", data, len(calls), lost, drops)
		if uint64(lost) < drops/3 {
			t.Errorf("%d RTP packets reported lost, but the switch dropped %d copies", lost, drops)
		}
	}
	file, fileCode, fileErr := l.Doctor(time.Minute, filepath.Join(l.Dir, "span.pcap"))
	for _, d := range []struct {
		how  string
		r    doctor.Report
		code int
		err  error
	}{{"listening", live, liveCode, liveErr}, {"on the tcpdump capture", file, fileCode, fileErr}} {
		if d.err != nil {
			t.Error(d.err)
			continue
		}
		f := findingOf(d.r, doctor.CodeRTPLoss)
		if d.code != 1 || d.r.Fit || f == nil || f.Severity != doctor.SeverityError {
			t.Errorf("doctor %s: exit %d, fit %v, loss finding %+v", d.how, d.code, d.r.Fit, f)
		} else {
			t.Logf("doctor %s: %s", d.how, f.Message)
		}
	}
}

// Scenario 6: doctor, listening on the mirror port while calls are made,
// says a healthy mirror is fit; with only one direction of one phone's port
// mirrored it names one-way audio and says what to fix.
func TestDoctor(t *testing.T) {
	tests := []struct {
		name   string
		mirror [2]Mirror // phone A, phone B
		fit    bool
		code   string
	}{
		{"healthy", [2]Mirror{MirrorBoth, MirrorNone}, true, doctor.CodeRTP},
		{"one direction", [2]Mirror{MirrorSent, MirrorNone}, false, doctor.CodeOneWay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t, Topology{Hosts: []HostSpec{{"pbx", MirrorNone}, {"a", tt.mirror[0]}, {"b", tt.mirror[1]}}})
			a, b, _ := phones(l)
			talk := 4 * time.Second
			listen := 2*talk + 2*time.Second
			l.Binary()
			var r doctor.Report
			var code int
			var derr error
			done := make(chan struct{})
			go func() {
				defer close(done)
				r, code, derr = l.Doctor(listen+time.Minute, "-i", l.SPAN, "--for", listen.String())
			}()
			time.Sleep(time.Second)
			err := l.Call(Calls{Caller: a, Callee: b, Talk: talk})
			<-done
			if err != nil {
				t.Fatal(err)
			}
			if derr != nil {
				t.Fatal(derr)
			}
			for _, f := range r.Findings {
				t.Logf("doctor %s: %s (fix: %s)", f.Severity, f.Message, f.Fix)
			}
			f := findingOf(r, tt.code)
			if r.Fit != tt.fit || (code == 0) != tt.fit || f == nil {
				t.Fatalf("doctor: exit %d, fit %v, want %v with finding %q; findings %+v", code, r.Fit, tt.fit, tt.code, r.Findings)
			}
			if r.Counters.Dialogs != 1 || r.Link == nil || !r.Link.KernelStats || r.Link.KernelDrops != 0 {
				t.Errorf("doctor: %d dialogs, link %+v", r.Counters.Dialogs, r.Link)
			}
			if len(r.Link.Problems) != 0 {
				t.Errorf("the lab's mirror port is receive-only, doctor says %+v", r.Link.Problems)
			}
			if !tt.fit {
				if !strings.Contains(f.Message, "only 1001→1002") || !strings.Contains(f.Fix, "mirror both rx and tx") {
					t.Errorf("one-way finding does not name the direction and the fix: %+v", f)
				}
			}
			if math.IsNaN(r.Counters.AvgMbit) || r.Counters.AvgMbit <= 0 {
				t.Errorf("rate %v", r.Counters.AvgMbit)
			}
		})
	}
}

// Scenario 7: real phones through a real proxy. Two baresip user agents
// register at kamailio (a stateful, record-routing proxy and registrar);
// phone A dials 1002 through it, phone B answers at once, each sends its
// tone from a WAV file, and A hangs up after the talk time. The SIP goes
// phone → proxy → phone, with the proxy's Via and Record-Route added and
// the Request-URI rewritten to B's registered contact; the media goes
// directly from phone to phone, with RTCP beside it; REGISTERs come and go
// around the call. Every host's port is mirrored in the direction it
// sends, so each frame reaches the recorder once. The proxy is configured
// as the site's PBX.
func TestRealPhonesThroughProxy(t *testing.T) {
	Require(t, RealSIPTools...)
	l := newLab(t, Topology{Hosts: []HostSpec{{"pbx", MirrorSent}, {"a", MirrorSent}, {"b", MirrorSent}}})
	pa, pb, _ := phones(l)
	proxy := l.Host("pbx")
	a, b := Phone{Party: pa, Proxy: proxy}, Phone{Party: pb, Proxy: proxy}
	cfg := l.Config("networks:\n  pbx: [" + proxy.Addr.String() + "]\n")
	talk := 4 * time.Second
	l.StartProxy(proxy)
	dirs, _ := recording(t, l, cfg, true, func() {
		callee := l.StartPhone(b)
		caller := l.Dial(a, b.Number, talk)
		if err := caller.Wait(talk + 20*time.Second); err != nil {
			t.Fatalf("phone A: %v\n%s", err, tail(caller.Output(), 3000))
		}
		if !strings.Contains(caller.Output(), "Call established") {
			t.Fatalf("phone A: the call was not established:\n%s", tail(caller.Output(), 3000))
		}
		time.Sleep(300 * time.Millisecond) // B answers the BYE
		if err := callee.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
			t.Fatalf("phone B: %v\n%s", err, tail(callee.Output(), 3000))
		}
		if !strings.Contains(callee.Output(), "Call established") {
			t.Fatalf("phone B: no call established:\n%s", tail(callee.Output(), 3000))
		}
	})
	p := proxy.Addr.String()
	wantHops := []string{
		"INVITE " + a.Host.Addr.String() + "→" + p, "INVITE " + p + "→" + b.Host.Addr.String(),
		"200 INVITE " + b.Host.Addr.String() + "→" + p, "200 INVITE " + p + "→" + a.Host.Addr.String(),
		"ACK " + a.Host.Addr.String() + "→" + p, "ACK " + p + "→" + b.Host.Addr.String(),
		"BYE " + a.Host.Addr.String() + "→" + p, "BYE " + p + "→" + b.Host.Addr.String(),
		"200 BYE " + b.Host.Addr.String() + "→" + p, "200 BYE " + p + "→" + a.Host.Addr.String(),
	}
	recordRoute := regexp.MustCompile(`(?im)^Record-Route:\s*<sip:` + regexp.QuoteMeta(p) + `;lr`)
	for _, data := range dirs {
		calls := Recorded(t, data)
		if len(calls) != 1 {
			for _, c := range calls {
				t.Logf("%s: call %s %s → %s, %s", data, c.SIPCallID, c.Caller.Number, c.Callee.Number, c.Status)
			}
			t.Fatalf("%s: %d calls recorded, want 1 (REGISTERs are no calls)", data, len(calls))
		}
		c := calls[0]
		checkCall(t, data, c, pa, pb, spanrec.Internal, talk)
		if c.Caller.Name != pa.Name {
			t.Errorf("call %s: caller name %q, want %q (the display name of A's From)", c.ID, c.Caller.Name, pa.Name)
		}
		// The media goes around the proxy.
		for _, s := range c.Streams {
			ends := [2]netip.Addr{s.Src.Addr(), s.Dst.Addr()}
			if ends != [2]netip.Addr{a.Host.Addr, b.Host.Addr} && ends != [2]netip.Addr{b.Host.Addr, a.Host.Addr} {
				t.Errorf("call %s: stream %v→%v, want one between the phones", c.ID, s.Src, s.Dst)
			}
		}
		// The call's stored capture holds both legs of its signalling.
		msgs := CallSIP(t, data, c)
		seen := map[string]bool{}
		var forwarded *SIPMessage
		for i, m := range msgs {
			seen[m.Hop()] = true
			if m.Request && m.Method == "INVITE" && m.Src.Addr() == proxy.Addr {
				forwarded = &msgs[i]
			}
		}
		for _, h := range wantHops {
			if !seen[h] {
				t.Errorf("call %s: no %s in its capture", c.ID, h)
			}
		}
		// A proxy that record-routes and found B's registration: its
		// Record-Route header in the INVITE, the Request-URI rewritten to B's contact.
		if forwarded != nil && (!recordRoute.Match(forwarded.Raw) || forwarded.RequestURI == "sip:"+b.Number+"@"+p) {
			t.Errorf("call %s: the INVITE the proxy relayed has no Record-Route of it or an unchanged Request-URI:\n%s", c.ID, forwarded.Raw)
		}
		if t.Failed() {
			for _, m := range msgs {
				t.Logf("%s: %s %s", data, m.Time.Format("15:04:05.000"), m.Hop())
			}
		}
	}
}

// Scenario 8: hostile traffic replayed onto the mirrored segment while real
// calls run. A flood host writes pcaptest's hostile captures (SIP over TCP
// flows announcing bodies never sent, unanswered INVITEs) onto its switch
// port, mirrored to the recorder, while SIPp places real calls across the
// PBX's mirrored port; spanrec record runs with limits.memory 32MiB. Every
// real call must be recorded whole, the recorder must count the evictions
// the flood forced, and its peak RSS stay bounded.
func TestHostileFloodDuringCalls(t *testing.T) {
	const (
		n        = 12
		talk     = 8 * time.Second
		flows    = 800      // TCPFlood flows …
		announce = 60 << 10 // … each holding up to 60 KB: 48 MB without a budget
		invites  = 3000
		rate     = 8000 // frames/s of the replay
		// The RSS holds the 64 MiB capture ring (capture.DefaultRingMB)
		// besides the heap: the budget, the Go heap's headroom over it and
		// what the budget does not count (index, renderers).
		rssBound = 256 << 20
	)
	l := newLab(t, Topology{Hosts: []HostSpec{{"pbx", MirrorBoth}, {"a", MirrorNone}, {"b", MirrorNone}, {"flood", MirrorSent}}})
	a, _, pbx := phones(l)
	if !l.HasRecord() {
		t.Fatal("spanrec has no record command")
	}
	// The flood comes from the upper half of the lab's subnet (its hosts
	// are .10 and up) and is addressed to the PBX: no address outside the
	// lab's namespaces.
	fl := pcaptest.Flood{From: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 77, 0, 128}), 25), To: pbx.Host.Addr}
	if !Subnet.Contains(fl.From.Addr()) {
		t.Fatalf("flood hosts %s outside the lab's %s", fl.From, Subnet)
	}
	var tcpFlood, inviteFlood bytes.Buffer
	if err := fl.TCPFlood(&tcpFlood, flows, announce); err != nil {
		t.Fatal(err)
	}
	if err := fl.InviteFlood(&inviteFlood, invites); err != nil {
		t.Fatal(err)
	}
	cfg := l.Config("networks:\n  trunks: [" + pbx.Host.Addr.String() + "]\nlimits:\n  memory: 32MiB\n")
	data := filepath.Join(l.Dir, "data-record")
	rec := l.StartRecord(data, cfg)
	time.Sleep(time.Second)

	batch := Calls{Caller: a, Callee: pbx, Count: n, Rate: 4, Talk: talk}
	uas := l.StartCallee(batch)
	time.Sleep(300 * time.Millisecond)
	uac := l.StartCaller(batch)
	time.Sleep(time.Second) // the first calls are up when the flood begins
	flood := l.Host("flood")
	var sent int
	for _, c := range []*bytes.Buffer{&tcpFlood, &inviteFlood} {
		k, err := l.Replay(flood, c.Bytes(), rate)
		sent += k
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("flood: %d frames replayed from the flood host", sent)
	// The flood stays on the flood host's port: the idle phone B got
	// none of it.
	if got := l.Link(l.Host("b").NS, "eth0").RxPackets; got > 100 {
		t.Errorf("phone B received %d frames during the flood: the replay left the flood host's port", got)
	}
	if err := WaitCalls(batch.Timeout(), uac, uas); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if rec.ExitCode() != -1 {
		t.Fatalf("spanrec record ended during the flood (exit %d):\n%s", rec.ExitCode(), tail(rec.Output(), 3000))
	}
	peak, err := rec.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Stop(syscall.SIGTERM, 2*time.Minute); err != nil {
		t.Fatalf("spanrec record: %v\n%s", err, tail(rec.Output(), 3000))
	}
	out := rec.Output()
	t.Logf("spanrec record:\n%s", tail(out, 3000))

	kernel, queue, ok := recordDrops(out)
	lim := regexp.MustCompile(`msg=limits .*memory_peak_bytes=(\d+) memory_limit_bytes=(\d+) evicted_tcp=(\d+) evicted_held_media=(\d+) evicted_calls=(\d+) sip_too_large=(\d+)`).FindAllStringSubmatch(out, -1)
	if len(lim) == 0 {
		t.Fatalf("no limits line in spanrec record's log")
	}
	m := lim[len(lim)-1]
	num := func(i int) uint64 { v, _ := strconv.ParseUint(m[i], 10, 64); return v }
	budgetPeak, limit, evTCP, evCalls := num(1), num(2), num(3), num(5)
	t.Logf("SPAN lab flood: %d real calls × %s during %d flood frames (%d TCP flows of %d KiB, %d INVITEs) at %d frames/s: "+
		"peak RSS %.0f MiB (bound %d MiB), budget peak %.1f MiB of %.0f MiB, evicted %d TCP messages and %d calls, kernel drops %d, queue drops %d",
		n, talk, sent, flows, announce>>10, invites, rate, float64(peak)/(1<<20), rssBound>>20,
		float64(budgetPeak)/(1<<20), float64(limit)/(1<<20), evTCP, evCalls, kernel, queue)
	if limit != 32<<20 || budgetPeak > limit {
		t.Errorf("memory budget: peak %d of %d, want within 32 MiB", budgetPeak, limit)
	}
	if evTCP == 0 {
		t.Errorf("no TCP message evicted: the flood did not reach the budget")
	}
	if peak > rssBound {
		t.Errorf("spanrec record's peak RSS %d MiB, want at most %d MiB", peak>>20, rssBound>>20)
	}
	if !ok || kernel != 0 || queue != 0 {
		t.Errorf("spanrec record: kernel drops %d, queue drops %d (summary found: %v)", kernel, queue, ok)
	}

	var real, flooded int
	for _, c := range Recorded(t, data) {
		if c.Caller.Number != a.Number {
			flooded++
			continue
		}
		real++
		checkCall(t, data, c, a, pbx, spanrec.Outbound, talk)
	}
	if real != n {
		t.Errorf("%d real calls recorded, want %d", real, n)
	}
	t.Logf("%d real calls recorded; %d calls of the INVITE flood indexed", real, flooded)
}
