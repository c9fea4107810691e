package lab

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The SIPp scenarios: a caller that talks for -d ms then hangs up, and a
// callee that answers and talks until the BYE. Both send a tone with
// rtp_stream (PCMU, 20 ms). @CALLER@/@CALLEE@, @NAME@ and @TONE@ are
// replaced before use.
var (
	//go:embed testdata/uac.xml
	uacXML string
	//go:embed testdata/uas.xml
	uasXML string
)

// Party is one end of the lab's calls: a SIPp on a host.
type Party struct {
	Host   *Host
	Number string // the SIP user part
	Name   string // display name
	Tone   int    // Hz of the sine it sends
}

// Calls is a batch of calls that one SIPp places to another.
type Calls struct {
	Caller, Callee Party
	Count          int           // calls in all; default 1
	Concurrent     int           // most calls at once (-l); default Count
	Rate           float64       // new calls per second (-r); default 10
	Talk           time.Duration // from the answer to the BYE (-d); default 4 s
	// CallerMediaPort and CalleeMediaPort are the first RTP ports; SIPp
	// counts up by 4 per call. Defaults 20000 and 30000.
	CallerMediaPort, CalleeMediaPort int
}

func (c *Calls) defaults() {
	if c.Count <= 0 {
		c.Count = 1
	}
	if c.Concurrent <= 0 {
		c.Concurrent = c.Count
	}
	if c.Rate <= 0 {
		c.Rate = 10
	}
	if c.Talk <= 0 {
		c.Talk = 4 * time.Second
	}
	if c.CallerMediaPort == 0 {
		c.CallerMediaPort = 20000
	}
	if c.CalleeMediaPort == 0 {
		c.CalleeMediaPort = 30000
	}
}

// Timeout is how long the batch may take, SIPp's own setup included.
func (c Calls) Timeout() time.Duration {
	c.defaults()
	return c.Talk + time.Duration(float64(c.Count)/c.Rate*float64(time.Second)) + 30*time.Second
}

// scenario writes the SIPp scenario tmpl for party p under Dir.
func (l *Lab) scenario(kind, tmpl string, p Party) string {
	l.t.Helper()
	r := strings.NewReplacer("@CALLER@", p.Number, "@CALLEE@", p.Number, "@NAME@", p.Name, "@TONE@", l.Tone(p.Tone))
	path := filepath.Join(l.Dir, fmt.Sprintf("%s-%s-%s.xml", kind, p.Host.Name, p.Number))
	if err := os.WriteFile(path, []byte(r.Replace(tmpl)), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return path
}

// StartCallee starts a SIPp UAS on the callee's host that answers c.Count
// calls on port 5060, sending its tone, and exits.
func (l *Lab) StartCallee(c Calls) *Proc {
	l.t.Helper()
	c.defaults()
	p := c.Callee
	sf := l.scenario("uas", uasXML, p)
	return l.Start(p.Host.NS, "sipp-uas-"+p.Host.Name+"-"+p.Number, "sipp", "-sf", sf,
		"-i", p.Host.Addr.String(), "-p", "5060", "-mp", strconv.Itoa(c.CalleeMediaPort),
		"-m", strconv.Itoa(c.Count), "-nostdin", "-timeout", strconv.Itoa(int(c.Timeout().Seconds()))+"s",
		"-trace_err", "-error_file", filepath.Join(l.Dir, "sipp-uas-"+p.Host.Name+"-errors.log"))
}

// StartCaller starts a SIPp UAC on the caller's host that places c.Count
// calls to the callee, c.Concurrent at most at once, each talking c.Talk.
func (l *Lab) StartCaller(c Calls) *Proc {
	l.t.Helper()
	c.defaults()
	p := c.Caller
	sf := l.scenario("uac", uacXML, p)
	return l.Start(p.Host.NS, "sipp-uac-"+p.Host.Name+"-"+p.Number, "sipp", "-sf", sf,
		"-s", c.Callee.Number, c.Callee.Host.Addr.String()+":5060",
		"-i", p.Host.Addr.String(), "-p", "5060", "-mp", strconv.Itoa(c.CallerMediaPort),
		"-m", strconv.Itoa(c.Count), "-l", strconv.Itoa(c.Concurrent), "-r", strconv.FormatFloat(c.Rate, 'f', -1, 64),
		"-d", strconv.Itoa(int(c.Talk.Milliseconds())),
		"-nostdin", "-timeout", strconv.Itoa(int(c.Timeout().Seconds()))+"s",
		"-trace_err", "-error_file", filepath.Join(l.Dir, "sipp-uac-"+p.Host.Name+"-errors.log"))
}

// Call places the batch c and waits until both SIPps are done. It returns
// an error, with SIPp's output, if either one reports a failed call.
func (l *Lab) Call(c Calls) error {
	l.t.Helper()
	uas := l.StartCallee(c)
	time.Sleep(300 * time.Millisecond) // let the UAS bind its port
	uac := l.StartCaller(c)
	return WaitCalls(c.Timeout(), uac, uas)
}

// WaitCalls waits for SIPp processes to end and reports those that failed.
func WaitCalls(timeout time.Duration, procs ...*Proc) error {
	var errs []string
	for _, p := range procs {
		if err := p.Wait(timeout); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v\n%s", p.Name, err, tail(p.Output(), 1500)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("lab: SIPp failed:\n%s", strings.Join(errs, "\n"))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
