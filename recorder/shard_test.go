package recorder_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/rtpstream"
	"github.com/spanrec/spanrec/sipmsg"
)

// frameSource replays frames read beforehand.
type frameSource struct {
	frames []capture.Frame
	i      int
}

func (s *frameSource) ReadFrame() (capture.Frame, error) {
	if s.i >= len(s.frames) {
		return capture.Frame{}, io.EOF
	}
	s.i++
	return s.frames[s.i-1], nil
}

func (s *frameSource) Close() error { return nil }

// importShards imports frames with the given number of shards and returns
// every call of the index as JSON, by SIP Call-ID, and the summary.
func importShards(t *testing.T, frames []capture.Frame, shards int) (map[string]string, recorder.Summary) {
	t.Helper()
	dir := t.TempDir()
	db := openIndex(t, dir)
	cfg := recorder.Config{Shards: shards, Call: call.Config{DataDir: dir}}
	sum, err := recorder.Import(context.Background(), cfg, &frameSource{frames: frames}, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for id, c := range allCalls(t, db) {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = string(b)
	}
	return out, sum
}

// sameWithShards checks that frames give the same recordings — every
// field of every call, the SHA-256 of its WAV and pcapng included — and
// the same counters with 1 shard and with each of shards (2, 3 and 8 if
// none is given), and returns the calls of one shard.
func sameWithShards(t *testing.T, frames []capture.Frame, shards ...int) map[string]string {
	t.Helper()
	if len(shards) == 0 {
		shards = []int{2, 3, 8}
	}
	want, wantSum := importShards(t, frames, 1)
	for _, n := range shards {
		got, sum := importShards(t, frames, n)
		for id, w := range want {
			if g, ok := got[id]; !ok {
				t.Errorf("%d shards: call %s missing", n, id)
			} else if g != w {
				t.Errorf("%d shards: call %s differs\n got %s\nwant %s", n, id, g, w)
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				t.Errorf("%d shards: extra call %s", n, id)
			}
		}
		if sum.Assembler != wantSum.Assembler || sum.SIP != wantSum.SIP || sum.Calls != wantSum.Calls {
			t.Errorf("%d shards: summary %+v, SIP %d, calls %d; one shard: %+v, %d, %d",
				n, sum.Assembler, sum.SIP, sum.Calls, wantSum.Assembler, wantSum.SIP, wantSum.Calls)
		}
	}
	return want
}

func generatedFrames(t *testing.T, o pcaptest.Options) []capture.Frame {
	t.Helper()
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	frames, err := capture.ReadAllFrom(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

func TestShardsSameRecordings(t *testing.T) {
	t.Run("demo", func(t *testing.T) {
		frames, err := capture.ReadAll("../testdata/demo.pcap")
		if err != nil {
			t.Fatal(err)
		}
		if calls := sameWithShards(t, frames); len(calls) != 7 {
			t.Errorf("%d calls, want the demo's 7", len(calls))
		}
	})
	t.Run("features", func(t *testing.T) {
		// Many calls at once with every feature that crosses flows: TCP
		// signaling, NAT, hold (re-INVITE), early media, mirror copies,
		// loss and reordering, DTMF both ways, G.722, failed calls.
		calls := pcaptest.Concurrent(40, 2*time.Second, 3*time.Second)
		for i := range calls {
			c := &calls[i]
			switch i % 8 {
			case 0:
				c.Transport = "tcp"
			case 1:
				c.CallerNAT = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 40000)
			case 2:
				c.Hold = &pcaptest.Hold{At: 500 * time.Millisecond, Length: time.Second}
			case 3:
				c.EarlyMedia = true
			case 4:
				c.Duplicate, c.Loss, c.Reorder = true, 0.05, 0.05
			case 5:
				c.DTMF, c.DTMFInfo = "12#", "9"
			case 6:
				c.Codec = "G722"
			case 7:
				c.Outcome = pcaptest.Busy
			}
		}
		if got := sameWithShards(t, generatedFrames(t, pcaptest.Options{Seed: 11, Calls: calls})); len(got) != len(calls) {
			t.Errorf("%d calls, want %d", len(got), len(calls))
		}
	})
	t.Run("legs", func(t *testing.T) {
		// B2BUA conversations whose legs (different Call-IDs, so likely
		// different shards) share their media (direct media) or are
		// linked by a header; media shared between legs must reach every
		// leg with any shard count.
		var calls []pcaptest.Call
		for k := range 12 {
			b := conversation(k%9, k%2 == 0, time.Duration(k)*300*time.Millisecond)
			b.Caller.SIP = netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + k)})
			b.Callee.SIP = netip.AddrFrom4([4]byte{10, 0, 2, byte(10 + k)})
			b.PBXPort = uint16(20000 + 10*k)
			if k%3 == 1 {
				b.Headers = []string{"X-Orig-Call-ID: {a}"}
			}
			calls = append(calls, b.Legs(k)...)
		}
		got := sameWithShards(t, generatedFrames(t, pcaptest.Options{Seed: 5, Calls: calls}))
		if len(got) != len(calls) {
			t.Errorf("%d calls, want %d", len(got), len(calls))
		}
		for id, js := range got {
			var c struct {
				Legs    []string
				Streams []json.RawMessage
			}
			if err := json.Unmarshal([]byte(js), &c); err != nil {
				t.Fatal(err)
			}
			var k int
			if _, err := fmt.Sscanf(id[len("b2bua-a-"):], "%d@", &k); err != nil {
				t.Fatalf("call %s: %v", id, err)
			}
			if linked := k%2 == 0 || k%3 == 1; len(c.Legs) != map[bool]int{true: 1}[linked] {
				t.Errorf("call %s: legs %v, linked %v", id, c.Legs, linked)
			}
			if len(c.Streams) == 0 {
				t.Errorf("call %s: no streams", id)
			}
		}
	})
	t.Run("corpus", func(t *testing.T) {
		// Every third-party capture, not only those with SIP calls:
		// tunnels, fragments, other VoIP protocols and odd link types
		// must route the same way too.
		dir := pcaptest.CapturesDir(t)
		var paths []string
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && captureFile.MatchString(path) {
				paths = append(paths, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		withCalls := 0
		for _, path := range paths {
			rel, _ := filepath.Rel(dir, path)
			t.Run(rel, func(t *testing.T) {
				frames, err := capture.ReadAll(path)
				if err != nil {
					t.Skipf("not readable: %v", err)
				}
				// One shard against three only: each import of the forty
				// captures opens an index of its own, and under -race the
				// four shard counts took four minutes.
				if len(sameWithShards(t, frames, 3)) > 0 {
					withCalls++
				}
			})
		}
		if withCalls < len(corpus) {
			t.Errorf("%d of %d captures have calls; the corpus list alone has %d", withCalls, len(paths), len(corpus))
		}
	})
}

var captureFile = regexp.MustCompile(`\.(pcap|pcapng|cap)(\.gz)?$`)

// TestShardsMediaBeforeSDP moves the first RTP packets of the demo's
// first answered call in front of its INVITE, as a mirror port that
// reorders does: nothing yet tells which call they belong to. Every shard
// count must still give them to the call.
func TestShardsMediaBeforeSDP(t *testing.T) {
	frames, err := capture.ReadAll("../testdata/demo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	_, base := importShards(t, frames, 1)

	dec := packet.NewDecoder(packet.Config{})
	invite, moved := -1, []int(nil)
	var rtpDst netip.AddrPort
	for i, fr := range frames {
		p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if !ok || p.Proto != 17 {
			continue
		}
		if invite < 0 {
			if m, err := sipmsg.Parse(p.Payload); err == nil && m.Method == "INVITE" {
				invite = i
			}
			continue
		}
		if !rtpstream.LooksRTP(p.Payload) {
			continue
		}
		if !rtpDst.IsValid() {
			rtpDst = p.Dst
		}
		if p.Dst == rtpDst && len(moved) < 5 {
			moved = append(moved, i)
		}
	}
	if invite < 0 || len(moved) < 5 {
		t.Fatalf("demo: INVITE at %d, %d RTP packets to move", invite, len(moved))
	}
	var re []capture.Frame
	re = append(re, frames[:invite]...)
	for _, i := range moved {
		fr := frames[i]
		fr.Time = frames[invite].Time.Add(-time.Millisecond)
		re = append(re, fr)
	}
	for i := invite; i < len(frames); i++ {
		if !slices.Contains(moved, i) {
			re = append(re, frames[i])
		}
	}

	want := sameWithShards(t, re)
	_, sum := importShards(t, re, 1)
	if sum.Assembler.MediaPackets != base.Assembler.MediaPackets || sum.Assembler.Unassigned != base.Assembler.Unassigned {
		t.Errorf("media before SDP: %d media packets, %d unassigned; in order: %d, %d",
			sum.Assembler.MediaPackets, sum.Assembler.Unassigned, base.Assembler.MediaPackets, base.Assembler.Unassigned)
	}
	if len(want) != 7 {
		t.Errorf("%d calls, want the demo's 7", len(want))
	}
	dir := t.TempDir()
	db := openIndex(t, dir)
	if _, err := recorder.Import(context.Background(), recorder.Config{Shards: 3, Call: call.Config{DataDir: dir}}, &frameSource{frames: re}, db, nil); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, c := range allCalls(t, db) {
		for _, s := range c.Streams {
			if s.Dst == rtpDst {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no call has the stream to %v", rtpDst)
	}
}
