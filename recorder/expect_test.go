package recorder_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/pcaptest"
)

// capturesDir returns the third-party capture corpus (../shared/captures
// beside the repository, or $SPANREC_CAPTURES), skipping the test when it
// is absent.
func capturesDir(t testing.TB) string {
	t.Helper()
	return pcaptest.CapturesDir(t)
}

// expectStream is one row of tshark's "-z rtp,streams" table.
type expectStream struct {
	src, dst string // ip:port
	ssrc     uint32
	payload  string
	packets  int
	lost     int
	maxDelta float64
}

// expectation is tshark's view of a capture, from its .expect.txt.
type expectation struct {
	frames  int
	streams []expectStream
	// methods per Call-ID: "INVITE" → count, "200" → count, ...
	calls map[string]map[string]int
}

func readExpect(t testing.TB, path string) expectation {
	t.Helper()
	f, err := os.Open(path + ".expect.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := expectation{calls: map[string]map[string]int{}}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			section = line
			continue
		}
		switch {
		case strings.HasPrefix(section, "## capinfos"):
			parts := strings.Split(line, ",")
			if len(parts) >= 3 {
				e.frames, _ = strconv.Atoi(parts[2])
			}
		case strings.HasPrefix(section, "## -z rtp,streams"):
			if s, ok := parseStreamRow(line); ok {
				e.streams = append(e.streams, s)
			}
		case strings.HasPrefix(section, "## SIP calls"):
			fields := strings.Split(strings.TrimSpace(line), "\t")
			if len(fields) < 2 {
				continue
			}
			head := strings.Fields(fields[0])
			if len(head) != 2 {
				continue
			}
			n, _ := strconv.Atoi(head[0])
			id := head[1]
			what := strings.TrimSpace(strings.Join(fields[1:], " "))
			if e.calls[id] == nil {
				e.calls[id] = map[string]int{}
			}
			e.calls[id][what] += n
		}
	}
	return e
}

func parseStreamRow(line string) (expectStream, bool) {
	tok := strings.Fields(line)
	if len(tok) < 18 {
		return expectStream{}, false
	}
	if _, err := strconv.ParseFloat(tok[0], 64); err != nil {
		return expectStream{}, false
	}
	r := tok
	if r[len(r)-1] == "X" {
		r = r[:len(r)-1]
	}
	// From the right: pkts lost (pct) minΔ meanΔ maxΔ minJ meanJ maxJ.
	n := len(r)
	var s expectStream
	s.packets, _ = strconv.Atoi(r[n-9])
	s.lost, _ = strconv.Atoi(r[n-8])
	s.maxDelta, _ = strconv.ParseFloat(r[n-4], 64)
	s.src = tok[2] + ":" + tok[3]
	s.dst = tok[4] + ":" + tok[5]
	v, err := strconv.ParseUint(strings.TrimPrefix(tok[6], "0x"), 16, 32)
	if err != nil {
		return expectStream{}, false
	}
	s.ssrc = uint32(v)
	s.payload = strings.Join(r[7:n-9], " ")
	return s, true
}

// inviteCalls returns the Call-IDs tshark saw an INVITE for.
func (e expectation) inviteCalls() []string {
	var ids []string
	for id, m := range e.calls {
		if m["INVITE"] > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}
