package api_test

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tsharkInvites returns what tshark reads in a capture's SIP: for each
// Call-ID in order of its first INVITE, that INVITE's User-Agent, Contact
// and source address, and every User-Agent and Server value of the
// Call-ID's messages.
type tsharkCall struct {
	callID, ua, contact, src string
	agents                   []string
}

func tsharkInvites(t *testing.T, path string) []*tsharkCall {
	t.Helper()
	out, err := exec.Command("tshark", "-r", path, "-Y", "sip", "-T", "fields", "-E", "separator=\t",
		"-e", "sip.Call-ID", "-e", "sip.Method", "-e", "sip.Request-Line", "-e", "sip.User-Agent", "-e", "sip.Server",
		"-e", "sip.Contact", "-e", "ip.src", "-e", "ipv6.src").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	var calls []*tsharkCall
	byID := map[string]*tsharkCall{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 8 || f[0] == "" {
			continue
		}
		c := byID[f[0]]
		if c == nil && f[1] == "INVITE" && f[2] != "" {
			c = &tsharkCall{callID: f[0], ua: strings.TrimSpace(f[3]), contact: strings.TrimSpace(f[5]), src: f[6] + f[7]}
			byID[f[0]] = c
			calls = append(calls, c)
		}
		if c != nil {
			for _, v := range []string{f[3], f[4]} {
				if v = strings.TrimSpace(v); v != "" && !slices.Contains(c.agents, v) {
					c.agents = append(c.agents, v)
				}
			}
		}
	}
	return calls
}

// TestSearchSIP: on third-party captures, the calls found by Call-ID, user
// agent, header and address are those tshark's reading of the same SIP
// names: each INVITE's User-Agent, Contact and source address.
func TestSearchSIP(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed:", err)
	}
	f := newFixture(t, false, nil)
	var caps []string
	for _, name := range []string{"SIP_DTMF2.pcap", "sip-rtp-g722.pcap", "aaa.pcap", "nb6-telephone.pcap"} {
		p := filepath.Join(capturesDir(), "wireshark-samples", name)
		if _, err := os.Stat(p); err != nil {
			t.Logf("skipping %s: %v", name, err)
			continue
		}
		importInto(t, f.db, f.dir, p)
		caps = append(caps, p)
	}
	if len(caps) == 0 {
		t.Skip("no third-party captures")
	}
	sue := f.login(t, "sue")
	type row struct {
		ID       string `json:"id"`
		CallID   string `json:"call_id"`
		CallerUA string `json:"caller_user_agent"`
		CalleeUA string `json:"callee_user_agent"`
	}
	search := func(q string) []row {
		t.Helper()
		var page struct{ Calls []row }
		sue.getJSON("/api/calls?limit=500&"+q, 200, &page)
		return page.Calls
	}
	has := func(rows []row, callID string) bool {
		return slices.ContainsFunc(rows, func(r row) bool { return r.CallID == callID })
	}
	checked := 0
	for _, p := range caps {
		for _, tc := range tsharkInvites(t, p) {
			name := filepath.Base(p) + " " + tc.callID
			byID := search("call_id=" + url.QueryEscape(tc.callID))
			if len(byID) == 0 {
				t.Errorf("%s: no call found by its Call-ID", name)
				continue
			}
			for _, r := range byID {
				if r.CallID != tc.callID {
					t.Errorf("%s: call_id found %s", name, r.CallID)
				}
				if r.CallerUA != tc.ua {
					t.Errorf("%s: caller user agent %q, tshark's INVITE has %q", name, r.CallerUA, tc.ua)
				}
				if r.CalleeUA != "" && !slices.Contains(tc.agents, r.CalleeUA) {
					t.Errorf("%s: callee user agent %q is none of tshark's %q", name, r.CalleeUA, tc.agents)
				}
			}
			if tc.ua != "" {
				part := strings.ToLower(tc.ua[len(tc.ua)/4 : len(tc.ua)*3/4])
				if !has(search("ua="+url.QueryEscape(part)), tc.callID) {
					t.Errorf("%s: ua=%q does not find it", name, part)
				}
				if !has(search("header="+url.QueryEscape("User-Agent:"+tc.ua)), tc.callID) {
					t.Errorf("%s: header=User-Agent:%q does not find it", name, tc.ua)
				}
			}
			if tc.contact != "" {
				if !has(search("header="+url.QueryEscape("contact:"+tc.contact)), tc.callID) {
					t.Errorf("%s: header=contact:%q does not find it", name, tc.contact)
				}
				if host := strings.TrimSuffix(strings.SplitN(tc.contact, "@", 2)[len(strings.SplitN(tc.contact, "@", 2))-1], ">"); host != "" {
					if !has(search("header="+url.QueryEscape("Contact:*"+host+"*")), tc.callID) {
						t.Errorf("%s: header=Contact:*%s* does not find it", name, host)
					}
				}
			}
			if !has(search("ip="+url.QueryEscape(tc.src)), tc.callID) {
				t.Errorf("%s: ip=%s does not find it", name, tc.src)
			}
			// A user agent no call has, and an address none used.
			if has(search("ua=no-such-agent-"+url.QueryEscape(tc.callID)), tc.callID) {
				t.Errorf("%s: found by a user agent it does not have", name)
			}
			checked++
		}
	}
	if rows := search("ip=203.0.113.254"); len(rows) != 0 {
		t.Errorf("ip=203.0.113.254 (unused) finds %d calls", len(rows))
	}
	if checked < 5 {
		t.Errorf("only %d calls checked", checked)
	}
	t.Logf("%d calls of %d captures checked against tshark", checked, len(caps))
	for _, bad := range []string{"header=X-Ticket", "header=:v", "header=Bad%20Name:v", "ip=10.0.0", "ip=fe80::1%25eth0", "ua="} {
		res, body := sue.do("GET", "/api/calls?"+bad, nil)
		wantError(t, bad, res, body, 400)
	}
}
