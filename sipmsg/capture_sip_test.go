package sipmsg_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

// TestCaptures parses every SIP message of the third-party captures and compares the count of messages, of
// methods and status codes, and of methods/status codes per Call-ID with tshark's view in the .expect.txt files.
func TestCaptures(t *testing.T) {
	dir := capturesDir(t)
	var files []string
	for _, pattern := range []string{"wireshark-samples/*.pcap", "ndpi/*.pcap", "ndpi/*.pcapng", "sngrep/*.pcap", "heplify/*.pcap"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no captures found in", dir)
	}
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			want := readExpectation(t, path+".expect.txt")
			got := expectationOf(t, parseCapture(t, path))
			if got.messages != want.messages {
				t.Errorf("messages: got %d, tshark %d", got.messages, want.messages)
			}
			compare(t, "method", got.methods, want.methods)
			compare(t, "status", got.statuses, want.statuses)
			compare(t, "Call-ID", got.calls, want.calls)
		})
	}
}

// parseCapture returns the parsed SIP messages of a capture: UDP payloads that Look like SIP, and TCP payloads
// framed per direction.
func parseCapture(t *testing.T, path string) []*sipmsg.Message {
	t.Helper()
	var msgs []*sipmsg.Message
	framers := map[string]*sipmsg.Framer{}
	for _, d := range readDatagrams(t, path) {
		if d.tcp {
			f := framers[d.flow]
			if f == nil {
				f = &sipmsg.Framer{}
				framers[d.flow] = f
			}
			f.Write(d.payload, func(b []byte) {
				m, err := sipmsg.Parse(b)
				if err != nil {
					t.Errorf("frame %d (TCP): %v\n%s", d.frame, err, b)
					return
				}
				msgs = append(msgs, m)
			})
			continue
		}
		if !sipmsg.Looks(d.payload) {
			continue
		}
		m, err := sipmsg.Parse(d.payload)
		if err != nil {
			t.Errorf("frame %d: %v\n%s", d.frame, err, d.payload)
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func expectationOf(t *testing.T, msgs []*sipmsg.Message) expectation {
	e := expectation{messages: len(msgs), methods: map[string]int{}, statuses: map[int]int{}, calls: map[string]int{}}
	for _, m := range msgs {
		if m.Request {
			e.methods[m.Method]++
			e.calls[m.CallID+"\t"+m.Method]++
		} else {
			e.statuses[m.StatusCode]++
			e.calls[m.CallID+"\t"+strconv.Itoa(m.StatusCode)]++
		}
	}
	return e
}

func compare[K comparable](t *testing.T, what string, got, want map[K]int) {
	t.Helper()
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s %q: got %d, tshark %d", what, fmt.Sprint(k), got[k], want[k])
		}
	}
}
