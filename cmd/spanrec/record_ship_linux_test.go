package main

import (
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/s3/s3test"
)

// TestRecordShips: `record --index postgres://… --store s3://…` starts and
// records while the central PostgreSQL server is down (stopped), keeps
// the calls in its data directory, shows the backlog in /metrics, and
// ships every call once when the server is back: the central index then
// lists what the sensor's own index lists, with the same files. The
// password and the store's secret key show nowhere.
func TestRecordShips(t *testing.T) {
	l := newRecLab(t, 1)
	srv := s3test.Start(t)
	u := pgtest.NewSchema(t)
	cluster := pgtest.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "spanrec.log")
	conf := filepath.Join(dir, "spanrec.yaml")
	// The recorder runs in the lab's namespace: it reaches the servers on
	// the host's loopback through forwarders listening in the namespace.
	pu, _ := url.Parse(u)
	pgAddr := pu.Host
	pu.Host = l.forward(t, pgAddr)
	storeURL := strings.Replace(srv.URL("rec"), strings.TrimPrefix(srv.Endpoint, "http://"), l.forward(t, strings.TrimPrefix(srv.Endpoint, "http://")), 1)
	if err := os.WriteFile(conf, []byte("log_file: "+logPath+"\nmetrics_listen: 127.0.0.1:0\nstore: "+storeURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cluster.Stop(t)
	c := l.record(t, "--data", data, "--config", conf, "-i", "rx0", "--ring-mb", "4", "--index", pu.String())
	replay(t, l.senders(t), demoFrames(t), 4)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && len(callsJSON(t, "--data", data)) < 7 {
		time.Sleep(200 * time.Millisecond)
	}
	local := byCallID(t, callsJSON(t, "--data", data))
	if len(local) != 7 {
		t.Fatalf("%d calls in the sensor's index while the central side is down, want 7", len(local))
	}
	logText, _ := os.ReadFile(logPath)
	m := regexp.MustCompile(`url=(http://[^ ]+/metrics)`).FindSubmatch(logText)
	if m == nil {
		t.Fatalf("no metrics URL in the log:\n%s", logText)
	}
	metrics := l.metricsOf(t, string(m[1]))
	if metricValue(t, metrics, "spanrec_outbox_calls") != 7 || metricValue(t, metrics, "spanrec_outbox_bytes") <= 0 ||
		metricValue(t, metrics, "spanrec_ship_central_up") != 0 || metricValue(t, metrics, "spanrec_ship_calls_total") != 0 ||
		metricValue(t, metrics, "spanrec_ship_errors_total") == 0 {
		t.Errorf("metrics with the central index down:\n%s", metrics)
	}
	// The recorder holds the data directory's shipping lock: a `spanrec
	// ship` beside it is refused and names it.
	if code, out, errs := runCLI(t, nil, "ship", "--data", data, "--index", u, "--store", srv.URL("rec")); code != 1 ||
		!strings.Contains(errs, "(spanrec record, since") || !strings.Contains(errs, "is shipping "+data) {
		t.Errorf("ship beside the recorder: exit %d, want 1 naming the recorder\n%s\n%s", code, out, errs)
	}

	cluster.Resume(t)
	deadline = time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		metrics = l.metricsOf(t, string(m[1]))
		if metricValue(t, metrics, "spanrec_outbox_calls") == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if metricValue(t, metrics, "spanrec_outbox_calls") != 0 || metricValue(t, metrics, "spanrec_ship_calls_total") != 7 ||
		metricValue(t, metrics, "spanrec_ship_central_up") != 1 {
		t.Errorf("metrics after the central index came back:\n%s", metrics)
	}
	if code := c.stop(t, syscall.SIGTERM); code != 0 {
		out, errs := c.output()
		t.Fatalf("exit status %d after SIGTERM\n%s\n%s", code, out, errs)
	}
	out, errs := c.output()
	if !strings.Contains(out, "Shipped 7 calls to the central side") {
		t.Errorf("summary:\n%s", out)
	}
	sameCalls(t, byCallID(t, callsJSON(t, "--data", data, "--index", u)), local)
	logText, _ = os.ReadFile(logPath)
	if !strings.Contains(string(logText), `level=WARN msg="ship: the central side fails`) {
		t.Errorf("no warning of the outage in the log:\n%s", logText)
	}
	for _, s := range []string{out, errs, string(logText)} {
		if strings.Contains(s, cluster.Password()) || strings.Contains(s, srv.SecretKey) {
			t.Errorf("a secret shows:\n%s", s)
		}
	}
}

// forward listens on the loopback address of the lab's namespace and
// forwards each connection to target on the host's: the recorder in the
// namespace reaches the test's servers. It returns the address inside.
func (l *recLab) forward(t *testing.T, target string) string {
	t.Helper()
	var ln net.Listener
	var err error
	l.do(t, func() { ln, err = net.Listen("tcp", "127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				d, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer d.Close()
				go func() { io.Copy(d, c); d.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, d)
			}()
		}
	}()
	return ln.Addr().String()
}
