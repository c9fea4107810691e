package main

import (
	"strings"
	"testing"
	"time"
)

// TestSampleConfig: the annotated sample configuration (every option, the
// defaults) is valid and gives the documented defaults.
func TestSampleConfig(t *testing.T) {
	fc, err := loadConfig("../../docs/spanrec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cc := fc.Capture
	if cc.RingMB != 64 || cc.Fanout != 0 || cc.Promiscuous == nil || !*cc.Promiscuous || len(cc.Interfaces) != 0 {
		t.Errorf("capture section: %+v", cc)
	}
	f, err := cc.filter()
	if err != nil || !f.IsZero() || !f.VLAN {
		t.Errorf("sample filter = %+v, %v; want keep-all, VLAN-aware", f, err)
	}
	if p, err := fc.HTTP.trustedProxies(); err != nil || len(p) != 0 || fc.HTTP.PasswordChecks != 0 ||
		fc.HTTP.LoginFailures != 5 || fc.HTTP.LoginWindow != 5*time.Minute {
		t.Errorf("http section: %+v, %v", fc.HTTP, err)
	}
	if fc.LogFile != "" || fc.MetricsListen != "" {
		t.Errorf("log_file %q, metrics_listen %q; want both off", fc.LogFile, fc.MetricsListen)
	}
}

func TestRecordUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"record"}, "record needs an interface"},
		{[]string{"record", "-i", "eth9", "extra"}, "record takes no arguments"},
		{[]string{"record", "-i", "eth9", "--filter-udp-ports", "5060-1"}, "ends before it starts"},
		{[]string{"record", "-i", "eth9", "--filter-hosts", "not-a-host"}, "not an address"},
		{[]string{"record", "-i", "eth9", "--fanout", "-1"}, "fanout must be"},
	} {
		code, _, errs := runCLI(t, nil, append(tt.args, "--data", t.TempDir())...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, errs, tt.want)
		}
	}
	// A missing interface is an error (status 1), not a usage mistake.
	code, _, errs := runCLI(t, nil, "record", "-i", "no-such-if0", "--data", t.TempDir())
	if code != 1 || !strings.Contains(errs, "no-such-if0") {
		t.Errorf("missing interface: exit %d, %q", code, errs)
	}
}

func TestListFlag(t *testing.T) {
	var l listFlag
	l.Set("eth1")
	l.Set("eth2, eth3")
	if l.String() != "eth1,eth2,eth3" {
		t.Errorf("listFlag = %q", l.String())
	}
}
