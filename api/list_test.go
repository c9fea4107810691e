package api_test

// Tests of the call list's columns, filters and sort on real captures:
// the demo, and the third-party captures whose SIP tshark shows (the
// *.expect.txt beside each, and the per-message times quoted below from
// `tshark -r FILE -Y sip -T fields -e frame.time_epoch -e sip.Status-Line …`).

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spanrec/spanrec"
)

// listCaptures are the third-party captures the list tests import besides
// the fixture's: calls answered after 183 or 180, hung up by either side,
// cancelled, challenged and refused.
var listCaptures = []string{
	"wireshark-samples/nb6-telephone.pcap",
	"wireshark-samples/aaa.pcap",
	"sngrep/ipip.pcap",
	"sngrep/ipv6frag.pcap",
	"ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
}

// listSensors names the sensor that records each of listCaptures (none:
// the fixture's other calls have no sensor either), for the Sensor column
// and its sort.
var listSensors = map[string]string{
	"wireshark-samples/nb6-telephone.pcap": "sensor-b",
	"wireshark-samples/aaa.pcap":           "sensor-b",
	"sngrep/ipip.pcap":                     "sensor-a",
}

var (
	listOnce sync.Once
	listFix  *fixture
)

// listFixture returns a read-only fixture with the demo, SIP_DTMF2,
// sip-rtp-g722, listCaptures and a generated B2BUA call imported; the test skips without the
// third-party captures.
func listFixture(t *testing.T) *fixture {
	t.Helper()
	caps := capturesDir()
	for _, name := range append([]string{"wireshark-samples/SIP_DTMF2.pcap", "wireshark-samples/sip-rtp-g722.pcap"}, listCaptures...) {
		if _, err := os.Stat(filepath.Join(caps, name)); err != nil {
			t.Skipf("third-party captures not found: %v", err)
		}
	}
	listOnce.Do(func() {
		f := newFixture(sharedTB{t}, true, nil)
		for _, name := range listCaptures {
			importAs(t, f.db, f.dir, filepath.Join(caps, name), listSensors[name])
		}
		withB2BUA(t, f) // two linked legs, for the legs column
		calls, err := f.db.Calls(t.Context(), spanrec.CallFilter{})
		if err != nil {
			t.Fatal(err)
		}
		f.calls = calls
		listFix = f
	})
	if listFix == nil {
		t.Fatal("list fixture failed")
	}
	return listFix
}

// listCall is a call as GET /api/calls lists it, with what the sort and
// the columns read.
type listCall struct {
	ID           string   `json:"id"`
	CallID       string   `json:"call_id"`
	Caller       string   `json:"caller"`
	Callee       string   `json:"callee"`
	Direction    string   `json:"direction"`
	Status       string   `json:"status"`
	StatusCode   int      `json:"status_code"`
	StatusReason string   `json:"status_reason"`
	HangupBy     string   `json:"hangup_by"`
	PDDMS        *int64   `json:"pdd_ms"`
	RingMS       *int64   `json:"ring_ms"`
	Start        string   `json:"start"`
	DurationMS   int64    `json:"duration_ms"`
	Codecs       []string `json:"codecs"`
	Legs         []string `json:"legs"`
	Sensor       string   `json:"sensor"`
	Streams      []struct {
		MOS float64 `json:"mos"`
	} `json:"streams"`
}

type listPage struct {
	Calls []listCall `json:"calls"`
	Total int        `json:"total"`
}

func ms(p *int64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// TestCallOutcomeCaptures checks the final answer, who hung up, the
// post-dial delay and the ring time of the calls of real captures against
// the SIP messages tshark shows in them.
func TestCallOutcomeCaptures(t *testing.T) {
	f := listFixture(t)
	c := f.login(t, "sue")
	var page listPage
	c.getJSON("/api/calls?limit=500", http.StatusOK, &page)
	byCallID := map[string]listCall{}
	for _, x := range page.Calls {
		byCallID[x.CallID] = x
	}
	tests := []struct {
		callID, why string
		status      string
		code        int
		reason      string
		hangup      string
		pdd, ring   string // ms, or "null"
	}{
		// nb6-telephone: INVITE 231.036868, 183 231.385372, 200 231.429145,
		// BYE from the caller (10.251.23.139, From tag 66891B8) 236.558749.
		{"1135D8701739D86@10.251.23.139", "183 then 200, caller's BYE", "answered", 200, "OK", "caller", "348", "43"},
		// ipip: INVITE 747.335564, 183 747.345980, 200 748.995124, BYE from
		// the caller (tag jr57na6shh) 781.007679.
		{"1RLuVzzBClYCf2", "183 then 200 over IP-in-IP, caller's BYE", "answered", 200, "OK", "caller", "10", "1649"},
		// ipv6frag: INVITE 426.047912 (sent again 426.267933: the first
		// one counts), 183 426.370157, 200 429.887808, BYE from the caller.
		{"71846-1647924829-397430@fd17:625c:f037:2:a00:27ff:feb9:1521", "retransmitted INVITE, 183, 200", "answered", 200, "OK", "caller", "322", "3517"},
		// sip-rtp-g722: INVITE 906.214942, no 18x, 200 906.219453; BYE
		// from the callee (10.0.2.15, tag B76H0HQjp40pm) 914.718521.
		{"1-2161@10.0.2.20", "200 without 18x: PDD to the 200, no ring time; callee's BYE", "answered", 200, "OK", "callee", "4", "null"},
		// SIP_DTMF2: INVITE 397.334915 spirals through the proxy; first
		// 180 398.433710, first 200 399.657619; the capture ends before any BYE.
		{"25672@192.168.105.110", "180, 200, no BYE captured", "answered", 200, "OK", "", "1098", "1223"},
		// SIP_DTMF2: INVITE 381.333701, 603 Decline 381.350803.
		{"5514@192.168.105.110", "603 Decline: the callee refused", "failed", 603, "Decline", "callee", "null", "null"},
		// aaa: INVITE (CSeq 2, after a 407) 983.863488, 183 984.289950,
		// 480 Error 984.332623.
		{"11894297-4432a9f8@192.168.1.2", "407, INVITE again, 183, 480: the network", "no-answer", 480, "Error", "system", "426", "42"},
		// aaa: 407, INVITE again, 403 Wrong password or domain.
		{"24487391-449bf2a0@192.168.1.2", "407 then 403", "failed", 403, "Wrong password or domain", "system", "null", "null"},
		// aaa: INVITE 049.188993, CANCEL 083.308013, 408 to the INVITE.
		{"105090259-446faf7a@192.168.1.2", "CANCEL, then 408 to the INVITE", "cancelled", 408, "Request Timeout", "caller", "null", "null"},
		// FAX: INVITE 958.651179, 180 958.820487, 200 965.492834, BYE with
		// the caller's From tag 00e9d478.
		{"00e9d4a500e9d48-0015-0001-0000-0000@10.35.40.25", "180, 200, T.38, caller's BYE", "answered", 200, "OK", "caller", "169", "6672"},
		// FAX, the other leg: INVITE 958.657176, 180 958.819466, 200 965.488757.
		{"SD4909701-9ff11bf72eb4a347c92974d8fbbc2668-ao8o3i1", "the B2BUA's leg", "answered", 200, "OK", "caller", "162", "6669"},
	}
	for _, tt := range tests {
		x, ok := byCallID[tt.callID]
		if !ok {
			t.Errorf("%s (%s): not in the list", tt.callID, tt.why)
			continue
		}
		got := fmt.Sprintf("%s %d %q hangup=%q pdd=%s ring=%s", x.Status, x.StatusCode, x.StatusReason, x.HangupBy, ms(x.PDDMS), ms(x.RingMS))
		want := fmt.Sprintf("%s %d %q hangup=%q pdd=%s ring=%s", tt.status, tt.code, tt.reason, tt.hangup, tt.pdd, tt.ring)
		if got != want {
			t.Errorf("%s (%s):\n got %s\nwant %s", tt.callID, tt.why, got, want)
		}
	}

	// The filters select by the same values.
	count := func(ok func(x listCall) bool) int {
		n := 0
		for _, x := range page.Calls {
			if ok(x) {
				n++
			}
		}
		return n
	}
	filters := []struct {
		query string
		want  int
	}{
		{"hangup_by=caller", count(func(x listCall) bool { return x.HangupBy == "caller" })},
		{"hangup_by=callee", count(func(x listCall) bool { return x.HangupBy == "callee" })},
		{"hangup_by=system", count(func(x listCall) bool { return x.HangupBy == "system" })},
		{"hangup_by=unknown", count(func(x listCall) bool { return x.HangupBy == "" })},
		{"status_code=603", 1},
		{"status_code=403", 2}, // aaa's 24487391 and 85216695
		{"min_pdd=0.3", count(func(x listCall) bool { return x.PDDMS != nil && *x.PDDMS >= 300 })},
		{"min_pdd=0.3&max_pdd=0.35", count(func(x listCall) bool { return x.PDDMS != nil && *x.PDDMS >= 300 && *x.PDDMS <= 350 })},
		{"max_pdd=0.05", count(func(x listCall) bool { return x.PDDMS != nil && *x.PDDMS <= 50 })},
		{"min_ring=3", count(func(x listCall) bool { return x.RingMS != nil && *x.RingMS >= 3000 })},
		{"max_ring=0.1", count(func(x listCall) bool { return x.RingMS != nil && *x.RingMS <= 100 })},
	}
	for _, tt := range filters {
		var p listPage
		c.getJSON("/api/calls?limit=500&"+tt.query, http.StatusOK, &p)
		if p.Total != tt.want || tt.want == 0 {
			t.Errorf("%s: %d calls, want %d (and some)", tt.query, p.Total, tt.want)
		}
	}
}

// sortValue is what the list's sort key orders a call by, as the client
// sees it; nil when the call has no value (it comes last).
func sortValue(key string, x listCall, legs map[string]int) any {
	switch key {
	case "start":
		return x.Start // RFC 3339 UTC with nanoseconds: ordered as text only at equal widths; compared below as times
	case "caller":
		return x.Caller
	case "callee":
		return x.Callee
	case "direction":
		return x.Direction
	case "duration", "talk":
		return x.DurationMS
	case "status":
		return x.Status
	case "status_code":
		if x.StatusCode == 0 {
			return nil
		}
		return int64(x.StatusCode)
	case "codec":
		if len(x.Codecs) == 0 {
			return nil
		}
		return x.Codecs[0]
	case "legs":
		return int64(legs[x.ID])
	case "mos", "quality":
		worst := 0.0
		for _, s := range x.Streams {
			if s.MOS > 0 && (worst == 0 || s.MOS < worst) {
				worst = s.MOS
			}
		}
		if worst == 0 {
			return nil
		}
		return worst
	case "pdd":
		if x.PDDMS == nil {
			return nil
		}
		return *x.PDDMS
	case "ring":
		if x.RingMS == nil {
			return nil
		}
		return *x.RingMS
	case "hangup_by":
		if x.HangupBy == "" {
			return nil
		}
		return x.HangupBy
	case "sensor":
		if x.Sensor == "" {
			return nil
		}
		return x.Sensor
	}
	panic("no sort value for " + key)
}

func compareValues(a, b any) int {
	switch a := a.(type) {
	case string:
		return strings.Compare(a, b.(string))
	case int64:
		return cmp.Compare(a, b.(int64))
	case float64:
		return cmp.Compare(a, b.(float64))
	}
	panic(fmt.Sprintf("compare %T", a))
}

// TestSortEveryColumn checks GET /api/calls?sort= for every column of the
// list, both ways, on the real captures: each page is in the key's order
// (calls without a value last, ties by ID), and holds every call once.
func TestSortEveryColumn(t *testing.T) {
	f := listFixture(t)
	c := f.login(t, "sue")
	// The number of legs of each call's conversation, from the stored calls.
	legs := map[string]int{}
	for _, x := range f.calls {
		legs[string(x.ID)] = len(x.Legs) + 1
	}
	for _, key := range spanrec.SortKeys {
		for _, dir := range []string{"", "-"} {
			sort := dir + key
			var p listPage
			c.getJSON("/api/calls?limit=500&sort="+url.QueryEscape(sort), http.StatusOK, &p)
			if len(p.Calls) != len(f.calls) || p.Total != len(f.calls) {
				t.Errorf("sort=%s: %d calls (total %d), want %d", sort, len(p.Calls), p.Total, len(f.calls))
				continue
			}
			seen := map[string]bool{}
			distinct := map[any]bool{}
			for i, x := range p.Calls {
				seen[x.ID] = true
				v := sortValue(key, x, legs)
				if key == "start" {
					v = f.start(t, x.ID)
				}
				distinct[v] = true
				if i == 0 {
					continue
				}
				prev := p.Calls[i-1]
				pv := sortValue(key, prev, legs)
				if key == "start" {
					pv = f.start(t, prev.ID)
				}
				var order int
				switch {
				case pv == nil && v == nil:
					order = 0
				case pv == nil:
					order = 1 // a call without a value before one with
				case v == nil:
					order = -1
				default:
					order = compareValues(pv, v)
					if dir == "-" {
						order = -order
					}
				}
				if order > 0 || order == 0 && prev.ID >= x.ID {
					t.Errorf("sort=%s: call %d (%s, %v) after %s (%v)", sort, i, x.ID, v, prev.ID, pv)
				}
			}
			if len(seen) != len(f.calls) {
				t.Errorf("sort=%s: %d distinct calls, want %d", sort, len(seen), len(f.calls))
			}
			if len(distinct) < 2 {
				t.Errorf("sort=%s: the fixture has one value only: the order is not exercised", sort)
			}
		}
	}
	// Paging follows the order: the second page of sort=caller starts
	// where the first ended.
	var all, p1, p2 listPage
	c.getJSON("/api/calls?limit=500&sort=caller", http.StatusOK, &all)
	c.getJSON("/api/calls?limit=5&sort=caller", http.StatusOK, &p1)
	c.getJSON("/api/calls?limit=5&offset=5&sort=caller", http.StatusOK, &p2)
	for i, x := range append(p1.Calls, p2.Calls...) {
		if x.ID != all.Calls[i].ID {
			t.Errorf("sort=caller pages: call %d is %s, want %s", i, x.ID, all.Calls[i].ID)
		}
	}
}

// start returns the start time of the fixture's call id in Unix ns.
func (f *fixture) start(t *testing.T, id string) any {
	t.Helper()
	for _, c := range f.calls {
		if string(c.ID) == id {
			return c.Start.UnixNano()
		}
	}
	t.Fatalf("no call %s", id)
	return nil
}
