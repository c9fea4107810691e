package call

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/sipmsg"
)

// TestReadJournalLastWholeVersion: the journal is the last line that
// parses; a version torn by a crash leaves the one before it, and a file
// from before journals were appended (one document) still reads.
func TestReadJournalLastWholeVersion(t *testing.T) {
	line := func(id string) string {
		b, err := json.Marshal(Journal{Version: 1, SIPCallID: id})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	whole := line("v3")
	for _, tt := range []struct {
		name, content, want string
	}{
		{"one document, no newline", line("v1"), "v1"},
		{"appended versions", line("v1") + "\n" + line("v2") + "\n" + whole + "\n", "v3"},
		{"last version torn", line("v1") + "\n" + line("v2") + "\n" + whole[:len(whole)/2], "v2"},
		{"torn then rewritten", line("v1") + "\n" + whole[:10] + line("v2") + "\n", "v1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, JournalFile), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			j, err := ReadJournal(dir)
			if err != nil {
				t.Fatal(err)
			}
			if j.SIPCallID != tt.want {
				t.Errorf("read version %q, want %q", j.SIPCallID, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "\n\n", "{not json", whole[:20]} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, JournalFile), []byte(bad), 0o600)
		if j, err := ReadJournal(dir); err == nil {
			t.Errorf("ReadJournal(%q) = %+v, want an error", bad, j)
		}
	}
}

// TestJournalAppendsAndCompacts: each version is appended to one file,
// which is rewritten with the last version alone past maxJournal.
func TestJournalAppendsAndCompacts(t *testing.T) {
	data := t.TempDir()
	a := NewAssembler(Config{DataDir: data, Journal: true}, func(*Finished) {})
	c := &state{d: nil}
	c.spool = filepath.Join(data, "spool", "x")
	path := filepath.Join(c.spool, JournalFile)
	versions := 0
	var lines int
	for size := 0; ; versions++ {
		c.notes = []string{strings.Repeat("n", versions)} // each version differs
		a.writeJournalOf(c, Journal{Version: 1, Notes: c.notes})
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines = strings.Count(string(b), "\n")
		if len(b) < size {
			break // compacted
		}
		size = len(b)
		if lines != versions+1 {
			t.Fatalf("after %d versions the file has %d lines", versions+1, lines)
		}
	}
	if lines != 1 {
		t.Errorf("compacted file has %d lines, want 1", lines)
	}
	j, err := ReadJournal(c.spool)
	if err != nil || len(j.Notes) != 1 || len(j.Notes[0]) != versions {
		t.Errorf("after compaction: %v, %v; want the last version", j, err)
	}
	if versions < 10 {
		t.Errorf("compacted after %d versions", versions)
	}
}

// TestJournalHeadersBounded: an INVITE with as many header fields as a
// call keeps, each as long as kept and all of '<' (six bytes each once
// JSON-escaped), gives a journal version well under maxJournal: the
// fields past maxJournalHeaders bytes are left out of it and counted, and
// the journal's call says so.
func TestJournalHeadersBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("INVITE sip:201@10.0.1.21 SIP/2.0\r\nCall-ID: big@test\r\nFrom: <sip:205@x>;tag=a\r\nTo: <sip:201@x>\r\nCSeq: 1 INVITE\r\nUser-Agent: big-agent\r\n")
	for i := range spanrec.MaxSIPHeaders {
		fmt.Fprintf(&b, "X-B%02d: %s\r\n", i, strings.Repeat("<", spanrec.MaxHeaderValue))
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	inv, err := sipmsg.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	a := NewAssembler(Config{DataDir: data, Journal: true}, func(*Finished) {})
	a.HandleSIP(inv, &packet.Packet{Time: time.Unix(1_800_000_000, 0), Src: netip.MustParseAddrPort("10.0.1.20:5060"), Dst: netip.MustParseAddrPort("10.0.1.21:5060")})
	a.Flush()
	var c *state
	for _, c = range a.calls {
	}
	if c == nil {
		t.Fatal("no call")
	}
	info, err := os.Stat(filepath.Join(c.spool, JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > maxJournal/2 {
		t.Errorf("journal version of %d bytes, want well under %d", info.Size(), maxJournal)
	}
	j, err := ReadJournal(c.spool)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range j.SIPHeaders {
		n += len(h.Name) + len(h.Value)
	}
	if n > maxJournalHeaders || len(j.SIPHeaders) == 0 || len(j.SIPHeaders) >= len(c.headers) {
		t.Errorf("journal keeps %d of %d header fields, %d bytes (bound %d)", len(j.SIPHeaders), len(c.headers), n, maxJournalHeaders)
	}
	if !slices.Equal(j.SIPHeaders, c.headers[:len(j.SIPHeaders)]) {
		t.Error("the journal's header fields are not the call's first ones")
	}
	call := j.Call()
	if want := c.headersCut + len(c.headers) - len(j.SIPHeaders); call.HeadersCut != want || want == c.headersCut {
		t.Errorf("journal's call: %d header fields cut, want %d", call.HeadersCut, want)
	}
	if call.CallerUA != "big-agent" {
		t.Errorf("journal's call: caller's user agent %q", call.CallerUA)
	}
	// jsonLen agrees with encoding/json.
	for _, v := range []string{"", "plain", "a<b>&c", `q"\`, "x\u2028y\u2029", "é€\u2027", strings.Repeat("<", 256)} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonLen(v); got != len(b)-2 {
			t.Errorf("jsonLen(%q) = %d, encoding/json writes %d bytes", v, got, len(b)-2)
		}
	}
}
