package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDoctorFile(t *testing.T) {
	code, out, errs := runCLI(t, nil, "doctor", demo)
	if code != 0 || !strings.Contains(out, "FIT to record from") || !strings.Contains(out, "7 calls (4 answered)") {
		t.Errorf("doctor demo: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(t, nil, "doctor", "--json", "--file", demo)
	var r struct {
		Fit      bool `json:"fit"`
		Counters struct {
			Dialogs int `json:"dialogs"`
		} `json:"counters"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || !r.Fit || r.Counters.Dialogs != 7 {
		t.Errorf("doctor --json: exit %d, %+v, %v\n%s", code, r, err, out)
	}
}

func TestDoctorOneWay(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "captures")
	if d := os.Getenv("SPANREC_CAPTURES"); d != "" {
		dir = d
	}
	// SIP_DTMF2's SDP says sendrecv, yet one direction never comes.
	file := filepath.Join(dir, "wireshark-samples", "SIP_DTMF2.pcap")
	if _, err := os.Stat(file); err != nil {
		t.Skipf("captures folder absent (%v); set SPANREC_CAPTURES", err)
	}
	code, out, errs := runCLI(t, nil, "doctor", file)
	if code != 1 || !strings.Contains(out, "one-way audio") || !strings.Contains(errs, "not fit to record from") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
	// sip-rtp-g722 is one-way too, but its SDP says so (SIPp playing a
	// file): fit.
	code, out, errs = runCLI(t, nil, "doctor", filepath.Join(dir, "wireshark-samples", "sip-rtp-g722.pcap"))
	if code != 0 || strings.Contains(out, "one-way audio") {
		t.Errorf("one-way by SDP: exit %d\n%s\n%s", code, out, errs)
	}
}

func TestDoctorUsage(t *testing.T) {
	for _, args := range [][]string{
		{"doctor"},
		{"doctor", "-i", "eth1", demo},
		{"doctor", "a.pcap", "b.pcap"},
		{"doctor", "-i", "eth1", "--for", "0s"},
		{"doctor", "--for", "banana", demo},
	} {
		if code, _, errs := runCLI(t, nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
	if code, _, errs := runCLI(t, nil, "doctor", "-i", "no-such-if0"); code != 1 || !strings.Contains(errs, "no-such-if0") {
		t.Errorf("missing interface: exit %d: %s", code, errs)
	}
	if code, _, _ := runCLI(t, nil, "doctor", "/nonexistent.pcap"); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}
