package rtpstream

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIsRTCPCapture: every datagram of this Linux-SLL capture is an SR or RR
// compound with SDES (tshark: 200,202 and 201,202).
func TestIsRTCPCapture(t *testing.T) {
	pkts := readUDP(t, filepath.Join(capturesDir(t), "ndpi/rtcp_multiple_pkts_in_the_same_datagram.pcap"))
	if len(pkts) != 5 {
		t.Fatalf("%d UDP datagrams, want 5", len(pkts))
	}
	for _, p := range pkts {
		if !IsRTCP(p.payload) {
			t.Errorf("frame %d (%d bytes): IsRTCP false", p.frame, len(p.payload))
		}
		if LooksRTP(p.payload) {
			t.Errorf("frame %d: LooksRTP true for RTCP", p.frame)
		}
	}
}

// TestEventsCapture decodes the RFC 4733 events of every stream whose
// payload type SDP maps to telephone-event and compares the key presses
// with tshark's rtpevent fields, when tshark is installed.
func TestEventsCapture(t *testing.T) {
	dir := capturesDir(t)
	for _, name := range []string{"wireshark-samples/SIP_DTMF2.pcap", "ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap"} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			path := filepath.Join(dir, name)
			pkts := readUDP(t, path)
			maps := sdpMaps(pkts)
			type key struct {
				flow string
				ssrc uint32
			}
			events := make(map[key]*Events)
			var starts []Digit
			for _, p := range pkts {
				if !LooksRTP(p.payload) {
					continue
				}
				h, payload, err := Parse(p.payload)
				if err != nil {
					continue
				}
				m, ok := lookupPT(maps, p.src, p.dst, h.PayloadType)
				if !ok || !strings.EqualFold(m.name, "telephone-event") {
					continue
				}
				k := key{p.src.String() + ">" + p.dst.String(), h.SSRC}
				if events[k] == nil {
					events[k] = new(Events)
				}
				if d, ok := events[k].Update(h, payload, p.time, m.rate); ok {
					starts = append(starts, d)
				}
			}
			var all []Digit
			for _, e := range events {
				all = append(all, e.Digits()...)
			}
			slices.SortFunc(all, func(a, b Digit) int { return a.At.Compare(b.At) })
			if len(all) != len(starts) {
				t.Errorf("%d digits started, %d in Digits()", len(starts), len(all))
			}
			var got strings.Builder
			var gotDur []int
			for _, d := range all {
				got.WriteString(d.Digit)
				gotDur = append(gotDur, int(d.Duration*8000/time.Second))
				if !d.Ended || d.Duration <= 0 || d.At.IsZero() {
					t.Errorf("digit %+v: want ended, with a duration", d)
				}
				t.Logf("digit %s at %s for %v, volume %d", d.Digit, d.At.Format("15:04:05.000"), d.Duration, d.Volume)
			}

			tshark, err := exec.LookPath("tshark")
			if err != nil {
				t.Skipf("tshark not installed; digits %q not compared", got.String())
			}
			out, err := exec.Command(tshark, "-r", path, "-Y", "rtpevent", "-T", "fields",
				"-e", "rtpevent.event_id", "-e", "rtpevent.end_of_event", "-e", "rtpevent.duration").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			want, wantDur := tsharkDigits(t, out)
			if got.String() != want {
				t.Errorf("digits %q, tshark %q", got.String(), want)
			}
			if !slices.Equal(gotDur, wantDur) {
				t.Errorf("durations %v, tshark %v (8 kHz units)", gotDur, wantDur)
			}
		})
	}
}

// tsharkDigits rebuilds key presses from tshark's per-packet (event, end,
// duration) fields without looking at timestamps: a new press begins at the
// first packet, when the event code changes, or after an end packet; its
// duration is the largest seen. Events above 16 are tones, not keys.
func tsharkDigits(t *testing.T, out []byte) (digits string, durations []int) {
	var s strings.Builder
	prevCode, prevEnd, isKey := -1, false, false
	for line := range strings.Lines(string(bytes.TrimSpace(out))) {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("tshark line %q", line)
		}
		code, err1 := strconv.Atoi(f[0])
		dur, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("tshark line %q", line)
		}
		end := f[1] == "1" || f[1] == "True"
		if code != prevCode || (prevEnd && !end) {
			isKey = code < len(digitNames)
			if isKey {
				s.WriteString(digitNames[code])
				durations = append(durations, 0)
			}
		}
		if isKey {
			durations[len(durations)-1] = max(durations[len(durations)-1], dur)
		}
		prevCode, prevEnd = code, end
	}
	return s.String(), durations
}
