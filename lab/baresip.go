package lab

import (
	_ "embed"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Real SIP software beside SIPp: baresip (Debian package baresip, 1.0) as
// the phones and kamailio (5.6) as a record-routing proxy and registrar
// between them. Unlike SIPp they behave as deployed equipment does: the
// phones register, the proxy rewrites the Request-URI to the registered
// contact and adds Via and Record-Route headers, and the media goes from
// phone to phone around the proxy, with RTCP beside it.

// RealSIPTools are the programs of the baresip/kamailio scenario, with
// their Debian packages, to pass to Require.
var RealSIPTools = [][2]string{{"baresip", "baresip"}, {"kamailio", "kamailio"}}

// kamailioCfg is the proxy's configuration; @ADDR@ is replaced by its
// address.
//
//go:embed testdata/kamailio.cfg
var kamailioCfg string

// SIPPort is the UDP port the proxy and the phones use for SIP.
const SIPPort = 5060

// StartProxy starts kamailio on host h as a stateful, record-routing proxy
// and registrar (locations in memory), in the foreground, and returns once
// it listens.
func (l *Lab) StartProxy(h *Host) *Proc {
	l.t.Helper()
	dir := filepath.Join(l.Dir, "kamailio-"+h.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.t.Fatal(err)
	}
	cfg := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(kamailioCfg, "@ADDR@", h.Addr.String())), 0o644); err != nil {
		l.t.Fatal(err)
	}
	// -DD: no daemon, children still forked; -E: log to stderr; -Y: its
	// runtime directory (default /run/kamailio) in the lab's scratch
	// directory; small shared and private memory pools (MiB).
	p := l.Start(h.NS, "kamailio-"+h.Name, "kamailio", "-DD", "-E", "-f", cfg, "-Y", dir, "-m", "32", "-M", "4")
	l.waitUDP(h, SIPPort, p)
	return p
}

// waitUDP waits until a UDP socket is bound to h's address and port in h's
// namespace (ss from iproute2), failing the test if p ends or 10 s pass.
func (l *Lab) waitUDP(h *Host, port int, p *Proc) {
	l.t.Helper()
	want := netip.AddrPortFrom(h.Addr, uint16(port)).String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := l.Exec(h.NS, "ss", "-Hnlu")
		if err == nil && strings.Contains(out, want+" ") {
			return
		}
		if p.ExitCode() != -1 || time.Now().After(deadline) {
			l.t.Fatalf("lab: %s does not listen on udp %s:\n%s", p.Name, want, tail(p.Output(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Phone is a baresip user agent: a lab party with an account at a proxy.
type Phone struct {
	Party
	Proxy *Host // the registrar and proxy it uses (its SIP domain)
}

// URI returns the phone's address of record, sip:NUMBER@PROXY.
func (p Phone) URI() string { return "sip:" + p.Number + "@" + p.Proxy.Addr.String() }

// baresipDir writes the configuration directory of phone p: SIP on its
// address, PCMU only, its tone WAV as the audio source (aufile), and as
// audio player an aubridge device nothing reads (the lab has no sound
// card), auto-answer, registration at the proxy.
func (l *Lab) baresipDir(p Phone) string {
	l.t.Helper()
	dir := filepath.Join(l.Dir, "baresip-"+p.Host.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.t.Fatal(err)
	}
	// RTP ports: a range of 1000 per host (by its address), so that the
	// phones' media are told apart at a glance in a capture.
	rtp := 20000 + 1000*int(p.Host.Addr.As4()[3]%40)
	config := strings.Join([]string{
		"poll_method epoll",
		"sip_listen " + netip.AddrPortFrom(p.Host.Addr, SIPPort).String(),
		"call_local_timeout 30",
		"call_max_calls 4",
		"audio_player aubridge,nowhere",
		"audio_alert aubridge,nowhere",
		"audio_source aufile," + l.ToneWAV(p.Tone),
		"rtp_ports " + strconv.Itoa(rtp) + "-" + strconv.Itoa(rtp+999),
		"rtcp_mux no",
		"statmode_default off",
		"module_path /usr/lib/baresip/modules",
		"module g711.so",
		"module aufile.so",
		"module aubridge.so",
		"module_tmp account.so",
		// menu holds the commands (/dial) that -e runs.
		"module_app menu.so",
		"",
	}, "\n")
	account := fmt.Sprintf("%q <%s>;regint=60;answermode=auto;audio_codecs=pcmu\n", p.Name, p.URI())
	for name, text := range map[string]string{"config": config, "accounts": account} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			l.t.Fatal(err)
		}
	}
	return dir
}

// registered matches baresip's log line for the registrar's 200 to its
// REGISTER, e.g. "1002@10.77.0.10: {0/UDP/v4} 200 OK (kamailio …) [1 binding]".
var registered = regexp.MustCompile(`200 OK .*\[\d+ bindings?\]`)

// StartPhone starts baresip for p, which registers at its proxy and answers
// every call at once, and returns once the proxy has accepted the
// registration.
func (l *Lab) StartPhone(p Phone) *Proc {
	l.t.Helper()
	proc := l.Start(p.Host.NS, "baresip-"+p.Host.Name, "baresip", "-f", l.baresipDir(p))
	if err := WaitOutput(proc, registered, 10*time.Second); err != nil {
		l.t.Fatal(err)
	}
	return proc
}

// Dial starts baresip for p, dials number through p's proxy at once and
// quits after talk, rounded up to whole seconds (baresip -t): quitting
// closes the call with a BYE. The returned process ends then.
func (l *Lab) Dial(p Phone, number string, talk time.Duration) *Proc {
	l.t.Helper()
	secs := int(math.Ceil(talk.Seconds()))
	uri := "sip:" + number + "@" + p.Proxy.Addr.String()
	return l.Start(p.Host.NS, "baresip-"+p.Host.Name, "baresip", "-f", l.baresipDir(p),
		"-e", "/dial "+uri, "-t", strconv.Itoa(secs))
}

// WaitOutput waits until the output of p matches re; it returns an error,
// with the output, if p ends first or timeout passes.
func WaitOutput(p *Proc, re *regexp.Regexp, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !re.MatchString(p.Output()) {
		if p.ExitCode() != -1 || time.Now().After(deadline) {
			return fmt.Errorf("lab: %s: no %q in its output after %s:\n%s", p.Name, re, timeout, tail(p.Output(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}
