package pcaptest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec/pcaptest"
)

// tshark runs tshark on a capture of o and returns its standard output, or
// skips the test when tshark is not installed.
func tshark(t *testing.T, o pcaptest.Options, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: skipping the cross-check with Wireshark's dissectors")
	}
	path := filepath.Join(t.TempDir(), "capture.pcap")
	if err := os.WriteFile(path, write(t, o), 0o644); err != nil {
		t.Fatal(err)
	}
	args = append([]string{"-r", path, "-n", "-o", "ip.defragment:TRUE", "-o", "rtp.heuristic_rtp:TRUE"}, args...)
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	return string(out)
}

var (
	sipCodeRE   = regexp.MustCompile(`(?m)^\s+SIP (\d{3}) .*:\s+(\d+) Packets`)
	sipMethodRE = regexp.MustCompile(`(?m)^\s+([A-Z]+)\s+:\s+(\d+) Packets`)
	// "… 0xD5AAF0FB  g711U, telephone-event   250     0 (0.0%) …"
	rtpStreamRE = regexp.MustCompile(`(?m)\s0x([0-9A-F]{8})\s+.+?\s+(\d+)\s+(-?\d+) \(`)
)

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// TestTshark checks that Wireshark's dissectors see the SIP messages and RTP
// streams Expected describes: messages per method and status code, packets
// per SSRC (heuristic RTP, defragmented IPv4, reassembled TCP).
func TestTshark(t *testing.T) {
	for _, tc := range []struct {
		name  string
		calls []pcaptest.Call
	}{
		{"demo", pcaptest.Demo()},
		{"features", featureCalls()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := pcaptest.Options{Seed: 7, Calls: tc.calls}
			out := tshark(t, o, "-q", "-z", "sip,stat", "-z", "rtp,streams")
			exp, err := pcaptest.Expected(o)
			if err != nil {
				t.Fatal(err)
			}
			wantReq, wantResp := map[string]int{}, map[string]int{}
			wantRTP := map[string]int{}
			for i, e := range exp {
				copies := 1
				if o.Calls[i].Duplicate {
					copies = 2
				}
				for m, n := range e.Requests {
					wantReq[m] += n * copies
				}
				for c, n := range e.Responses {
					wantResp[strconv.Itoa(c)] += n * copies
				}
				for _, s := range e.Call.Streams {
					wantRTP[fmt.Sprintf("%08X", s.SSRC)] += s.Packets + s.Duplicates
				}
			}
			gotReq, gotResp, gotRTP := map[string]int{}, map[string]int{}, map[string]int{}
			for _, m := range sipMethodRE.FindAllStringSubmatch(out, -1) {
				gotReq[m[1]] += atoi(m[2])
			}
			for _, m := range sipCodeRE.FindAllStringSubmatch(out, -1) {
				gotResp[m[1]] += atoi(m[2])
			}
			for _, m := range rtpStreamRE.FindAllStringSubmatch(out, -1) {
				gotRTP[m[1]] += atoi(m[2])
			}
			compare(t, "SIP requests", gotReq, wantReq)
			compare(t, "SIP responses", gotResp, wantResp)
			compare(t, "RTP packets per SSRC", gotRTP, wantRTP)
			if t.Failed() {
				t.Log(out)
			}
		})
	}
}

func compare[K comparable](t *testing.T, what string, got, want map[K]int) {
	t.Helper()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %v: tshark sees %d, Expected %d", what, k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %v: tshark sees %d, Expected none", what, k, n)
		}
	}
}

// TestTsharkFragments checks that the padded INVITE goes out as three IPv4
// fragments that Wireshark reassembles into one SIP INVITE with its SDP.
func TestTsharkFragments(t *testing.T) {
	o := pcaptest.Options{Calls: []pcaptest.Call{{FragmentInvite: true, Talk: time.Second}}}
	out := tshark(t, o, "-Y", "ip.flags.mf == 1 || ip.frag_offset > 0", "-T", "fields", "-e", "ip.frag_offset", "-e", "sip.Method", "-e", "sdp.media.port")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d fragment frames, want 3:\n%s", len(lines), out)
	}
	if last := strings.Fields(lines[2]); len(last) != 3 || last[1] != "INVITE" || last[2] != "16384" {
		t.Errorf("last fragment decodes as %q, want the reassembled INVITE with media port 16384", lines[2])
	}
}

// TestTsharkTCP checks that SIP over TCP is reassembled: every message of
// both TCP calls is decoded, including the 100+180 segment and the INVITE
// split over two segments, and no TCP problem is flagged.
func TestTsharkTCP(t *testing.T) {
	o := pcaptest.Options{Seed: 2, Calls: []pcaptest.Call{
		{Transport: "tcp", Talk: time.Second, DTMFInfo: "5"},
		{Transport: "tcp", Outcome: pcaptest.Cancelled, EarlyMedia: true, Start: 100 * time.Millisecond},
	}}
	out := tshark(t, o, "-Y", "sip", "-T", "fields", "-e", "tcp.stream", "-e", "sip.CSeq")
	exp, err := pcaptest.Expected(o)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, e := range exp {
		for _, n := range e.Requests {
			want += n
		}
		for _, n := range e.Responses {
			want += n
		}
	}
	got := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		// One frame may carry several messages: "0\t1 INVITE,1 INVITE".
		f := strings.Split(l, "\t")
		if len(f) != 2 || (f[0] != "0" && f[0] != "1") {
			t.Fatalf("unexpected line %q", l)
		}
		got += len(strings.Split(f[1], ","))
	}
	if got != want {
		t.Errorf("tshark decodes %d SIP messages over TCP, want %d:\n%s", got, want, out)
	}
	if bad := tshark(t, o, "-Y", "tcp.analysis.flags && !tcp.analysis.window_update"); strings.TrimSpace(bad) != "" {
		t.Errorf("TCP analysis flags:\n%s", bad)
	}
}
