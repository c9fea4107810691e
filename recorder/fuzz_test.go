package recorder

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
)

// FuzzShardedWorker feeds arbitrary datagrams, mixed with the SIP and RTP
// of the demo capture, through the worker with three call shards: the
// router (SIP parsing, endpoint directory, held media) and the shards must
// never panic, and every call a shard started must be finished.
func FuzzShardedWorker(f *testing.F) {
	frames, err := capture.ReadAll("../testdata/demo.pcap")
	if err != nil {
		f.Fatal(err)
	}
	dec := packet.NewDecoder(packet.Config{})
	var seeds [][]byte
	for _, fr := range frames {
		if p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig); ok {
			seeds = append(seeds, append([]byte(nil), p.Payload...))
		}
		if len(seeds) == 96 {
			break
		}
	}
	for i, s := range seeds {
		if i%8 == 0 {
			f.Add(s, uint8(i))
		}
	}
	f.Add([]byte("INVITE sip:1@h SIP/2.0\r\ni: x\r\nf: <sip:2@h>;tag=1\r\nt: <sip:1@h>\r\nCSeq: 1 INVITE\r\nc: application/sdp\r\n\r\nv=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0 8 9 101\r\n"), uint8(1))
	f.Add([]byte{0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 1, 2, 3, 4, 0xff, 0xff}, uint8(2))

	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		var finished atomic.Int64
		w := newWorker(Config{Shards: 3, Call: call.Config{DataDir: t.TempDir()}}, func(*call.Finished) { finished.Add(1) })
		addrs := []netip.AddrPort{
			netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:5060"),
			netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:4002"),
			netip.MustParseAddrPort("[2001:db8::1]:4000"),
		}
		t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		n := 0
		feed := func(i int, b []byte) {
			p := packet.Packet{
				Time: t0.Add(time.Duration(i) * 20 * time.Millisecond),
				Src:  addrs[(i+int(sel))%len(addrs)], Dst: addrs[(i+int(sel)/5+1)%len(addrs)],
				Proto: 17, Payload: b, Frame: b, Link: packet.LinkRaw, OrigLen: len(b),
			}
			w.handle(&p)
			if n++; n%16 == 0 {
				w.sendAll()
			}
		}
		for i, s := range seeds {
			if i%3 == int(sel)%3 {
				feed(i, s)
			}
		}
		for i := 0; i < len(data); i += 37 {
			feed(i, data[i:min(i+200, len(data))])
		}
		feed(0, data)
		w.close()
		if st := w.stats(); int64(st.Calls) != finished.Load() || w.active() != 0 {
			t.Fatalf("%d calls started, %d finished, %d active after close", st.Calls, finished.Load(), w.active())
		}
	})
}
