package doctor

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
)

// capturesDir locates the shared third-party captures: $SPANREC_CAPTURES, or
// ../shared/captures beside the directory holding go.mod.
func capturesDir(t *testing.T) string {
	t.Helper()
	return pcaptest.CapturesDir(t)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// analyse feeds every frame of src to a new Analyzer, skipping the decoded
// packets for which drop returns true (nil keeps all).
func analyse(t *testing.T, src capture.Source, drop func(*packet.Packet) bool) *Analyzer {
	t.Helper()
	defer src.Close()
	a := New(Config{})
	dec := packet.NewDecoder(packet.Config{})
	for {
		f, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			return a
		}
		if err != nil {
			t.Fatal(err)
		}
		if drop == nil {
			a.HandleFrame(f)
			continue
		}
		a.frames++
		a.tick(f.Time, uint64(f.Orig))
		p, ok := dec.Decode(f.Data, packet.LinkType(f.Link), f.Time, f.Orig)
		if ok && !drop(&p) {
			a.Handle(&p)
		}
	}
}

func analyseFile(t *testing.T, path string) Report {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return analyse(t, src, nil).Report(filepath.Base(path), nil)
}

func synthetic(t *testing.T, o pcaptest.Options, drop func(*packet.Packet) bool) Report {
	t.Helper()
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return analyse(t, src, drop).Report("synthetic", nil)
}

func codes(r Report, sev Severity) []string {
	var out []string
	for _, f := range r.Findings {
		if sev == "" || f.Severity == sev {
			out = append(out, f.Code)
		}
	}
	return out
}

func finding(r Report, code string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Code == code {
			return f, true
		}
	}
	return Finding{}, false
}

// check asserts the verdict, that every code of want is among the findings
// and that none of the error codes in notErr is an error.
func check(t *testing.T, r Report, fit bool, want []string, notErr []string) {
	t.Helper()
	if r.Fit != fit {
		var b strings.Builder
		_ = r.WriteText(&b)
		t.Errorf("Fit = %v, want %v\n%s", r.Fit, fit, b.String())
	}
	all := codes(r, "")
	for _, c := range want {
		if !slices.Contains(all, c) {
			t.Errorf("finding %q missing; have %v", c, all)
		}
	}
	errs := codes(r, SeverityError)
	for _, c := range notErr {
		if slices.Contains(errs, c) {
			t.Errorf("finding %q is an error; want none", c)
		}
	}
}

func TestCaptures(t *testing.T) {
	dir := capturesDir(t)
	tests := []struct {
		file    string
		fit     bool
		want    []string
		notErr  []string
		dialogs int
		oneWay  int
	}{
		// The Wireshark samples were made by SIPp playing a file: RTP one
		// way only, in every call, as their SDP says (the caller offers
		// a=recvonly, the callee answers a=sendonly): fit, nothing to blame
		// on the mirror.
		{"wireshark-samples/sip-rtp-g722.pcap", true, []string{CodeSIP, CodeRTP}, []string{CodeOneWay}, 1, 0},
		{"wireshark-samples/sip-rtp-g726.pcap", true, []string{CodeSIP, CodeRTP}, []string{CodeOneWay}, 8, 0},
		{"wireshark-samples/sip-rtp-speex.pcap", true, []string{CodeSIP, CodeRTP}, []string{CodeOneWay}, 3, 0},
		// Caller 2502 and callee 2504 are on one gateway (.110), their SDP
		// at .110:4374 and .110:4376. The two RTP streams are the caller's
		// (.110:4374 → relay .172) and the relay's to the callee
		// (.172 → .110:4376): nothing comes from the callee's port, so
		// both carry caller→callee audio. The recorder says the same
		// (note "only caller→callee RTP seen"); tshark's table agrees on
		// the flows. Two packets are lost out of 1333.
		{"wireshark-samples/SIP_DTMF2.pcap", false, []string{CodeSIP, CodeRTP, CodeRTPLoss, CodeOneWay}, nil, 2, 1},
		// VXLAN-encapsulated traffic without SIP.
		{"ndpi/vxlan.pcap", false, []string{CodeTunnel, CodeNoSIP}, nil, 0, 0},
		// SRTP with no signalling at all, one way: media but no SIP.
		{"wireshark-samples/marseillaise-srtp.pcap", false, []string{CodeNoSIP}, nil, 0, 0},
		// Cisco SCCP and G.711 RTP both ways: recorded as a signalless
		// call, fit.
		{"ndpi/skinny.pcap", true, []string{CodeSignalless}, []string{CodeNoSIP}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := analyseFile(t, filepath.Join(dir, tt.file))
			check(t, r, tt.fit, tt.want, tt.notErr)
			if r.Counters.Dialogs != tt.dialogs || r.Counters.OneWayCalls != tt.oneWay {
				t.Errorf("dialogs %d, one-way %d; want %d, %d", r.Counters.Dialogs, r.Counters.OneWayCalls, tt.dialogs, tt.oneWay)
			}
		})
	}
}

func TestOneWayMessage(t *testing.T) {
	// SIP_DTMF2's SDP says sendrecv both ways: the missing direction is
	// the mirror's (or the relay's) to explain.
	r := analyseFile(t, filepath.Join(capturesDir(t), "wireshark-samples/SIP_DTMF2.pcap"))
	f, ok := finding(r, CodeOneWay)
	if !ok {
		t.Fatal("no one-way finding")
	}
	if !strings.Contains(f.Message, "only ") || !strings.Contains(f.Fix, "mirror both rx and tx") || !strings.Contains(f.Fix, "firewall") {
		t.Errorf("finding %+v does not say what was seen and what to fix", f)
	}
	i := slices.IndexFunc(r.Calls, func(c Call) bool { return c.OneWay })
	if i < 0 {
		t.Fatalf("no call is one-way: %+v", r.Calls)
	}
	if c := r.Calls[i]; !c.Answered || (c.CallerToCallee == 0) == (c.CalleeToCaller == 0) {
		t.Errorf("call %+v: want answered, with packets in one direction only", c)
	}
}

func TestDemo(t *testing.T) {
	r := analyseFile(t, filepath.Join(repoRoot(t), "testdata", "demo.pcap"))
	check(t, r, true, []string{CodeSIP, CodeRTP, CodeRate}, nil)
	if r.Counters.Dialogs != 7 || r.Counters.Answered != 4 {
		t.Errorf("dialogs %d answered %d, want 7 and 4", r.Counters.Dialogs, r.Counters.Answered)
	}
	if !slices.Contains(r.Counters.SIPPorts, "UDP 5060") {
		t.Errorf("SIP ports %v lack UDP 5060", r.Counters.SIPPorts)
	}
}

func calls(n int) []pcaptest.Call {
	return pcaptest.Concurrent(n, 2*time.Second, 4*time.Second)
}

func TestSynthetic(t *testing.T) {
	vlanDup := calls(3)
	for i := range vlanDup {
		vlanDup[i].VLAN = []uint16{100}
		vlanDup[i].Duplicate = true
	}
	lossy := calls(3)
	for i := range lossy {
		lossy[i].Loss = 0.05
	}
	tcp := calls(2)
	for i := range tcp {
		tcp[i].Transport = "tcp"
	}
	tests := []struct {
		name   string
		calls  []pcaptest.Call
		drop   func(*packet.Packet) bool
		fit    bool
		want   []string
		notErr []string
	}{
		{"healthy", calls(5), nil, true, []string{CodeSIP, CodeRTP}, []string{CodeOneWay, CodeRTPLoss}},
		{"vlan and duplicates", vlanDup, nil, true, []string{CodeVLAN, CodeDuplicates}, []string{CodeOneWay}},
		{"loss", lossy, nil, false, []string{CodeRTPLoss}, []string{CodeOneWay}},
		{"sip over tcp", tcp, nil, true, []string{CodeSIP}, nil},
		// Only the PBX's side of the media arrives: the phones' ports
		// mirrored in one direction only.
		{"one way", calls(4), func(p *packet.Packet) bool {
			return p.Proto == packet.ProtoUDP && p.Src.Addr() == netip.MustParseAddr("10.0.0.10") && p.Src.Port() != 5060
		}, false, []string{CodeOneWay}, nil},
		// Only what the phones send: the PBX's answers are missing too.
		{"one way with signalling", calls(4), func(p *packet.Packet) bool {
			return p.Src.Addr() == netip.MustParseAddr("10.0.0.10")
		}, false, []string{CodeOneWay, CodeOneWaySIP}, nil},
		// Both directions of RTP without SIP: recorded as signalless
		// calls, fit (with a warning: no numbers).
		{"media only", calls(2), func(p *packet.Packet) bool { return p.Src.Port() == 5060 || p.Dst.Port() == 5060 },
			true, []string{CodeSignalless}, []string{CodeNoSIP}},
		// One direction of RTP without SIP: not fit.
		{"media only, one way", calls(2), func(p *packet.Packet) bool {
			return p.Src.Port() == 5060 || p.Dst.Port() == 5060 || p.Src.Addr() == netip.MustParseAddr("10.0.0.10")
		}, false, []string{CodeNoSIP}, nil},
		// Silence the SDP asked for is not the mirror's: fit.
		{"hold and one-way by SDP", []pcaptest.Call{
			{Talk: 5 * time.Second, Hold: &pcaptest.Hold{At: time.Second, Length: 2 * time.Second}},
			{Talk: 5 * time.Second, Start: 8 * time.Second, Hold: &pcaptest.Hold{At: time.Second, Length: 2 * time.Second, Style: pcaptest.HoldInactive}},
			{Talk: 5 * time.Second, Start: 16 * time.Second, Hold: &pcaptest.Hold{At: time.Second, Length: 2 * time.Second, Style: pcaptest.HoldZeroAddr}},
			{Talk: 4 * time.Second, Start: 24 * time.Second, OneWay: true},
		}, nil, true, []string{CodeSIP, CodeRTP}, []string{CodeOneWay, CodeNoMedia}},
		// The same one-way call with its SDP saying sendrecv would be the
		// mirror's fault: drop what the callee sends.
		{"one-way call, callee dropped", []pcaptest.Call{{Talk: 4 * time.Second}}, func(p *packet.Packet) bool {
			return p.Proto == packet.ProtoUDP && p.Src.Addr() == netip.MustParseAddr("10.0.2.1") && p.Src.Port() != 5060
		}, false, []string{CodeOneWay}, nil},
		{"signalling only", calls(2), func(p *packet.Packet) bool { return p.Src.Port() != 5060 && p.Dst.Port() != 5060 },
			true, []string{CodeNoMedia}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := synthetic(t, pcaptest.Options{Seed: 7, Calls: tt.calls}, tt.drop)
			check(t, r, tt.fit, tt.want, tt.notErr)
		})
	}
}

func TestVLANAndDuplicateCounters(t *testing.T) {
	cs := calls(2)
	for i := range cs {
		cs[i].VLAN = []uint16{300, 42}
		cs[i].Duplicate = true
	}
	r := synthetic(t, pcaptest.Options{Seed: 1, Calls: cs}, nil)
	c := r.Counters
	if c.VLANs[300] == 0 || c.VLANs[42] == 0 {
		t.Errorf("VLANs %v, want 300 and 42", c.VLANs)
	}
	// Every frame came twice: the copies are half of all.
	if c.Duplicates == 0 || c.Duplicates*2 < c.Frames*9/10 {
		t.Errorf("%d duplicates of %d frames, want about half", c.Duplicates, c.Frames)
	}
	if c.OneWayCalls != 0 || c.RTPLost != 0 {
		t.Errorf("one-way %d, lost %d: duplicates must not look like loss or one-way audio", c.OneWayCalls, c.RTPLost)
	}
}

func TestLinkFindings(t *testing.T) {
	cs := calls(3)
	up := func(l Link) *Link { l.Name, l.Up = "eth1", true; return &l }
	tests := []struct {
		name string
		link *Link
		fit  bool
		want []string
		msg  string // in the finding of want[0]
	}{
		{"healthy", up(Link{SpeedMbit: 1000, KernelStats: true, KernelPackets: 1000}), true, []string{CodeRate}, "1 Gbit/s"},
		{"drops", up(Link{KernelStats: true, KernelPackets: 990, KernelDrops: 10}), false, []string{CodeKernelDrops}, "dropped 10 of 1000"},
		{"down", &Link{Name: "eth1"}, false, []string{CodeLinkDown}, "down"},
		{"not receive-only", up(Link{Problems: []Problem{{Message: "ARP is on", Fix: "ip link set dev eth1 arp off"}}}), true,
			[]string{CodeNotReceiveOnly}, "ARP"},
	}
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 3, Calls: cs}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := capture.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			r := analyse(t, src, nil).Report("eth1", tt.link)
			check(t, r, tt.fit, tt.want, nil)
			if tt.msg != "" {
				if f, _ := finding(r, tt.want[0]); !strings.Contains(f.Message, tt.msg) {
					t.Errorf("%s: message %q lacks %q", tt.want[0], f.Message, tt.msg)
				}
			}
		})
	}
}

func TestOversubscribed(t *testing.T) {
	cs := calls(20)
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 3, Calls: cs}); err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	a := analyse(t, src, nil)
	r := a.Report("x", nil)
	peak := r.Counters.PeakMbit
	if peak <= 0 || peak < r.Counters.AvgMbit {
		t.Fatalf("peak %.3f, average %.3f Mbit/s", peak, r.Counters.AvgMbit)
	}
	// 20 calls of G.711 at 50 packets/s each way: about 20×2×50×(214+24)×8
	// bit/s = 3.8 Mbit/s. Pretend the port is 4 Mbit/s: oversubscribed.
	// 5 Mbit/s: a warning.
	if peak < 3 || peak > 4.5 {
		t.Errorf("peak %.2f Mbit/s, want about 3.8", peak)
	}
	r = a.Report("x", &Link{Name: "x", Up: true, SpeedMbit: 4})
	f, ok := finding(r, CodeOversubscribed)
	if r.Fit || !ok || f.Severity != SeverityError || !strings.Contains(f.Message, "oversubscribed") {
		t.Errorf("4 Mbit/s port: fit %v, finding %+v", r.Fit, f)
	}
	r = a.Report("x", &Link{Name: "x", Up: true, SpeedMbit: 5})
	if f, ok := finding(r, CodeOversubscribed); !r.Fit || !ok || f.Severity != SeverityWarning {
		t.Errorf("5 Mbit/s port: fit %v, finding %+v", r.Fit, f)
	}
}

func TestTLSAndSRTP(t *testing.T) {
	a := New(Config{})
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	phone := netip.MustParseAddrPort("10.0.0.5:40000")
	pbx := netip.MustParseAddrPort("10.0.0.1:5061")
	hello := []byte{22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3}
	for i := range 5 {
		a.Handle(&packet.Packet{Time: t0.Add(time.Duration(i) * time.Second), Src: phone, Dst: pbx, Proto: packet.ProtoTCP, Payload: hello})
	}
	r := a.Report("x", nil)
	f, ok := finding(r, CodeTLS)
	if r.Fit || !ok || f.Severity != SeverityError || r.Counters.TLSConnections != 1 {
		t.Errorf("TLS only: fit %v, finding %+v, connections %d", r.Fit, f, r.Counters.TLSConnections)
	}

	// A call whose SDP offers SRTP.
	invite := "INVITE sip:200@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1\r\nFrom: <sip:100@10.0.0.5>;tag=a\r\n" +
		"To: <sip:200@10.0.0.1>\r\nCall-ID: srtp1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\r\n" +
		"v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:aSBrbm93IGFsbCB5b3VyIGxpdHRsZSBzZWNyZXRz\r\n"
	a.Handle(&packet.Packet{Time: t0, Src: netip.MustParseAddrPort("10.0.0.5:5060"), Dst: netip.MustParseAddrPort("10.0.0.1:5060"),
		Proto: packet.ProtoUDP, Payload: []byte(invite)})
	r = a.Report("x", nil)
	if _, ok := finding(r, CodeSRTP); !ok || len(r.Calls) != 1 || !r.Calls[0].SRTP {
		t.Errorf("SRTP call not reported: %+v", r.Findings)
	}
	if f, ok := finding(r, CodeTLS); !ok || f.Severity != SeverityWarning {
		t.Errorf("TLS beside plain SIP: %+v, want a warning", f)
	}
}

func TestNoTraffic(t *testing.T) {
	r := New(Config{}).Report("eth9", &Link{Name: "eth9", Up: true})
	check(t, r, false, []string{CodeNoTraffic, CodeNoSIP}, nil)
}

func TestWriteTextAndJSON(t *testing.T) {
	r := analyseFile(t, filepath.Join(capturesDir(t), "wireshark-samples/SIP_DTMF2.pcap"))
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	s := text.String()
	for _, want := range []string{"NOT FIT to record from (1 problem)", "PROBLEM: one-way audio", "fix:", "Calls with a problem (1):", "one-way audio"} {
		if !strings.Contains(s, want) {
			t.Errorf("text lacks %q:\n%s", want, s)
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Fit || len(back.Findings) != len(r.Findings) || back.Findings[0].Code != CodeOneWay || back.Counters.Dialogs != 2 {
		t.Errorf("JSON round trip: %+v", back)
	}
	if !strings.Contains(js.String(), `"code": "one-way-audio"`) || !strings.Contains(js.String(), `"fit": false`) {
		t.Errorf("JSON lacks stable keys:\n%s", js.String())
	}
}

func TestInspectLink(t *testing.T) {
	root := t.TempDir()
	write := func(path, s string) {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sys/class/net/fast/speed", "10000")
	write("sys/class/net/fast/operstate", "up")
	write("sys/class/net/veth/speed", "-1")
	write("sys/class/net/veth/operstate", "unknown")
	write("sys/class/net/cable/operstate", "lowerlayerdown")
	tests := []struct {
		name  string
		flags net.Flags
		up    bool
		speed int
	}{
		{"fast", net.FlagUp, true, 10000},
		{"veth", net.FlagUp, true, 0},
		{"cable", net.FlagUp, false, 0},
		{"fast", 0, false, 10000},
	}
	for _, tt := range tests {
		l := inspectLink(root, tt.name, tt.flags)
		if l.Up != tt.up || l.SpeedMbit != tt.speed || l.Name != tt.name {
			t.Errorf("%s %v: %+v, want up %v speed %d", tt.name, tt.flags, l, tt.up, tt.speed)
		}
	}
	if _, err := InspectLink("no-such-interface0"); err == nil {
		t.Error("InspectLink of a missing interface: no error")
	}
	if lo, err := InspectLink("lo"); err == nil && !lo.Up {
		t.Errorf("lo: %+v", lo)
	}
}

func FuzzHandleFrame(f *testing.F) {
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 1, Calls: calls(1)}); err != nil {
		f.Fatal(err)
	}
	frames, err := pcaptest.ReadFrames(&buf)
	if err != nil {
		f.Fatal(err)
	}
	for i, fr := range frames {
		if i%7 == 0 {
			f.Add(fr)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a := New(Config{})
		t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		for i := range 3 {
			a.HandleFrame(capture.Frame{Data: data, Link: 1, Time: t0.Add(time.Duration(i) * 20 * time.Millisecond), Orig: len(data)})
		}
		r := a.Report("fuzz", nil)
		if r.Counters.Frames != 3 {
			t.Fatalf("frames %d", r.Counters.Frames)
		}
	})
}
