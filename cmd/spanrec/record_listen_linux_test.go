package main

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRecordListen: record --listen serves the API while recording, and
// /api/live streams every call's start, answer and end as they happen.
func TestRecordListen(t *testing.T) {
	l := newRecLab(t, 1)
	want := wantCalls(t)
	answered := 0
	for _, c := range want {
		if c["status"] == "answered" {
			answered++
		}
	}
	frames := demoFrames(t)
	data := filepath.Join(t.TempDir(), "data")
	if code, out, errs := runCLI(t, nil, "user", "add", "ada", "--role", "supervisor", "--generate", "--data", data); code != 0 {
		t.Fatalf("user add: exit %d\n%s%s", code, out, errs)
	}
	code, tok, errs := runCLI(t, nil, "token", "create", "ada", "--data", data)
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errs)
	}
	tok = strings.TrimSpace(tok)

	const addr = "127.0.0.1:18080" // inside the lab's own namespace
	c := l.record(t, "-i", "rx0", "--data", data, "--listen", addr)
	c.waitFor(t, "Serving "+data+" on http://"+addr, 5*time.Second)

	var conn net.Conn
	var err error
	l.do(t, func() { conn, err = net.DialTimeout("tcp", addr, 2*time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/live HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n", addr, tok)
	events := make(chan string, 256)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events <- ev
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // let the subscription start
	replay(t, l.senders(t), frames, 4)

	seen := map[string]int{}
	deadline := time.After(20 * time.Second)
wait:
	for seen["end"] < len(want) {
		select {
		case ev, ok := <-events:
			if !ok {
				break wait
			}
			seen[ev]++
		case <-deadline:
			break wait
		}
	}
	if seen["start"] != len(want) || seen["answer"] != answered || seen["end"] != len(want) {
		t.Errorf("live events %v, want start %d, answer %d, end %d", seen, len(want), answered, len(want))
	}
	if code := c.stop(t, syscall.SIGTERM); code != 0 {
		out, errs := c.output()
		t.Fatalf("exit status %d after SIGTERM\n%s\n%s", code, out, errs)
	}
}
