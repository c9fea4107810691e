package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
)

// proc is a spanrec command run as a process of its own (the test
// binary re-executed, see TestMain).
type proc struct {
	cmd       *exec.Cmd
	out, errs syncBuffer
}

func startChild(t *testing.T, args ...string) *proc {
	t.Helper()
	c := &proc{cmd: exec.Command(os.Args[0], args...)}
	c.cmd.Env = append(os.Environ(), "SPANREC_TEST_CHILD=1")
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.errs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

// waitOutput waits up to 30 s for s in the child's standard output.
func (c *proc) waitOutput(t *testing.T, s string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(c.out.String(), s) {
			return
		}
	}
	t.Fatalf("no %q from spanrec %s:\n%s\n%s", s, c.cmd.Args[1], c.out.String(), c.errs.String())
}

// TestShipLock: two processes never ship one data directory together. A
// `spanrec ship` that holds the data directory's shipping lock (here
// held up by a central PostgreSQL address that accepts connections and
// never answers; rows only, no store) makes a second `spanrec ship` exit
// 1 naming its pid, having shipped nothing; a third with --wait waits,
// and ships every call once the first is stopped; an import meanwhile
// waits for the lock within its --ship-timeout and leaves its calls in
// the outbox. The lock file holds no password. Real processes (the test
// binary re-executed as spanrec), real PostgreSQL, Wireshark samples.
func TestShipLock(t *testing.T) {
	u := pgtest.NewSchema(t)
	data := filepath.Join(t.TempDir(), "data")
	caps := pcaptest.CapturesDir(t)
	for _, f := range []string{"wireshark-samples/sip-rtp-g722.pcap", "wireshark-samples/sip-rtp-gsm.pcap"} {
		if code, out, errs := runCLI(t, nil, "import", filepath.Join(caps, f), "--data", data, "--no-progress"); code != 0 {
			t.Fatalf("import %s: exit %d\n%s\n%s", f, code, out, errs)
		}
	}
	n := len(callsJSON(t, "--data", data))
	if n == 0 {
		t.Fatal("no calls imported")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	const password = "hung-password"
	hung := "postgres://spanrec:" + password + "@" + ln.Addr().String() + "/spanrec?sslmode=disable"

	first := startChild(t, "ship", "--data", data, "--index", hung, "--no-store")
	first.waitOutput(t, "Shipping "+strconv.Itoa(n)+" calls")

	code, out, errs := runCLI(t, nil, "ship", "--data", data, "--index", u, "--no-store")
	if code != 1 {
		t.Fatalf("second ship beside the first: exit %d, want 1\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"pid " + strconv.Itoa(first.cmd.Process.Pid), "spanrec ship", "is shipping " + data, "--wait"} {
		if !strings.Contains(errs, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, errs)
		}
	}
	pg, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if got, err := pg.Calls(context.Background(), spanrec.CallFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("the refused ship shipped %d calls (%v)", len(got), err)
	}
	if b, err := os.ReadFile(filepath.Join(data, ShipLockFile)); err != nil || strings.Contains(string(b), password) || !strings.Contains(string(b), "spanrec ship") {
		t.Errorf("lock file %q (%v): want the command without its flags", b, err)
	}

	// An import beside it records, waits for the lock within its
	// --ship-timeout, and leaves its calls in the outbox.
	code, out, errs = runCLI(t, nil, "import", filepath.Join(caps, "wireshark-samples/sip-rtp-g726.pcap"), "--data", data, "--no-progress",
		"--index", u, "--ship-timeout", "2s")
	if code != 0 || !strings.Contains(out, "Waiting: pid "+strconv.Itoa(first.cmd.Process.Pid)) || !strings.Contains(out, "Shipped nothing: pid "+strconv.Itoa(first.cmd.Process.Pid)) {
		t.Errorf("import beside a ship: exit %d\n%s\n%s", code, out, errs)
	}
	n = len(callsJSON(t, "--data", data))

	waiter := startChild(t, "ship", "--wait", "--data", data, "--index", u, "--no-store")
	waiter.waitOutput(t, "Waiting: pid "+strconv.Itoa(first.cmd.Process.Pid))
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := first.cmd.Wait(); err == nil {
		t.Errorf("the first ship, stopped while connecting, exited 0:\n%s", first.out.String())
	}
	if err := waiter.cmd.Wait(); err != nil {
		t.Fatalf("ship --wait: %v\n%s\n%s", err, waiter.out.String(), waiter.errs.String())
	}
	if !strings.Contains(waiter.out.String(), "calls shipped    "+strconv.Itoa(n)) || !strings.Contains(waiter.out.String(), "calls waiting    0") {
		t.Errorf("ship --wait:\n%s", waiter.out.String())
	}
	if got, err := pg.Calls(context.Background(), spanrec.CallFilter{}); err != nil || len(got) != n {
		t.Errorf("central index after ship --wait: %d calls (%v), want %d", len(got), err, n)
	}
}
