package capture_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec/capture"
)

type liveStatser interface {
	Stats() capture.LiveStats
}

// sendAll sends frames on s, pausing briefly every 64 frames so that the
// veth backlog (netdev_max_backlog) never overflows: the test measures the
// capture, not the sender.
func sendAll(t *testing.T, s *sender, frames [][]byte) {
	for i, f := range frames {
		if err := s.send(f); err != nil {
			t.Errorf("send frame %d: %v", i, err)
			return
		}
		if i%64 == 63 {
			time.Sleep(200 * time.Microsecond)
		}
	}
}

// readN reads until n frames came or the source stayed idle for idle.
func readN(t *testing.T, src capture.Source, n int, idle time.Duration) [][]byte {
	t.Helper()
	var got [][]byte
	last := time.Now()
	for len(got) < n && time.Since(last) < idle {
		fr, err := src.ReadFrame()
		if errors.Is(err, capture.ErrTimeout) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if fr.Time.IsZero() || fr.Orig < len(fr.Data) {
			t.Fatalf("frame %d: time %v, orig %d, len %d", len(got), fr.Time, fr.Orig, len(fr.Data))
		}
		got = append(got, append([]byte(nil), fr.Data...))
		last = time.Now()
	}
	return got
}

func TestLiveCapture(t *testing.T) {
	l := newLab(t)
	frames := demoFrames(t)
	var before bool
	l.do(t, func() { before, _ = capture.Promiscuous(l.rx) })
	if before {
		t.Fatal("rx end promiscuous before the capture")
	}
	src := l.openLive(t, capture.LiveConfig{Interface: l.rx, RingMB: 4, PollTimeout: 50 * time.Millisecond})
	var during bool
	l.do(t, func() { during, _ = capture.Promiscuous(l.rx) })
	if !during {
		t.Error("rx end not promiscuous during the capture")
	}
	if lf, ok := src.(interface{ Interface() string }); !ok || lf.Interface() != l.rx {
		t.Error("live source does not name its interface")
	}

	// Idle: ReadFrame comes back with ErrTimeout, so a reader can stop.
	start := time.Now()
	if _, err := src.ReadFrame(); !errors.Is(err, capture.ErrTimeout) {
		t.Fatalf("idle ReadFrame: err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("idle ReadFrame took %v", d)
	}

	s := l.sender(t)
	go sendAll(t, s, frames)
	got := readN(t, src, len(frames), 2*time.Second)
	if len(got) != len(frames) {
		t.Fatalf("captured %d frames, sent %d", len(got), len(frames))
	}
	for i := range got {
		if !bytes.Equal(got[i], frames[i]) {
			t.Fatalf("frame %d differs from the one sent:\n got %x\nwant %x", i, got[i], frames[i])
		}
	}
	st := src.(liveStatser).Stats()
	if st.Packets != uint64(len(frames)) || st.KernelDrops != 0 || st.KernelPackets < uint64(len(frames)) {
		t.Errorf("stats = %+v, want %d packets, no drops", st, len(frames))
	}
	var wantBytes uint64
	for _, f := range frames {
		wantBytes += uint64(len(f))
	}
	if st.Bytes != wantBytes {
		t.Errorf("bytes = %d, want %d", st.Bytes, wantBytes)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.ReadFrame(); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("ReadFrame after Close: %v, want ErrClosed", err)
	}
	if after := src.(liveStatser).Stats(); after != st {
		t.Errorf("stats after close = %+v, want %+v", after, st)
	}
	var promisc bool
	l.do(t, func() { promisc, _ = capture.Promiscuous(l.rx) })
	if promisc {
		t.Error("rx end still promiscuous after Close")
	}
}

func TestLiveNoPromisc(t *testing.T) {
	l := newLab(t)
	src := l.openLive(t, capture.LiveConfig{Interface: l.rx, RingMB: 1, NoPromisc: true})
	defer src.Close()
	var p bool
	l.do(t, func() { p, _ = capture.Promiscuous(l.rx) })
	if p {
		t.Error("NoPromisc capture made the interface promiscuous")
	}
}

func TestLiveFilter(t *testing.T) {
	l := newLab(t)
	frames := demoFrames(t)
	f := &capture.Filter{UDPPorts: []capture.PortRange{{5060, 5060}}, VLAN: true}
	var want [][]byte
	for _, fr := range frames {
		if refKeep(f, fr) {
			want = append(want, fr)
		}
	}
	if len(want) == 0 || len(want) == len(frames) {
		t.Fatalf("filter keeps %d of %d demo frames: not a test", len(want), len(frames))
	}
	src := l.openLive(t, capture.LiveConfig{Interface: l.rx, RingMB: 2, Filter: f, Snaplen: 96, PollTimeout: 50 * time.Millisecond})
	defer src.Close()
	go sendAll(t, l.sender(t), frames)
	got := readN(t, src, len(frames), time.Second)
	if len(got) != len(want) {
		t.Fatalf("captured %d frames through the filter, want %d", len(got), len(want))
	}
	for i := range got {
		if w := want[i][:min(96, len(want[i]))]; !bytes.Equal(got[i], w) {
			t.Fatalf("frame %d: got %x, want the first 96 bytes %x", i, got[i], w)
		}
	}
}

func TestLiveFanout(t *testing.T) {
	l := newLab(t)
	frames := demoFrames(t)
	var srcs []capture.Source
	for range 2 {
		src := l.openLive(t, capture.LiveConfig{Interface: l.rx, RingMB: 2, FanoutGroup: 4242, PollTimeout: 20 * time.Millisecond})
		defer src.Close()
		srcs = append(srcs, src)
	}
	done := make(chan struct{})
	go func() { sendAll(t, l.sender(t), frames); close(done) }()
	counts := make([]int, len(srcs))
	results := make(chan [][]byte, len(srcs))
	for _, src := range srcs {
		go func() { results <- readN(t, src, len(frames), time.Second) }()
	}
	total := 0
	for i := range srcs {
		got := <-results
		counts[i] = len(got)
		total += len(got)
	}
	<-done
	if total != len(frames) {
		t.Fatalf("fanout members captured %v = %d frames, sent %d", counts, total, len(frames))
	}
	t.Logf("fanout split: %v", counts)
}

func TestCheckReceiveOnly(t *testing.T) {
	l := newLab(t)
	l.sysctl(t, "net.ipv6.conf."+l.rx+".disable_ipv6=0")
	l.ip(t, "addr", "add", "192.0.2.1/24", "dev", l.rx)
	var ws []capture.Warning
	var err error
	l.do(t, func() { ws, err = capture.CheckReceiveOnly(l.rx) })
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, w := range ws {
		text += w.String() + "\n"
	}
	for _, want := range []string{
		"192.0.2.1/24", "ip addr flush dev " + l.rx,
		"ARP is on", "ip link set dev " + l.rx + " arp off",
		"IPv6 is on", "sysctl -w net.ipv6.conf." + l.rx + ".disable_ipv6=1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("warnings lack %q:\n%s", want, text)
		}
	}
	// Apply the fixes the warnings give: no warning is left.
	for _, w := range ws {
		for _, fix := range w.Fix {
			args := strings.Fields(fix)
			if args[0] == "ip" {
				l.ip(t, args[1:]...)
			} else {
				l.sysctl(t, args[len(args)-1])
			}
		}
	}
	l.do(t, func() { ws, err = capture.CheckReceiveOnly(l.rx) })
	if err != nil || len(ws) != 0 {
		t.Errorf("after the fixes: %v, %v; want no warning", ws, err)
	}
	l.ip(t, "link", "set", "dev", l.rx, "down")
	l.do(t, func() { ws, _ = capture.CheckReceiveOnly(l.rx) })
	if len(ws) != 1 || !strings.Contains(ws[0].Problem, "down") {
		t.Errorf("down interface: %v", ws)
	}
	if _, err := capture.CheckReceiveOnly("no-such-if0"); err == nil {
		t.Error("no error for a missing interface")
	}
}
