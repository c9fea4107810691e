package capture_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/spanrec/spanrec/lab/netns"

	"github.com/spanrec/spanrec/capture"
)

// A lab is a network namespace of its own holding a veth pair: frames sent
// on end "tx" arrive on end "rx". Nothing in it has a route anywhere else.
type lab struct {
	ns     string
	tx, rx string
}

var labSeq atomic.Int32

// newLab creates a lab, or skips the test when this process cannot (not
// root, no CAP_NET_ADMIN, no ip command). The namespace is deleted when
// the test ends.
func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root (CAP_NET_ADMIN and CAP_NET_RAW) to create a network namespace and a veth pair")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("live capture tests need the ip command (iproute2)")
	}
	l := &lab{ns: fmt.Sprintf("spanrec-cap-%d-%d", os.Getpid(), labSeq.Add(1)), tx: "vtx", rx: "vrx"}
	if out, err := exec.Command("ip", "netns", "add", l.ns).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace (needs CAP_NET_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", l.ns).Run() })
	l.ip(t, "link", "add", l.tx, "type", "veth", "peer", "name", l.rx)
	for _, d := range []string{l.tx, l.rx} {
		l.sysctl(t, "net.ipv6.conf."+d+".disable_ipv6=1")
		l.ip(t, "link", "set", d, "up")
	}
	return l
}

func (l *lab) ip(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", l.ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (l *lab) sysctl(t *testing.T, kv string) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.ns, "sysctl", "-q", "-w", kv).CombinedOutput()
	if err != nil {
		t.Fatalf("sysctl %s: %v: %s", kv, err, out)
	}
}

// do runs f on an OS thread switched into the lab's namespace. Sockets
// made there stay in the namespace after f returns.
func (l *lab) do(t *testing.T, f func()) {
	t.Helper()
	if err := netns.Do(l.ns, f); err != nil {
		t.Fatal(err)
	}
}

// sender is a raw AF_PACKET socket bound to the lab's tx end: the test's
// stand-in for the switch copying frames to the mirror port.
type sender struct{ fd int }

func (l *lab) sender(t *testing.T) *sender {
	t.Helper()
	var s sender
	var err error
	l.do(t, func() {
		var ifc *net.Interface
		if ifc, err = net.InterfaceByName(l.tx); err != nil {
			return
		}
		if s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
			return
		}
		err = unix.Bind(s.fd, &unix.SockaddrLinklayer{Ifindex: ifc.Index})
	})
	if err != nil {
		t.Fatalf("sender: %v", err)
	}
	t.Cleanup(func() { unix.Close(s.fd) })
	return &s
}

func (s *sender) send(frame []byte) error {
	_, err := unix.Write(s.fd, frame)
	return err
}

// openLive opens a live capture inside the lab.
func (l *lab) openLive(t *testing.T, cfg capture.LiveConfig) capture.Source {
	t.Helper()
	var src capture.Source
	var err error
	l.do(t, func() { src, err = capture.OpenLive(cfg) })
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// demoFrames returns the Ethernet frames of testdata/demo.pcap, copied.
func demoFrames(t testing.TB) [][]byte {
	t.Helper()
	src, err := capture.OpenFile("../testdata/demo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out [][]byte
	for {
		fr, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if fr.Link == 1 {
			out = append(out, append([]byte(nil), fr.Data...))
		}
	}
}
