package hostile_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/sqlite"
)

var spanrecBin string

// TestMain builds the spanrec binary of this tree once.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spanrec-hostile")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	spanrecBin = filepath.Join(dir, "spanrec")
	cmd := exec.Command("go", "build", "-o", spanrecBin, "github.com/spanrec/spanrec/cmd/spanrec")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build spanrec: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run is one import of a hostile capture.
type run struct {
	data    string // the data directory
	out     string // standard output and error
	exit    int
	peakRSS int64 // bytes (rusage Maxrss)
}

// importCapture writes the capture gen makes and imports it with spanrec
// as a child process, configured by yaml, with at most nofile open files
// (0: the default); it returns what the import did.
func importCapture(t *testing.T, gen func(io.Writer) error, yaml string, nofile int) run {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "hostile.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := gen(bw); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "spanrec.yaml")
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run{data: filepath.Join(dir, "data")}
	args := []string{spanrecBin, "import", "--no-progress", "--config", conf, "--data", r.data, path}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if nofile > 0 {
		// ulimit -n sets the hard limit too, so the Go runtime cannot
		// raise it.
		cmd = exec.CommandContext(ctx, "sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$@"`, nofile), "sh")
		cmd.Args = append(cmd.Args, args...)
	} else {
		cmd = exec.CommandContext(ctx, args[0], args[1:]...)
	}
	out, err := cmd.CombinedOutput()
	r.out = string(out)
	if ee, ok := err.(*exec.ExitError); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	// The import reports its own peak RSS (VmHWM). The rusage of the
	// child would not do: os/exec starts it by vfork+exec, and Linux
	// carries the parent's resident set (hundreds of MiB for a -race
	// test binary) into the child's ru_maxrss.
	if m := regexp.MustCompile(`peak RSS ([0-9.]+) MiB`).FindStringSubmatch(r.out); m != nil {
		mib, _ := strconv.ParseFloat(m[1], 64)
		r.peakRSS = int64(mib * (1 << 20))
	}
	t.Logf("peak RSS %.1f MiB; summary:\n%s", float64(r.peakRSS)/(1<<20), lastLines(r.out, 16))
	return r
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// summaryInt returns the first number after label in the summary.
func summaryInt(t *testing.T, out, label string) int {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(label) + `\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in the summary:\n%s", label, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func (r run) checkRSS(t *testing.T, limit int64) {
	t.Helper()
	if r.peakRSS == 0 {
		t.Skip("peak RSS not available on this system")
	}
	if r.peakRSS > limit {
		t.Errorf("peak RSS %d MiB, over the %d MiB this capture may take", r.peakRSS>>20, limit>>20)
	}
}

// calls returns the index of the run.
func (r run) calls(t *testing.T) []*spanrec.Call {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(r.data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	calls, err := db.Calls(context.Background(), spanrec.CallFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// checkFiles checks that every call's pcapng (and WAV, if any) exists, and
// that no spool is left.
func (r run) checkFiles(t *testing.T, calls []*spanrec.Call) {
	t.Helper()
	missing := 0
	for _, c := range calls {
		for _, p := range []string{c.PCAP, c.Audio} {
			if p == "" {
				continue
			}
			if _, err := os.Stat(filepath.Join(r.data, p)); err != nil {
				missing++
			}
		}
		if c.PCAP == "" {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d calls miss a file", missing, len(calls))
	}
	if left := pcaptest.SpoolEntries(t, r.data); len(left) > 0 {
		t.Errorf("%d spool entries left", len(left))
	}
}

// TestBadTimestamp: one RTP record 40 years ahead among 20 calls made a
// 12.7 GB sparse spool and an OOM kill. It is skipped and counted; every
// call is recorded.
func TestBadTimestamp(t *testing.T) {
	o := pcaptest.Options{Seed: 3, Calls: pcaptest.Concurrent(20, 2*time.Second, 5*time.Second)}
	r := importCapture(t, func(w io.Writer) error {
		return pcaptest.BadTimestamp(w, o, 1500, 40*365*24*time.Hour)
	}, "", 0)
	if r.exit != 0 {
		t.Fatalf("exit %d", r.exit)
	}
	if n := summaryInt(t, r.out, "bad capture time"); n != 1 {
		t.Errorf("%d packets counted with a bad time, want 1", n)
	}
	calls := r.calls(t)
	if len(calls) != 20 {
		t.Errorf("%d calls, want 20", len(calls))
	}
	for _, c := range calls {
		if c.Audio == "" || c.AudioMS > 6000 {
			t.Errorf("call %s: audio %q, %d ms", c.SIPCallID, c.Audio, c.AudioMS)
		}
	}
	r.checkFiles(t, calls)
	r.checkRSS(t, 150<<20)
}

// TestTCPFlood: 2,000 SIP-over-TCP flows each announcing a 60 KB body
// that never comes whole (20,000 took 4.7 GB). With limits.memory 32 MiB
// the oldest incomplete messages are evicted, counted in the summary.
func TestTCPFlood(t *testing.T) {
	r := importCapture(t, func(w io.Writer) error {
		return pcaptest.TCPFlood(w, 2000, 60<<10)
	}, "limits:\n  memory: 32MiB\n", 0)
	if r.exit != 0 {
		t.Fatalf("exit %d", r.exit)
	}
	if !regexp.MustCompile(`evicted the oldest: [1-9]\d* TCP messages`).MatchString(r.out) {
		t.Errorf("the summary does not count the TCP messages evicted")
	}
	r.checkRSS(t, 160<<20)
}

// TestInviteFlood: 5,000 INVITEs never answered, with 256 open files
// allowed (100,000 with 20,000 lost 80,016 pcaps to "too many open
// files" while import said every call was recorded). Every call keeps
// its pcapng; memory is bounded by limits.memory.
func TestInviteFlood(t *testing.T) {
	const n = 5000
	r := importCapture(t, func(w io.Writer) error {
		return pcaptest.InviteFlood(w, n)
	}, "limits:\n  memory: 16MiB\n", 256)
	if r.exit != 0 {
		t.Fatalf("exit %d:\n%s", r.exit, lastLines(r.out, 20))
	}
	calls := r.calls(t)
	if len(calls) != n {
		t.Errorf("%d calls indexed, want %d", len(calls), n)
	}
	r.checkFiles(t, calls)
	r.checkRSS(t, 200<<20)
}

// TestGiantSIP: 300 INVITEs of about 60 KB each (hundreds of long
// headers, an SDP of a thousand m= lines), over fragmented UDP.
func TestGiantSIP(t *testing.T) {
	r := importCapture(t, func(w io.Writer) error {
		return pcaptest.GiantSIP(w, 300, 60<<10)
	}, "limits:\n  memory: 16MiB\n", 0)
	if r.exit != 0 {
		t.Fatalf("exit %d", r.exit)
	}
	calls := r.calls(t)
	if len(calls) != 300 {
		t.Errorf("%d calls, want 300", len(calls))
	}
	r.checkFiles(t, calls)
	// 105–203 MiB measured: the garbage of parsing 60 KB messages is
	// collected later or sooner with the machine's load.
	r.checkRSS(t, 256<<20)
}

// TestKilledImportLeavesNothing: an import killed with SIGKILL in the
// middle left its calls' spool folders and pcapngs behind forever (403
// folders and 405 files). The next import removes them, and fsck finds
// the data directory consistent.
func TestKilledImportLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	write := func(name string, gen func(io.Writer) error) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := gen(bw); err != nil {
			t.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return path
	}
	big := write("big.pcap", func(w io.Writer) error {
		return pcaptest.Write(w, pcaptest.Options{Seed: 5, Calls: pcaptest.Concurrent(400, 10*time.Second, 30*time.Second)})
	})
	small := write("small.pcap", func(w io.Writer) error {
		return pcaptest.Write(w, pcaptest.Options{Seed: 6, Calls: pcaptest.Concurrent(3, time.Second, 3*time.Second)})
	})
	cmd := exec.Command(spanrecBin, "import", "--no-progress", "--data", data, big)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once calls are in progress: their spool folders exist.
	deadline := time.Now().Add(time.Minute)
	for len(pcaptest.SpoolEntries(t, data)) < 50 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Skip("the import never had 50 calls in progress")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	left := len(pcaptest.SpoolEntries(t, data))
	if out, err := exec.Command(spanrecBin, "fsck", "--data", data).CombinedOutput(); err == nil {
		t.Errorf("fsck found nothing wrong after a kill with %d spool folders left:\n%s", left, out)
	}
	out, err := exec.Command(spanrecBin, "import", "--no-progress", "--data", data, small).CombinedOutput()
	if err != nil {
		t.Fatalf("import after the kill: %v\n%s", err, out)
	}
	if n := len(pcaptest.SpoolEntries(t, data)); n != 0 {
		t.Errorf("%d of the %d spool folders left by the kill are still there", n, left)
	}
	if out, err := exec.Command(spanrecBin, "fsck", "--data", data).CombinedOutput(); err != nil {
		t.Errorf("fsck after the next import: %v\n%s", err, out)
	}
	t.Logf("killed with %d spool folders; the next import removed them", left)
}
