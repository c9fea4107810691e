// Package lab is the SPAN lab: end-to-end test helpers that build a small
// switched network with a mirror port inside Linux network namespaces on one
// machine, place real SIP calls across it with SIPp (or with baresip phones
// through a kamailio proxy), and run spanrec on the mirror port the way an
// administrator would.
//
// It sits outside the recording pipeline: it drives the built spanrec
// binary (record, import, doctor) and reads what it wrote (the SQLite index
// and the WAV files). The topology:
//
//	namespace "sw":   a Linux bridge (STP off, no address), one veth per host
//	namespace per host (phones, PBX/trunk): eth0 with an address of 10.77.0.0/24,
//	                  transmit checksum offload off (mirrored copies of
//	                  offloaded packets carry partial checksums)
//	namespace "rec":  span0, the mirror port: not a bridge member,
//	                  promiscuous, no address, ARP and IPv6 off
//
// The SPAN itself is tc: a clsact qdisc on a host's switch port with a u32
// match-all filter and "action mirred egress mirror dev" the recorder's port,
// on the ingress hook (frames the host sends), the egress hook (frames
// delivered to it) or both. A tbf qdisc on the recorder's port reproduces an
// oversubscribed mirror. The addresses exist only inside the namespaces:
// nothing routes out.
//
// Everything needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for namespaces),
// iproute2, ethtool, sox and SIPp (Debian package sip-tester), and for the
// scenario with real phones baresip and kamailio (RealSIPTools); Require
// skips the test with a message naming what is missing, or fails it when
// SPANREC_LAB=require is set. Every namespace and process is removed in
// t.Cleanup, also when the test fails.
package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Mirror says which frames of a host's switch port are copied to the mirror
// port, seen from the host, as a switch's SPAN session names them.
type Mirror uint8

// Mirror directions. MirrorBoth on two ports that talk to each other copies
// every frame between them twice.
const (
	MirrorNone     Mirror = 0
	MirrorSent     Mirror = 1 // frames the host sends (the switch port's rx)
	MirrorReceived Mirror = 2 // frames delivered to the host (the switch port's tx)
	MirrorBoth            = MirrorSent | MirrorReceived
)

// HostSpec is one host plugged into the lab switch.
type HostSpec struct {
	Name   string // short: it names the switch port "p-NAME" (at most 10 characters)
	Mirror Mirror
}

// Topology describes a lab.
type Topology struct {
	Hosts []HostSpec
	// SPANRate, if set, limits the mirror port with a tbf qdisc of this rate
	// (tc syntax, e.g. "1mbit"): the switch then drops the copies that do
	// not fit, as an oversubscribed SPAN does.
	SPANRate string
}

// Subnet is the lab's only network. It exists inside the namespaces only.
var Subnet = netip.MustParsePrefix("10.77.0.0/24")

// Host is a host namespace of a running lab.
type Host struct {
	Name string
	NS   string     // network namespace
	Addr netip.Addr // address of its eth0
	Port string     // its port on the switch (in the switch namespace)
}

// Lab is a running SPAN lab.
type Lab struct {
	t        testing.TB
	Dir      string // scratch directory: logs, tones, captures
	Switch   string // namespace of the bridge
	Recorder string // namespace of the mirror port
	SPAN     string // the mirror port's interface, in Recorder
	SPANPort string // the switch side of the mirror port, in Switch
	hosts    []*Host

	// Bin is the spanrec binary the lab runs; Binary builds one into Dir
	// when it is empty. Tests that build many labs build it once (Build)
	// and set it.
	Bin string

	mu    sync.Mutex
	procs []*Proc
	tones map[string]string // tone files made, by name
}

// Tools the lab needs, with the Debian package that has each.
var tools = [][2]string{
	{"ip", "iproute2"}, {"tc", "iproute2"}, {"ethtool", "ethtool"}, {"sipp", "sip-tester"}, {"sox", "sox"},
}

// Require skips t, with a message saying why, unless this machine can run
// the lab: root, the tools (those every lab needs and extra, each a program
// and the Debian package that has it), network namespaces. With
// SPANREC_LAB=require in the environment it fails t instead, so that CI
// cannot pass by skipping.
func Require(t testing.TB, extra ...[2]string) {
	t.Helper()
	stop := t.Skipf
	if os.Getenv("SPANREC_LAB") == "require" {
		stop = t.Fatalf
	}
	if os.Geteuid() != 0 {
		stop("SPAN lab not run: it needs root (CAP_NET_ADMIN, network namespaces); run the tests as root, e.g. sudo ./test.sh")
		return
	}
	var missing, pkgs []string
	for _, tl := range slices.Concat(tools, extra) {
		if _, err := exec.LookPath(tl[0]); err != nil {
			missing = append(missing, fmt.Sprintf("%s (package %s)", tl[0], tl[1]))
			if !slices.Contains(pkgs, tl[1]) {
				pkgs = append(pkgs, tl[1])
			}
		}
	}
	if len(missing) > 0 {
		stop("SPAN lab not run: missing %s; test.sh installs them (apt-get install %s)", strings.Join(missing, ", "), strings.Join(pkgs, " "))
		return
	}
	name := fmt.Sprintf("sr-%d-probe", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		stop("SPAN lab not run: cannot create a network namespace (%v: %s); the lab needs CAP_SYS_ADMIN and CAP_NET_ADMIN", err, bytes.TrimSpace(out))
		return
	}
	_ = exec.Command("ip", "netns", "del", name).Run()
}

// New builds the lab described by topo, after Require. Host i gets the
// address .10+i of Subnet. Namespaces are named "sr-PID-HASH-ROLE", unique
// per test and process.
func New(t testing.TB, topo Topology) *Lab {
	t.Helper()
	Require(t)
	h := fnv.New32a()
	h.Write([]byte(t.Name()))
	prefix := fmt.Sprintf("sr-%d-%06x", os.Getpid(), h.Sum32()&0xffffff)
	l := &Lab{
		t: t, Dir: t.TempDir(),
		Switch: prefix + "-sw", Recorder: prefix + "-rec",
		SPAN: "span0", SPANPort: "p-rec",
		tones: make(map[string]string),
	}
	var spaces []string
	t.Cleanup(func() {
		l.stopAll()
		for _, ns := range spaces {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Logf("lab cleanup: ip netns del %s: %v %s", ns, err, out)
			}
		}
	})
	addNS := func(ns string) {
		// A namespace left by a crashed run of the same test is removed.
		_ = exec.Command("ip", "netns", "del", ns).Run()
		l.must("ip", "netns", "add", ns)
		spaces = append(spaces, ns)
		l.must("ip", "-n", ns, "link", "set", "lo", "up")
	}
	addNS(l.Switch)
	addNS(l.Recorder)
	l.must("ip", "-n", l.Switch, "link", "add", "br0", "type", "bridge", "stp_state", "0")
	l.must("ip", "-n", l.Switch, "link", "set", "br0", "up")

	// The mirror port: not a bridge member; receive-only on the recorder's
	// side.
	l.must("ip", "-n", l.Switch, "link", "add", l.SPANPort, "type", "veth", "peer", "name", l.SPAN, "netns", l.Recorder)
	l.must("ip", "-n", l.Switch, "link", "set", l.SPANPort, "up")
	l.must("ip", "netns", "exec", l.Recorder, "sysctl", "-qw", "net.ipv6.conf."+l.SPAN+".disable_ipv6=1")
	l.must("ip", "-n", l.Recorder, "link", "set", l.SPAN, "arp", "off", "promisc", "on", "up")
	if topo.SPANRate != "" {
		l.must("tc", "-n", l.Switch, "qdisc", "add", "dev", l.SPANPort, "root", "tbf",
			"rate", topo.SPANRate, "burst", "10kb", "latency", "50ms")
	}

	base := Subnet.Addr().As4()
	for i, hs := range topo.Hosts {
		if hs.Name == "" || len(hs.Name) > 10 || hs.Name == "rec" || hs.Name == "sw" {
			t.Fatalf("lab: bad host name %q", hs.Name)
		}
		a := base
		a[3] = byte(10 + i)
		host := &Host{Name: hs.Name, NS: prefix + "-" + hs.Name, Addr: netip.AddrFrom4(a), Port: "p-" + hs.Name}
		addNS(host.NS)
		l.must("ip", "-n", l.Switch, "link", "add", host.Port, "type", "veth", "peer", "name", "eth0", "netns", host.NS)
		l.must("ip", "-n", l.Switch, "link", "set", host.Port, "master", "br0", "up")
		l.must("ip", "-n", host.NS, "addr", "add", netip.PrefixFrom(host.Addr, Subnet.Bits()).String(), "dev", "eth0")
		l.must("ip", "-n", host.NS, "link", "set", "eth0", "up")
		l.must("ip", "netns", "exec", host.NS, "ethtool", "-K", "eth0", "tx", "off")
		if hs.Mirror != MirrorNone {
			l.must("tc", "-n", l.Switch, "qdisc", "add", "dev", host.Port, "clsact")
		}
		// On the switch side of the veth, tc ingress sees what the host
		// sent and egress what the bridge delivers to it. No matchall or
		// flower on these kernels: u32 matching everything.
		for _, hook := range []struct {
			m    Mirror
			name string
		}{{MirrorSent, "ingress"}, {MirrorReceived, "egress"}} {
			if hs.Mirror&hook.m != 0 {
				l.must("tc", "-n", l.Switch, "filter", "add", "dev", host.Port, hook.name, "protocol", "all",
					"u32", "match", "u32", "0", "0", "action", "mirred", "egress", "mirror", "dev", l.SPANPort)
			}
		}
		l.hosts = append(l.hosts, host)
	}
	return l
}

// Host returns the host called name; it fails the test if there is none.
func (l *Lab) Host(name string) *Host {
	for _, h := range l.hosts {
		if h.Name == name {
			return h
		}
	}
	l.t.Fatalf("lab: no host %q", name)
	return nil
}

func (l *Lab) must(args ...string) {
	l.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("lab: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Exec runs a command inside namespace ns and returns its combined output.
func (l *Lab) Exec(ns string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("lab: %s in %s: %w", strings.Join(args, " "), ns, err)
	}
	return string(out), nil
}

// Proc is a process started in a namespace. Its standard output and error
// go to the file Log.
type Proc struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts a command inside namespace ns, in the background. name
// names its log file in Dir. The lab kills it at cleanup if it still runs.
func (l *Lab) Start(ns, name string, args ...string) *Proc {
	l.t.Helper()
	log := filepath.Join(l.Dir, name+".log")
	f, err := os.Create(log)
	if err != nil {
		l.t.Fatal(err)
	}
	// ip netns exec execs the command: the process is the command itself.
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		l.t.Fatalf("lab: start %s: %v", strings.Join(args, " "), err)
	}
	p := &Proc{Name: name, Log: log, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p
}

// Wait waits up to timeout for the process to end and returns its error
// (nil for exit status 0). It kills the process at the timeout.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("lab: %s still running after %s: killed", p.Name, timeout)
	}
}

// Stop sends sig to the process and waits up to timeout for it to end.
func (p *Proc) Stop(sig os.Signal, timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	return p.Wait(timeout)
}

// Pid returns the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// ExitCode returns the exit status of an ended process (-1 if killed by a
// signal or still running).
func (p *Proc) ExitCode() int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// CPU returns the user and system CPU time of an ended process.
func (p *Proc) CPU() time.Duration {
	<-p.done
	return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
}

// Output returns what the process wrote so far.
func (p *Proc) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

func (l *Lab) stopAll() {
	l.mu.Lock()
	procs := l.procs
	l.procs = nil
	l.mu.Unlock()
	for _, p := range procs {
		if err := p.Stop(syscall.SIGTERM, 5*time.Second); err != nil && strings.Contains(err.Error(), "killed") {
			l.t.Logf("lab cleanup: %v", err)
		}
	}
}

// LinkStats are an interface's kernel counters.
type LinkStats struct {
	RxPackets, RxBytes, RxDropped uint64
	TxPackets, TxBytes, TxDropped uint64
}

// Link returns the counters of interface dev in namespace ns (ip -s -j
// link).
func (l *Lab) Link(ns, dev string) LinkStats {
	l.t.Helper()
	out, err := exec.Command("ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev).Output()
	if err != nil {
		l.t.Fatalf("lab: ip -s link %s in %s: %v", dev, ns, err)
	}
	var v []struct {
		Stats64 struct {
			Rx struct{ Packets, Bytes, Dropped uint64 } `json:"rx"`
			Tx struct{ Packets, Bytes, Dropped uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &v); err != nil || len(v) != 1 {
		l.t.Fatalf("lab: ip -s -j link %s: %v: %s", dev, err, out)
	}
	s := v[0].Stats64
	return LinkStats{s.Rx.Packets, s.Rx.Bytes, s.Rx.Dropped, s.Tx.Packets, s.Tx.Bytes, s.Tx.Dropped}
}

// SPANDrops returns the packets the tbf qdisc of the mirror port dropped
// (0 without SPANRate).
func (l *Lab) SPANDrops() uint64 {
	l.t.Helper()
	out, err := exec.Command("tc", "-n", l.Switch, "-s", "-j", "qdisc", "show", "dev", l.SPANPort).Output()
	if err != nil {
		l.t.Fatalf("lab: tc -s qdisc: %v", err)
	}
	var v []struct {
		Kind  string `json:"kind"`
		Drops uint64 `json:"drops"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		l.t.Fatalf("lab: tc -s -j qdisc: %v: %s", err, out)
	}
	var n uint64
	for _, q := range v {
		n += q.Drops
	}
	return n
}

// Tone returns a headerless µ-law file of 60 s of a sine at hz, made with
// sox, for SIPp's rtp_stream (which would send a WAV header as audio).
func (l *Lab) Tone(hz int) string {
	l.t.Helper()
	return l.tone(fmt.Sprintf("tone-%d.ul", hz), hz, "-t", "ul")
}

// ToneWAV returns a WAV file (8 kHz, mono, 16-bit PCM) of 60 s of a sine at
// hz, made with sox, for baresip's aufile audio source.
func (l *Lab) ToneWAV(hz int) string {
	l.t.Helper()
	return l.tone(fmt.Sprintf("tone-%d.wav", hz), hz, "-t", "wav", "-b", "16")
}

// tone makes the file name in Dir once: 60 s of a sine at hz, 8 kHz mono,
// in the format sox's output options say.
func (l *Lab) tone(name string, hz int, format ...string) string {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.tones[name]; ok {
		return p
	}
	p := filepath.Join(l.Dir, name)
	args := append([]string{"-n", "-r", "8000", "-c", "1"}, format...)
	args = append(args, p, "synth", "60", "sine", strconv.Itoa(hz), "vol", "0.5")
	if out, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("lab: sox %s: %v %s", name, err, out)
	}
	l.tones[name] = p
	return p
}

// Binary returns Bin, building cmd/spanrec into Dir first if it is empty.
func (l *Lab) Binary() string {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Bin == "" {
		bin, err := Build(l.Dir)
		if err != nil {
			l.t.Fatal(err)
		}
		l.Bin = bin
	}
	return l.Bin
}

// Build builds cmd/spanrec (CGO_ENABLED=0) into dir and returns the
// binary's path.
func Build(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "spanrec")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/spanrec")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lab: go build ./cmd/spanrec: %w\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot returns the directory holding go.mod, from the working
// directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("lab: go.mod not found above the working directory")
		}
		dir = parent
	}
}
